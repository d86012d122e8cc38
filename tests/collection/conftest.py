import pytest

import factories as f


@pytest.fixture
def world():
    """ar-SA and ja-JP natives, an en-US source row, one active elicit campaign."""
    ar, ja, en = f.locale("ar-SA"), f.locale("ja-JP"), f.locale("en-US")
    alarm = f.intent("alarm_set", "alarm", slots=["time", "date"])
    source = f.utterance(en, alarm, "wake me up at [time : five am]", status="accepted", source="massive")
    people = {name: f.native(loc, username=name) for name, loc in
              (("amal", ar), ("badr", ar), ("carim", ar), ("dalia", ar), ("emad", ar),
               ("hana", ja), ("ichiro", ja), ("jun", ja))}
    campaign = f.campaign([ar, ja], [alarm], target_per_intent=2, required_validations=2,
                          instructions={"ar-SA": "اكتب جملة طبيعية"})
    return {"ar": ar, "ja": ja, "en": en, "alarm": alarm, "source": source, "campaign": campaign, **people}
