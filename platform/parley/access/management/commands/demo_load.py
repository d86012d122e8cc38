"""Load the demo users, roles and a pipeline token from fixtures/demo.yaml, idempotently."""
from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from parley.access.models import ApiToken, Role
from parley.access.services import membership_grant, token_create, token_revoke
from parley.locales.selectors import UnknownLocale, locale_resolve

ACTOR = "command:demo_load"


class Command(BaseCommand):
    help = "Create the demo users and a fresh demo pipeline token, then print how to log in."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(Path(settings.PARLEY_FIXTURES_DIR) / "demo.yaml"))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args, **options):
        data = yaml.safe_load(Path(options["file"]).read_text(encoding="utf-8"))
        password = data["password"]
        User = get_user_model()
        tokens = []
        with transaction.atomic():
            for spec in data["users"]:
                user, created = User.objects.get_or_create(username=spec["username"])
                if created:
                    user.set_password(password)
                    user.is_superuser = bool(spec.get("superuser"))
                    user.is_staff = user.is_superuser
                    user.save()
                for m in spec.get("memberships", []):
                    try:
                        role = Role.objects.get(slug=m["role"])
                    except Role.DoesNotExist:
                        raise CommandError(f"{spec['username']}: unknown role {m['role']!r}") from None
                    try:
                        locale = locale_resolve(m["locale"]) if m.get("locale") else None
                    except UnknownLocale as exc:
                        raise CommandError(f"{spec['username']}: {exc} (run locales_load first)") from None
                    membership_grant(user=user, role=role, locale=locale, proficiency=m.get("proficiency", ""),
                                     actor=ACTOR)
            for spec in data.get("tokens", []):
                user = User.objects.get(username=spec["user"])
                # Tokens are shown once, so each run replaces the demo token and prints the new one.
                for old in ApiToken.objects.filter(name=spec["name"], user=user, revoked_at__isnull=True):
                    token_revoke(token=old, actor=ACTOR)
                _, plaintext = token_create(user=user, name=spec["name"], scopes=spec["scopes"], actor=ACTOR)
                tokens.append((spec["name"], spec["scopes"], plaintext))
        base = f"http://{options['host']}:{options['port']}"
        out = self.stdout.write
        out("")
        out(self.style.SUCCESS("Parley is ready."))
        out(f"  Admin:     {base}/admin/")
        out(f"  API:       {base}/api/v1/")
        out(f"  API docs:  {base}/api/docs/   (OpenAPI: {base}/api/schema/; sign in first, or send a token)")
        out(f"  Health:    {base}/healthz")
        out(f"  Releases:  {base}/api/v1/releases/   (the demo release: make run builds it from the sample rows)")
        out(f"  Demo logins (password for all: {password}):")
        for spec in data["users"]:
            roles = ", ".join(f"{m['role']}" + (f"@{m['locale']}" if m.get("locale") else "") for m in spec["memberships"])
            out(f"    {spec['username']:<14} {roles}")
        for name, scopes, plaintext in tokens:
            out(f"  API token ({name}; {', '.join(scopes)}):")
            out(f"    curl -H 'Authorization: Bearer {plaintext}' {base}/api/v1/me/")
            if "culture:read" in scopes:
                out("  Render a response template (fixtures/templates-demo.yaml):")
                out(f"    curl -X POST -H 'Authorization: Bearer {plaintext}' -H 'Content-Type: application/json' "
                    f"-d '{{\"locale\": \"de-DE\", \"register\": \"du\", \"parameters\": {{\"count\": 2, "
                    f"\"day\": \"2026-12-24\"}}}}' {base}/api/v1/templates/alarm_set.confirm/render")
        out("")
