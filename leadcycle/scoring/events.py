"""Domain events of scoring, sent after the transaction that caused them commits.

``lead_sales_ready(sender, lead_ids, model_id)``: leads a scoring model just made sales-ready.
The business process (Sales acceptance) and workflows listen to it.

``leads_scored(sender, lead_ids)``: leads live models just scored (``None``: every eligible
lead, after a model's full recompute). The business process moves newly scored leads on.
"""

from django.dispatch import Signal

lead_sales_ready = Signal()
leads_scored = Signal()
