from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from parley.access.admin_scoping import LocaleScopedAdmin, ServiceRefusalsAsMessages
from parley.access.scoping import ALL_LOCALES, can, locales_for, scope_queryset
from parley.checks.admin import findings_display
from parley.config.generations import AdminDeleteBumps

from .checks import edit_errors_as_messages, utterance_edit_evaluate
from .admin_coverage import CoverageAdminMixin
from .models import CoverageTarget, Intent, IntentGuide, LexiconConcept, LexiconEntry, Scenario, SlotType, SlotTypeGuide, Utterance
from .normalize import normalize_text
from .selectors import SCHEMA_GENERATION
from .services import (coverage_target_delete, coverage_target_set, guide_delete, guide_examples_clean, intent_create, intent_delete,
                       intent_guide_save, intent_update, lexicon_concept_create, lexicon_concept_delete,
                       lexicon_concept_update, lexicon_entry_create, lexicon_entry_delete, lexicon_entry_update,
                       lexicon_synonyms_clean, lexicon_value_problem, slot_type_create, slot_type_delete,
                       slot_type_guide_save, slot_type_update, slot_type_usage, utterance_annotation_update, utterance_review)


class SchemaAdmin(ServiceRefusalsAsMessages, admin.ModelAdmin):
    """The schema is shared by every locale: everyone with a role reads it, platform admins edit it."""

    def _perm(self, action):
        return f"nlu.{action}_{self.model._meta.model_name}"

    def has_view_permission(self, request, obj=None):
        return can(request.user, self._perm("view")) or can(request.user, self._perm("change"))

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    # Writing a global object needs the permission in every locale, the same rule as the API:
    # a grant in one locale must not reach the rows every other locale depends on.
    def _everywhere(self, request, action) -> bool:
        return locales_for(request.user, self._perm(action)) is ALL_LOCALES

    def has_add_permission(self, request):
        return self._everywhere(request, "add")

    def has_change_permission(self, request, obj=None):
        return self._everywhere(request, "change")

    def has_delete_permission(self, request, obj=None):
        return self._everywhere(request, "delete")


@admin.register(Scenario)
class ScenarioAdmin(AdminDeleteBumps, SchemaAdmin):
    bumps = (SCHEMA_GENERATION,)  # its intents and register overrides go with it
    search_fields = ["name"]


