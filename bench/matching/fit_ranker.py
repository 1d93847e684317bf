"""Fit the re-ranking weights (``MatchConfig.ranker_weights``, ``ranker_bias``) on the
development set, and say how well they generalise to a portal they were not fitted on.

For every demand, the features of every candidate entry (``CatalogIndex.candidate_features``)
are labelled with the entry's grade. The fit has two steps, both L2-regularised logistic
regressions solved by Newton steps:

1. **Ranking** (RankNet): for every pair of candidates of one demand with different grades,
   the difference of their features predicts which is better; a pair weighs the difference of
   its gains (2**grade), each demand weighing the same. This orders entries the way nDCG@10
   counts them.
2. **Calibration** (Platt): the ranking score ``s`` of every candidate predicts grade / 2 (an
   entry that fully satisfies the demand → 1, partly → 0.5, else 0) through logistic(a·s + b).
   The order stays that of step 1; the confidence becomes a probability, so one threshold
   says when a demand is unmet. The config weights are ``a`` times the ranking weights, the
   bias is ``b``.

Feedback from the best candidates (``feedback_entries``, ``feedback_weight``) then reorders
them; its two values are chosen from a small grid for the best nDCG@10 with the fitted weights.

It is cross-validated leaving one portal out: the weights and the feedback chosen on three
portals rank the fourth's demands, so the printed nDCG@10 is that of a portal they never saw.
Finally both are fitted on all four portals and printed as the config values.

Usage: ``python bench/matching/fit_ranker.py [--data DIR] [--l2 10.0]``
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

# This checkout's ``matching`` first, never an installed copy; then the shared bench modules.
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[2])]

from common import DATA, DEVSET, read_devset, read_rows, rows_by_portal, to_record  # noqa: E402

from matching import CatalogIndex, Query  # noqa: E402
from matching.config import DEFAULT_CONFIG, MatchConfig  # noqa: E402
from matching.evaluation import answerable, ndcg_at  # noqa: E402
from matching.scoring import FEATURES, rank  # noqa: E402

# (feedback_entries, feedback_weight) tried; weight 0 is no feedback.
FEEDBACK_GRID = [(entries, weight) for entries in (2, 3, 4, 5) for weight in (0, 2, 3, 4, 5, 6, 8)]


def demand_features(index: CatalogIndex, demand: dict) -> dict:
    """The demand's candidates: keys, feature matrix and the words of their titles."""
    found = index.candidate_features(Query(demand["title"], demand["description"],
                                           demand["items"]))
    keys = [key for key, _ in found]
    matrix = np.array([values for _, values in found], dtype=float).reshape(-1, len(FEATURES))
    return {"demand": demand, "keys": keys, "x": matrix, "titles": index.title_words(keys)}


def collect(data: Path, devset: Path) -> list[dict]:
    """Per demand: its record, candidate keys and feature matrix, portal by portal."""
    by_portal: dict[str, list[dict]] = defaultdict(list)
    for demand in read_devset(devset):
        by_portal[demand["source"]].append(demand)
    portals = rows_by_portal(read_rows(data))
    collected = []
    for source, demands in sorted(by_portal.items()):
        index = CatalogIndex.build(to_record(r) for r in portals[source])
        collected.extend(demand_features(index, demand) for demand in demands)
    return collected


