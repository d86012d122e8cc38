"""Culture admin: template texts with their source side by side, stored lint findings inline,
a live preview, review actions; registers, terms and holidays, all scoped to the user's locales."""
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from parley.access.admin_scoping import LocaleScopedAdmin
from parley.access.admin_site import SafeJSONFormField
from parley.access.scoping import can
from parley.checks.admin import findings_display
from parley.checks.models import CheckResult
from parley.checks.registry import registry
from parley.config.generations import AdminDeleteBumps
from parley.nlu.admin import SchemaAdmin

from .admin_pages import CulturePagesMixin
from .models import FormalityRegister, Holiday, HolidayDate, RegisterOverride, ResponseTemplate, SensitiveTerm, TemplateKey
from .rendering import RenderError, format_pattern
from .selectors import CULTURE_GENERATION, sample_values
from .services import (register_delete, register_override_delete, register_override_set, register_save,
                       sensitive_term_create, sensitive_term_delete, sensitive_term_problem, sensitive_term_update,
                       template_delete, template_evaluate, template_key_create, template_key_update,
                       template_parameters_clean, template_save, template_status_change,
                       template_step_needs_reviewer)

APPROVE_PERM = "culture.approve_responsetemplate"


class CultureSchemaAdmin(SchemaAdmin):
    """Shared by every locale: everyone with a role reads; platform admins write."""

    def _perm(self, action):
        return f"culture.{action}_{self.model._meta.model_name}"