class ServiceDeletes:
    """Deletes go through the model's service (an event row each); refusals list on the
    confirmation page as protected, so nothing is half-deleted."""

    def delete_problem(self, obj) -> str | None:
        return None

    def delete_through_service(self, request, obj):
        raise NotImplementedError

    def get_deleted_objects(self, objs, request):
        problems = [p for p in (self.delete_problem(o) for o in objs) if p]
        if problems:
            return [], {}, set(), problems
        return super().get_deleted_objects(objs, request)

    def delete_model(self, request, obj):
        self.delete_through_service(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self.delete_through_service(request, obj)


@admin.register(SlotType)
class SlotTypeAdmin(ServiceDeletes, SchemaAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]
    fields = ["name", "kind", "description"]

    def get_readonly_fields(self, request, obj=None):
        return ["name"] if obj else []  # the name is written in every annotation

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            slot_type_update(slot_type=SlotType.objects.get(pk=obj.pk), kind=data["kind"],
                             description=data["description"], actor=request.user)
        else:
            obj.pk = slot_type_create(name=data["name"], kind=data["kind"], description=data["description"],
                                      actor=request.user).pk

    def delete_problem(self, obj):
        used = slot_type_usage(slot_type=obj)
        if used:
            return _("%(name)s is used by %(n)d utterance(s); re-annotate them first.") % {"name": obj.name, "n": used}
        if obj.concepts.exists():
            return _("%(name)s has lexicon concepts; delete them first.") % {"name": obj.name}
        return None

    def delete_through_service(self, request, obj):
        slot_type_delete(slot_type=obj, actor=request.user)


@admin.register(Intent)
class IntentAdmin(ServiceDeletes, SchemaAdmin):
    list_display = ["name", "scenario"]
    list_filter = ["scenario"]
    search_fields = ["name"]
    filter_horizontal = ["slot_types"]
    fields = ["name", "scenario", "slot_types", "description"]

    def get_readonly_fields(self, request, obj=None):
        return ["name"] if obj else []  # the name is the intent's identity in exports and datasets

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        names = [s.name for s in data["slot_types"]]
        if change:
            intent_update(intent=Intent.objects.get(pk=obj.pk), scenario=data["scenario"].name, slot_types=names,
                          description=data["description"], actor=request.user)
        else:
            obj.pk = intent_create(name=data["name"], scenario=data["scenario"].name, slot_types=names,
                                   description=data["description"], actor=request.user).pk

    def save_related(self, request, form, formsets, change):
        pass  # the allowed slot types were set by the service

    def delete_problem(self, obj):
        used = Utterance.objects.filter(intent=obj).count()
        if used:
            return _("%(name)s is used by %(n)d utterance(s); re-label or retire them first.") % {
                "name": obj.name, "n": used}
        return None

    def delete_through_service(self, request, obj):
        intent_delete(intent=obj, actor=request.user)


class UtteranceForm(forms.ModelForm):
    class Meta:
        model = Utterance
        fields = ["intent", "annotated"]
        widgets = {"annotated": forms.TextInput(attrs={"size": 100, "class": "parley-annotation"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "annotated" in self.fields:
            # annotation_live.js asks this endpoint as the linguist types (the save checks again).
            self.fields["annotated"].widget.attrs.update({
                "data-check-url": reverse("utterance-check", args=[self.instance.pk]),
                "data-ok-label": _("valid"), "data-error-label": _("not valid")})

    def clean(self):
        data = super().clean()
        intent, annotated = data.get("intent"), data.get("annotated")
        if intent and annotated is not None:
            _built, findings = utterance_edit_evaluate(utterance=self.instance, annotated=annotated, intent=intent)
            errors = edit_errors_as_messages(findings)
            if errors:
                raise ValidationError({"annotated": errors})
            self.annotation_warnings = [f.message for f in findings]
        return data


@admin.register(Utterance)
class UtteranceAdmin(CoverageAdminMixin, LocaleScopedAdmin):
    form = UtteranceForm

    class Media:
        js = ["nlu/annotation_live.js"]

    change_list_template = "admin/nlu/change_list_with_coverage.html"  # adds the coverage page link
    list_display = ["text", "locale", "intent", "partition", "status", "source"]
    list_filter = ["status", "partition", "source", "intent__scenario", "locale"]
    search_fields = ["text", "external_id"]
    list_select_related = ["locale", "intent"]
    show_full_result_count = False  # no COUNT(*) over a million rows per page
    readonly_fields = ["locale", "text", "slots", "source", "external_id", "partition", "status", "provenance",
                       "created_at", "updated_at", "check_findings"]
    fields = ["locale", "intent", "annotated", "text", "slots", "partition", "status", "source", "external_id",
              "provenance", "created_at", "updated_at"]

    def get_fields(self, request, obj=None):
        # The stored findings, for those who may read check results in this utterance's locale.
        if obj is not None and can(request.user, "checks.view_checkresult", locale_id=obj.locale_id):
            return [*self.fields, "check_findings"]
        return self.fields

    @admin.display(description=_("check findings"))
    def check_findings(self, obj):
        return findings_display(target=obj)

    actions = ["accept_candidates", "reject_candidates"]

    def _review(self, request, queryset, accept: bool):
        done, refused = 0, []
        for utterance in queryset.select_related("locale"):
            if not can(request.user, "nlu.change_utterance", utterance):
                refused.append(f"{utterance.pk}: not in your locales")
                continue
            try:
                utterance_review(utterance=utterance, accept=accept, actor=request.user,
                                 reason="" if accept else "rejected in the admin")
                done += 1
            except ValidationError as exc:
                refused.append(f"{utterance.pk}: {'; '.join(exc.messages)}")
        self.message_user(request, _("%(n)d reviewed.") % {"n": done})
        for line in refused[:20]:
            self.message_user(request, line, level="warning")

    @admin.action(description=_("Accept the selected candidates (feedback, mined, manual)"))
    def accept_candidates(self, request, queryset):
        self._review(request, queryset, accept=True)

    @admin.action(description=_("Reject the selected candidates"))
    def reject_candidates(self, request, queryset):
        self._review(request, queryset, accept=False)

    def has_add_permission(self, request):
        return False  # utterances arrive by import, collection or feedback

    def has_delete_permission(self, request, obj=None):
        return False  # retire instead (datasets keep referring to them)

    def save_model(self, request, obj, form, change):
        # The edit goes through the service: re-derived text and slots, and an event row.
        original = Utterance.objects.select_related("locale", "intent").get(pk=obj.pk)
        utterance_annotation_update(utterance=original, annotated=form.cleaned_data["annotated"],
                                    intent=form.cleaned_data["intent"], actor=request.user)
        for message in getattr(form, "annotation_warnings", []):
            self.message_user(request, _("Warning: %(m)s") % {"m": message}, level="warning")


# --- Per-locale guides ------------------------------------------------------------------------

class GuideForm(forms.ModelForm):
    examples = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4, "cols": 90}),
                               help_text=_("One example a line, in MASSIVE notation: wake me up at [time : five am]"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["examples"] = "\n".join(self.instance.examples)

    def clean_examples(self):
        return [line.strip() for line in self.cleaned_data["examples"].splitlines() if line.strip()]

    def clean(self):
        data = super().clean()
        locale = data.get("locale") or (self.instance.locale if self.instance.pk else None)
        if locale is not None and data.get("examples"):
            try:
                guide_examples_clean(examples=data["examples"], locale=locale)
            except ValidationError as exc:
                self.add_error("examples", exc.message_dict["examples"])
        return data


class GuideAdmin(LocaleScopedAdmin):
    """Linguists and leads write guides for their own locales; writes go through the services."""

    form = GuideForm
    owner_field = ""
    save_guide = None
    list_select_related = ["locale"]
    list_filter = ["locale"]
    search_fields = ["description", "guidance"]

    def get_fields(self, request, obj=None):
        return [self.owner_field, "locale", "description", "guidance", "examples"]

    def get_readonly_fields(self, request, obj=None):
        return [self.owner_field, "locale"] if obj else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = type(self).save_guide(**{self.owner_field: getattr(obj, self.owner_field)}, locale=obj.locale,
                                      actor=request.user, description=data["description"], guidance=data["guidance"],
                                      examples=data["examples"])
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        guide_delete(guide=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for guide in queryset:
                guide_delete(guide=guide, actor=request.user)


class IntentGuideForm(GuideForm):
    class Meta:
        model = IntentGuide
        fields = ["intent", "locale", "description", "guidance"]

    def clean(self):
        data = super().clean()
        if not self.instance.pk and data.get("intent") and data.get("locale") and IntentGuide.objects.filter(
                intent=data["intent"], locale=data["locale"]).exists():
            raise ValidationError(_("This intent already has a guide for this locale; edit that one."))
        return data


class SlotTypeGuideForm(GuideForm):
    class Meta:
        model = SlotTypeGuide
        fields = ["slot_type", "locale", "description", "guidance"]

    def clean(self):
        data = super().clean()
        if not self.instance.pk and data.get("slot_type") and data.get("locale") and SlotTypeGuide.objects.filter(
                slot_type=data["slot_type"], locale=data["locale"]).exists():
            raise ValidationError(_("This slot type already has a guide for this locale; edit that one."))
        return data


@admin.register(IntentGuide)
class IntentGuideAdmin(GuideAdmin):
    form = IntentGuideForm
    owner_field = "intent"
    save_guide = staticmethod(intent_guide_save)
    list_display = ["intent", "locale", "description", "updated_at"]
    list_filter = ["locale", "intent__scenario"]
    list_select_related = ["intent", "locale"]
    search_fields = ["intent__name", "description", "guidance"]


@admin.register(SlotTypeGuide)
class SlotTypeGuideAdmin(GuideAdmin):
    form = SlotTypeGuideForm
    owner_field = "slot_type"
    save_guide = staticmethod(slot_type_guide_save)
    list_display = ["slot_type", "locale", "description", "updated_at"]
    list_select_related = ["slot_type", "locale"]
    search_fields = ["slot_type__name", "description", "guidance"]


# --- Slot value lexicon -----------------------------------------------------------------------

@admin.register(LexiconConcept)
class LexiconConceptAdmin(ServiceDeletes, SchemaAdmin):
    """Concepts span locales: platform admins add and delete them; everyone with a role reads."""

    list_display = ["key", "slot_type", "note"]
    list_filter = ["slot_type"]
    search_fields = ["key", "note"]
    fields = ["slot_type", "key", "note"]

    def get_readonly_fields(self, request, obj=None):
        return ["slot_type", "key"] if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "slot_type":
            kwargs["queryset"] = SlotType.objects.filter(kind=SlotType.Kind.CATALOGUED)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        found, _duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:
            # Values are per locale: a search matches only the values of locales the user may read.
            entries = scope_queryset(LexiconEntry.objects.filter(value__icontains=search_term), request.user,
                                     "nlu.view_lexiconentry")
            found = found | queryset.filter(pk__in=entries.values("concept_id"))
        return found.distinct(), False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            lexicon_concept_update(concept=LexiconConcept.objects.get(pk=obj.pk), note=data["note"], actor=request.user)
        else:
            obj.pk = lexicon_concept_create(slot_type=data["slot_type"], key=data["key"], note=data["note"],
                                            actor=request.user).pk

    def delete_through_service(self, request, obj):
        lexicon_concept_delete(concept=obj, actor=request.user)


class LexiconEntryForm(forms.ModelForm):
    synonyms = forms.CharField(required=False, help_text=_("Separated by |, e.g. yen | JPY"),
                               widget=forms.TextInput(attrs={"size": 80}))

    class Meta:
        model = LexiconEntry
        fields = ["concept", "locale", "value"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["synonyms"] = " | ".join(self.instance.synonyms)
        if "concept" in self.fields:
            self.fields["concept"].queryset = LexiconConcept.objects.select_related("slot_type")

    def clean(self):
        data = super().clean()
        concept = data.get("concept") or (self.instance.concept if self.instance.pk else None)
        locale = data.get("locale") or (self.instance.locale if self.instance.pk else None)
        if concept is None or locale is None or not data.get("value"):
            return data
        _normalized, problem = lexicon_value_problem(value=data["value"], concept=concept, locale=locale,
                                                     exclude_pk=self.instance.pk)
        if problem:
            self.add_error("value", problem)
        try:
            data["synonyms"] = lexicon_synonyms_clean(value=data["value"], synonyms=data["synonyms"].split("|"),
                                                      locale=locale)
        except ValidationError as exc:
            self.add_error("synonyms", exc.messages[0])
        return data


@admin.register(LexiconEntry)
class LexiconEntryAdmin(LocaleScopedAdmin):
    form = LexiconEntryForm
    list_display = ["value", "concept", "slot_type", "locale", "synonym_list"]
    list_filter = ["concept__slot_type", "locale"]
    list_select_related = ["concept", "concept__slot_type", "locale"]
    search_fields = ["value", "normalized", "concept__key", "synonyms"]
    list_per_page = 100

    def get_fields(self, request, obj=None):
        return ["concept", "locale", "value", "synonyms"]

    def get_readonly_fields(self, request, obj=None):
        return ["concept", "locale"] if obj else []

    @admin.display(description=_("slot type"), ordering="concept__slot_type__name")
    def slot_type(self, obj):
        return obj.concept.slot_type.name

    @admin.display(description=_("synonyms"))
    def synonym_list(self, obj):
        return " | ".join(obj.synonyms)

    def get_search_results(self, request, queryset, search_term):
        # Searching normalizes the term like the values, so "Japanese Yen" finds "japanese yen".
        found, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:
            found = found | queryset.filter(normalized__contains=normalize_text(search_term))
        return found, duplicates

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            lexicon_entry_update(entry=LexiconEntry.objects.select_related("concept", "locale").get(pk=obj.pk),
                                 value=data["value"], synonyms=data["synonyms"], actor=request.user)
        else:
            obj.pk = lexicon_entry_create(concept=data["concept"], locale=data["locale"], value=data["value"],
                                          synonyms=data["synonyms"], actor=request.user).pk

    def delete_model(self, request, obj):
        lexicon_entry_delete(entry=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for entry in queryset.select_related("concept__slot_type", "locale"):
                lexicon_entry_delete(entry=entry, actor=request.user)


# --- Coverage targets -------------------------------------------------------------------------

class CoverageTargetForm(forms.ModelForm):
    class Meta:
        model = CoverageTarget
        fields = ["locale", "intent", "partition", "target"]

    def clean(self):
        data = super().clean()
        if not self.instance.pk and data.get("locale") and data.get("partition") and CoverageTarget.objects.filter(
                locale=data["locale"], intent=data.get("intent"), partition=data["partition"]).exists():
            raise ValidationError(_("This target is already set; edit it instead."))
        return data


@admin.register(CoverageTarget)
class CoverageTargetAdmin(CoverageAdminMixin, LocaleScopedAdmin):
    """Leads set their locales' targets: a default per partition, and per-intent overrides."""

    form = CoverageTargetForm
    change_list_template = "admin/nlu/change_list_with_coverage.html"
    list_display = ["locale", "intent_or_default", "partition", "target", "updated_at"]
    list_filter = ["partition", "locale"]
    list_select_related = ["locale", "intent"]
    search_fields = ["intent__name", "locale__tag"]
    coverage_url_name = "nlu_coveragetarget_coverage"

    @admin.display(description=_("intent"), ordering="intent__name")
    def intent_or_default(self, obj):
        return obj.intent.name if obj.intent_id else _("(default for every intent)")

    def get_readonly_fields(self, request, obj=None):
        return ["locale", "intent", "partition"] if obj else []

    def save_model(self, request, obj, form, change):
        row = coverage_target_set(locale=obj.locale, intent=obj.intent, partition=obj.partition,
                                  target=form.cleaned_data["target"], actor=request.user)
        obj.pk = row.pk

    def delete_model(self, request, obj):
        coverage_target_delete(row=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for row in queryset.select_related("locale", "intent"):
                coverage_target_delete(row=row, actor=request.user)
