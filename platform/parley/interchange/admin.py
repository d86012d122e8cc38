from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from parley.access.admin import PlatformAdminOnly

from parley.runs.workers import waiting_reason

from .models import ImportBatch, ImportReject
from .services import (LABEL_MAP_MAX_BYTES, conll_label_map_read, import_batch_create, upload_problem,
                       upload_store)
from .tasks import import_batch_queue


# A million-row import can reject a million rows; the page shows the first ones, the CSV all.
INLINE_REJECTS = 200


class FirstRejectsFormSet(BaseInlineFormSet):
    def get_queryset(self):
        return super().get_queryset()[:INLINE_REJECTS]


class ImportRejectInline(admin.TabularInline):
    model = ImportReject
    formset = FirstRejectsFormSet
    verbose_name_plural = _("rejected rows (the first %(count)d; the reject report has them all)") % {
        "count": INLINE_REJECTS}
    fields = ["file", "line", "field", "reason", "excerpt"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False


class ImportUploadForm(forms.ModelForm):
    upload = forms.FileField(label=_("file"), help_text=_(
        "MASSIVE/SLURP: .jsonl or the .tar.gz as published; CoNLL/BIO: .conll (its name gives locale and "
        "partition, e.g. gsw.test.conll) or a .tar.gz of them"))
    create_missing = forms.BooleanField(required=False, help_text=_("create unknown locales, intents, slot types"))
    strict = forms.BooleanField(required=False, help_text=_("write nothing if any row is rejected"))
    locale = forms.CharField(required=False, help_text=_("store every row under this locale"))
    label_map = forms.FileField(required=False, help_text=_(
        'CoNLL only: JSON {"intents": {old: new}, "slot_types": {old: new}} renaming the labels it lists'))

    class Meta:
        model = ImportBatch
        fields = ["format"]

    def clean(self):
        data = super().clean()
        upload, format = data.get("upload"), data.get("format")
        if upload and format:
            problem = upload_problem(name=upload.name, size=upload.size, format=format, file=upload)
            if problem:
                self.add_error("upload", problem)
        if data.get("label_map") is not None:
            if format != ImportBatch.Format.CONLL:
                self.add_error("label_map", _("a label map applies to CoNLL imports only"))
            else:
                try:
                    data["label_map"] = conll_label_map_read(data["label_map"].read(LABEL_MAP_MAX_BYTES + 1))
                except ValidationError as exc:
                    self.add_error("label_map", exc.messages)
        return data


@admin.register(ImportBatch)
class ImportBatchAdmin(PlatformAdminOnly):
    list_display = ["id", "format", "source_name", "status", "rows_read", "rows_accepted", "rows_present",
                    "rows_rejected", "rows_warned", "created_at"]
    list_filter = ["status", "format"]
    inlines = [ImportRejectInline]
    readonly_fields = ["format", "source_name", "options", "status", "waiting", "rows_read", "rows_accepted", "rows_present",
                       "rows_rejected", "rows_warned", "error", "task_run", "report", "created_by", "token",
                       "created_at", "finished_at"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ImportUploadForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["format", "upload", "create_missing", "strict", "locale", "label_map"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    @admin.display(description=_("waiting"))
    def waiting(self, obj):
        return waiting_reason(run=obj.task_run)

    @admin.display(description=_("reject report"))
    def report(self, obj):
        url = reverse("import-rejects-csv", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("download CSV"))

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        path = upload_store(data["upload"])
        batch = import_batch_create(format=data["format"], path=str(path), source_name=data["upload"].name,
                                    actor=request.user, create_missing=data["create_missing"], strict=data["strict"],
                                    locale=data.get("locale", ""), label_map=data.get("label_map"))
        import_batch_queue(batch=batch, actor=request.user)
        obj.pk = batch.pk
        self.message_user(request, _("Import queued; refresh this page to follow its progress."), messages.INFO)

    def has_change_permission(self, request, obj=None):
        return False  # a batch is a record: view it, never edit it

    def save_related(self, request, form, formsets, change):
        pass  # the add form has no inlines; the batch was written by the service
