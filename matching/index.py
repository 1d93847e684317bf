"""The catalog index: inverted lists over title words and bigrams, a bigram BM25 over whole
entries, and the distinct item vocabulary; candidate generation by weighted term coverage and
BM25, then re-ranking by a fitted combination of the evidence."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from functools import partial

import numpy as np

from matching import scoring
from matching.analysis import Analyzed, Analyzer, RecordText, text_bigrams
from matching.config import DEFAULT_CONFIG, MatchConfig
from matching.diagnosis import verdict
from matching.elements import ElementMatcher, element_synonyms
from matching.errors import (DuplicateKey, EmptyQuery, InvalidTopK, MatchingError, QueryTooLong,
                             TooManyItems)
from matching.lexical import BigramBM25
from matching.models import (Candidate, DataElement, ElementSuggestion, ItemMatch, MatchKind,
                             MatchResult, Query, Record)
from matching.postings import Postings, idf
from matching.scoring import DocView, ParsedQuery, TitleWords
from matching.synonyms import Synonyms
from matching.vocabulary import ItemVocabulary, char_bigrams
from matching.workers import Work, analyze_records, spread, workers_for


SEARCH_CHUNK = 50  # demands per task of ``search_many``: about a quarter of a second


class CatalogIndex:
    """Catalog records in, ranked and explained candidates out. Build with ``build``."""

    def __init__(self, config: MatchConfig, synonyms: Synonyms,
                 elements: Iterable[DataElement]) -> None:
        self.config = config
        self.elements = tuple(elements)
        self.synonyms = synonyms.merged(element_synonyms(self.elements))
        self._analyzer = Analyzer(config, self.synonyms)
        self._element_matcher = ElementMatcher(self.elements, self._analyzer, config)
        self._records: list[Record | None] = []
        self._views: list[DocView | None] = []
        self._doc_of: dict[str, int] = {}
        self._dead: list[int] = []
        self._titles = Postings()
        self._lexical = BigramBM25(config)
        self._vocabulary = ItemVocabulary(config)
        self._word_cache: dict[str, tuple[str, ...]] = {}
        self._word_ids: dict[str, int] = {}  # title word → id (``DocView.title_ids``)
        self._words: list[str] = []
        self._rarity = np.zeros(0)  # title word id → idf; NaN: not weighed since a change

    # ----- building and updating -----
    @classmethod
    def build(cls, records: Iterable[Record], *, synonyms: Synonyms | None = None,
              elements: Iterable[DataElement] = (), config: MatchConfig | None = None,
              ) -> "CatalogIndex":
        """Index ``records``; ``synonyms`` defaults to the built-in table."""
        index = cls(config or DEFAULT_CONFIG,
                    Synonyms.default() if synonyms is None else synonyms, elements)
        records = list(records)
        _check_unique(records)
        index._prepare(records)
        texts = analyze_records(index._analyzer, [(r.title, r.provider, r.summary) for r in records],
                                index._build_workers(len(records)))
        for record, text in zip(records, texts, strict=True):
            index._add(record, text)
        index._freeze()
        return index

    def upsert(self, records: Iterable[Record]) -> None:
        """Add new records and replace those whose key is already indexed."""
        records = list(records)
        _check_unique(records)
        self._rarity[:] = np.nan
        self._analyzer.add_words(self._item_words(records))
        for record in records:
            self._discard(record.key)
            self._add(record)

    def remove(self, keys: Iterable[str]) -> int:
        """Forget the records with these keys; returns how many were indexed."""
        self._rarity[:] = np.nan
        return sum(self._discard(key) for key in keys)

    def __len__(self) -> int:
        return len(self._doc_of)

    def __contains__(self, key: object) -> bool:
        return key in self._doc_of

    def get(self, key: str) -> Record | None:
        doc = self._doc_of.get(key)
        return None if doc is None else self._records[doc]

    def _prepare(self, records: list[Record]) -> None:
        normalizer = self._analyzer.normalizer
        normalizer.learn_places((normalizer.text(r.title) for r in records),
                                {normalizer.department(r.provider) for r in records})
        self._analyzer.add_words(self._item_words(records))
        self._analyzer.add_words(e.name for e in self.elements)

    def _build_workers(self, size: int) -> int:
        """Processes to analyse ``size`` records on: more than one only for a large catalog."""
        if size < self.config.parallel_build_min_records:
            return 1
        return workers_for(self.config.workers)

    def _item_words(self, records: list[Record]) -> list[str]:
        counts = Counter(self._analyzer.item(raw).canonical for r in records for raw in r.items)
        return [word for word, n in counts.items() if n >= self.config.dict_word_min_count]

    def _add(self, record: Record, text: RecordText | None = None) -> None:
        """Index the record (``text``: its texts, when already analysed)."""
        doc = len(self._records)
        if text is None:
            text = self._analyzer.record(record.title, record.provider, record.summary)
        title, plain_title, summary = text.title, text.plain_title, text.summary
        items = self._doc_items(record, doc)
        item_text = " ".join(form.canonical for _, _, form in items)
        grams = set(text_bigrams(plain_title))
        grams.update(text_bigrams(summary), text_bigrams(item_text))
        self._titles.add(set(title.terms), doc)
        self._lexical.add(grams, doc)
        self._records.append(record)
        self._views.append(DocView(title, frozenset(title.terms), plain_title.replace(" ", ""),
                                   summary, item_text, items, self._ids_of(title.words)))
        self._doc_of[record.key] = doc

    def _ids_of(self, words: tuple[str, ...]) -> np.ndarray:
        ids = []
        for word in words:
            known = self._word_ids.get(word)
            if known is None:
                known = self._word_ids[word] = len(self._words)
                self._words.append(word)
            ids.append(known)
        return np.array(ids, dtype=np.int32)

    def _doc_items(self, record: Record, doc: int) -> tuple:
        forms = {}
        for raw in record.items[: self.config.max_record_items]:
            form = self._analyzer.item(raw)
            if form.canonical:
                forms.setdefault(form.canonical, (raw, form))
        return tuple((self._vocabulary.add(canonical, doc), raw, form)
                     for canonical, (raw, form) in forms.items())

    def _item_terms(self, canonical: str) -> tuple[str, ...]:
        terms = self._word_cache.get(canonical)
        if terms is None:
            analyzed = self._analyzer.text(canonical)
            terms = self._word_cache[canonical] = analyzed.words or analyzed.bigrams
        return terms

    def _discard(self, key: str) -> bool:
        doc = self._doc_of.pop(key, None)
        if doc is None:
            return False
        self._records[doc] = None
        self._views[doc] = None
        self._dead.append(doc)
        return True

    def _freeze(self) -> None:
        self._titles.freeze()
        self._lexical.freeze()
        self._vocabulary.freeze()

    # ----- searching -----
    def search(self, query: Query, top_k: int = 10) -> MatchResult:
        """Entries that hold the demanded data, best first, with the verdict."""
        _check_top_k(top_k, self.config)
        parsed, scored = self._scored(query)
        order = scoring.rank([features for _, _, features in scored],
                             self._title_words([doc for doc, _, _ in scored]), self.config)
        keep = max(top_k, self.config.provider_vote_top)
        ranked = [self._candidate(parsed, score, *scored[slot])
                  for rank, (score, slot) in enumerate(order)
                  if rank < keep or score >= self.config.match_threshold]
        return verdict(ranked, top_k, self.config)

    def search_many(self, queries: Iterable[Query], top_k: int = 10,
                    ) -> Iterator[MatchResult | MatchingError]:
        """``search`` of each demand, in order: its result, or the error refusing it. Many
        demands (``parallel_search_min_queries``) are searched on every core (``workers``)."""
        _check_top_k(top_k, self.config)
        queries = list(queries)
        workers = 1
        if len(queries) >= self.config.parallel_search_min_queries:
            workers = workers_for(self.config.workers)
        return spread(Work(partial(self._search_or_error, top_k=top_k)), queries, workers,
                      SEARCH_CHUNK)

    def _search_or_error(self, query: Query, top_k: int) -> MatchResult | MatchingError:
        try:
            return self.search(query, top_k)
        except MatchingError as error:
            return error

    def candidate_features(self, query: Query) -> list[tuple[str, tuple[float, ...]]]:
        """(key, re-ranking features) of every candidate entry, for fitting the ranker."""
        return [(self._records[doc].key, features) for doc, _, features in self._scored(query)[1]]

    def title_words(self, keys: Sequence[str]) -> TitleWords:
        """The words of the entries' reduced titles, each weighing its rarity among titles."""
        return self._title_words([self._doc_of[key] for key in keys])

    def _title_words(self, docs: Sequence[int]) -> TitleWords:
        parts = [self._views[doc].title_ids for doc in docs]
        ids = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
        if len(self._rarity) < len(self._words):  # new words since: not weighed yet
            grown = np.full(2 * len(self._words), np.nan)
            grown[: len(self._rarity)] = self._rarity
            self._rarity = grown
        weights = self._rarity[ids]
        unknown = np.isnan(weights)
        if unknown.any():
            total = max(len(self._records), 1)
            for word in np.unique(ids[unknown]).tolist():
                self._rarity[word] = idf(self._titles.df(self._words[word]), total)
            weights = self._rarity[ids]
        return TitleWords(ids, weights, np.fromiter(map(len, parts), dtype=np.int64,
                                                    count=len(parts)))

    def suggest_elements(self, item: str, title: str = "", top_k: int = 5,
                         ) -> list[ElementSuggestion]:
        """Standard data elements to bind an info item to, best first."""
        return self._element_matcher.suggest(item, title, top_k)

    def _scored(self, query: Query) -> tuple[ParsedQuery, list[tuple]]:
        """The parsed demand and, per candidate entry, (doc, item matches, features)."""
        parsed = self._parse(query)
        lexical = self._lexical.scores(parsed.grams)
        docs = self._top_docs(self._stage_one(parsed, lexical), lexical)
        scored = []
        for doc in map(int, docs):
            matches = scoring.assign_items(parsed, self._views[doc], self.config)
            scored.append((doc, matches, scoring.features(parsed, self._views[doc], matches,
                                                          float(lexical[doc]))))
        return parsed, scored

    def _parse(self, query: Query) -> ParsedQuery:
        _validate(query, self.config)
        title = self._analyzed(self._analyzer.title(query.title))
        description = self._analyzed(self._analyzer.text(query.description))
        items = self._query_items(query)
        if title is None and description is None and not items:
            raise EmptyQuery("需求没有可匹配的标题、描述或信息项 "
                             "(the demand has no meaningful title, description or item)")
        primary, secondary = (title, description) if title else (description, None)
        parsed = ParsedQuery(primary or self._field_list(items), secondary, items,
                             from_items=primary is None)
        parsed.weights = self._term_weights(parsed.primary, 1.0, parsed.from_items)
        if not parsed.from_items:
            parsed.weights.update(self._short_forms(parsed.primary, parsed.weights))
        parsed.secondary_weights = self._term_weights(secondary, self.config.description_weight)
        df = self._df(parsed.from_items)
        parsed.known = dict(sorted(((t, w) for t, w in parsed.weights.items() if df(t)),
                                   key=lambda pair: -pair[1]))
        parsed.grams = self._lexical.weights(self._query_grams(query, items))
        self._match_items(parsed)
        parsed.subjects = self._subjects(items)
        parsed.settle()
        return parsed

    def _short_forms(self, analyzed: Analyzed, known: dict[str, float]) -> dict[str, float]:
        """Short forms the catalog's titles may use for a four-character word of the demand,
        made the usual way from the first character of each half (劳动模范 → 劳模, 公共厕所
        → 公厕, 年度报告 → 年报): kept when a dictionary word heading at least
        ``short_form_min_titles`` titles, weighing what the word weighs, at a discount."""
        found: dict[str, float] = {}
        for word in analyzed.words:
            if len(word) != 4 or not _is_cjk(word):
                continue
            short = word[0] + word[2]
            if short in known or not self._analyzer.is_word(short):
                continue
            if self._titles.df(short) >= self.config.short_form_min_titles:
                found[short] = self.config.short_form_weight * known.get(word, 0.0)
        return found

    def _subjects(self, items: list) -> dict[str, float]:
        """The bigrams of the requested items' subjects, each weighing how many items name
        it times its rarity in titles (企业 of 企业名称 says little, 人防 much)."""
        subjects = Counter(self._vocabulary.subject(form.canonical) for _, form in items)
        subjects.pop("", None)
        total = max(len(self._records), 1)
        grams: Counter[str] = Counter()
        for subject, count in subjects.items():
            for gram in char_bigrams(subject):
                grams[gram] += count * idf(self._titles.df(gram), total)
        return dict(grams)

    def _field_list(self, items: list) -> Analyzed | None:
        """A bare field list's item names, analysed as if they were its title."""
        return self._analyzed(self._analyzer.text(" ".join(f.canonical for _, f in items)))

    def _query_grams(self, query: Query, items: list) -> list[str]:
        grams = text_bigrams(self._analyzer.plain(query.title))
        grams += text_bigrams(self._analyzer.plain(query.description))
        return grams + [g for _, form in items for g in text_bigrams(form.canonical)]

    @staticmethod
    def _analyzed(analyzed: Analyzed) -> Analyzed | None:
        return analyzed if analyzed.terms else None

    def _query_items(self, query: Query) -> list:
        unique = {}
        for raw in query.items:
            form = self._analyzer.item(raw)
            if form.canonical:
                unique.setdefault(form.canonical, (raw, form))
        return list(unique.values())

    def _term_weights(self, analyzed: Analyzed | None, scale: float,
                      whole_text: bool = False) -> dict[str, float]:
        """IDF weight of each query word (bigrams at ``bigram_weight``): over titles, or over
        whole entries for words taken from item names (名称, 地址 are everywhere there)."""
        if analyzed is None:
            return {}
        df = self._df(whole_text)
        total = max(len(self._records), 1)
        weights = {w: scale * idf(df(w), total) for w in analyzed.words}
        for gram in analyzed.bigrams:
            weights.setdefault(gram, scale * self.config.bigram_weight * idf(df(gram), total))
        most = self.config.max_query_terms
        if len(weights) > most:  # a huge demand: its rarest terms say what it is about
            weights = dict(sorted(weights.items(), key=lambda kv: -kv[1])[:most])
        return weights

    def _df(self, whole_text: bool):
        """How many entries hold a term: in their titles, or (``whole_text``) anywhere."""
        return self._text_df if whole_text else self._titles.df

    def _text_df(self, word: str) -> int:
        """Entries whose text holds every bigram of ``word`` (bounded by the rarest)."""
        return min((self._lexical.df(g) for g in text_bigrams(word)), default=0)

    def _match_items(self, parsed: ParsedQuery) -> None:
        total = max(len(self._records), 1)
        for index, (_, form) in enumerate(parsed.items):
            hits = self._vocabulary.match(form.canonical)
            parsed.item_hits.append(hits)
            parsed.item_weights.append(idf(self._item_df(hits), total))
            for vid, score in hits.items():
                parsed.by_item_id.setdefault(vid, []).append((index, score))

    def _item_df(self, hits: dict[int, float]) -> int:
        """Entries holding the item or a close variant (bounded by the closest ones)."""
        close = [vid for vid, score in hits.items() if score >= self.config.item_close_score]
        return max(sum(self._vocabulary.docs.df(vid) for vid in close), 1)

    def _stage_one(self, parsed: ParsedQuery, lexical: np.ndarray) -> np.ndarray:
        """Cheap score of every entry: weighted title coverage, requested-item coverage and
        the bigram BM25 of the whole entry."""
        scores = lexical * self.config.stage_lexical_weight
        limit = self.config.max_df_share * max(len(self._doc_of), 1)
        self._add_terms(scores, parsed.weights, limit)
        self._add_terms(scores, parsed.secondary_weights, limit)
        item_words = {w: self.config.item_term_weight for _, f in parsed.items
                      for w in self._item_terms(f.canonical)}
        self._add_terms(scores, item_words, limit)
        total = sum(parsed.item_weights) or 1.0
        for hits, weight in zip(parsed.item_hits, parsed.item_weights):
            scores += self._item_scores(hits) * (self.config.requested_item_weight
                                                 * weight / total)
        return scores

    def _add_terms(self, scores: np.ndarray, weights: dict[str, float], limit: float) -> None:
        total = sum(weights.values()) or 1.0
        for term, weight in weights.items():
            docs = self._titles.get(term)
            if 0 < len(docs) <= limit:
                scores[docs] += weight * self.config.title_field_weight / total

    def _item_scores(self, hits: dict[int, float]) -> np.ndarray:
        best = np.zeros(len(self._records), dtype=np.float32)
        for vid, score in sorted(hits.items(), key=lambda kv: kv[1]):
            docs = self._vocabulary.docs.get(vid)
            best[docs] = np.maximum(best[docs], score)
        return best

    def _top_docs(self, scores: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        """The best ``candidate_pool`` entries by the cheap score, with the best
        ``lexical_pool`` by BM25 alone (deleted entries never)."""
        if self._dead:
            scores[self._dead] = lexical[self._dead] = 0.0
        found = _top(scores, self.config.candidate_pool)
        return np.union1d(found, _top(lexical, self.config.lexical_pool))

    def _candidate(self, parsed: ParsedQuery, score: float, doc: int,
                   matches: list[ItemMatch], features: tuple[float, ...]) -> Candidate:
        """The entry as offered: only the best few and those passing the threshold are
        built (the verdict and the top ``top_k`` need no more)."""
        view, record = self._views[doc], self._records[doc]
        coverage = scoring.item_coverage(matches, parsed.item_weights)
        title = scoring.title_score(features, self.config)
        explanation = matches or [ItemMatch(parsed.primary.core, view.title.core,
                                            MatchKind.TITLE.value, title)]
        return Candidate(record.key, score, record.title,
                         record.provider, title, coverage, tuple(explanation),
                         record.blocked_by())


def _top(scores: np.ndarray, size: int) -> np.ndarray:
    """Ids of the ``size`` highest positive scores."""
    size = min(size, len(scores))
    if size == 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-scores, size - 1)[:size]
    return top[scores[top] > 0]


