"""Public (no login) event pages, mounted under /e/."""


urlpatterns: list[object] = []
