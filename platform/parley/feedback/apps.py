from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "parley.feedback"
    label = "feedback"
    verbose_name = "Feedback"