def design(cases: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stacked features (with a constant column), targets grade / 2, per-row weights."""
    xs, ys, ws = [], [], []
    for case in cases:
        grades = case["demand"]["judgments"]
        if not len(case["keys"]):
            continue
        xs.append(np.hstack([np.ones((len(case["keys"]), 1)), case["x"]]))
        ys.append(np.array([grades.get(k, 0) / 2 for k in case["keys"]]))
        ws.append(np.full(len(case["keys"]), 1.0 / len(case["keys"])))
    return np.vstack(xs), np.concatenate(ys), np.concatenate(ws)


def logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, penalty: np.ndarray,
             steps: int = 50) -> np.ndarray:
    """Weighted logistic regression with an L2 ``penalty`` per coefficient, by Newton's method."""
    beta = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-x @ beta))
        gradient = x.T @ (w * (p - y)) + penalty * beta
        hessian = (x * (w * p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        beta -= np.linalg.solve(hessian, gradient)
    return beta


def pairs(cases: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Feature differences of every better/worse pair of one demand's candidates, and each
    pair's weight (its gain difference, every demand summing to one)."""
    diffs, weights = [], []
    for case in cases:
        grades = np.array([case["demand"]["judgments"].get(k, 0) for k in case["keys"]])
        better, worse = np.nonzero(grades[:, None] > grades[None, :])
        if not len(better):
            continue
        gain = 2.0 ** grades[better] - 2.0 ** grades[worse]
        diffs.append(case["x"][better] - case["x"][worse])
        weights.append(gain / gain.sum())
    return np.vstack(diffs), np.concatenate(weights)


def fit(cases: list[dict], l2: float) -> MatchConfig:
    """The config with RankNet weights for the order, scaled and shifted by a Platt fit, and
    the feedback that ranks the cases best with them."""
    x, w = pairs(cases)
    ranking = logistic(x, np.ones(len(x)), w, np.full(x.shape[1], l2 / len(cases)))
    x, y, w = design(cases)
    score = x[:, 1:] @ ranking
    a, b = logistic(np.column_stack([score, np.ones(len(score))]), y, w, np.zeros(2))
    config = DEFAULT_CONFIG.replace(ranker_weights=tuple((a * ranking).tolist()),
                                    ranker_bias=float(b))
    return max((config.replace(feedback_entries=n, feedback_weight=float(weight))
                for n, weight in FEEDBACK_GRID),
               key=lambda tried: mean_ndcg([(case, tried) for case in cases]))


def ranked(case: dict, config: MatchConfig) -> tuple[list[str], float]:
    """The case's candidate keys best first, and the best confidence."""
    order = rank(case["x"].tolist(), case["titles"], config)
    return [case["keys"][slot] for _, slot in order], (order[0][0] if order else 0.0)


def mean_ndcg(pairs: list[tuple[dict, MatchConfig]]) -> float:
    return float(np.mean([ndcg_at(ranked(case, config)[0], case["demand"]["judgments"])
                          for case, config in pairs if answerable(case["demand"]["judgments"])]))


def judge(pairs: list[tuple[dict, MatchConfig]], threshold: float) -> dict:
    """nDCG@10 per style over answerable demands and the unmet rates at ``threshold``, each
    demand ranked by the config paired with it."""
    per_style, unmet_ok, false_unmet = defaultdict(list), [], []
    for case, config in pairs:
        demand = case["demand"]
        keys, best = ranked(case, config)
        if answerable(demand["judgments"]):
            per_style[demand["style"]].append(ndcg_at(keys[:10], demand["judgments"]))
            false_unmet.append(best < threshold)
        else:
            unmet_ok.append(best < threshold)
    table = {style: float(np.mean(v)) for style, v in sorted(per_style.items())}
    table["all"] = float(np.mean([x for v in per_style.values() for x in v]))
    table["unmet_ok"] = float(np.mean(unmet_ok)) if unmet_ok else 0.0
    table["false_unmet"] = float(np.mean(false_unmet)) if false_unmet else 0.0
    return table


def cross_validate(cases: list[dict], l2: float) -> list[tuple[dict, MatchConfig]]:
    """Leave one portal out: every case paired with the config fitted on the other portals."""
    pairs = []
    for portal in sorted({c["demand"]["source"] for c in cases}):
        config = fit([c for c in cases if c["demand"]["source"] != portal], l2)
        pairs.extend((c, config) for c in cases if c["demand"]["source"] == portal)
    return pairs


def show(label: str, table: dict) -> None:
    cells = "  ".join(f"{k} {v:.3f}" for k, v in table.items())
    print(f"{label:<22}{cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--devset", type=Path, default=DEVSET)
    parser.add_argument("--l2", type=float, default=10.0)
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args()
    cases = collect(args.data, args.devset)
    held_out = cross_validate(cases, args.l2)
    show("leave-one-portal-out", judge(held_out, args.threshold))
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        table = judge(held_out, threshold)
        print(f"  threshold {threshold:.1f}: unmet recognised {table['unmet_ok']:.3f}  "
              f"answerable wrongly unmet {table['false_unmet']:.3f}")
    config = fit(cases, args.l2)
    show("fitted on all (in-sample)", judge([(c, config) for c in cases], args.threshold))
    print("ranker_bias:", round(config.ranker_bias, 3))
    print("ranker_weights:", tuple(round(b, 3) for b in config.ranker_weights))
    print("feedback_entries:", config.feedback_entries, " feedback_weight:",
          config.feedback_weight)
    print("features:", FEATURES)


if __name__ == "__main__":
    main()
