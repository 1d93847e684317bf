"""Controlled vocabularies of the national catalog, and the normalisation of their real-world spellings.

Each enumeration stores a short English value in the database and carries its Chinese label
(what the national template and the pages show).  ``parse`` accepts the label, the value, and the
variants real catalogs publish (``每年``/``年度``/``按年更新`` → yearly; ``不定期更新``/``其他`` →
irregular; ``实时``/``即时``/``分钟级`` → real-time …) and raises ``ValueError`` naming the bad
spelling otherwise.
"""

from __future__ import annotations

import enum
import functools
import re
import unicodedata

# Trailing notes some portals append: "每月(更新说明:暂无新业务数据产生)".
_NOTE = re.compile(r"[（(].*?[)）]\s*$")
_QUOTES = "'\"‘’“”「」『』"
SPELLINGS_KEPT = 1000  # parsed spellings remembered per vocabulary (imports repeat a few)


@functools.cache
def _to_simplified():
    import opencc

    return opencc.OpenCC("t2s")


def clean_label(raw: str) -> str:
    """Fold width and traditional characters, drop quotes, spaces and trailing parenthesised notes."""
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if not text.isascii():
        text = _to_simplified().convert(text)
    text = _NOTE.sub("", text)
    return "".join(ch for ch in text if ch not in _QUOTES and not ch.isspace())


