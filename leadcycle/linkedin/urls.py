
app_name = "linkedin"

urlpatterns: list[object] = []