class TemplateKeyForm(forms.ModelForm):
    parameters = forms.CharField(widget=forms.Textarea(attrs={"rows": 5, "cols": 90}), required=False,
                                 help_text=_('JSON list, e.g. [{"name": "count", "type": "number", "sample": 3}, '
                                             '{"name": "time", "type": "date", "slot_type": "time"}]'))

    class Meta:
        model = TemplateKey
        fields = ["key", "intent", "source_locale", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["parameters"] = json.dumps(self.instance.parameters, ensure_ascii=False)

    def clean_parameters(self):
        raw = self.cleaned_data["parameters"].strip() or "[]"
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValidationError(_("not JSON: %(msg)s at line %(line)d column %(col)d") % {
                "msg": exc.msg, "line": exc.lineno, "col": exc.colno}) from None

    def clean(self):
        data = super().clean()
        intent = data.get("intent") if "intent" in data else getattr(self.instance, "intent", None)
        if isinstance(data.get("parameters"), list):
            try:
                data["parameters"] = template_parameters_clean(parameters=data["parameters"], intent=intent)
            except ValidationError as exc:
                self.add_error("parameters", exc.message_dict["parameters"])
        return data


@admin.register(TemplateKey)
class TemplateKeyAdmin(AdminDeleteBumps, CultureSchemaAdmin):
    bumps = (CULTURE_GENERATION,)  # the key's texts go with it
    form = TemplateKeyForm
    list_display = ["key", "intent", "source_locale", "parameter_names"]
    list_filter = ["intent__scenario"]
    search_fields = ["key", "description"]

    def get_fields(self, request, obj=None):
        return ["key", "intent", "source_locale", "description", "parameters"]

    def get_readonly_fields(self, request, obj=None):
        return ["key"] if obj else []

    @admin.display(description=_("parameters"))
    def parameter_names(self, obj):
        return ", ".join(f"{p['name']}:{p.get('type', 'string')}" for p in obj.parameters)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            template_key_update(template_key=TemplateKey.objects.get(pk=obj.pk), parameters=data["parameters"],
                                description=data["description"], intent=data["intent"],
                                source_locale=data["source_locale"], actor=request.user)
        else:
            obj.pk = template_key_create(key=data["key"], source_locale=data["source_locale"], intent=data["intent"],
                                         parameters=data["parameters"], description=data["description"],
                                         actor=request.user).pk


class FailingCheckFilter(admin.SimpleListFilter):
    """Texts with a stored finding of one template check (choices from the registry)."""

    title = _("failing check")
    parameter_name = "failing_check"

    def lookups(self, request, model_admin):
        return [(c.id, c.id) for c in registry.for_kind("template")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        ids = CheckResult.objects.filter(target_type="culture.responsetemplate", check_id=self.value()).values_list(
            "target_id", flat=True)
        return queryset.filter(pk__in=[int(i) for i in ids])


class ResponseTemplateForm(forms.ModelForm):
    class Meta:
        model = ResponseTemplate
        fields = ["key", "locale", "register", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 4, "cols": 100, "class": "parley-template-body"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        body = self.fields.get("body")
        if body is not None:
            # template_preview.js asks the preview endpoint as the linguist types (saving checks again).
            attrs = {"data-preview-url": reverse("responsetemplate-preview")}
            if self.instance.pk:
                attrs.update({"data-key": self.instance.key.key, "data-locale": self.instance.locale.tag,
                              "data-register": self.instance.register})
            body.widget.attrs.update(attrs)

    def clean(self):
        data = super().clean()
        instance = self.instance
        key = data.get("key") or (instance.key if instance.pk else None)
        locale = data.get("locale") or (instance.locale if instance.pk else None)
        register = data.get("register", instance.register if instance.pk else "") or ""
        if not instance.pk and key and locale and ResponseTemplate.objects.filter(
                key=key, locale=locale, register=register).exists():
            raise ValidationError(_("This key already has a text in this locale and register; edit that one."))
        if instance.pk and instance.status in (ResponseTemplate.Status.APPROVED, ResponseTemplate.Status.RETIRED) \
                and data.get("body") != instance.body:
            self.add_error("body", _("This text is %(s)s; reopen it as a draft before editing.") % {
                "s": instance.get_status_display()})
        return data


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(CulturePagesMixin, LocaleScopedAdmin):
    form = ResponseTemplateForm

    class Media:
        js = ["culture/template_preview.js"]

    list_display = ["key", "locale", "register", "status", "has_errors", "updated_at"]
    list_filter = ["status", FailingCheckFilter, "has_errors", "locale", "register"]
    list_select_related = ["key", "locale"]
    search_fields = ["key__key", "body"]
    actions = ["submit_for_review", "approve", "send_back", "retire", "reopen"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["key", "locale", "register", "body"]
        return ["key", "locale", "register", "status", "source_texts", "body", "preview", "check_findings"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["key", "locale", "register", "status", "source_texts", "preview", "check_findings"]

    @admin.display(description=_("source locale"))
    def source_texts(self, obj):
        """The key's texts in its source locale, beside the one being edited."""
        rows = ResponseTemplate.objects.filter(key=obj.key, locale=obj.key.source_locale).exclude(pk=obj.pk)
        if not rows:
            return _("(no text in the source locale %(tag)s)") % {"tag": obj.key.source_locale.tag}
        return format_html("<ul>{}</ul>", format_html_join("", "<li><strong>{} {}</strong> ({}): <code>{}</code></li>", [
            (r.locale.tag, r.register or "", r.get_status_display(), r.body) for r in rows.select_related("locale")]))

    @admin.display(description=_("preview with sample values"))
    def preview(self, obj):
        values = {}
        try:
            values = sample_values(key=obj.key)
            text = format_pattern(obj.body, obj.locale.tag, values)
        except (RenderError, ValueError) as exc:
            text = _("(cannot render: %(e)s)") % {"e": exc}
        shown = ", ".join(f"{k}={v.isoformat() if hasattr(v, 'isoformat') else v}" for k, v in values.items())
        return format_html('<div class="parley-template-preview"><p><strong>{}</strong></p><p>{}</p></div>',
                           text, shown)

    @admin.display(description=_("check findings"))
    def check_findings(self, obj):
        return findings_display(target=obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            original = ResponseTemplate.objects.select_related("key", "locale").get(pk=obj.pk)
            saved = template_save(key=original.key, locale=original.locale, register=original.register,
                                  body=data["body"], actor=request.user)
        else:
            saved = template_save(key=data["key"], locale=data["locale"], register=data.get("register", ""),
                                  body=data["body"], actor=request.user)
        obj.pk = saved.pk
        findings = template_evaluate(template=saved)
        for finding in findings:
            level = messages.ERROR if finding.is_error else messages.WARNING
            self.message_user(request, f"{finding.check_id}: {finding.message}", level=level)

    def delete_model(self, request, obj):
        template_delete(template=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for template in queryset.select_related("key", "locale"):
                template_delete(template=template, actor=request.user)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
            return HttpResponseRedirect(request.path)

    def _move(self, request, queryset, to: str):
        moved, refused = 0, []
        for template in queryset.select_related("key", "locale"):
            if not can(request.user, "culture.change_responsetemplate", template) or (
                    template_step_needs_reviewer(current=template.status, to=to)
                    and not can(request.user, APPROVE_PERM, template)):
                refused.append(f"{template}: {_('you may not make this step')}")
                continue
            try:
                template_status_change(template=template, to=to, actor=request.user, reason="admin action")
                moved += 1
            except ValidationError as exc:
                refused.append(f"{template}: {'; '.join(exc.messages)}")
        if moved:
            self.message_user(request, _("%(n)d template(s) now %(to)s.") % {"n": moved, "to": to})
        for line in refused:
            self.message_user(request, line, level=messages.ERROR)

    @admin.action(description=_("Submit for review"))
    def submit_for_review(self, request, queryset):
        self._move(request, queryset, ResponseTemplate.Status.IN_REVIEW)

    @admin.action(description=_("Approve (reviewers)"))
    def approve(self, request, queryset):
        self._move(request, queryset, ResponseTemplate.Status.APPROVED)

    @admin.action(description=_("Send back to draft"))
    def send_back(self, request, queryset):
        self._move(request, queryset, ResponseTemplate.Status.DRAFT)

    @admin.action(description=_("Retire (reviewers)"))
    def retire(self, request, queryset):
        self._move(request, queryset, ResponseTemplate.Status.RETIRED)

    @admin.action(description=_("Reopen as draft (reviewers)"))
    def reopen(self, request, queryset):
        self._move(request, queryset, ResponseTemplate.Status.DRAFT)


# --- Registers and terms --------------------------------------------------------------------------

class ExamplesField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 90}),
                         help_text=_("One example a line"), **kwargs)

    def clean(self, value):
        return [line.strip() for line in (super().clean(value) or "").splitlines() if line.strip()]


class FormalityRegisterForm(forms.ModelForm):
    examples = ExamplesField()

    class Meta:
        model = FormalityRegister
        fields = ["locale", "code", "name", "is_default", "order", "guidance"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["examples"] = "\n".join(self.instance.examples)


@admin.register(FormalityRegister)
class FormalityRegisterAdmin(LocaleScopedAdmin):
    form = FormalityRegisterForm
    list_display = ["locale", "code", "name", "is_default", "order"]
    list_filter = ["locale", "is_default"]
    list_select_related = ["locale"]
    search_fields = ["code", "name", "guidance"]

    def get_fields(self, request, obj=None):
        return ["locale", "code", "name", "is_default", "order", "guidance", "examples"]

    def get_readonly_fields(self, request, obj=None):
        return ["locale", "code"] if obj else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = register_save(locale=obj.locale, code=obj.code, name=data["name"], is_default=data["is_default"],
                              order=data["order"], guidance=data["guidance"], examples=data["examples"],
                              actor=request.user)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        register_delete(register=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for reg in queryset.select_related("locale"):
                register_delete(register=reg, actor=request.user)


class RegisterOverrideForm(forms.ModelForm):
    class Meta:
        model = RegisterOverride
        fields = ["locale", "scenario", "register", "note"]

    def clean(self):
        data = super().clean()
        locale, register = data.get("locale"), data.get("register")
        if locale and register and register.locale_id != locale.pk:
            self.add_error("register", _("%(code)s is a register of %(other)s, not of %(tag)s") % {
                "code": register.code, "other": register.locale.tag, "tag": locale.tag})
        return data


@admin.register(RegisterOverride)
class RegisterOverrideAdmin(LocaleScopedAdmin):
    form = RegisterOverrideForm
    list_display = ["locale", "scenario", "register", "note"]
    list_filter = ["locale"]
    list_select_related = ["locale", "scenario", "register"]
    fields = ["locale", "scenario", "register", "note"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "register":
            from parley.access.scoping import scope_queryset

            kwargs["queryset"] = scope_queryset(FormalityRegister.objects.select_related("locale"), request.user,
                                                "culture.change_formalityregister")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        obj.pk = register_override_set(locale=obj.locale, scenario=obj.scenario, register=obj.register,
                                       note=obj.note, actor=request.user).pk

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The service refuses a register of another locale; say why instead of answering 500.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
            return HttpResponseRedirect(request.path)

    def delete_model(self, request, obj):
        register_override_delete(row=obj, actor=request.user)


class SensitiveTermForm(forms.ModelForm):
    class Meta:
        model = SensitiveTerm
        fields = ["locale", "kind", "term", "severity", "reason", "replacement"]

    def clean(self):
        data = super().clean()
        locale = data.get("locale") or (self.instance.locale if self.instance.pk else None)
        kind = data.get("kind") or self.instance.kind
        if locale is not None and data.get("term"):
            _normalized, problem = sensitive_term_problem(locale=locale, term=data["term"], kind=kind,
                                                          exclude_pk=self.instance.pk)
            if problem:
                self.add_error("term", problem)
        return data


@admin.register(SensitiveTerm)
class SensitiveTermAdmin(LocaleScopedAdmin):
    form = SensitiveTermForm
    list_display = ["term", "locale", "kind", "severity", "reason", "replacement", "source"]
    list_filter = ["severity", "kind", "source", "locale"]
    list_select_related = ["locale"]
    search_fields = ["term", "normalized", "reason"]

    def get_readonly_fields(self, request, obj=None):
        return ["locale", "kind", "source"] if obj else ["source"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            sensitive_term_update(row=SensitiveTerm.objects.select_related("locale").get(pk=obj.pk), term=data["term"],
                                  severity=data["severity"], reason=data["reason"],
                                  replacement=data["replacement"], actor=request.user)
        else:
            obj.pk = sensitive_term_create(locale=data["locale"], kind=data["kind"], term=data["term"],
                                           severity=data["severity"], reason=data["reason"],
                                           replacement=data["replacement"], actor=request.user).pk

    def delete_model(self, request, obj):
        sensitive_term_delete(row=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for row in queryset.select_related("locale"):
                sensitive_term_delete(row=row, actor=request.user)


# --- Holidays -----------------------------------------------------------------------------------------

class JsonListField(forms.CharField):
    """A list of strings typed one per line (aliases) or comma-separated (regions)."""

    def __init__(self, *, separator: str, **kwargs):
        self.separator = separator
        super().__init__(required=False, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return ("\n" if self.separator == "\n" else ", ").join(value)
        return value

    def clean(self, value):
        text = super().clean(value) or ""
        return [part.strip() for part in text.split(self.separator) if part.strip()]


class HolidayForm(forms.ModelForm):
    aliases = JsonListField(separator="\n", widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                            help_text=_("Other names people use, one a line"))
    regions = JsonListField(separator=",", help_text=_("Subdivision codes, comma-separated (BY, BW); empty: everywhere"))
    rule_params = SafeJSONFormField(required=False, help_text=Holiday._meta.get_field("rule_params").help_text)
    new_date = forms.DateField(required=False, label=_("enter a date"),
                               help_text=_("For explicit-rule holidays (lunar, announced): one date a save"))

    class Meta:
        model = Holiday
        fields = ["locale", "key", "english_name", "native_name", "category", "rule", "greeting", "notes"]

    def clean(self):
        from .services import holiday_fields_clean

        data = super().clean()
        locale = data.get("locale") or (self.instance.locale if self.instance.pk else None)
        if locale is None:
            return data
        fields = {name: data[name] for name in ("aliases", "regions", "category", "rule") if name in data}
        fields["rule_params"] = data.get("rule_params") or {}
        try:
            holiday_fields_clean(locale=locale, fields=fields)
        except ValidationError as exc:
            for name, problems in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, problems)
        return data


class HolidayDateForm(forms.ModelForm):
    regions = JsonListField(separator=",", help_text=_("Only where this date holds (BY, BW); empty: the holiday's"))

    class Meta:
        model = HolidayDate
        fields = ["date", "regions"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # a wrong date is deleted and the right one added; its regions may change
            self.fields["date"].disabled = True

    def clean(self):
        """The regions checked as the service checks them, against the holiday's locale: a form
        error naming the field, not a 500 from save_formset."""
        from .services import holiday_fields_clean

        data = super().clean()
        if "regions" in data and self.instance.holiday_id:
            locale = Holiday.objects.select_related("locale").get(pk=self.instance.holiday_id).locale
            try:
                data["regions"] = holiday_fields_clean(locale=locale, fields={"regions": data["regions"]})["regions"]
            except ValidationError as exc:
                for problems in exc.message_dict.values():
                    self.add_error("regions", problems)
        return data


class HolidayDateInline(admin.TabularInline):
    """A holiday's dates; adding, changing a date's regions and deleting go through the services (an
    event each). Entered dates (✎) are kept by every later materialization."""

    model = HolidayDate
    form = HolidayDateForm
    fields = ["date", "regions", "entered"]
    readonly_fields = ["entered"]
    extra = 1
    ordering = ["date"]

    def _may(self, request, obj, action):
        return obj is None or can(request.user, f"culture.{action}_holidaydate", obj)

    def has_view_permission(self, request, obj=None):
        return obj is None or can(request.user, "culture.view_holidaydate", obj)

    def has_add_permission(self, request, obj=None):
        return obj is not None and self._may(request, obj, "add")

    def has_change_permission(self, request, obj=None):
        return obj is not None and self._may(request, obj, "change")  # the regions only (the form)

    def has_delete_permission(self, request, obj=None):
        return obj is not None and self._may(request, obj, "delete")


class HolidayRegionFilter(admin.SimpleListFilter):
    """Holidays observed in one subdivision: nationwide ones, the region's own and those with a
    date of its own (the same rule as the API's `region`)."""

    title = _("observed in region")
    parameter_name = "region"

    def lookups(self, request, model_admin):
        holidays = model_admin.get_queryset(request)
        found: set[str] = set()
        for regions in holidays.order_by().values_list("regions", flat=True):
            found.update(regions)
        for regions in HolidayDate.objects.filter(holiday__in=holidays.order_by().values("pk")).exclude(
                regions=[]).values_list("regions", flat=True):
            found.update(regions)
        return [(code, code) for code in sorted(found)]

    def queryset(self, request, queryset):
        from .selectors import holidays_in_region

        return holidays_in_region(queryset, self.value()) if self.value() else queryset


@admin.register(Holiday)
class HolidayAdmin(CulturePagesMixin, LocaleScopedAdmin):
    form = HolidayForm
    inlines = [HolidayDateInline]

    def get_inlines(self, request, obj):
        return [HolidayDateInline] if obj is not None else []

    def save_formset(self, request, form, formset, change):
        from .services import holiday_date_add, holiday_date_remove

        holiday = form.instance
        for row in formset.save(commit=False):  # new dates, and dates whose regions changed (or were cleared)
            holiday_date_add(holiday=holiday, date=row.date, actor=request.user, regions=list(row.regions))
        for row in formset.deleted_objects:
            holiday_date_remove(row=row, actor=request.user)
    list_display = ["native_or_english", "english_name", "locale", "category", "rule", "region_list", "source"]
    list_filter = ["category", "rule", "source", HolidayRegionFilter, "locale"]
    list_select_related = ["locale"]
    search_fields = ["key", "english_name", "native_name", "aliases"]

    def get_fields(self, request, obj=None):
        fields = ["locale", "key", "english_name", "native_name", "aliases", "category", "regions", "rule",
                  "rule_params", "greeting", "notes", "new_date"]
        return fields + ["date_list", "source"] if obj else fields

    def get_readonly_fields(self, request, obj=None):
        return ["locale", "key", "date_list", "source"] if obj else []

    @admin.display(description=_("name"), ordering="native_name")
    def native_or_english(self, obj):
        return obj.native_name or obj.english_name

    @admin.display(description=_("regions"))
    def region_list(self, obj):
        return ", ".join(obj.regions) or _("everywhere")

    @admin.display(description=_("dates"))
    def date_list(self, obj):
        rows = obj.dates.order_by("date")
        return format_html_join(", ", "{}{}{}", [(d.date.isoformat(), f" ({', '.join(d.regions)})" if d.regions else "",
                                                  " ✎" if d.entered else "") for d in rows]) \
            or _("(none materialized)")

    def save_model(self, request, obj, form, change):
        from .services import holiday_create, holiday_date_add, holiday_update

        data = form.cleaned_data
        fields = {name: data[name] for name in ("native_name", "aliases", "category", "regions", "rule", "greeting",
                                                "notes")}
        fields["rule_params"] = data.get("rule_params") or {}
        if change:
            holiday = holiday_update(holiday=Holiday.objects.select_related("locale").get(pk=obj.pk),
                                     english_name=data["english_name"], actor=request.user, **fields)
        else:
            holiday = holiday_create(locale=data["locale"], key=data["key"], english_name=data["english_name"],
                                     actor=request.user, **fields)
        obj.pk = holiday.pk
        if data.get("new_date"):
            holiday_date_add(holiday=holiday, date=data["new_date"], actor=request.user)

    def delete_model(self, request, obj):
        from .services import holiday_delete

        holiday_delete(holiday=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        from .services import holiday_delete

        with transaction.atomic():
            for holiday in queryset.select_related("locale"):
                holiday_delete(holiday=holiday, actor=request.user)
