"""Baselines the matcher is measured against, each searching one portal's entries:

- BM25 over jieba words (a search engine with a Chinese word segmenter),
- BM25 over character bigrams (as Solr's CJK analyser indexes Chinese),
- rapidfuzz WRatio of the demand against entry titles.

All get the same text folding as the matcher (simplified script, half width, no punctuation) so
the comparison measures matching, not script conversion.
"""

from __future__ import annotations

import re

import bm25s
from rapidfuzz import fuzz, process

from matching.config import DEFAULT_CONFIG
from matching.normalize import Normalizer

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+")
_NORMALIZER = Normalizer(DEFAULT_CONFIG)
_JIEBA = None


def fold(text: str) -> str:
    return _NORMALIZER.text(text)


def jieba_words(text: str) -> list[str]:
    global _JIEBA
    if _JIEBA is None:
        import jieba

        _JIEBA = jieba.Tokenizer()
    return [w for w in _JIEBA.cut_for_search(fold(text)) if w.strip()]


def cjk_bigrams(text: str) -> list[str]:
    """Like Solr's CJKBigramFilter: overlapping bigrams of CJK runs, other runs whole."""
    tokens = []
    for run in _CJK_RUN.findall(fold(text)):
        if not "\u4e00" <= run[0] <= "\u9fff" or len(run) == 1:
            tokens.append(run)
        else:
            tokens.extend(run[i:i + 2] for i in range(len(run) - 1))
    return tokens


def entry_text(row: dict) -> str:
    return " ".join((row["resource_name"], row["summary"], row["items"].replace("|", " ")))


def demand_text(demand: dict) -> str:
    return " ".join((demand.get("title", ""), demand.get("description", ""),
                     " ".join(demand.get("items", []))))


class BM25Search:
    """bm25s over a tokenizer's output for one portal's entries."""

    def __init__(self, rows: list[dict], tokenize) -> None:
        self._keys = [row["key"] for row in rows]
        self._tokenize = tokenize
        self._bm25 = bm25s.BM25()
        self._bm25.index([tokenize(entry_text(row)) or ["_"] for row in rows],
                         show_progress=False)

    def search(self, demand: dict, k: int = 10) -> list[str]:
        tokens = self._tokenize(demand_text(demand)) or ["_"]
        ids, scores = self._bm25.retrieve([tokens], k=min(k, len(self._keys)),
                                          show_progress=False)
        return [self._keys[i] for i, s in zip(ids[0], scores[0]) if s > 0]


class TitleWRatioSearch:
    """rapidfuzz WRatio of the demand's title (or items) against every entry title."""

    def __init__(self, rows: list[dict]) -> None:
        self._keys = [row["key"] for row in rows]
        self._titles = [fold(row["resource_name"]) for row in rows]

    def search(self, demand: dict, k: int = 10) -> list[str]:
        text = fold(demand.get("title") or demand.get("description")
                    or " ".join(demand.get("items", [])))
        found = process.extract(text, self._titles, scorer=fuzz.WRatio, limit=k)
        return [self._keys[index] for _, score, index in found if score > 0]


def bm25_words(rows: list[dict]) -> BM25Search:
    return BM25Search(rows, jieba_words)


def bm25_bigrams(rows: list[dict]) -> BM25Search:
    return BM25Search(rows, cjk_bigrams)


__all__ = ["BM25Search", "TitleWRatioSearch", "bm25_bigrams", "bm25_words"]
