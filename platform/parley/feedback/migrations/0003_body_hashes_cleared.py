"""Stored body hashes were plain SHA-256 of the item as sent, which holds the text before masking:
a masked phone number could be found again by hashing every candidate. New hashes are keyed
(services.body_hash_of); the plain ones cannot be turned into keyed ones and are cleared. An empty
hash matches any body, so a replay of such a key answers `duplicate` as it did before bodies were
hashed (nothing released ever held plain hashes: they existed on main for minutes)."""
from django.db import migrations


def plain_hashes_cleared(apps, schema_editor):
    FeedbackEvent = apps.get_model("feedback", "FeedbackEvent")
    cleared = FeedbackEvent.objects.using(schema_editor.connection.alias).exclude(body_hash="").update(body_hash="")
    print(f"\n  feedback.0003: {cleared} plain body hash(es) cleared")


class Migration(migrations.Migration):

    dependencies = [
        ("feedback", "0002_idempotency_key_per_owner"),
    ]

    operations = [
        migrations.RunPython(plain_hashes_cleared, migrations.RunPython.noop),
    ]
