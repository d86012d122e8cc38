"""Clients for the permission tests: one per role of a test's `world` (actors by role name, a
pipeline token's plaintext, or named tokens), so every matrix asks the API and the admin the same way."""
from django.test import Client
from rest_framework.test import APIClient


def api_client(world, role) -> APIClient:
    """`role`: a key of world["tokens"] (a token's plaintext), "pipeline_token" (world["token"]),
    "anonymous", or a key of world["actors"] (a session user)."""
    client = APIClient()
    if role in world.get("tokens", {}):
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world['tokens'][role]}")
    elif role == "pipeline_token":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world['token']}")
    elif role != "anonymous":
        client.force_authenticate(world["actors"][role])
    return client


def admin_client(world, role) -> Client:
    client = Client()
    client.force_login(world["actors"][role])
    return client