def _check_unique(records: list[Record]) -> None:
    seen: set[str] = set()
    for record in records:
        if record.key in seen:
            raise DuplicateKey("两条目录记录的键相同 (two records share a key)", key=record.key)
        seen.add(record.key)


def _is_cjk(text: str) -> bool:
    return all("\u4e00" <= char <= "\u9fff" for char in text)


_FIELD_NAMES = {"title": "标题", "description": "描述"}


def _validate(query: Query, config: MatchConfig) -> None:
    for name in ("title", "description"):
        if len(getattr(query, name) or "") > config.max_text_chars:
            raise QueryTooLong(f"需求的{_FIELD_NAMES[name]}过长 (the demand's {name} is too long)",
                               field=name, limit=config.max_text_chars)
    if len(query.items) > config.max_items:
        raise TooManyItems("需求的信息项过多 (the demand requests too many items)",
                           field="items", count=len(query.items), limit=config.max_items)
    if any(len(item) > config.max_item_chars for item in query.items):
        raise QueryTooLong("信息项名称过长 (a requested item name is too long)", field="items",
                           limit=config.max_item_chars)


def _check_top_k(top_k: object, config: MatchConfig) -> None:
    if isinstance(top_k, bool) or not isinstance(top_k, int) \
            or not 1 <= top_k <= config.max_top_k:
        raise InvalidTopK(f"返回条数须在 1 到 {config.max_top_k} 之间 "
                          f"(top_k must be a whole number from 1 to {config.max_top_k})",
                          field="top_k", value=repr(top_k), limit=config.max_top_k)
