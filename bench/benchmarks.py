"""The benchmark bodies. Each resets the tables it uses, so runs are repeatable."""
import statistics
import time

from django.conf import settings


def _timed(fn, repeat=3):
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _reset_locales():
    from parley.access.models import Membership
    from parley.events.models import Event
    from parley.locales.models import Locale, LocaleAlias

    Membership.objects.all().delete()
    LocaleAlias.objects.all().delete()
    Locale.objects.update(parent=None)
    Locale.objects.all().delete()
    Event.objects.all().delete()


def locales_bootstrap_1000():
    """Register 1,000 planned locales from CLDR data, against a baseline bulk insert of bare rows."""
    from parley.locales import cldr
    from parley.locales.models import Locale
    from parley.locales.services import locales_bootstrap

    def run():
        _reset_locales()
        return locales_bootstrap(top=1000, actor="bench")

    def baseline():
        _reset_locales()
        tags = cldr.bootstrap_candidates(1000)
        Locale.objects.bulk_create([Locale(tag=t, language=t.split("-")[0], english_name=t) for t in tags],
                                   batch_size=500)

    seconds, result = _timed(run)
    base, _ = _timed(baseline)
    assert result["created"] == 1000
    print(f"locales_bootstrap --top 1000: {seconds:.2f} s median of 3 "
          f"(bare bulk insert of the same tags: {base:.3f} s; ratio {seconds / base:.1f}x)")


def locale_packs_load():
    """Load the 52 shipped packs into an empty registry, then again (idempotent, nothing to do)."""
    from parley.locales.services import locale_packs_load as load

    def first():
        _reset_locales()
        return load(directory=settings.PARLEY_LOCALE_PACKS_DIR, actor="bench")

    seconds, _ = _timed(first)
    again, counts = _timed(lambda: load(directory=settings.PARLEY_LOCALE_PACKS_DIR, actor="bench"))
    assert counts["unchanged"] == 52
    print(f"locales_load (52 packs): first load {seconds:.2f} s, reload with nothing to change {again:.2f} s")


ALL = {
    "locales_bootstrap_1000": locales_bootstrap_1000,
    "locale_packs_load": locale_packs_load,
}
