"""Reading the real resources behind entries: database tables (read-only), stored files, API URLs.

Used when a resource is mounted (to check it and read its shape) and later by probes and delivery.
Every failure becomes a ``MountFailed`` that says what could not be reached and why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
from sqlalchemy import Engine, MetaData, Table, create_engine, func, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, NoSuchTableError, SQLAlchemyError

from .db import normalise_url
from .errors import MountFailed, ValidationError

FILE_SUFFIXES = {".csv": "csv", ".xlsx": "xlsx", ".xls": "xlsx"}
CHUNK = 1 << 20


@dataclass
class ResourceShape:
    columns: list[dict] = field(default_factory=list)
    row_count: int | None = None
    data_changed_at: dt.datetime | None = None


def parse_table_url(raw: str) -> URL:
    try:
        return make_url(normalise_url(raw.strip()))
    except (ArgumentError, ValueError) as exc:
        raise ValidationError("数据库地址格式错误", details={"url": [str(exc)]}) from None


def masked(url: str | None) -> str | None:
    """A URL fit to show: the password replaced by ***."""
    if not url:
        return url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url


def read_only_engine(url: URL, *, timeout: int) -> Engine:
    """An engine that cannot write and gives up quickly on a dead host."""
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        if not path or path == ":memory:" or not Path(path).is_file():
            raise MountFailed(f"数据库文件“{path}”不存在")
        return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    args: dict = {}
    if url.get_backend_name() == "postgresql":
        args = {"connect_timeout": timeout, "options": f"-c default_transaction_read_only=on -c statement_timeout={timeout * 1000}"}
    try:
        return create_engine(url, connect_args=args, pool_pre_ping=True)
    except NoSuchModuleError:
        raise MountFailed(f"不支持的数据库类型“{url.drivername}”") from None
    except ImportError as exc:
        raise MountFailed(f"缺少数据库驱动：{exc}") from None


def inspect_table(raw_url: str, table: str, *, change_column: str | None, timeout: int) -> ResourceShape:
    """Connect read-only, read the table's columns, count its rows and find its last change."""
    url = parse_table_url(raw_url)
    engine = read_only_engine(url, timeout=timeout)
    schema, _, name = table.rpartition(".")
    try:
        with engine.connect() as connection:
            reflected = Table(name, MetaData(), schema=schema or None, autoload_with=connection)
            return _table_shape(connection, reflected, change_column)
    except NoSuchTableError:
        raise MountFailed(f"数据库中没有表“{table}”") from None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise MountFailed(f"无法连接数据库 {masked(str(url))}：{reason}") from None
    finally:
        engine.dispose()


def _table_shape(connection, table: Table, change_column: str | None) -> ResourceShape:
    columns = [{"name": c.name, "type": str(c.type)} for c in table.columns]
    shape = ResourceShape(columns=columns)
    shape.row_count = connection.scalar(select(func.count()).select_from(table))
    if change_column:
        if change_column not in table.columns:
            raise MountFailed(f"表“{table.name}”没有字段“{change_column}”")
        latest = connection.scalar(select(func.max(table.columns[change_column])))
        shape.data_changed_at = as_utc(latest)
    return shape


def as_utc(value) -> dt.datetime | None:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return None


def check_api_url(raw: str) -> str:
    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError("接口地址须为 http:// 或 https:// 开头的完整地址", details={"url": [url]})
    return url


# -- stored files ---------------------------------------------------------------------------------


@dataclass
class StoredFile:
    key: str
    checksum: str
    size_bytes: int
    shape: ResourceShape


def file_kind(filename: str) -> str:
    kind = FILE_SUFFIXES.get(Path(filename).suffix.lower())
    if kind is None:
        raise ValidationError("只能挂接 CSV 或 XLSX 文件", details={"file": [filename]})
    return kind


def store_file(stream, *, filename: str, storage: Path, max_bytes: int) -> StoredFile:
    """Copy an upload into the store under its SHA-256, after checking it reads as a table."""
    kind = file_kind(filename)
    storage.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=storage, delete=False) as tmp:
        checksum, size = _copy_hashing(stream, tmp, max_bytes)
    tmp_path = Path(tmp.name)
    try:
        shape = read_file_shape(tmp_path, kind)
        key = f"{checksum[:2]}/{checksum}.{kind}"
        target = storage / key
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)
    return StoredFile(key=key, checksum=checksum, size_bytes=size, shape=shape)


def _copy_hashing(stream, out, max_bytes: int) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise ValidationError(
                "文件过大", details={"file": [f"超过上限 {max_bytes // (1 << 20)} MiB"]}
            )
        sha.update(chunk)
        out.write(chunk)
    if size == 0:
        raise ValidationError("文件为空", details={"file": ["空文件"]})
    return sha.hexdigest(), size


def read_file_shape(path: Path, kind: str) -> ResourceShape:
    try:
        frame = read_table_file(path, kind)
    except Exception as exc:  # noqa: BLE001 - any parser failure means the file is not a table
        raise MountFailed(f"文件无法读取为表格：{exc}") from None
    columns = [{"name": str(c), "type": "text"} for c in frame.columns]
    return ResourceShape(columns=columns, row_count=len(frame))


def read_table_file(path: Path | io.BytesIO, kind: str) -> pd.DataFrame:
    if kind == "csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return pd.read_excel(path, dtype=str, engine="calamine")


def file_checksum(path: Path, *, deadline: float | None = None) -> str:
    """SHA-256 of a file; past ``deadline`` (a ``time.monotonic()`` value) raises TimeoutError."""
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            sha.update(chunk)
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"校验文件“{path.name}”超时")
    return sha.hexdigest()
