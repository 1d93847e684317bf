"""Normalisation of Chinese government text.

Traditional → simplified (OpenCC ``t2s``), full → half width (NFKC), lower case, punctuation and
whitespace folded to single spaces; for titles also years and leading place / department names.
The OpenCC converter is built on first use, never at import time.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

from matching.config import MatchConfig

_NON_WORD = re.compile(r"[\W_]+")
_YEAR = re.compile(r"(?:19|20)\d{2}\s*(?:年度|年)?(?:\s*(?:至|到|-|~)\s*(?:19|20)\d{2}\s*(?:年度|年)?)?")
_CJK = re.compile(r"[\u4e00-\u9fff]")


class Normalizer:
    """Folds text to one canonical surface form. Cheap to create; OpenCC is loaded lazily."""

    def __init__(self, config: MatchConfig) -> None:
        self._config = config
        self._converter = None
        self._places: frozenset[str] = frozenset()
        self._departments: dict[str, str] = {}

    def _to_simplified(self, text: str) -> str:
        if self._converter is None:
            import opencc

            self._converter = opencc.OpenCC("t2s")
        return self._converter.convert(text)

    def text(self, raw: str) -> str:
        """Width, script, case and punctuation folded; words separated by single spaces."""
        folded = unicodedata.normalize("NFKC", raw or "")
        if _CJK.search(folded):
            folded = self._to_simplified(folded)
        return _NON_WORD.sub(" ", folded.lower()).strip()

    def title(self, raw: str, department: str = "") -> str:
        """``text`` without years, a leading department name or leading place names."""
        return self.title_of(self.text(raw), department)

    def title_of(self, text: str, department: str = "") -> str:
        """``title`` of a text already folded by ``text``."""
        text = _strip_prefix(_YEAR.sub(" ", text).strip(), self.department(department))
        return self._strip_places(text)

    def department(self, raw: str) -> str:
        """A department name folded (a catalog has a few hundred: each is folded once)."""
        folded = self._departments.get(raw)
        if folded is None:
            folded = self._departments[raw] = self.text(raw)
        return folded

    def learn_places(self, titles: Iterable[str], departments: Iterable[str]) -> None:
        """Remember place names ("宜宾市", "珙县") that open many titles and some department
        name, to strip them from titles later. Both inputs are normalised text."""
        in_departments = {p for name in departments for p in self._place_prefixes(name)}
        counts = Counter(p for title in titles for p in self._place_prefixes(title)
                         if p in in_departments)
        learned = {p for p, n in counts.items() if n >= self._config.place_prefix_min_titles}
        self._places = frozenset(learned | self._places)

    @property
    def places(self) -> frozenset[str]:
        return self._places

    def _place_prefixes(self, title: str) -> list[str]:
        head = title[: self._config.place_prefix_max_chars]
        return [head[:end + 1] for end in range(1, len(head))
                if head[end] in self._config.place_suffixes and _CJK.match(head[0])]

    def _strip_places(self, text: str) -> str:
        while True:
            prefix = next((p for p in self._place_prefixes(text) if p in self._places), None)
            if prefix is None or len(prefix) >= len(text):
                return text.strip()
            text = text[len(prefix):].lstrip()


def _strip_prefix(text: str, prefix: str) -> str:
    if prefix and len(prefix) < len(text) and text.startswith(prefix):
        return text[len(prefix):].lstrip()
    return text
