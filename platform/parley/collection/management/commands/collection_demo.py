"""A demo campaign for `make run`: ar-SA and ja-JP natives to write and judge, and a lead. Idempotent."""
from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from parley.access.models import Role
from parley.access.services import membership_grant
from parley.locales.selectors import UnknownLocale, locale_resolve
from parley.nlu.models import Intent

from ...models import Campaign
from ...services import campaign_create, campaign_status_change

ACTOR = "command:collection_demo"
NAME = "Demo: alarms and weather"
INSTRUCTIONS = {"ar-SA": "اكتب جملة طبيعية كما تقولها لمساعدك الصوتي.",
                "ja-JP": "音声アシスタントに普段話すような自然な文を書いてください。"}
NATIVES = {"ar-SA": ["annotator.ar", "annotator2.ar", "annotator3.ar"],
           "ja-JP": ["annotator.ja", "annotator2.ja", "annotator3.ja"]}


class Command(BaseCommand):
    help = "Create an active demo collection campaign (ar-SA, ja-JP) with native annotators and a lead."

    def handle(self, *args, **options):
        password = yaml.safe_load((Path(settings.PARLEY_FIXTURES_DIR) / "demo.yaml").read_text("utf-8"))["password"]
        User = get_user_model()
        try:
            locales = {tag: locale_resolve(tag) for tag in NATIVES}
        except UnknownLocale as exc:
            raise CommandError(f"{exc} (run locales_load first)") from None
        intents = list(Intent.objects.filter(name__in=["alarm_set", "weather_query"]))
        if len(intents) != 2:
            raise CommandError("alarm_set and weather_query are missing (run schema_load first)")
        with transaction.atomic():
            def user(name):
                obj, created = User.objects.get_or_create(username=name)
                if created:
                    obj.set_password(password)
                    obj.save()
                return obj

            annotator, lead = Role.objects.get(slug="annotator"), Role.objects.get(slug="locale_lead")
            for tag, names in NATIVES.items():
                for name in names:
                    membership_grant(user=user(name), role=annotator, locale=locales[tag], proficiency="native",
                                     actor=ACTOR)
                membership_grant(user=user("lead.collect"), role=lead, locale=locales[tag], actor=ACTOR)
            campaign = Campaign.objects.filter(name=NAME).first()
            if campaign is None:
                campaign = campaign_create(name=NAME, locales=list(locales.values()), intents=intents, actor=ACTOR,
                                           target_per_intent=5, required_validations=2, instructions=INSTRUCTIONS)
                campaign_status_change(campaign=campaign, to="active", actor=ACTOR)
        self.stdout.write(f"  Collection: /collect/ as {', '.join(n for names in NATIVES.values() for n in names)}; "
                          f"lead dashboard /collect/lead/{campaign.pk}/ as lead.collect")
