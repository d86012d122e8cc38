from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DatasetsConfig(AppConfig):
    name = "parley.datasets"
    label = "datasets"
    verbose_name = _("Datasets")

    def ready(self):
        from django.db.models.signals import post_migrate

        from .defaults import default_rules_after_migrate

        post_migrate.connect(default_rules_after_migrate, sender=self, dispatch_uid="parley.datasets.default_rules")
