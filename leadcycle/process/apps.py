from django.apps import AppConfig


class ProcessConfig(AppConfig):
    name = "leadcycle.process"
    label = "process"
    verbose_name = "Business process"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from leadcycle.changes import records_committed
        from leadcycle.process.defaults import defaults_ensure

        # After a flush (transactional tests) too: there is always a process to follow.
        post_migrate.connect(defaults_ensure, sender=self, dispatch_uid="process_defaults")
        from leadcycle.process.services import on_leads_changed
        from leadcycle.scoring.events import lead_sales_ready, leads_scored

        records_committed.connect(on_leads_changed, dispatch_uid="process_records")
        from leadcycle.crm.services import lead_changing, lead_status_changed
        from leadcycle.process.services import on_lead_changing, on_status_changed

        lead_status_changed.connect(on_status_changed, dispatch_uid="process_status")
        lead_changing.connect(on_lead_changing, dispatch_uid="process_owner")
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from leadcycle.process.models import Process, Stage, StageField, Transition
        from leadcycle.process.services import rules_cache_clear
        from leadcycle.scoring.models import ScoringSettings

        for model in (Process, Stage, StageField, Transition, ScoringSettings):
            for signal in (post_save, post_delete):
                signal.connect(
                    rules_cache_clear, sender=model, dispatch_uid=f"rules_{model.__name__}"
                )
        m2m_changed.connect(
            rules_cache_clear, sender=Transition.from_stages.through, dispatch_uid="rules_from"
        )
        lead_sales_ready.connect(on_leads_changed, dispatch_uid="process_sales_ready")
        leads_scored.connect(on_leads_changed, dispatch_uid="process_scored")
