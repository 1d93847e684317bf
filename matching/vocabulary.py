"""The distinct item names of the catalog, scored once per requested item and fanned out to
the entries that hold them through an inverted list."""

from __future__ import annotations

import math
import operator
from collections import Counter

import numpy as np
from rapidfuzz import fuzz

from matching.config import MatchConfig
from matching.postings import Postings

_TAIL = 2  # characters of an attribute tail ("名称", "日期")


def item_similarity(left: str, right: str, config: MatchConfig) -> float:
    """0..1: rapidfuzz ratio, or containment of the shorter name in the longer one."""
    ratio = fuzz.ratio(left, right) / 100.0
    short, long_ = sorted((left, right), key=len)
    if len(short) >= 2 and short in long_:
        contained = config.containment_base + config.containment_span * len(short) / len(long_)
        return max(ratio, contained)
    return ratio


def char_bigrams(text: str) -> list[str]:
    if len(text) < 2:
        return [text] if text else []
    return list(dict.fromkeys(map(operator.add, text, text[1:])))


class ItemVocabulary:
    """Distinct canonical item names (ids are positions), their bigrams and their entries."""

    def __init__(self, config: MatchConfig) -> None:
        self._config = config
        self._ids: dict[str, int] = {}
        self._names: list[str] = []
        self._grams = Postings()
        self.docs = Postings()
        self._tails: Counter[str] = Counter()

    def add(self, canonical: str, doc: int) -> int:
        """Record that entry ``doc`` holds the item; returns the item's id."""
        vid = self._ids.get(canonical)
        if vid is None:
            vid = self._ids[canonical] = len(self._names)
            self._names.append(canonical)
            self._grams.add(char_bigrams(canonical), vid)
            if len(canonical) > _TAIL + 1:
                self._tails[canonical[-_TAIL:]] += 1
        self.docs.add((vid,), doc)  # one term: the item id
        return vid

    def freeze(self) -> None:
        self._grams.freeze()
        self.docs.freeze()

    def name(self, vid: int) -> str:
        return self._names[vid]

    def names(self) -> list[str]:
        return list(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def subject(self, canonical: str) -> str:
        """What an item name is about: the name without a generic attribute tail ("儿童姓名"
        → "儿童", "接种点地址" → "接种点"), or "" when it has none. A tail is generic when it
        ends many distinct item names of the catalog (名称, 编号, 日期, 地址 …), learned, not
        listed."""
        if len(canonical) <= _TAIL + 1:
            return ""
        needed = max(self._config.attribute_tail_min_names,
                     self._config.attribute_tail_min_share * len(self._names))
        return canonical[:-_TAIL] if self._tails[canonical[-_TAIL:]] >= needed else ""

    def match(self, canonical: str) -> dict[int, float]:
        """Item id → similarity for every known name close to ``canonical``."""
        found: dict[int, float] = {}
        exact = self._ids.get(canonical)
        if exact is not None:
            found[exact] = 1.0
        for vid, score in self._fuzzy(canonical):
            found.setdefault(vid, score)
        return found

    def _fuzzy(self, text: str) -> list[tuple[int, float]]:
        candidates = self._gram_candidates(text)
        if not len(candidates):
            return []
        names = [self._names[v] for v in candidates]
        scores = [item_similarity(text, name, self._config) for name in names]
        cutoff = self._config.item_fuzzy_cutoff
        ranked = sorted(((s, int(v)) for s, v in zip(scores, candidates) if s >= cutoff),
                        reverse=True)
        return [(vid, score) for score, vid in ranked[: self._config.item_fuzzy_limit]]

    def _gram_candidates(self, text: str) -> np.ndarray:
        grams = char_bigrams(text)
        lists = [self._grams.get(g) for g in grams]
        lists = [ids for ids in lists if len(ids)]
        if not lists:
            return np.zeros(0, dtype=np.int32)
        counts = np.bincount(np.concatenate(lists), minlength=len(self._names))
        needed = max(1, math.ceil(self._config.item_min_bigram_share * len(grams)))
        ids = np.flatnonzero(counts >= needed)
        most = self._config.item_fuzzy_candidates
        if len(ids) > most:
            ids = ids[np.argpartition(-counts[ids], most)[:most]]
        return ids

