from django.db import migrations

# Where each source goes by default (issue: collected native test utterances go to test,
# feedback and mined data to train, imported rows keep their partition). Leads change them.
DEFAULT_TARGETS = {
    "collected": "test",
    "feedback": "train",
    "mined": "train",
    "holiday-generated": "train",
    "manual": "split",
    "massive": "keep",
    "slurp": "keep",
    "conll": "keep",
}


def default_rules_create(apps, schema_editor):
    PromotionRule = apps.get_model("datasets", "PromotionRule")
    for source, target in DEFAULT_TARGETS.items():
        PromotionRule.objects.get_or_create(locale=None, source=source, defaults={"target": target})


class Migration(migrations.Migration):
    dependencies = [("datasets", "0001_initial")]
    operations = [migrations.RunPython(default_rules_create, migrations.RunPython.noop)]
