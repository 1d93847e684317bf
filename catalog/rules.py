"""The national cataloguing rules, applied to every write and every imported row.

``parse_entry`` takes loosely typed fields (from the API or a template row: Chinese labels,
real-world variants, dates as text) and returns a normalised :class:`EntryData`, or raises
:class:`RuleViolations` listing every field that breaks a rule.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .codes import parse_resource_code, parse_uscc
from .vocab import (
    Category,
    DataType,
    OpenAttribute,
    ResourceFormat,
    SharingMethod,
    SharingType,
    UpdateCycle,
    Vocabulary,
)

MAX_NAME = 200
MAX_SUMMARY = 10_000
MAX_ITEMS = 2_000
MAX_TEXT = 2_000
ITEM_SEPARATOR = "|"
ITEM_FIELD_SEPARATOR = ":"
_LIST_SPLIT = re.compile(r"[|,，;；\s]+")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


class RuleViolations(Exception):
    def __init__(self, problems: list[FieldProblem]):
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems

    def by_field(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for problem in self.problems:
            out.setdefault(problem.field, []).append(problem.message)
        return out


@dataclass(frozen=True)
class ItemData:
    name: str
    data_type: DataType | None = None
    length: int | None = None
    element_id: int | None = None
    sharing_type: SharingType | None = None

    def content(self) -> dict:
        return {"name": self.name, "data_type": _value(self.data_type), "length": self.length,
                "element_id": self.element_id, "sharing_type": _value(self.sharing_type)}

    def as_template(self) -> str:
        if self.data_type is None and self.length is None:
            return self.name
        dtype = self.data_type.label if self.data_type else ""
        length = "" if self.length is None else str(self.length)
        return ITEM_FIELD_SEPARATOR.join((self.name, dtype, length)).rstrip(ITEM_FIELD_SEPARATOR)


@dataclass
class EntryData:
    """One entry's metadata, normalised and checked against the cataloguing rules."""

    name: str
    summary: str
    provider: str | None
    provider_code: str | None
    provider_id: int | None
    category: Category
    classification_code: str | None
    format: ResourceFormat
    format_detail: str | None
    sharing_type: SharingType
    sharing_condition: str | None
    not_shared_basis: str | None
    sharing_method: SharingMethod | None
    open_attribute: OpenAttribute
    update_cycle: UpdateCycle
    resource_code: str | None = None
    publish_date: dt.date | None = None
    last_updated: dt.date | None = None
    related_codes: list[str] = field(default_factory=list)
    items: list[ItemData] = field(default_factory=list)

    def content(self) -> dict:
        """The entry's content as plain JSON-ready data (no ownership or lifecycle fields)."""
        return {
            "name": self.name, "summary": self.summary, "category": _value(self.category),
            "classification_code": self.classification_code, "format": _value(self.format),
            "format_detail": self.format_detail, "sharing_type": _value(self.sharing_type),
            "sharing_condition": self.sharing_condition, "not_shared_basis": self.not_shared_basis,
            "sharing_method": _value(self.sharing_method), "open_attribute": _value(self.open_attribute),
            "update_cycle": _value(self.update_cycle),
            "publish_date": self.publish_date.isoformat() if self.publish_date else None,
            "last_updated": self.last_updated.isoformat() if self.last_updated else None,
            "related_codes": list(self.related_codes),
            "items": [item.content() for item in self.items],
        }

    def content_hash(self) -> str:
        return content_hash(self.content())

    def search_text(self) -> str:
        return search_text(self.name, self.summary, (item.name for item in self.items))


def _value(member) -> str | None:
    return None if member is None else member.value


def content_hash(content: dict) -> str:
    """A digest of an entry's content: equal digests mean nothing to re-import or re-publish."""
    encoded = json.dumps(content, ensure_ascii=False)  # content() builds keys in a fixed order
    return hashlib.sha256(encoded.encode()).hexdigest()


def search_text(name: str, summary: str, item_names) -> str:
    """What the catalog's text filter looks in: width-folded, lower case."""
    joined = " ".join((name, summary, " ".join(item_names)))
    return unicodedata.normalize("NFKC", joined).lower()


def fold_query(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


# -- cell parsers: each returns a value or raises ValueError with a user-facing message ----------


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from a spreadsheet
        return None
    text = str(value).strip()
    return text or None


def parse_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    return None if text is None else _parse_date_text(text)


@functools.lru_cache(maxsize=4096)
def _parse_date_text(text: str) -> dt.date:
    text = text.split(" ")[0].split("T")[0]
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"日期“{text}”无法识别，应为 YYYY-MM-DD")


