"""Clients for the permission tests: one per role of a test's `world` (actors by role name, a
pipeline token's plaintext), so every matrix asks the API and the admin the same way."""
from django.test import Client
from rest_framework.test import APIClient


def api_client(world, role) -> APIClient:
    client = APIClient()
    if role == "pipeline_token":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world['token']}")
    elif role != "anonymous":
        client.force_authenticate(world["actors"][role])
    return client


def admin_client(world, role) -> Client:
    client = Client()
    client.force_login(world["actors"][role])
    return client
