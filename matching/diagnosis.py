"""Verdicts for a demand (matched, or unmet with its root cause) and, across many demands,
the entries whose status blocks the most of them."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from matching.config import MatchConfig
from matching.models import Candidate, MatchResult, UnmetReason

MATCHED = "matched"
UNMET = "unmet"


def likely_provider(candidates: Iterable[Candidate], config: MatchConfig) -> str | None:
    """The department whose entries come closest, by summed confidence of the top ones."""
    votes: Counter[str] = Counter()
    for candidate in list(candidates)[: config.provider_vote_top]:
        if candidate.provider:
            votes[candidate.provider] += candidate.score
    return votes.most_common(1)[0][0] if votes else None


def verdict(ranked: list[Candidate], top_k: int, config: MatchConfig) -> MatchResult:
    """Matched when an entry passes the threshold, comes close to the best one (within
    ``verdict_margin`` in log-odds) and nothing blocks it; otherwise the reason (of the best entry when entries exist but are blocked)."""
    best = _logit(ranked[0].score) if ranked else -math.inf
    floor = max(_logit(config.match_threshold), best - config.verdict_margin)
    passing = [c for c in ranked if _logit(c.score) >= floor]
    shown = tuple(ranked[:top_k])
    if any(c.usable for c in passing):
        return MatchResult(shown, MATCHED)
    if not passing:
        return MatchResult(shown, UNMET, UnmetReason.NO_ENTRY.value,
                           likely_provider(ranked, config))
    blocking = tuple(c.key for c in passing)
    return MatchResult(shown, UNMET, passing[0].blocked_by, passing[0].provider, blocking)


def _logit(p: float) -> float:
    """Confidence back on the evidence scale, where "close to the best" is measured."""
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


@dataclass(frozen=True, slots=True)
class BlockingEntry:
    """An entry whose status (unmounted, stale, not shared, refused) keeps demands unmet."""

    key: str
    reason: str
    demands: int

    def to_dict(self) -> dict:
        return {"key": self.key, "reason": self.reason, "demands": self.demands}


def blocking_entries(results: Iterable[MatchResult]) -> list[BlockingEntry]:
    """Entries ranked by how many unmet demands they block ("mount this and N are met")."""
    counts: Counter[str] = Counter()
    reasons: dict[str, str] = {}
    for result in results:
        if result.status != UNMET:
            continue
        blocked_by = _reasons_by_key(result)
        for key in result.blocking_keys:
            counts[key] += 1
            reasons.setdefault(key, blocked_by.get(key) or result.unmet_reason or "")
    return [BlockingEntry(key, reasons[key], n)
            for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _reasons_by_key(result: MatchResult) -> dict[str, str | None]:
    found: dict[str, str | None] = defaultdict(lambda: None)
    for candidate in result.candidates:
        found[candidate.key] = candidate.blocked_by
    return found
