"""The bureau's synonym table: list, add, change (with ``lock_version``), remove, import and
export; and the table as the matcher takes it, with a mark that moves whenever it changes."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

import matching
from catalog.actors import Actor, Role
from catalog.db import savepoint
from catalog.errors import Conflict, ImportFailed, NotFound, ValidationError
from catalog.models import DataElement
from catalog.services import Page, paginate
from catalog.templates import Column, Problem, Sheet, Template

from ..demands.models import Demand
from .models import SEPARATOR, Synonym, SynonymKind

MAX_TERMS = 20  # terms in one group
MAX_TERM_CHARS = 50
MAX_NOTE_CHARS = 500
MAX_IMPORT_ROWS = 20_000
MEANINGFUL = re.compile(r"\w")  # a letter, a digit or a CJK character: punctuation alone is no term
# The matcher's kind for each kind of group (a learned pair is a plain synonym).
ENGINE_KIND = {SynonymKind.SYNONYM: "synonym", SynonymKind.ABBREVIATION: "abbreviation",
               SynonymKind.RELATED: "related", SynonymKind.LEARNED: "synonym"}
SORTABLE = {"id": Synonym.id, "terms": Synonym.terms, "kind": Synonym.kind,
            "created_at": Synonym.created_at, "updated_at": Synonym.updated_at}

SYNONYMS = Template("synonyms", (
    Column("terms", "词条", True, ("terms", "同义词组", "词语", "同义词")),
    Column("kind", "类型", aliases=("kind", "类别")),
    Column("note", "备注", aliases=("note", "说明")),
))


# -- checking --------------------------------------------------------------------------------------


def clean_terms(raw) -> list[str]:
    """A group's terms from a list or a ``|``-separated text: trimmed, NFKC-folded, de-duplicated;
    at least two, each meaningful and of a sensible length (ValidationError naming ``terms``)."""
    parts = raw.split(SEPARATOR) if isinstance(raw, str) else list(raw or [])
    terms = list(dict.fromkeys(unicodedata.normalize("NFKC", str(p)).strip() for p in parts))
    terms = [t for t in terms if t]
    problems = [f"“{t[:20]}…”超过{MAX_TERM_CHARS}个字" for t in terms if len(t) > MAX_TERM_CHARS]
    problems += [f"“{t}”只有标点或符号" for t in terms if not MEANINGFUL.search(t)]
    problems += [f"“{t[:20]}”不能含有“{SEPARATOR}”" for t in terms if SEPARATOR in t and not isinstance(raw, str)]
    if len(terms) < 2:
        problems.append("一组同义词至少要有两个不同的词")
    if len(terms) > MAX_TERMS:
        problems.append(f"一组最多{MAX_TERMS}个词，现有{len(terms)}个")
    if problems:
        raise ValidationError("同义词组不符合要求", details={"terms": problems})
    return terms


def parse_kind(raw, default: SynonymKind = SynonymKind.SYNONYM) -> SynonymKind:
    if raw is None or str(raw).strip() == "":
        return default
    try:
        return SynonymKind.parse(str(raw).strip())
    except ValueError:
        allowed = "、".join(f"{k.value}（{k.label}）" for k in SynonymKind)
        raise ValidationError("类型不正确", details={"kind": [f"应为 {allowed}"]}) from None


def clean_note(raw) -> str | None:
    note = str(raw).strip() if raw is not None else ""
    if len(note) > MAX_NOTE_CHARS:
        raise ValidationError("备注过长", details={"note": [f"最多{MAX_NOTE_CHARS}个字"]})
    return note or None


def _require_bureau(actor: Actor, action: str) -> None:
    actor.require_role(Role.BUREAU, Role.ADMIN, action=action)


# -- reading ---------------------------------------------------------------------------------------


@dataclass
class SynonymFilter:
    kind: SynonymKind | None = None
    q: str | None = None  # text in a term or the note
    demand_id: int | None = None  # learned from this demand
    created_by: int | None = None


def filtered(filters: SynonymFilter):
    stmt = select(Synonym)
    if filters.kind is not None:
        stmt = stmt.where(Synonym.kind == filters.kind)
    if filters.q:
        text = unicodedata.normalize("NFKC", filters.q).strip()
        stmt = stmt.where(or_(Synonym.terms.contains(text), Synonym.note.contains(text)))
    if filters.demand_id is not None:
        stmt = stmt.where(Synonym.demand_id == filters.demand_id)
    if filters.created_by is not None:
        stmt = stmt.where(Synonym.created_by == filters.created_by)
    return stmt


def ordered(stmt, sort: str):
    name = sort.lstrip("-")
    if name not in SORTABLE:
        raise ValidationError("排序字段不正确", details={"sort": [f"可选：{'、'.join(SORTABLE)}（前加 - 为倒序）"]})
    column = SORTABLE[name]
    return stmt.order_by(column.desc() if sort.startswith("-") else column.asc(), Synonym.id)


def list_synonyms(session: Session, *, filters: SynonymFilter, sort: str = "-updated_at", page: int = 1,
                  page_size: int = 50) -> Page:
    return paginate(session, ordered(filtered(filters), sort), page=page, page_size=page_size)


def get_synonym(session: Session, synonym_id: int) -> Synonym:
    synonym = session.get(Synonym, synonym_id)
    if synonym is None:
        raise NotFound(f"同义词组 {synonym_id} 不存在")
    return synonym


def _taken(session: Session, joined: str, but: int | None = None) -> Synonym | None:
    stmt = select(Synonym).where(Synonym.terms == joined)
    if but is not None:
        stmt = stmt.where(Synonym.id != but)
    return session.scalars(stmt).first()


# -- writing ---------------------------------------------------------------------------------------


def create_synonym(session: Session, *, actor: Actor, terms, kind=None, note=None, now: dt.datetime,
                   demand_id: int | None = None) -> Synonym:
    """Add a group (the bureau); the first term is canonical."""
    _require_bureau(actor, "维护同义词库")
    return _add(session, actor=actor, terms=clean_terms(terms), kind=parse_kind(kind), note=clean_note(note),
                now=now, demand_id=demand_id)


def _add(session: Session, *, actor: Actor, terms: list[str], kind: SynonymKind, note, now, demand_id=None) -> Synonym:
    joined = SEPARATOR.join(terms)
    if len(joined) > 1000:
        raise ValidationError("同义词组过长", details={"terms": ["合计不超过1000个字"]})
    if (same := _taken(session, joined)) is not None:
        raise Conflict("同义词组已存在", details={"id": same.id}, code="duplicate")
    synonym = Synonym(terms=joined, kind=kind, note=note, demand_id=demand_id, created_by=actor.user_id,
                      updated_by=actor.user_id, created_at=now, updated_at=now)
    session.add(synonym)
    session.flush()
    return synonym


def update_synonym(session: Session, *, actor: Actor, synonym_id: int, lock_version: int, now: dt.datetime,
                   **changes) -> Synonym:
    """Change terms, kind or note; ``lock_version`` must be the one read (409 otherwise)."""
    _require_bureau(actor, "维护同义词库")
    synonym = _current(session, synonym_id, lock_version)
    if "terms" in changes:
        joined = SEPARATOR.join(clean_terms(changes["terms"]))
        if (same := _taken(session, joined, but=synonym.id)) is not None:
            raise Conflict("同义词组已存在", details={"id": same.id}, code="duplicate")
        synonym.terms = joined
    if "kind" in changes:
        synonym.kind = parse_kind(changes["kind"])
    if "note" in changes:
        synonym.note = clean_note(changes["note"])
    synonym.updated_by, synonym.updated_at = actor.user_id, now
    session.flush()
    return synonym


def delete_synonym(session: Session, *, actor: Actor, synonym_id: int, lock_version: int | None = None) -> None:
    _require_bureau(actor, "维护同义词库")
    session.delete(_current(session, synonym_id, lock_version))
    session.flush()


def delete_by_terms(session: Session, *, actor: Actor, terms) -> Synonym:
    """Remove the group with exactly these terms (the command line names groups by their terms)."""
    _require_bureau(actor, "维护同义词库")
    synonym = _taken(session, SEPARATOR.join(clean_terms(terms)))
    if synonym is None:
        raise NotFound("没有这组同义词")
    session.delete(synonym)
    session.flush()
    return synonym


def _current(session: Session, synonym_id: int, lock_version: int | None) -> Synonym:
    synonym = get_synonym(session, synonym_id)
    if lock_version is not None and lock_version != synonym.lock_version:
        raise Conflict("同义词组已被他人修改，请刷新后重试", details={"lock_version": synonym.lock_version},
                       code="stale_version")
    return synonym


# -- import and export -----------------------------------------------------------------------------


@dataclass
class SynonymImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def import_synonyms(session: Session, *, actor: Actor, sheet: Sheet, now: dt.datetime,
                    dry_run: bool = False) -> SynonymImportResult:
    """All or nothing: every bad row named by row and column, nothing written; a row whose terms
    are already a group updates that group's kind and note."""
    _require_bureau(actor, "导入同义词库")
    rows, problems = _parse(sheet)
    if problems:
        raise ImportFailed(f"文件有{len(problems)}处问题，未导入任何同义词", problems=problems)
    result = SynonymImportResult(rows=len(rows), dry_run=dry_run)
    existing = {s.terms: s for s in session.scalars(select(Synonym).where(
        Synonym.terms.in_([SEPARATOR.join(t) for _, t, _, _ in rows])))}
    with savepoint(session, keep=not dry_run):
        for _, terms, kind, note in rows:
            _import_row(session, actor, existing.get(SEPARATOR.join(terms)), terms, kind, note, now, result)
    return result


