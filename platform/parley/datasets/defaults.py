"""The every-locale promotion rules Parley starts with, and keeping them present.

Collected native test utterances go to test, mined and holiday-generated data to train, a
labeled feedback fix where its linguist put it (keep), manual rows are split, imported rows keep
their partition. Leads change them (PromotionRule rows); seeding only adds missing ones, never
overwrites a lead's change. Seeded after every migrate and flush (post_migrate), like the roles,
so a test database flushed between tests still has them.
"""
DEFAULT_TARGETS = {
    "collected": "test",
    "feedback": "keep",
    "mined": "train",
    "holiday-generated": "train",
    "manual": "split",
    "massive": "keep",
    "slurp": "keep",
    "conll": "keep",
}


def default_rules_ensure() -> int:
    from .models import PromotionRule

    existing = set(PromotionRule.objects.filter(locale__isnull=True).values_list("source", flat=True))
    missing = [PromotionRule(locale=None, source=source, target=target)
               for source, target in DEFAULT_TARGETS.items() if source not in existing]
    PromotionRule.objects.bulk_create(missing)
    return len(missing)


def default_rules_after_migrate(sender, **kwargs) -> None:
    if sender.label == "datasets":
        default_rules_ensure()
