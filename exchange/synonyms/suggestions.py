"""Data-element suggestions for info items: the matcher's element ranking over a small index of
the elements alone (built once per vocabulary change), answered per item with the reason."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

import matching
from catalog.errors import ValidationError
from catalog.models import DataElement

MAX_NAMES = 300  # item names in one request
MAX_NAME_CHARS = 100
MAX_TITLE_CHARS = 200
REASONS = {"exact": "名称相同", "synonym": "同义名称", "abbreviation": "简称与全称", "related": "相近名称"}


def check(names: list[str], title: str) -> list[str]:
    """The names to look up, or a ValidationError naming the field."""
    names = [str(n).strip() for n in names]
    problems = {}
    if not names or not any(names):
        problems["name"] = ["请给出至少一个信息项名称"]
    elif len(names) > MAX_NAMES:
        problems["name"] = [f"一次最多{MAX_NAMES}个信息项，收到{len(names)}个"]
    elif too_long := [i for i, n in enumerate(names) if len(n) > MAX_NAME_CHARS]:
        problems["name"] = [f"第{i + 1}个名称超过{MAX_NAME_CHARS}个字" for i in too_long[:10]]
    if len(title or "") > MAX_TITLE_CHARS:
        problems["title"] = [f"不超过{MAX_TITLE_CHARS}个字"]
    if problems:
        raise ValidationError("推荐数据元的参数不符合要求", details=problems)
    return names


def suggest(session: Session, *, engine, names: list[str], title: str = "", top_k: int = 5) -> list[dict]:
    """For each name: the elements to bind it to, best first, each with score, kind and reason."""
    names = check(names, title)
    index = engine.suggester(session)
    found = [(name, _found(index, name, title, top_k)) for name in names]
    wanted = {s.identifier for _, suggestions in found for s in suggestions or ()}
    ids = dict(session.execute(select(DataElement.identifier, DataElement.id)
                               .where(DataElement.identifier.in_(wanted))).all()) if wanted else {}
    return [_answer(name, suggestions, ids) for name, suggestions in found]


def _found(index: matching.CatalogIndex, name: str, title: str, top_k: int):
    try:
        return index.suggest_elements(name, title, top_k)
    except matching.MatchingError:
        return None  # nothing meaningful in the name


def _answer(name: str, suggestions, ids: dict) -> dict:
    if suggestions is None:
        return {"name": name, "suggestions": [], "note": "名称中没有可识别的文字"}
    return {"name": name, "suggestions": [_shown(s, ids) for s in suggestions],
            "note": None if suggestions else "没有足够相近的数据元"}


def _shown(suggestion: matching.ElementSuggestion, ids: dict) -> dict:
    reason = REASONS.get(suggestion.kind) or f"名称相近（相似度 {suggestion.score:.2f}）"
    return {**suggestion.to_dict(), "element_id": ids.get(suggestion.identifier), "reason": reason}
