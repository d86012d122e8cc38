"""The default roles. Roles are data (editable in the admin); this seeds them.

Permissions are named "app_label.codename"; ones whose app is not installed yet are skipped,
so later apps extend these lists without a migration here. Sync only adds: permissions an
admin granted stay.
"""
from django.db import transaction

PLATFORM_ADMIN = "platform_admin"
LOCALE_LEAD = "locale_lead"
LINGUIST = "linguist"
ANNOTATOR = "annotator"
PIPELINE = "pipeline"

_READ_REGISTRY = ["locales.view_locale", "locales.view_localealias"]
_READ_SCHEMA = ["nlu.view_scenario", "nlu.view_intent", "nlu.view_slottype"]
# Per-locale schema work: guides and lexicon values (intents, slot types, concepts are global).
_EDIT_GUIDES_AND_LEXICON = [f"nlu.{action}_{model}" for model in ("intentguide", "slottypeguide", "lexiconentry")
                            for action in ("view", "add", "change", "delete")] + ["nlu.view_lexiconconcept"]
_READ_GUIDES_AND_LEXICON = ["nlu.view_intentguide", "nlu.view_slottypeguide", "nlu.view_lexiconentry",
                            "nlu.view_lexiconconcept", "nlu.view_coveragetarget"]
_READ_RELEASES = ["datasets.view_release", "datasets.view_releasefile"]

# Feedback (issue 8): linguists triage, review and resolve clusters in their locales and review
# mined paraphrases; leads also assign, reopen and set the locale's SLA; pipelines push events.
_FEEDBACK_WORK = ["feedback.view_feedbackcluster", "feedback.view_feedbackevent", "feedback.triage_feedbackcluster",
                  "feedback.resolve_feedbackcluster", "feedback.view_paraphrasecandidate",
                  "feedback.review_paraphrasecandidate", "feedback.view_feedbacksla"]
_FEEDBACK_LEAD = _FEEDBACK_WORK + ["feedback.assign_feedbackcluster", "feedback.add_feedbacksla",
                                   "feedback.change_feedbacksla"]
_FEEDBACK_PIPELINE = ["feedback.add_feedbackevent"]
# Culture (issue 6). Linguists and leads write their locales' template texts, sensitive terms and
# holidays; leads also set the registers (how the assistant addresses users is a lead's call) and
# are the reviewers who approve, retire or reopen texts. Template keys are shared: platform admins.
_CULTURE_LOCALE_MODELS = ("responsetemplate", "sensitiveterm", "holiday", "holidaydate")
_CULTURE_READ = ["culture.view_templatekey", "culture.view_responsetemplate", "culture.view_formalityregister",
                 "culture.view_registeroverride", "culture.view_sensitiveterm", "culture.view_holiday",
                 "culture.view_holidaydate", "culture.view_holidayyear"]
_CULTURE_LINGUIST = _CULTURE_READ + [f"culture.{action}_{model}" for model in _CULTURE_LOCALE_MODELS
                                     for action in ("add", "change", "delete")]
_CULTURE_LEAD = _CULTURE_LINGUIST + ["culture.approve_responsetemplate"] + [
    f"culture.{action}_{model}" for model in ("formalityregister", "registeroverride")
    for action in ("add", "change", "delete")]

