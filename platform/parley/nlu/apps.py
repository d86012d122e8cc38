from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NluConfig(AppConfig):
    name = "parley.nlu"
    verbose_name = _("NLU schema and utterances")
