from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from parley.access.admin_scoping import LocaleScopedAdmin
from parley.access.scoping import can

from . import annotation as notation
from .models import Intent, Scenario, SlotType, Utterance
from .services import utterance_annotation_update


class SchemaAdmin(admin.ModelAdmin):
    """The schema is shared by every locale: everyone with a role reads it, platform admins edit it."""

    def _perm(self, action):
        return f"nlu.{action}_{self.model._meta.model_name}"

    def has_view_permission(self, request, obj=None):
        return can(request.user, self._perm("view")) or can(request.user, self._perm("change"))

    def has_module_permission(self, request):
        return self.has_view_permission(request)


@admin.register(Scenario)
class ScenarioAdmin(SchemaAdmin):
    search_fields = ["name"]


@admin.register(SlotType)
class SlotTypeAdmin(SchemaAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(Intent)
class IntentAdmin(SchemaAdmin):
    list_display = ["name", "scenario"]
    list_filter = ["scenario"]
    search_fields = ["name"]
    filter_horizontal = ["slot_types"]


class UtteranceForm(forms.ModelForm):
    class Meta:
        model = Utterance
        fields = ["intent", "annotated"]
        widgets = {"annotated": forms.TextInput(attrs={"size": 100, "class": "parley-annotation"})}

    def clean(self):
        data = super().clean()
        intent, annotated = data.get("intent"), data.get("annotated")
        if intent and annotated is not None:
            result = notation.parse(
                annotated, slot_types=set(SlotType.objects.values_list("name", flat=True)),
                allowed_slot_types=set(intent.slot_types.values_list("name", flat=True)),
                locale=self.instance.locale.tag if self.instance.locale_id else None)
            if not result.ok:
                raise ValidationError({"annotated": [f"{i.message} (position {i.position})" for i in result.errors]})
            self.annotation_warnings = [i.message for i in result.warnings]
        return data


@admin.register(Utterance)
class UtteranceAdmin(LocaleScopedAdmin):
    form = UtteranceForm
    list_display = ["text", "locale", "intent", "partition", "status", "source"]
    list_filter = ["status", "partition", "source", "intent__scenario", "locale"]
    search_fields = ["text", "external_id"]
    list_select_related = ["locale", "intent"]
    show_full_result_count = False  # no COUNT(*) over a million rows per page
    readonly_fields = ["locale", "text", "slots", "source", "external_id", "partition", "status", "provenance",
                       "created_at", "updated_at"]
    fields = ["locale", "intent", "annotated", "text", "slots", "partition", "status", "source", "external_id",
              "provenance", "created_at", "updated_at"]

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