class Vocabulary(enum.StrEnum):
    """A StrEnum whose members carry a Chinese label and accepted aliases."""

    label: str

    def __new__(cls, value: str, label: str, *aliases: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        member._aliases = aliases
        return member

    @classmethod
    def _lookup(cls) -> dict[str, "Vocabulary"]:
        table = cls.__dict__.get("_lookup_table")
        if table is None:
            table = {}
            for member in cls:
                for key in (member.value, member.label, *member._aliases):
                    table[clean_label(key).lower()] = member
            cls._lookup_table = table
        return table

    @classmethod
    def parse(cls, raw: object) -> "Vocabulary":
        if isinstance(raw, cls):
            return raw
        seen = cls.__dict__.get("_seen")
        if seen is None:
            seen = cls._seen = {}
        member = seen.get(raw)
        if member is None:
            member = cls._lookup().get(clean_label(str(raw)).lower())
            if member is None:
                allowed = "、".join(m.label for m in cls)
                raise ValueError(f"“{raw}”不是有效的取值，应为：{allowed}")
            if len(seen) < SPELLINGS_KEPT:
                seen[raw] = member
        return member

    @classmethod
    def labels(cls) -> list[str]:
        return [member.label for member in cls]


class UpdateCycle(Vocabulary):
    REALTIME = "realtime", "实时", "实时更新", "即时", "小时级", "分钟级", "每小时", "real-time"
    DAILY = "daily", "每日", "每天", "日", "按日", "日更新", "按日更新", "每日更新"
    WEEKLY = "weekly", "每周", "周", "按周", "每周更新"
    MONTHLY = "monthly", "每月", "月", "月度", "按月", "按月更新", "每月更新", "每半月"
    QUARTERLY = "quarterly", "每季度", "季度", "季", "按季", "按季度", "每季", "按季度更新"
    SEMIANNUAL = "semiannual", "每半年", "半年", "半年度", "按半年"
    YEARLY = "yearly", "每年", "年", "年度", "按年", "按年更新", "每年更新", "annual"
    BIENNIAL = "biennial", "每两年", "两年", "每二年"
    IRREGULAR = "irregular", "不定期", "不定期更新", "不定时", "其他", "其它", "按需", "按需更新"
    STATIC = "static", "不更新", "静态数据", "静态", "一次性", "历史数据"

    @property
    def expected_days(self) -> int | None:
        """Days between expected updates; None where no schedule is promised."""
        return _CYCLE_DAYS.get(self)


_CYCLE_DAYS = {
    UpdateCycle.REALTIME: 1,
    UpdateCycle.DAILY: 1,
    UpdateCycle.WEEKLY: 7,
    UpdateCycle.MONTHLY: 31,
    UpdateCycle.QUARTERLY: 92,
    UpdateCycle.SEMIANNUAL: 183,
    UpdateCycle.YEARLY: 366,
    UpdateCycle.BIENNIAL: 731,
}


class SharingType(Vocabulary):
    UNCONDITIONAL = "unconditional", "无条件共享", "无条件"
    CONDITIONAL = "conditional", "有条件共享", "有条件"
    NOT_SHARED = "not_shared", "不予共享", "不共享", "not shared"


class SharingMethod(Vocabulary):
    TABLE = "table", "库表", "数据库", "库表交换", "数据库表"
    FILE = "file", "文件", "文件下载", "电子文件"
    API = "api", "接口", "服务接口", "接口服务", "api接口"


class OpenAttribute(Vocabulary):
    OPEN = "open", "无条件开放", "开放"
    CONDITIONAL = "conditional", "有条件开放"
    CLOSED = "closed", "不予开放", "不开放"


class ResourceFormat(Vocabulary):
    DOCUMENT = "document", "电子文件", "文件", "文档"
    SPREADSHEET = "spreadsheet", "电子表格", "表格"
    DATABASE = "database", "数据库", "库表"
    IMAGE = "image", "图形图像", "图像", "图片"
    MEDIA = "media", "流媒体", "音视频"
    SELF_DESCRIBING = "self_describing", "自描述格式", "自描述"
    API = "api", "接口", "服务接口"


class Category(Vocabulary):
    BASIC = "basic", "基础信息资源", "基础", "基础信息资源类"
    THEMATIC = "thematic", "主题信息资源", "主题", "主题信息资源类"
    DEPARTMENTAL = "departmental", "部门信息资源", "部门", "部门信息资源类"


class EntryStatus(Vocabulary):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "待审核", "已提交"
    PUBLISHED = "published", "已发布"
    CHANGED = "changed", "变更中"
    WITHDRAWN = "withdrawn", "已撤销"


class DepartmentLevel(Vocabulary):
    NATIONAL = "national", "国家", "国家级", "中央"
    PROVINCIAL = "provincial", "省", "省级"
    MUNICIPAL = "municipal", "市", "市级", "地市级"
    COUNTY = "county", "县", "县级", "区县", "区县级"
    TOWNSHIP = "township", "乡", "乡级", "乡镇", "街道"


class DataType(Vocabulary):
    """Item data types of the cataloguing guide (字符型 C, 数值型 N …)."""

    CHARACTER = "character", "字符型", "C", "字符", "字符串", "string", "varchar", "char", "文本"
    NUMERIC = "numeric", "数值型", "N", "数值", "数字型", "数字", "number", "decimal", "numeric"
    CURRENCY = "currency", "货币型", "Y", "货币"
    DATE = "date", "日期型", "D", "日期"
    DATETIME = "datetime", "日期时间型", "T", "日期时间", "时间", "timestamp", "时间型"
    LOGICAL = "logical", "逻辑型", "L", "布尔型", "布尔", "boolean", "bool"
    MEMO = "memo", "备注型", "M", "text", "clob", "长文本"
    BINARY = "binary", "二进制", "G", "通用型", "blob", "图片型"
    DOUBLE = "double", "双精度型", "B", "双精度", "double"
    INTEGER = "integer", "整型", "I", "整数", "整数型", "int", "bigint"
    FLOAT = "float", "浮点型", "F", "浮点", "float", "real"


class MountKind(Vocabulary):
    TABLE = "table", "库表", "数据库表"
    FILE = "file", "文件"
    API = "api", "接口"


class Health(Vocabulary):
    UNKNOWN = "unknown", "未检测"
    OK = "ok", "正常"
    UNREACHABLE = "unreachable", "不可达"
    CHANGED = "changed", "已变化"
