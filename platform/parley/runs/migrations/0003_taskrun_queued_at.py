from django.db import migrations, models
from django.db.models import F
import django.utils.timezone


def runs_were_queued_when_created(apps, schema_editor):
    # Before this field, a run's creation was the only time it was queued that the row kept.
    apps.get_model("runs", "TaskRun").objects.update(queued_at=F("created_at"))


class Migration(migrations.Migration):

    dependencies = [
        ('runs', '0002_outbox_heartbeat'),
    ]

    operations = [
        migrations.AddField(
            model_name='taskrun',
            name='queued_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='queued'),
        ),
        migrations.RunPython(runs_were_queued_when_created, migrations.RunPython.noop),
    ]
