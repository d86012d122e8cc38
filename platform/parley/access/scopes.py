"""API token scopes: what a pipeline's token may do, on top of its user's roles and locales."""
from django.utils.translation import gettext_lazy as _

SCOPES = {
    "locales:read": _("Read the locale registry"),
    "locales:write": _("Change locale lifecycle and registry facts"),
    "events:read": _("Read the event log"),
    "runs:read": _("Read task runs and their progress"),
    "checks:read": _("Read the check registry and stored check results"),
    "tokens:admin": _("Manage API tokens (platform admins only)"),
    "utterances:read": _("Read and export utterances"),
    "utterances:write": _("Edit utterances' annotation"),
    "imports:write": _("Upload imports (platform admins only)"),
    "schema:read": _("Read intents, slot types and lexicons"),
    "schema:write": _("Change intents, slot types and lexicons"),
    "datasets:read": _("List and download dataset releases"),
    "datasets:write": _("Promote utterances, build releases, manage promotion rules, floors and retirements"),
    "feedback:write": _("Push user feedback events"),
    "feedback:read": _("Read feedback clusters, events and paraphrase candidates"),
    "feedback:triage": _("Triage, assign and resolve feedback clusters; review paraphrase candidates"),
    "collection:read": _("Read collection campaigns, their progress, agreement and judgments"),
    "collection:write": _("Change collection campaigns' status (leads of every locale of the campaign)"),
    "culture:read": _("Read templates, registers, sensitive terms and holidays; render templates"),
    "culture:write": _("Write template texts, registers, sensitive terms and holidays"),
}


# What a token's user must hold (any one of, in at least one locale) for a scope to be of use.
# Scopes whose app is not built yet have no entry; a token may carry them ahead of time.
SCOPE_NEEDS = {
    "locales:read": ["locales.view_locale"],
    "locales:write": ["locales.change_locale"],
    "events:read": ["events.view_event"],
    "runs:read": ["runs.view_taskrun"],
    "tokens:admin": ["access.add_apitoken"],
    "utterances:read": ["nlu.view_utterance"],
    "utterances:write": ["nlu.change_utterance"],
    "imports:write": ["interchange.add_importbatch"],
    "schema:read": ["nlu.view_intent"],
    "schema:write": ["nlu.change_intent", "nlu.change_intentguide", "nlu.change_lexiconentry",
                     "nlu.change_coveragetarget"],
    "checks:read": ["checks.view_checkresult"],
    "datasets:read": ["datasets.view_release"],
    "datasets:write": ["datasets.promote_utterances", "datasets.add_release", "datasets.change_promotionrule",
                       "datasets.add_testretirement", "datasets.change_testfloor"],
    "feedback:write": ["feedback.add_feedbackevent"],
    "feedback:read": ["feedback.view_feedbackcluster"],
    "feedback:triage": ["feedback.triage_feedbackcluster", "feedback.resolve_feedbackcluster",
                        "feedback.review_paraphrasecandidate"],
    "culture:read": ["culture.view_responsetemplate"],
    "culture:write": ["culture.change_responsetemplate", "culture.change_sensitiveterm", "culture.change_holiday",
                      "culture.add_templatekey"],
}
SCOPE_NEEDS["collection:read"] = ["collection.view_campaign"]  # collection (issue 7)
SCOPE_NEEDS["collection:write"] = ["collection.change_campaign"]
