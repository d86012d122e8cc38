from django.db import migrations


def feedback_keeps(apps, schema_editor):
    # A linguist labels a feedback fix as a training or a test candidate (feedback app): keep that
    # choice. Only the seeded default changes; a lead's own rule stays.
    PromotionRule = apps.get_model("datasets", "PromotionRule")
    PromotionRule.objects.filter(locale__isnull=True, source="feedback", target="train").update(target="keep")


def feedback_to_train(apps, schema_editor):
    PromotionRule = apps.get_model("datasets", "PromotionRule")
    PromotionRule.objects.filter(locale__isnull=True, source="feedback", target="keep").update(target="train")


class Migration(migrations.Migration):
    dependencies = [("datasets", "0003_promotion_refusal")]
    operations = [migrations.RunPython(feedback_keeps, feedback_to_train)]