ROLE_DEFAULTS = {
    PLATFORM_ADMIN: {
        "name": "Platform admin",
        "description": "Manages users, roles, tokens and every locale.",
        "permissions": "__all__",
    },
    LOCALE_LEAD: {
        "name": "Locale lead",
        "description": "Owns a locale: its lifecycle, its linguists' work, its event log.",
        "permissions": _READ_REGISTRY + [
            "locales.change_locale", "locales.add_localealias", "locales.change_localealias",
            "events.view_event", "runs.view_taskrun", "access.view_membership",
            "nlu.view_utterance", "nlu.change_utterance", "checks.view_checkresult",
        ] + _READ_SCHEMA + _EDIT_GUIDES_AND_LEXICON + [
            f"nlu.{action}_coveragetarget" for action in ("view", "add", "change", "delete")]
        + _READ_RELEASES + ["datasets.promote_utterances", "datasets.view_testretirement", "datasets.add_testretirement",
                            "datasets.add_release", "datasets.view_promotionrefusal"]
        + [f"datasets.{action}_{model}" for model in ("promotionrule", "testfloor")
           for action in ("view", "add", "change", "delete")]
        + _FEEDBACK_LEAD + _CULTURE_LEAD,
    },
    LINGUIST: {
        "name": "Linguist",
        "description": "Writes and reviews language data for their locales.",
        "permissions": _READ_REGISTRY + _READ_SCHEMA + ["runs.view_taskrun", "nlu.view_utterance",
                                                        "nlu.change_utterance", "checks.view_checkresult"]
        + _EDIT_GUIDES_AND_LEXICON + ["nlu.view_coveragetarget"] + _READ_RELEASES
        + ["datasets.view_promotionrule", "datasets.view_testfloor", "datasets.view_testretirement",
           "datasets.view_promotionrefusal"]
        + _FEEDBACK_WORK + _CULTURE_LINGUIST,
    },
    ANNOTATOR: {
        "name": "Annotator",
        "description": "Collects and judges test utterances in their native language.",
        "permissions": ["locales.view_locale"],
        "admin_site": False,
    },
    PIPELINE: {
        "name": "Pipeline client",
        "description": "A model pipeline using the REST API with a scoped token.",
        "permissions": _READ_REGISTRY + _READ_SCHEMA + ["runs.view_taskrun", "nlu.view_utterance",
                                                        "checks.view_checkresult"]
        + _READ_GUIDES_AND_LEXICON + _READ_RELEASES + _FEEDBACK_PIPELINE + _CULTURE_READ,
        "admin_site": False,
    },
}


def roles_sync() -> None:
    from django.contrib.auth.models import Group, Permission

    from .models import Role

    with transaction.atomic():
        for slug, spec in ROLE_DEFAULTS.items():
            role = Role.objects.filter(slug=slug).first()
            if role is None:
                group, _ = Group.objects.get_or_create(name=f"role:{slug}")
                role = Role.objects.create(slug=slug, name=spec["name"], description=spec["description"], group=group,
                                           grants_admin_site=spec.get("admin_site", True))
            if spec["permissions"] == "__all__":
                wanted = Permission.objects.all()
            else:
                wanted = Permission.objects.none()
                for name in spec["permissions"]:
                    app_label, codename = name.split(".", 1)
                    wanted = wanted | Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            role.group.permissions.add(*wanted)
        from .services import access_changed

        access_changed()  # a role's permissions may have grown: tokens' copies are stale


def roles_sync_after_migrate(sender, **kwargs) -> None:
    # post_migrate is sent once per app, in INSTALLED_APPS order; after the last one every
    # app's permissions exist.
    from django.apps import apps

    if sender.label == list(apps.get_app_configs())[-1].label:
        roles_sync()


# --- collection (issue 7): campaigns for leads, tasks for native annotators -----------------------
_COLLECTION_READ = ["collection.view_campaign", "collection.view_campaignlocale", "collection.view_task",
                    "collection.view_judgment", "collection.view_decision", "collection.view_tasklease"]
ROLE_DEFAULTS[LOCALE_LEAD]["permissions"] += _COLLECTION_READ + [
    "collection.add_campaign", "collection.change_campaign", "collection.change_campaignlocale"]
ROLE_DEFAULTS[LINGUIST]["permissions"] += ["collection.view_campaign", "collection.view_decision"]
ROLE_DEFAULTS[ANNOTATOR]["permissions"] += ["collection.work_task"]
ROLE_DEFAULTS[PIPELINE]["permissions"] += _COLLECTION_READ
