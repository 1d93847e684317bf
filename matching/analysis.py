"""Text analysis: normalise, rewrite synonyms to their canonical term, cut into words and
character bigrams.

jieba runs through a private ``jieba.Tokenizer`` whose dictionary is extended with the synonym
terms, the data-element names and the catalog's own item vocabulary. It is built on first use.
"""

from __future__ import annotations

import logging
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass

from matching.config import MatchConfig
from matching.normalize import Normalizer
from matching.synonyms import Synonyms

# Frequency given to words added to the jieba dictionary: high enough that jieba keeps them whole.
_ADDED_WORD_FREQ = 2000
_KIND_RANK = {None: 0, "synonym": 1, "abbreviation": 2, "related": 3}  # the loosest rewrite wins


@dataclass(frozen=True, slots=True)
class Analyzed:
    """A text reduced for matching: ``core`` (canonical, boilerplate dropped), its words and
    character bigrams, and the loosest synonym rewrite applied (None, synonym, abbreviation, related)."""

    core: str
    words: tuple[str, ...]
    bigrams: tuple[str, ...]
    rewrite: str | None

    @property
    def terms(self) -> tuple[str, ...]:
        return self.words + self.bigrams


@dataclass(frozen=True, slots=True)
class ItemForm:
    """An information-item name: normalised (``plain``) and canonical (synonyms rewritten)."""

    plain: str
    canonical: str
    rewrite: str | None


@dataclass(frozen=True, slots=True)
class RecordText:
    """A catalog record's texts as the index keeps them: the analysed title, and the title and
    summary normalised and synonym-rewritten."""

    title: Analyzed
    plain_title: str
    summary: str

    def flat(self) -> tuple:
        """Plain data, quick to pickle (``from_flat`` restores it)."""
        return (*(getattr(self.title, name) for name in Analyzed.__slots__), self.plain_title,
                self.summary)

    @classmethod
    def from_flat(cls, parts: tuple) -> "RecordText":
        return cls(Analyzed(*parts[:-2]), *parts[-2:])


