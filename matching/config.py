"""Every weight, threshold and limit of the matcher, in one frozen object."""

from __future__ import annotations

from dataclasses import dataclass, replace

# Words that carry no meaning in catalog titles: the kind of record ("信息", "名单"), the
# channel ("接口服务") or filler ("相关"). They are dropped from titles before comparing.
BOILERPLATE_WORDS = (
    "信息", "数据", "情况", "资料", "接口服务", "接口", "数据集", "数据库", "数据表", "资源",
    "相关", "有关", "全市", "全省", "全县", "全区", "本市", "我市", "各类", "基本", "基本信息",
    "名单", "名录", "清单", "目录", "一览表", "列表", "台账", "花名册", "汇总表", "统计表",
    "明细表", "登记表", "表", "查询", "服务", "公开", "公示", "统计", "汇总", "详情", "库",
    "需要", "需求", "获取", "提供", "共享", "申请", "核验", "核查", "比对", "用于", "办理",
    "以及", "和", "及", "与", "的", "等", "各", "包括", "包含", "内容", "主要", "其他", "其它",
    "历年", "年度", "年", "上半年", "下半年",
)

# Trailing characters that mark a place name at the start of a title ("柳州市", "珙县").
PLACE_SUFFIXES = ("省", "市", "县", "区", "州", "旗", "盟")


@dataclass(frozen=True, slots=True)
class MatchConfig:
    """Weights, thresholds and limits. Change them with ``config.replace(name=value)``."""

    # --- input limits (bad input gets a MatchingError, never a hang) ---
    max_text_chars: int = 4000
    max_item_chars: int = 100
    max_items: int = 300
    max_record_items: int = 2000
    max_query_terms: int = 400  # a demand's rarest words and bigrams kept for re-ranking
    max_top_k: int = 1000

    # --- normalisation and tokenisation ---
    boilerplate_words: tuple[str, ...] = BOILERPLATE_WORDS
    place_suffixes: tuple[str, ...] = PLACE_SUFFIXES
    place_prefix_max_chars: int = 7
    place_prefix_min_titles: int = 5
    dict_word_min_chars: int = 2
    dict_word_max_chars: int = 8
    dict_word_min_count: int = 2
    # A build of at least this many records analyses their texts on ``workers`` processes
    # (0: one per core); jieba's segmentation of titles is most of a build's time. So are
    # at least ``parallel_search_min_queries`` demands searched together (``search_many``).
    parallel_build_min_records: int = 20_000
    parallel_search_min_queries: int = 200
    workers: int = 0

    # --- candidate generation (inverted index) ---
    candidate_pool: int = 80
    lexical_pool: int = 20
    max_df_share: float = 0.35
    title_field_weight: float = 1.0
    stage_lexical_weight: float = 1.0
    description_weight: float = 0.4
    bigram_weight: float = 0.5
    requested_item_weight: float = 1.5

    # A four-character word of the demand may appear in titles as its short form (劳动模范 →
    # 劳模, the first character of each half) when that is a dictionary word heading titles.
    short_form_min_titles: int = 2
    short_form_weight: float = 0.7

    # --- item matching ---
    item_min_bigram_share: float = 0.34
    item_fuzzy_cutoff: float = 0.72
    item_fuzzy_limit: int = 40
    item_fuzzy_candidates: int = 600
    item_close_score: float = 0.75
    # An item name's last two characters are a generic attribute ("名称", "日期") when they end
    # at least this many, and this share, of the catalog's distinct item names.
    attribute_tail_min_names: int = 5
    attribute_tail_min_share: float = 0.004
    containment_base: float = 0.55
    containment_span: float = 0.4
    synonym_score: float = 0.97
    abbreviation_score: float = 0.95
    related_score: float = 0.85
    title_item_score: float = 0.8
    summary_item_score: float = 0.7

    # --- bigram BM25 over whole entries ---
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    max_summary_chars: int = 200

    # --- re-ranking and confidence ---
    # Confidence = logistic(ranker_bias + Σ weight × feature), features in the order of
    # ``matching.scoring.FEATURES``; fitted by ``bench/matching/fit_ranker.py`` (ranked pairwise,
    # then calibrated so that the confidence is a probability).
    ranker_weights: tuple[float, ...] = (1.02, 1.562, 1.559, 1.537, 0.938, 2.524, 0.189, 1.532,
                                         1.324, 0.566, 1.979, 1.645)
    ranker_bias: float = -7.431
    # The reported title score (not the ranking): coverage, its discount outside the title,
    # fuzzy similarity of the reduced titles, description coverage.
    title_coverage_weight: float = 0.6
    title_fuzzy_weight: float = 0.4
    body_coverage_share: float = 0.5
    item_term_weight: float = 0.3
    description_coverage_weight: float = 0.15
    # Feedback from the best candidates (pseudo-relevance feedback): an entry whose title is
    # like those of the ``feedback_entries`` most confident ones gains up to ``feedback_weight``
    # in log-odds (never above the most confident one); 0 turns it off.
    feedback_entries: int = 4
    feedback_weight: float = 5.0
    match_threshold: float = 0.5
    verdict_margin: float = 1.0  # in log-odds of the confidence
    provider_vote_top: int = 10

    # --- data-element suggestions ---
    element_title_weight: float = 0.1
    element_min_score: float = 0.5

    def kind_score(self, kind: str) -> float:
        """The score of an item found through the synonym table, by the kind of the rewrite."""
        return {"abbreviation": self.abbreviation_score, "related": self.related_score}.get(kind, self.synonym_score)

    def replace(self, **changes) -> "MatchConfig":
        """A copy with some fields changed."""
        return replace(self, **changes)


DEFAULT_CONFIG = MatchConfig()
