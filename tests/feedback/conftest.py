import pytest

import factories as f


@pytest.fixture
def team(db):
    """de-DE with a lead and two linguists, ja-JP with a linguist, a platform admin, an annotator."""
    de, ja = f.locale("de-DE"), f.locale("ja-JP")
    f.intent("alarm_set", "alarm", slots=["time"])
    f.intent("alarm_query", "alarm", slots=["time"])
    return {
        "de": de, "ja": ja,
        "admin": f.member("platform_admin", None, username="admin"),
        "lead": f.member("locale_lead", de, username="lead"),
        "ling": f.member("linguist", de, username="ling"),
        "ling2": f.member("linguist", de, username="ling2"),
        "ling_ja": f.member("linguist", ja, username="ling_ja"),
        "anno": f.member("annotator", de, username="anno", proficiency="native"),
    }


@pytest.fixture
def cluster_of(team):
    """A fresh cluster of one event with the given text (de-DE unless told)."""
    from parley.feedback.models import FeedbackCluster

    counter = iter(range(10_000))

    def make(text="weck mich um sieben", locale="de-DE", **item):
        key = f"c{next(counter)}-{text}"
        f.feedback_ingest(f.feedback_item(key, text=text, locale=locale, **item))
        return FeedbackCluster.objects.get(events__idempotency_key=key)

    return make
