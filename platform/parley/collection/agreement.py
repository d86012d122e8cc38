"""Inter-annotator agreement. Pure Python.

Krippendorff's alpha from the coincidence matrix (Krippendorff, "Computing Krippendorff's
Alpha-Reliability", 2011): alpha = 1 - D_o / D_e. It handles any number of judges per unit and
missing judgments; units with fewer than two values are not pairable and are left out. The
collection reports the *interval* metric for MASSIVE's graded scales (grammar, spelling) and the
*nominal* one for its categorical answers (intent, slots, language identification); see
selectors.ALPHA_METRICS. `ordinal` is here too for leads who prefer it.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence


def _delta_nominal(c, k, _marginals, _values):
    return 0.0 if c == k else 1.0


def _delta_interval(c, k, _marginals, _values):
    return float(c - k) ** 2


def _delta_ordinal(c, k, marginals, values):
    if c == k:
        return 0.0
    low, high = (c, k) if c < k else (k, c)
    between = sum(marginals[g] for g in values if low <= g <= high)
    return (between - (marginals[c] + marginals[k]) / 2) ** 2


METRICS = {"nominal": _delta_nominal, "interval": _delta_interval, "ordinal": _delta_ordinal}


def krippendorff_alpha(units: Iterable[Sequence[Hashable]], *, metric: str = "interval") -> float | None:
    """Alpha over units, each the values its judges gave (missing ones simply absent).

    None when nothing is pairable or every value is the same (D_e = 0: agreement is undefined).
    """
    delta = METRICS[metric]
    coincidence: dict[tuple, float] = defaultdict(float)
    for unit in units:
        values = list(unit)
        m = len(values)
        if m < 2:
            continue
        counts = Counter(values)
        for c, n_c in counts.items():
            for k, n_k in counts.items():
                pairs = n_c * (n_k - 1) if c == k else n_c * n_k
                if pairs:
                    coincidence[(c, k)] += pairs / (m - 1)
    marginals: Counter = Counter()
    for (c, _k), o in coincidence.items():
        marginals[c] += o
    n = sum(marginals.values())
    if n <= 1:
        return None
    values = sorted(marginals)
    observed = sum(o * delta(c, k, marginals, values) for (c, k), o in coincidence.items()) / n
    expected = sum(marginals[c] * marginals[k] * delta(c, k, marginals, values)
                   for c in values for k in values) / (n * (n - 1))
    if expected == 0:
        return None
    return 1.0 - observed / expected


def majority(values: Sequence[Hashable]) -> Hashable | None:
    """The value more than half of `values` share, or None (no strict majority)."""
    if not values:
        return None
    value, count = Counter(values).most_common(1)[0]
    return value if count * 2 > len(values) else None


def agreement_with_majority(units: Mapping[Hashable, Mapping[Hashable, Hashable]]) -> dict[Hashable, dict]:
    """Per judge: on how many units they share the value of the majority of the *other* judges.

    `units` maps a unit to {judge: value}. A unit counts for a judge only when the other judges
    have a strict majority (with two judges per unit, the other judge's value).
    """
    tally: dict[Hashable, dict] = defaultdict(lambda: {"compared": 0, "agreed": 0})
    for by_judge in units.values():
        for judge, value in by_judge.items():
            others = [v for j, v in by_judge.items() if j != judge]
            consensus = majority(others)
            if consensus is None:
                continue
            tally[judge]["compared"] += 1
            tally[judge]["agreed"] += int(value == consensus)
    for row in tally.values():
        row["rate"] = row["agreed"] / row["compared"] if row["compared"] else None
    return dict(tally)
