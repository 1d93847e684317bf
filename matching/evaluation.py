"""Ranking and verdict metrics for the matcher, on graded judgments.

``judgments`` map an entry key to a grade (2 fully satisfies, 1 partly, absent 0). A demand
with no grade-2 entry has no answer: the matcher should call it unmet.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


def dcg(grades: Sequence[int]) -> float:
    """Discounted cumulative gain with exponential gain (2**grade - 1)."""
    return sum((2 ** g - 1) / math.log2(rank + 2) for rank, g in enumerate(grades))


def ndcg_at(ranked: Sequence[str], judgments: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k of a ranked key list; 0 when nothing is relevant."""
    ideal = dcg(sorted(judgments.values(), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([judgments.get(key, 0) for key in ranked[:k]]) / ideal


def reciprocal_rank(ranked: Sequence[str], judgments: Mapping[str, int], grade: int = 2) -> float:
    """1/rank of the first entry with at least ``grade``, 0 when none is ranked."""
    for rank, key in enumerate(ranked, start=1):
        if judgments.get(key, 0) >= grade:
            return 1.0 / rank
    return 0.0


def recall_at(ranked: Sequence[str], judgments: Mapping[str, int], k: int = 10,
              grade: int = 2) -> float:
    """Share of the entries with at least ``grade`` found in the top ``k`` (capped at k)."""
    relevant = {key for key, g in judgments.items() if g >= grade}
    if not relevant:
        return 0.0
    found = len(relevant & set(ranked[:k]))
    return found / min(len(relevant), k)


def answerable(judgments: Mapping[str, int]) -> bool:
    return any(g >= 2 for g in judgments.values())


@dataclass(frozen=True, slots=True)
class Scores:
    """Averages over a set of demands; unmet figures are None when not measured."""

    demands: int
    ndcg10: float
    mrr: float
    recall10: float
    unmet_recognised: float | None = None
    false_unmet: float | None = None

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class Outcome:
    """One demand's judgments, the system's ranking and (optionally) its unmet verdict."""

    judgments: Mapping[str, int]
    ranked: Sequence[str]
    unmet: bool | None = None


def summarise(outcomes: Iterable[Outcome], k: int = 10) -> Scores:
    """Ranking metrics over answerable demands; unmet rates over all demands with a verdict."""
    outcomes = list(outcomes)
    ranked = [o for o in outcomes if answerable(o.judgments)]
    return Scores(len(ranked), _mean(ndcg_at(o.ranked, o.judgments, k) for o in ranked),
                  _mean(reciprocal_rank(o.ranked, o.judgments) for o in ranked),
                  _mean(recall_at(o.ranked, o.judgments, k) for o in ranked),
                  *_unmet_rates(outcomes))


def _unmet_rates(outcomes: list[Outcome]) -> tuple[float | None, float | None]:
    judged = [o for o in outcomes if o.unmet is not None]
    if not judged:
        return None, None
    hopeless = [o.unmet for o in judged if not answerable(o.judgments)]
    answered = [o.unmet for o in judged if answerable(o.judgments)]
    return (_mean(hopeless) if hopeless else None), (_mean(answered) if answered else None)


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0