def _import_row(session, actor, synonym, terms, kind, note, now, result) -> None:
    if synonym is None:
        _add(session, actor=actor, terms=terms, kind=kind, note=note, now=now)
        result.created += 1
    elif (synonym.kind, synonym.note) == (kind, note):
        result.unchanged += 1
    else:
        synonym.kind, synonym.note, synonym.updated_by, synonym.updated_at = kind, note, actor.user_id, now
        result.updated += 1


def _parse(sheet: Sheet) -> tuple[list[tuple], list[Problem]]:
    rows, problems, seen = [], [], {}
    if len(sheet) > MAX_IMPORT_ROWS:
        return [], [Problem(f"一次最多导入{MAX_IMPORT_ROWS}行，文件有{len(sheet)}行")]
    for number, record in sheet.records():
        if not any(str(v).strip() for v in record.values()):
            continue
        try:
            terms = clean_terms(str(record.get("terms") or ""))
            row = (number, terms, parse_kind(record.get("kind")), clean_note(record.get("note")))
        except ValidationError as exc:
            problems += [Problem(m, number, SYNONYMS.header_of(f), str(record.get(f) or "") or None)
                         for f, messages in exc.details.items() for m in messages]
            continue
        joined = SEPARATOR.join(terms)
        if joined in seen:
            problems.append(Problem(f"与第{seen[joined]}行重复", number, SYNONYMS.header_of("terms"), joined))
        seen.setdefault(joined, number)
        rows.append(row)
    return rows, problems


