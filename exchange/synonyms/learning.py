"""Synonyms learned from verdicts: when a provider confirms a match, each requested item the
explanation aligned only by fuzzy similarity to an entry item becomes a learned group (the
entry's term canonical), naming the demand it came from; the bureau may edit or remove it."""

from __future__ import annotations

import datetime as dt
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.actors import Actor
from catalog.errors import ValidationError

from ..demands.models import DemandMatch
from .models import SEPARATOR, Synonym, SynonymKind
from .services import _add, clean_terms

FUZZY = "fuzzy"


def learned_pairs(explanation: list[dict]) -> list[tuple[str, str]]:
    """(entry item, requested item) for each fuzzy alignment worth learning: two different
    terms, neither inside the other (a contained term would be rewritten inside every longer
    name the matcher reads)."""
    pairs = []
    for match in explanation or []:
        if match.get("kind") != FUZZY or not match.get("matched"):
            continue
        requested, matched = (_fold(match["requested"]), _fold(match["matched"]))
        if requested and matched and requested not in matched and matched not in requested:
            pairs.append((matched, requested))
    return list(dict.fromkeys(pairs))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip()


def learn_from_match(session: Session, *, match: DemandMatch, actor: Actor, now: dt.datetime) -> list[Synonym]:
    """Store the confirmed match's fuzzy pairs as learned synonyms (those not known already)."""
    learned = []
    for pair in learned_pairs(match.explanation):
        try:
            terms = clean_terms(list(pair))
        except ValidationError:
            continue  # e.g. only punctuation: nothing to learn
        if _known(session, terms):
            continue
        note = f"需求 {match.demand.ref} 确认目录“{match.entry.name}”时学习"
        learned.append(_add(session, actor=actor, terms=terms, kind=SynonymKind.LEARNED, note=note, now=now,
                            demand_id=match.demand_id))
    return learned


def _known(session: Session, terms: list[str]) -> bool:
    both = [SEPARATOR.join(terms), SEPARATOR.join(reversed(terms))]
    return session.scalar(select(Synonym.id).where(Synonym.terms.in_(both))) is not None