@functools.lru_cache(maxsize=65536)
def parse_item(text: str) -> ItemData:
    """``名称`` or ``名称:数据类型`` or ``名称:数据类型:长度``.

    Real item names contain colons (``其中：女``, ``09:00—17:00``), so the text after a colon is
    read as a type only when it is one (or a type and a length); otherwise it is part of the name.
    """
    name, dtype, length = text.strip(), None, None
    parts = re.split(r"[:：]", name)
    if len(parts) >= 3 and parts[-1].strip().isdigit():
        name = text[: _cut(text, 2)].strip()
        dtype = DataType.parse(parts[-2]) if parts[-2].strip() else None
        length = int(parts[-1])
        if length <= 0:
            raise ValueError(f"信息项“{name}”的长度应为正整数")
    elif len(parts) >= 2 and _is_type(parts[-1]):
        name, dtype = text[: _cut(text, 1)].strip(), DataType.parse(parts[-1])
    if not name:
        raise ValueError(f"信息项“{text}”缺少名称")
    if len(name) > MAX_NAME:
        raise ValueError(f"信息项名称“{name[:20]}…”超过{MAX_NAME}字")
    return ItemData(name=name, data_type=dtype, length=length)


def _cut(text: str, separators: int) -> int:
    """Index of the n-th colon from the right."""
    positions = [i for i, ch in enumerate(text) if ch in ":："]
    return positions[-separators]


def _is_type(segment: str) -> bool:
    try:
        DataType.parse(segment)
    except ValueError:
        return False
    return bool(segment.strip())


def parse_items(value: object) -> list[ItemData]:
    if isinstance(value, list):
        return [_item_from_mapping(v) if isinstance(v, Mapping) else parse_item(str(v)) for v in value]
    text = _text(value)
    if text is None:
        return []
    pieces = [p for p in (s.strip() for s in text.split(ITEM_SEPARATOR)) if p]
    return [parse_item(p) for p in pieces]


def _item_from_mapping(raw: Mapping) -> ItemData:
    name = _text(raw.get("name"))
    if name is None:
        raise ValueError("信息项名称不能为空")
    if len(name) > MAX_NAME:
        raise ValueError(f"信息项名称“{name[:20]}…”超过{MAX_NAME}字")
    dtype = raw.get("data_type")
    sharing = raw.get("sharing_type")
    length = raw.get("length")
    if length is not None and (not isinstance(length, int) or length <= 0):
        raise ValueError(f"信息项“{name}”的长度应为正整数")
    return ItemData(
        name=name,
        data_type=DataType.parse(dtype) if dtype else None,
        length=length,
        element_id=raw.get("element_id"),
        sharing_type=SharingType.parse(sharing) if sharing else None,
    )


def parse_format(value: object) -> tuple[ResourceFormat, str | None]:
    """``数据库/MySQL`` → (database, "MySQL"); the detail after the slash is kept as written."""
    text = _text(value)
    if text is None:
        raise ValueError("必填")
    head, _, detail = text.replace("／", "/").partition("/")
    return ResourceFormat.parse(head), (detail.strip() or None)


def parse_category(value: object) -> tuple[Category, str | None]:
    """``部门信息资源`` or ``部门信息资源/3010203`` → (departmental, "3010203")."""
    text = _text(value)
    if text is None:
        return Category.DEPARTMENTAL, None
    head, _, code = text.replace("／", "/").partition("/")
    return Category.parse(head), (code.strip() or None)


def parse_codes(value: object) -> list[str]:
    if isinstance(value, list):
        raw = [str(v) for v in value]
    else:
        text = _text(value)
        raw = _LIST_SPLIT.split(text) if text else []
    return ["/".join(parse_resource_code(code)) for code in raw if code.strip()]


# -- the rules ------------------------------------------------------------------------------------


class _Collector:
    """Runs parsers field by field and keeps every problem instead of stopping at the first."""

    def __init__(self, fields: Mapping[str, object]):
        self.fields = fields
        self.problems: list[FieldProblem] = []

    def take(self, name: str, parser: Callable[[object], object], *, required: bool = False):
        value = self.fields.get(name)
        if required and _text(value) is None and not isinstance(value, list):
            self.problems.append(FieldProblem(name, "必填"))
            return None
        try:
            return parser(value)
        except ValueError as exc:
            self.problems.append(FieldProblem(name, str(exc)))
            return None

    def fail(self, name: str, message: str) -> None:
        self.problems.append(FieldProblem(name, message))


