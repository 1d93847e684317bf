"""A realistic demo jurisdiction: 台州市's departments and catalog (real names, items and cycles),
the GB/T 39046 data elements, users of every role, and a mix of mounted, unmounted and long
unupdated entries with real resources behind the mounted ones (tables in a demo database, CSV
files, API addresses).  See ``data/README.md`` for where the data comes from.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from catalog import elements as element_io
from catalog import importing, mounts, services
from catalog.actors import SYSTEM
from catalog.templates import CATALOG, DEPARTMENTS, ELEMENTS, read_sheet
from catalog.vocab import UpdateCycle

from ..accounts.services import create_token, create_user
from ..deadlines import Deadlines
from ..demands.importing import DEMANDS, import_demands
from ..demands.matching import MatchEngine, match_demands
from ..workdays import WorkCalendar

DATA = Path(__file__).parent / "data"
MAX_BYTES = 50 << 20
SOURCE_DB = "demo-sources.sqlite"
SAMPLE_ROWS = 40
CHANGE_COLUMN = "etl_updated_at"  # when the exchange last loaded the row


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    department: str | None
    display_name: str

    @property
    def password(self) -> str:
        return f"{self.username}-demo"


USERS = (
    DemoUser("admin", "admin", None, "平台管理员"),
    DemoUser("bureau", "bureau", "台州市大数据发展管理局", "大数据局 审核员"),
    DemoUser("tongji", "provider", "【台州市】台州市统计局", "市统计局 数据管理员"),
    DemoUser("jiaotong", "provider", "【台州市】台州市交通运输局", "市交通运输局 数据管理员"),
    DemoUser("zhujian", "requester", "台州市住房和城乡建设局", "市住建局 业务人员"),
    DemoUser("yibao", "requester", "台州市医疗保障局（需求方）", "市医保局 业务人员"),
)


def _roll(*parts: object) -> int:
    return int(hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:8], 16) % 100


def load_demo(session: Session, *, storage: Path, now: dt.datetime) -> list[tuple[DemoUser, str]]:
    """Load everything; return each demo user with a fresh API token."""
    _import(session, DEPARTMENTS, "departments.csv", element_io.import_departments)
    _import(session, ELEMENTS, "data_elements.csv", element_io.import_elements)
    sheet = read_sheet(DATA / "catalog.csv", filename="catalog.csv", template=CATALOG, max_bytes=MAX_BYTES)
    sheet.frame["last_updated"] = [_last_updated(r["name"], r["update_cycle"], now) for _, r in sheet.records()]
    importing.import_catalog(session, actor=SYSTEM, sheet=sheet, now=now)
    credentials = [_user(session, user, now) for user in USERS]
    _mount_some(session, storage=storage, now=now)
    _file_demands(session, now=now)
    return credentials


def _file_demands(session: Session, *, now: dt.datetime) -> None:
    """A 需求征集 campaign of five demands, submitted and matched (one asks for data nobody has)."""
    sheet = read_sheet(DATA / "demands.csv", filename="demands.csv", template=DEMANDS, max_bytes=MAX_BYTES)
    result = import_demands(session, actor=SYSTEM, sheet=sheet, now=now, deadlines=Deadlines(WorkCalendar()))
    match_demands(session, engine=MatchEngine(), now=now, refs=result.refs)


def _import(session: Session, template, name: str, importer) -> None:
    sheet = read_sheet(DATA / name, filename=name, template=template, max_bytes=MAX_BYTES)
    importer(session, actor=SYSTEM, sheet=sheet)


def _last_updated(name: str, cycle: str, now: dt.datetime) -> str:
    """About a third of the entries are long past their update cycle, as in real catalogs."""
    days = UpdateCycle.parse(cycle).expected_days or 365
    late = _roll(name, "late") < 35
    age = days * (2 + _roll(name) % 3) if late else _roll(name) % max(days, 1)
    return (now.date() - dt.timedelta(days=age)).isoformat()


def _user(session: Session, user: DemoUser, now: dt.datetime) -> tuple[DemoUser, str]:
    account = create_user(session, actor=SYSTEM, username=user.username, password=user.password,
                          role=user.role, department=user.department, display_name=user.display_name)
    _, secret = create_token(session, user=account, name="demo", now=now)
    return user, secret


def _mount_some(session: Session, *, storage: Path, now: dt.datetime) -> None:
    """About 55% of entries get something mounted: a table, a file or an API, by a stable roll."""
    storage.mkdir(parents=True, exist_ok=True)
    source = storage / SOURCE_DB
    filters = services.EntryFilter(sort="resource_code")
    page = services.list_entries(session, actor=SYSTEM, filters=filters, page=1, page_size=200)
    entries = list(page.items)
    for number in range(2, page.pages + 1):
        entries += services.list_entries(session, actor=SYSTEM, filters=filters, page=number, page_size=200).items
    for entry in entries:
        r = _roll(entry.resource_code, "mount")
        if r >= 55:
            continue
        names = [item.name for item in entry.items] or ["名称"]
        if r < 25:
            table = _make_table(source, entry.resource_code, names, now)
            mounts.mount_table(session, actor=SYSTEM, entry_id=entry.id, url=f"sqlite:///{source.resolve()}",
                               table=table, change_column=CHANGE_COLUMN, now=now)
        elif r < 45:
            mounts.mount_file(session, actor=SYSTEM, entry_id=entry.id, stream=_csv(names),
                              filename=f"{entry.name[:40]}.csv", storage=storage, max_bytes=MAX_BYTES, now=now)
        else:
            url = f"https://data.taizhou.example/api/v1/{entry.resource_code.replace('/', '-')}"
            mounts.mount_api(session, actor=SYSTEM, entry_id=entry.id, url=url, now=now)


def _make_table(source: Path, code: str, names: list[str], now: dt.datetime) -> str:
    table = "t_" + code.replace("/", "_")
    columns = ", ".join(f'"{n}" TEXT' for n in names)
    age = dt.timedelta(days=_roll(code, "age") * 5)
    with sqlite3.connect(source) as connection:
        connection.execute(f'DROP TABLE IF EXISTS "{table}"')
        connection.execute(f'CREATE TABLE "{table}" ({columns}, "{CHANGE_COLUMN}" TEXT)')
        rows = [[f"{n}{i}" for n in names] + [(now - age - dt.timedelta(days=i)).isoformat()]
                for i in range(SAMPLE_ROWS)]
        marks = ", ".join("?" * (len(names) + 1))
        connection.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)
    return table


def _csv(names: list[str]) -> io.BytesIO:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(names)
    writer.writerows([[f"{n}{i}" for n in names] for i in range(SAMPLE_ROWS)])
    return io.BytesIO(buffer.getvalue().encode("utf-8"))
