import pytest

import factories as f


@pytest.fixture
def world():
    """ar-SA and ja-JP natives, an en-US source row, one active elicit campaign."""
    ar, ja, en = f.locale("ar-SA"), f.locale("ja-JP"), f.locale("en-US")
    alarm = f.intent("alarm_set", "alarm", slots=["time", "date"])
    from parley.nlu.services import intent_guide_save

    intent_guide_save(intent=alarm, locale=ja, actor="test", description="アラームを設定する依頼",
                      examples=["[time : 七時]に起こして"])
    intent_guide_save(intent=alarm, locale=ar, actor="test", description="طلب ضبط منبه")
    tomorrow = f.concept("date", "tomorrow")
    f.lexicon_entry(tomorrow, ja, "明日")
    f.lexicon_entry(tomorrow, ar, "غدا")
    source = f.utterance(en, alarm, "wake me up at [time : five am]", status="accepted", source="massive")
    people = {name: f.native(loc, username=name) for name, loc in
              (("amal", ar), ("badr", ar), ("carim", ar), ("dalia", ar), ("emad", ar),
               ("hana", ja), ("ichiro", ja), ("jun", ja))}
    campaign = f.campaign([ar, ja], [alarm], target_per_intent=2, required_validations=2,
                          instructions={"ar-SA": "اكتب جملة طبيعية"})
    return {"ar": ar, "ja": ja, "en": en, "alarm": alarm, "source": source, "campaign": campaign, **people}
