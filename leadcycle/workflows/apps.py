from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "leadcycle.workflows"
    label = "workflows"
    verbose_name = "Workflows"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from leadcycle.changes import records_committed
        from leadcycle.process.services import stage_entered
        from leadcycle.scoring.events import lead_sales_ready, leads_scored
        from leadcycle.workflows import dispatch
        from leadcycle.workflows.builtins import builtins_ensure

        post_migrate.connect(builtins_ensure, sender=self, dispatch_uid="workflow_builtins")
        records_committed.connect(dispatch.on_records_committed, dispatch_uid="workflows_records")
        stage_entered.connect(dispatch.on_stage_entered, dispatch_uid="workflows_stage")
        leads_scored.connect(dispatch.on_leads_scored, dispatch_uid="workflows_scored")
        lead_sales_ready.connect(dispatch.on_leads_scored, dispatch_uid="workflows_sales_ready")
        from django.db.models.signals import post_delete, post_save

        from leadcycle.workflows.models import Workflow

        post_save.connect(dispatch.enabled_cache_clear, sender=Workflow, dispatch_uid="wf_saved")
        post_delete.connect(dispatch.enabled_cache_clear, sender=Workflow, dispatch_uid="wf_gone")
