"""/api/v1/: every app's API registered on one router."""
from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from parley.access.api import ApiTokenViewSet, EventViewSet, MeView, TaskRunViewSet
from parley.collection.api import CampaignViewSet
from parley.checks.api import CheckListView, CheckResultViewSet
from parley.datasets.api import (PromotionRefusalViewSet, PromotionRuleViewSet, PromotionView, ReleaseViewSet,
                                 TestFloorViewSet, TestRetirementViewSet)
from parley.interchange.api import ExportView, ImportBatchViewSet
from parley.feedback.api import FeedbackClusterViewSet, FeedbackEventViewSet, ParaphraseViewSet
from parley.locales.api import LocaleViewSet
from parley.nlu.api import CoverageView, IntentViewSet, SlotTypeViewSet, UtteranceViewSet
from parley.nlu.api import (CoverageTargetViewSet, IntentGuideViewSet, LexiconConceptViewSet, LexiconEntryViewSet,
                            LexiconExportView, LexiconImportView, SlotTypeGuideViewSet)

router = DefaultRouter()
router.trailing_slash = "/?"  # /api/v1/locales and /api/v1/locales/ both work (DRF's init only takes a bool)
router.register("locales", LocaleViewSet, basename="locale")
router.register("tokens", ApiTokenViewSet, basename="token")
router.register("events", EventViewSet, basename="event")
router.register("task-runs", TaskRunViewSet, basename="taskrun")
router.register("intents", IntentViewSet, basename="intent")
router.register("slot-types", SlotTypeViewSet, basename="slottype")
router.register("utterances", UtteranceViewSet, basename="utterance")
router.register("imports", ImportBatchViewSet, basename="import")
router.register("check-results", CheckResultViewSet, basename="checkresult")
router.register("intent-guides", IntentGuideViewSet, basename="intentguide")
router.register("slot-type-guides", SlotTypeGuideViewSet, basename="slottypeguide")
router.register("lexicon-concepts", LexiconConceptViewSet, basename="lexiconconcept")
router.register("lexicon-entries", LexiconEntryViewSet, basename="lexiconentry")
router.register("coverage-targets", CoverageTargetViewSet, basename="coveragetarget")
router.register("releases", ReleaseViewSet, basename="release")
router.register("promotion-rules", PromotionRuleViewSet, basename="promotionrule")
router.register("promotion-refusals", PromotionRefusalViewSet, basename="promotionrefusal")
router.register("test-floors", TestFloorViewSet, basename="testfloor")
router.register("test-retirements", TestRetirementViewSet, basename="testretirement")
router.register("feedback/events", FeedbackEventViewSet, basename="feedbackevent")
router.register("feedback/clusters", FeedbackClusterViewSet, basename="feedbackcluster")
router.register("feedback/paraphrases", ParaphraseViewSet, basename="paraphrasecandidate")
router.register("collection/campaigns", CampaignViewSet, basename="campaign")  # collection (issue 7)

# --- culture (issue 6): templates, registers, sensitive terms, holidays ---
from parley.culture.api import (FormalityRegisterViewSet, HolidayCoverageView, HolidayViewSet,  # noqa: E402
                                LocaleCultureView, LocaleHolidayLexiconView, LocaleHolidaysSeedView, LocaleHolidaysView,
                                LocaleHolidayUtterancesView, RegisterOverrideViewSet, ResponseTemplateViewSet,
                                SensitiveTermViewSet, TemplateKeyViewSet, TemplateRenderView)

router.register("template-keys", TemplateKeyViewSet, basename="templatekey")
router.register("response-templates", ResponseTemplateViewSet, basename="responsetemplate")
router.register("formality-registers", FormalityRegisterViewSet, basename="formalityregister")
router.register("register-overrides", RegisterOverrideViewSet, basename="registeroverride")
router.register("sensitive-terms", SensitiveTermViewSet, basename="sensitiveterm")
router.register("holidays", HolidayViewSet, basename="holiday")
culture_urls = [
    re_path(r"^templates/(?P<key>[A-Za-z0-9_.]+)/render/?$", TemplateRenderView.as_view(), name="template-render"),
    re_path(r"^locales/(?P<tag>[A-Za-z0-9_-]+)/holidays/?$", LocaleHolidaysView.as_view(), name="locale-holidays"),
    re_path(r"^locales/(?P<tag>[A-Za-z0-9_-]+)/holidays/seed/?$", LocaleHolidaysSeedView.as_view(),
            name="locale-holidays-seed"),
    re_path(r"^locales/(?P<tag>[A-Za-z0-9_-]+)/holidays/utterances/?$", LocaleHolidayUtterancesView.as_view(),
            name="locale-holidays-utterances"),
    re_path(r"^locales/(?P<tag>[A-Za-z0-9_-]+)/holidays/lexicon/?$", LocaleHolidayLexiconView.as_view(),
            name="locale-holidays-lexicon"),
    re_path(r"^holidays/coverage/?$", HolidayCoverageView.as_view(), name="holiday-coverage"),
    re_path(r"^locales/(?P<tag>[A-Za-z0-9_-]+)/culture/?$", LocaleCultureView.as_view(), name="locale-culture"),
]

urlpatterns = culture_urls + [
    path("me/", MeView.as_view(), name="me"),
    path("exports/<str:format_name>/", ExportView.as_view(), name="export"),
    path("coverage/", CoverageView.as_view(), name="coverage"),
    path("promotions/", PromotionView.as_view(), name="promotions"),
    path("checks/", CheckListView.as_view(), name="checks"),
    path("lexicon/export/", LexiconExportView.as_view(), name="lexicon-export"),
    path("lexicon/import/", LexiconImportView.as_view(), name="lexicon-import"),
    path("", include(router.urls)),
]
