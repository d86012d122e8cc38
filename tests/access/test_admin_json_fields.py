"""Every JSON field of the admin refuses what would be a 500 (review of issue 15, finding 6):
nesting past Python's recursion limit, and text the database cannot store (NUL, lone surrogate)."""
import pytest
from django.contrib import admin
from django.db import models
from django.test import RequestFactory

from parley.access.admin_site import SafeJSONFormField

HOSTILE = [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"a": "x\\u0000y"}', "NUL"),
    ('["\\ud800"]', "surrogate"),
    ('{"\\u0000": 1}', "NUL"),
]


@pytest.mark.parametrize("text, problem", HOSTILE)
def test_the_admin_json_field_refuses_with_a_form_error(text, problem):
    field = SafeJSONFormField(required=False)
    with pytest.raises(Exception) as error:
        field.clean(text)
    assert type(error.value).__name__ == "ValidationError" and problem in str(error.value.messages)
    assert field.clean('{"year": 2026, "names": ["Jänner", "日本"]}') == {"year": 2026, "names": ["Jänner", "日本"]}


def test_every_model_admin_edits_its_json_fields_with_the_safe_field(db):
    """A model JSONField in any admin form gets the safe field (the site applies it at register)."""
    request = RequestFactory().get("/admin/")
    request.user = type("Root", (), {"is_active": True, "is_superuser": True, "has_perm": lambda *a: True})()
    checked = 0
    for model, model_admin in admin.site._registry.items():
        json_fields = [f for f in model._meta.get_fields() if isinstance(f, models.JSONField)]
        for model_field in json_fields:
            form_field = model_admin.formfield_for_dbfield(model_field, request)
            if form_field is not None:
                assert isinstance(form_field, SafeJSONFormField), (model.__name__, model_field.name)
                checked += 1
    assert checked > 10


def test_holiday_rule_params_deeply_nested_is_a_form_error(db):
    from parley.culture.admin import HolidayForm

    form = HolidayForm(data={"rule_params": "[" * 100_000 + "]" * 100_000})
    assert not form.is_valid() and "rule_params" in form.errors
