from django.contrib.auth.views import LogoutView
from django.urls import path

from . import views, views_lead

app_name = "collect"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(next_page="collect:login"), name="logout"),
    path("progress/", views.progress, name="progress"),
    path("campaigns/<int:campaign_id>/next/", views.claim, name="claim"),
    path("tasks/<int:task_id>/", views.task_page, name="task"),
    path("tasks/<int:task_id>/skip/", views.skip, name="skip"),
    path("tasks/<int:task_id>/check/", views.check, name="check"),
    path("lead/", views_lead.lead_home, name="lead"),
    path("lead/<int:campaign_id>/", views_lead.dashboard, name="dashboard"),
    path("lead/<int:campaign_id>/status/", views_lead.status_change, name="status"),
    path("lead/<int:campaign_id>/export.csv", views_lead.export_csv, name="export"),
]