def _bounded(limit: int) -> Callable[[object], str | None]:
    def parse(value: object) -> str | None:
        text = _text(value)
        if text is not None and len(text) > limit:
            raise ValueError(f"长度{len(text)}超过上限{limit}")
        return text

    return parse


def _optional(vocab: type[Vocabulary]) -> Callable[[object], Vocabulary | None]:
    def parse(value: object):
        text = _text(value)
        return None if text is None else vocab.parse(text)

    return parse


def _code(value: object) -> str | None:
    text = _text(value)
    return None if text is None else "/".join(parse_resource_code(text))


def _uscc(value: object) -> str | None:
    text = _text(value)
    return None if text is None else parse_uscc(text)


def _provider_id(value: object) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not str(value).isdigit():
        raise ValueError("应为部门编号（整数）")
    return int(value)


def parse_entry(fields: Mapping[str, object]) -> EntryData:
    """Normalise one entry's fields and check every rule; raise RuleViolations listing them all."""
    c = _Collector(fields)
    has_provider = any(_text(fields.get(k)) for k in ("provider", "provider_code", "provider_id"))
    if not has_provider:
        c.fail("provider", "必填：信息资源提供方")
    category = c.take("category", parse_category) or (Category.DEPARTMENTAL, None)
    fmt = c.take("format", parse_format, required=True) or (None, None)
    values = dict(
        resource_code=c.take("resource_code", _code),
        name=c.take("name", _bounded(MAX_NAME), required=True),
        summary=c.take("summary", _bounded(MAX_SUMMARY), required=True),
        provider=c.take("provider", _bounded(MAX_NAME)),
        provider_code=c.take("provider_code", _uscc),
        provider_id=c.take("provider_id", _provider_id),
        category=category[0],
        classification_code=category[1],
        format=fmt[0],
        format_detail=fmt[1],
        sharing_type=c.take("sharing_type", SharingType.parse, required=True),
        sharing_condition=c.take("sharing_condition", _bounded(MAX_TEXT)),
        not_shared_basis=c.take("not_shared_basis", _bounded(MAX_TEXT)),
        sharing_method=c.take("sharing_method", _optional(SharingMethod)),
        open_attribute=c.take("open_attribute", _optional(OpenAttribute)),
        update_cycle=c.take("update_cycle", UpdateCycle.parse, required=True),
        publish_date=c.take("publish_date", parse_date),
        last_updated=c.take("last_updated", parse_date),
        related_codes=c.take("related_codes", parse_codes) or [],
        items=c.take("items", parse_items) or [],
    )
    _check_sharing(values, c)
    _check_items(values["items"], c)
    if c.problems:
        raise RuleViolations(c.problems)
    return EntryData(**values)


def _check_sharing(values: dict, c: _Collector) -> None:
    sharing = values["sharing_type"]
    if sharing is SharingType.CONDITIONAL and not values["sharing_condition"]:
        c.fail("sharing_condition", "有条件共享的资源必须填写共享条件")
    if sharing is SharingType.NOT_SHARED:
        if not values["not_shared_basis"]:
            c.fail("not_shared_basis", "不予共享的资源必须填写不予共享依据")
        if values["open_attribute"] not in (None, OpenAttribute.CLOSED):
            c.fail("open_attribute", "不予共享的资源开放属性必须为不予开放")
        values["open_attribute"] = OpenAttribute.CLOSED
    elif sharing is not None and values["sharing_method"] is None and "sharing_method" not in {
        p.field for p in c.problems
    }:
        c.fail("sharing_method", "必填：共享的资源须说明共享方式（库表/文件/接口）")
    if values["open_attribute"] is None:
        values["open_attribute"] = OpenAttribute.CLOSED


def _check_items(items: list[ItemData], c: _Collector) -> None:
    if len(items) > MAX_ITEMS:
        c.fail("items", f"信息项数量{len(items)}超过上限{MAX_ITEMS}")
    seen: set[str] = set()
    repeated = [item.name for item in items if item.name in seen or seen.add(item.name)]
    if repeated:
        c.fail("items", "信息项名称重复：" + "、".join(dict.fromkeys(repeated)))
