"""Who may build which release: one rule for the API and the admin alike.

A release of named locales needs `datasets.add_release` in each; a release of every locale needs
it everywhere. A new version of an existing name must not narrow what the name covers behind its
other owners' backs: whoever builds it must hold the permission in every locale its latest
published version carried.
"""
from parley.access.scoping import ALL_LOCALES, locales_for

from .models import Release

PERM = "datasets.add_release"


def release_build_refusal(*, user, token=None, name: str, locale_ids: list[int]) -> str | None:
    scope = locales_for(user, PERM, token)
    if not scope:
        return "You may not build releases."
    if not locale_ids and scope is not ALL_LOCALES:
        return "A release of every locale needs the permission in every locale; name the locales."
    if scope is not ALL_LOCALES and not set(locale_ids) <= scope:
        return "You may not build releases of some of these locales."
    latest = Release.objects.filter(name=name, status=Release.Status.PUBLISHED).order_by("-version").first()
    if latest is not None and scope is not ALL_LOCALES:
        from parley.locales.models import Locale

        covered = set(Locale.objects.filter(tag__in=latest.manifest.get("locales", {})).values_list("pk", flat=True))
        if not covered <= scope:
            return (f"{name} v{latest.version} covers locales you may not build; choose another name for a release "
                    f"of your locales.")
    return None
