"""LinkedIn's webhook (no login; signature verified), mounted under /api/v1/public/."""

from ninja import Router

router = Router(tags=["linkedin webhook"], auth=None)
