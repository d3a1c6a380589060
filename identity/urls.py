from django.urls import path

from identity import views

app_name = "identity"

urlpatterns = [
    path("authenticate/", views.AuthenticateView.as_view(), name="authenticate"),
    path("callback/", views.CallbackView.as_view(), name="callback"),
]
