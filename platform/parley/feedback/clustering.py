"""Near-duplicate detection for feedback texts: character shingles, MinHash, LSH bands. Pure.

Chosen over `datasketch`, which would add numpy for what is ~40 lines here: signatures are only
computed for texts that do not match a cluster exactly (most feedback repeats verbatim), and
64 hash functions over a short utterance's shingles cost well under a millisecond.

- Shingles: character 3-grams of the normalized text padded with one space each side (so word
  starts and ends count); a text shorter than that is its own single shingle.
- MinHash: NUM_PERM universal hash functions (a·x + b mod the Mersenne prime 2^61-1) over each
  shingle's CRC-32, seeded so signatures are stable across processes and releases.
- LSH: BANDS bands of ROWS rows; two texts sharing any band are candidates (for a true Jaccard
  similarity of 0.7 the chance of being a candidate is ~99%), then a candidate joins only when
  the signatures agree on at least SIMILARITY_THRESHOLD of their positions.
"""
from __future__ import annotations

import random
import zlib

NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS
SIMILARITY_THRESHOLD = 0.7
_PRIME = (1 << 61) - 1
_MAX = (1 << 32) - 1

_rng = random.Random(20261201)
_PERMUTATIONS = [(_rng.randrange(1, _PRIME), _rng.randrange(0, _PRIME)) for _ in range(NUM_PERM)]


def shingles(normalized: str, size: int = 3) -> set[str]:
    padded = f" {normalized} "
    if len(padded) <= size:
        return {padded}
    return {padded[i:i + size] for i in range(len(padded) - size + 1)}


_SHINGLE_CACHE_SIZE = 50_000  # a language has a few ten thousand 3-grams; ~2 KB each
_permuted: dict[str, tuple[int, ...]] = {}


def _permuted_values(shingle: str) -> tuple[int, ...]:
    """The shingle under every hash function, computed once per shingle: texts share most of their
    3-grams, so a text's signature is then a C-level min over rows already computed."""
    values = _permuted.get(shingle)
    if values is None:
        if len(_permuted) >= _SHINGLE_CACHE_SIZE:
            _permuted.clear()
        x = zlib.crc32(shingle.encode())
        values = _permuted[shingle] = tuple(((a * x + b) % _PRIME) & _MAX for a, b in _PERMUTATIONS)
    return values


def minhash(normalized: str) -> list[int]:
    return list(map(min, zip(*[_permuted_values(s) for s in shingles(normalized)])))


def bands(signature: list[int]) -> list[tuple[int, int]]:
    """(band number, band hash) pairs. The band number is part of the hash, so one lookup by hash
    finds any band; the hash of a tuple of ints is the same in every process (no hash seed)."""
    return [(band, hash((band, *signature[band * ROWS:(band + 1) * ROWS]))) for band in range(BANDS)]


def similarity(left: list[int], right: list[int]) -> float:
    """The estimated Jaccard similarity of two texts' shingle sets."""
    if not left or len(left) != len(right):
        return 0.0
    return sum(1 for a, b in zip(left, right) if a == b) / len(left)


def jaccard(left: str, right: str) -> float:
    """The exact Jaccard similarity of two normalized texts' shingles (for tests and checks)."""
    a, b = shingles(left), shingles(right)
    return len(a & b) / len(a | b)
