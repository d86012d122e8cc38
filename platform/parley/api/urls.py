"""/api/v1/: every app's API registered on one router."""
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from parley.access.api import ApiTokenViewSet, EventViewSet, MeView, TaskRunViewSet
from parley.locales.api import LocaleViewSet

router = DefaultRouter(trailing_slash="/?")
router.register("locales", LocaleViewSet, basename="locale")
router.register("tokens", ApiTokenViewSet, basename="token")
router.register("events", EventViewSet, basename="event")
router.register("task-runs", TaskRunViewSet, basename="taskrun")

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("", include(router.urls)),
]
