from django.apps import AppConfig


class ProcessConfig(AppConfig):
    name = "leadcycle.process"
    label = "process"
    verbose_name = "Business process"

    def ready(self) -> None:
        from leadcycle.changes import records_committed
        from leadcycle.process.services import on_leads_changed
        from leadcycle.scoring.events import lead_sales_ready, leads_scored

        records_committed.connect(on_leads_changed, dispatch_uid="process_records")
        lead_sales_ready.connect(on_leads_changed, dispatch_uid="process_sales_ready")
        leads_scored.connect(on_leads_changed, dispatch_uid="process_scored")