def synonyms_frame(session: Session, *, filters: SynonymFilter, sort: str = "terms") -> pd.DataFrame:
    """The table as the import template reads it (词条, 类型, 备注), with where each came from."""
    stmt = ordered(filtered(filters), sort).outerjoin(Demand, Demand.id == Synonym.demand_id).add_columns(Demand.ref)
    rows = [{"terms": s.terms, "kind": s.kind.label, "note": s.note or "", "demand": ref or "",
             "created_at": s.created_at.isoformat(timespec="seconds")} for s, ref in session.execute(stmt)]
    return pd.DataFrame(rows, columns=["terms", "kind", "note", "demand", "created_at"])


EXPORT = Template("synonyms", (*SYNONYMS.columns, Column("demand", "来源需求"), Column("created_at", "添加时间")))


# -- the matcher's view ----------------------------------------------------------------------------


def engine_synonyms(session: Session) -> matching.Synonyms:
    """The built-in table merged with the database's groups."""
    groups = [(ENGINE_KIND[kind], terms.split(SEPARATOR))
              for terms, kind in session.execute(select(Synonym.terms, Synonym.kind)) if kind in ENGINE_KIND]
    return matching.Synonyms.default().merged(matching.Synonyms(groups))


def vocabulary_mark(session: Session) -> tuple:
    """Moves whenever a synonym group or a data element is added, changed or removed (each
    change of a group also bumps its ``lock_version``, so edits within one instant count too)."""
    groups = select(func.count(), func.max(Synonym.id), func.coalesce(func.sum(Synonym.lock_version), 0))
    elements = select(func.count(), func.max(DataElement.updated_at), func.max(DataElement.id))
    return (*session.execute(groups).one(), *session.execute(elements).one())
