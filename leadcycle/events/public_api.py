"""Public (no login, rate limited) event endpoints, mounted under /api/v1/public/."""

from ninja import Router

router = Router(tags=["public events"], auth=None)
