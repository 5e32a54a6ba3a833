"""Domain events of scoring, sent after the transaction that caused them commits.

``lead_sales_ready(sender, lead_ids, model_id)``: leads a scoring model just made sales-ready.
The business process (Sales acceptance) and workflows listen to it.
"""

from django.dispatch import Signal

lead_sales_ready = Signal()