class SynonymRewriter:
    """Rewrites every variant in a normalised text to its canonical term, longest first."""

    def __init__(self, synonyms: Synonyms, normalizer: Normalizer) -> None:
        self._map: dict[str, tuple[str, str | None]] = {}
        for term in synonyms.terms():
            canonical, kind = synonyms.lookup(term)
            key = _squash(normalizer.text(term))
            if key:
                self._map.setdefault(key, (_squash(normalizer.text(canonical)), kind))
        alternatives = sorted(self._map, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None

    def rewrite(self, text: str) -> tuple[str, str | None]:
        """The text with variants replaced, and the strongest kind of rewrite made."""
        if self._pattern is None:
            return text, None
        kinds: list[str | None] = []

        def replace(match: re.Match) -> str:
            canonical, kind = self._map[match.group(0)]
            kinds.append(kind)
            return canonical

        rewritten = self._pattern.sub(replace, text)
        return rewritten, max(kinds, key=_KIND_RANK.__getitem__, default=None)

    def canonical_terms(self) -> set[str]:
        return {canonical for canonical, _ in self._map.values()} | set(self._map)


class Analyzer:
    """Turns titles, descriptions and item names into comparable forms, caching distinct
    strings. One analyzer belongs to one index."""

    def __init__(self, config: MatchConfig, synonyms: Synonyms) -> None:
        self.config = config
        self.normalizer = Normalizer(config)
        self.rewriter = SynonymRewriter(synonyms, self.normalizer)
        self._boilerplate = frozenset(config.boilerplate_words)
        self._jieba = None
        self._pending_words: set[str] = set(self.rewriter.canonical_terms())
        self._item_cache: dict[str, ItemForm] = {}

    # ----- dictionary -----
    def add_words(self, words: Iterable[str]) -> None:
        """Extend the jieba dictionary (normalised words of suitable length)."""
        low, high = self.config.dict_word_min_chars, self.config.dict_word_max_chars
        fresh = {w for w in words if low <= len(w) <= high}
        if self._jieba is None:
            self._pending_words |= fresh
            return
        for word in fresh:
            self._jieba.add_word(word, _ADDED_WORD_FREQ)

    def _tokenizer(self):
        if self._jieba is None:
            import jieba

            logging.getLogger("jieba").setLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            for word in self._pending_words:
                tokenizer.add_word(word, _ADDED_WORD_FREQ)
            self._pending_words = set()
            self._jieba = tokenizer
        return self._jieba

    def is_word(self, text: str) -> bool:
        """Whether the text is a word of the tokenizer's dictionary."""
        return bool(self._tokenizer().FREQ.get(text))

    # ----- analysis -----
    def item(self, raw: str) -> ItemForm:
        """An item name in plain and canonical form (cached per distinct string)."""
        form = self._item_cache.get(raw)
        if form is None:
            plain = _squash(self.normalizer.text(raw))
            canonical, kind = self.rewriter.rewrite(plain)
            form = self._item_cache[raw] = ItemForm(plain, canonical, kind)
        return form

    def title(self, raw: str, department: str = "") -> Analyzed:
        """A title: years, leading place and department names and boilerplate dropped."""
        return self._analyze(self.normalizer.title(raw, department))

    def text(self, raw: str) -> Analyzed:
        """A free text (description, summary): boilerplate dropped."""
        return self._analyze(self.normalizer.text(raw))

    def record(self, title: str, department: str, summary: str) -> RecordText:
        """A catalog record's title, analysed and plain, and its summary (cut to
        ``max_summary_chars``)."""
        folded = self.normalizer.text(title)
        return RecordText(self._analyze(self.normalizer.title_of(folded, department)),
                          self.rewriter.rewrite(folded)[0],
                          self.plain(summary[: self.config.max_summary_chars]))

    def plain(self, raw: str) -> str:
        """A text normalised and synonym-rewritten, no tokenising (cheap: no jieba)."""
        return self.rewriter.rewrite(self.normalizer.text(raw))[0]

    def _analyze(self, normalized: str) -> Analyzed:
        canonical, kind = self.rewriter.rewrite(normalized)
        runs = self._runs(canonical)
        chunks = ["".join(run) for run in runs]
        words = tuple(dict.fromkeys(w for run in runs for w in self._words(run)))
        grams = tuple(dict.fromkeys(g for chunk in chunks for g in _bigrams(chunk)))
        return Analyzed(" ".join(chunks), words, grams, kind)

    def _runs(self, text: str) -> list[list[str]]:
        """Runs of consecutive meaningful tokens, boilerplate and spaces breaking the runs."""
        runs, current = [], []
        for token in self._tokenizer().cut(text, HMM=False):
            head, tail = self._split_boilerplate(token)
            if head.strip() and head not in self._boilerplate:
                current.append(head)
            if (tail or head in self._boilerplate or not head.strip()) and current:
                runs.append(current)
                current = []
        if current:
            runs.append(current)
        return runs

    def _split_boilerplate(self, token: str) -> tuple[str, str]:
        """A dictionary word ending in a boilerplate word ("企业名单", "人员信息") as its
        meaningful head and the boilerplate tail; other tokens whole."""
        for size in (3, 2):
            if len(token) >= size + 2 and token[-size:] in self._boilerplate:
                return token[:-size], token[-size:]
        return token, ""

    def _words(self, run: list[str]) -> list[str]:
        """The run's words plus the dictionary words inside long ones (as jieba's search
        mode does), without cutting the text a second time."""
        known = self._tokenizer().FREQ
        words = []
        for token in run:
            for size in (2, 3):
                words.extend(token[i:i + size] for i in range(len(token) - size + 1)
                             if len(token) > size and known.get(token[i:i + size]))
            words.append(token)
        return [w for w in words if len(w) > 1 and w not in self._boilerplate]


def _squash(text: str) -> str:
    return text.replace(" ", "")


def text_bigrams(text: str) -> list[str]:
    """Character bigrams of each space-separated chunk of a normalised text."""
    return [g for chunk in text.split() for g in _bigrams(chunk)]


def _bigrams(chunk: str) -> list[str]:
    if len(chunk) < 2:
        return [chunk] if chunk else []
    return list(map(operator.add, chunk, chunk[1:]))
