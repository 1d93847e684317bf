"""What every catalog service shares: pages, visibility of entries, unique-value conflicts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import Conflict, ValidationError
from ..vocab import EntryStatus

VISIBLE_TO_ALL = (EntryStatus.PUBLISHED, EntryStatus.CHANGED)
DEFAULT_CODE_FRONT = "000000"
MAX_PAGE_SIZE = 200


@dataclass
class Page:
    items: list
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def paginate(session: Session, stmt: Select, *, page: int, page_size: int) -> Page:
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(
            "分页参数错误", details={"page_size": [f"每页条数应在1到{MAX_PAGE_SIZE}之间，页码从1开始"]}
        )
    model = stmt.column_descriptions[0]["entity"]
    window = stmt.with_only_columns(model.id, func.count().over())
    found = session.execute(window.limit(page_size).offset((page - 1) * page_size)).all()
    if found:
        total = found[0][1]
    else:  # past the last page: count without fetching
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    ids = [row[0] for row in found]
    loaded = {obj.id: obj for obj in session.scalars(select(model).where(model.id.in_(ids))).unique()}
    return Page(items=[loaded[i] for i in ids], total=total or 0, page=page, page_size=page_size)


def ordering(sort: str, columns: dict, tiebreak) -> list:
    """``"-deadline,name"`` → ORDER BY terms over the allowed ``columns``, then ``tiebreak``
    descending; an unknown key is a validation error naming the choices."""
    keys = []
    for key in (sort or "").split(","):
        key = key.strip()
        column = columns.get(key.lstrip("-"))
        if column is None:
            raise ValidationError(f"不能按“{key}”排序", details={"sort": [f"可选：{', '.join(columns)}"]})
        keys.append(column.desc() if key.startswith("-") else column.asc())
    return keys + [tiebreak.desc()]


def flush_unique(session: Session, message: str) -> None:
    """Flush inside a savepoint so a taken unique value fails alone, as a Conflict."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(message) from exc
