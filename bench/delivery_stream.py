"""Stream a mounted table projected to 5 granted columns; print rows/s and peak memory.

    python bench/delivery_stream.py                        # SQLite file, then PostgreSQL
    python bench/delivery_stream.py --source sqlite --rows 200000 --formats csv,json,xlsx
    python bench/delivery_stream.py --source postgresql --database-url URL   # default: the scratch
                                                           # postgres database on 127.0.0.1

The source table (8 columns, the first the primary key) is generated inside the database by SQL,
so the process's memory holds no rows before the delivery starts; it is dropped at the end.  Each
source runs in a child process of its own, so its resident high-water mark (``ru_maxrss``) before
and after the delivery shows what streaming added.  Target: ≥ 100,000 rows/s, memory flat.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from catalog.db import make_engine  # noqa: E402
from exchange.delivery import DeliveryLimits, deliver, open_table  # noqa: E402

DEFAULT_POSTGRESQL = "postgresql://postgres@127.0.0.1:5432/postgres"
GRANTED = ["统一社会信用代码", "企业名称", "登记机关", "注册资本", "成立日期"]
COLUMNS = ["编号", *GRANTED[:2], "法定代表人", "住所", *GRANTED[2:]]

CREATE = """CREATE TABLE {t} ("编号" INTEGER PRIMARY KEY, "统一社会信用代码" TEXT, "企业名称" TEXT,
 "法定代表人" TEXT, "住所" TEXT, "登记机关" TEXT, "注册资本" NUMERIC(18, 2), "成立日期" DATE)"""
FILL_SQLITE = """WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)
INSERT INTO {t} SELECT i, printf('91331000%010d', i), '台州市第' || i || '号企业有限公司', '张' || (i % 97),
 '浙江省台州市椒江区市府大道' || (i % 1000) || '号', '台州市市场监督管理局', (i % 5000) * 10000.5,
 date('2000-01-01', '+' || (i % 9000) || ' days') FROM n"""
FILL_POSTGRESQL = """INSERT INTO {t} SELECT i, '91331000' || lpad(i::text, 10, '0'), '台州市第' || i || '号企业有限公司',
 '张' || (i % 97), '浙江省台州市椒江区市府大道' || (i % 1000) || '号', '台州市市场监督管理局',
 (i % 5000) * 10000.5, DATE '2000-01-01' + (i % 9000) FROM generate_series(1, :rows) AS i"""


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_table(url: str, rows: int) -> str:
    name = f"bench_delivery_{uuid.uuid4().hex[:8]}"
    engine = make_engine(url)
    fill = FILL_POSTGRESQL if engine.dialect.name == "postgresql" else FILL_SQLITE
    with engine.begin() as connection:
        connection.execute(text(CREATE.format(t=name)))
        connection.execute(text(fill.format(t=name)), {"rows": rows})
    engine.dispose()
    return name


def drop_table(url: str, name: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {name}"))
    engine.dispose()


def stream(url: str, name: str, rows: int, fmt: str) -> None:
    before = peak_rss_mib()
    limits = DeliveryLimits(max_rows=rows, connect_timeout=30)
    started = time.perf_counter()
    delivery = deliver(open_table(url, name, GRANTED, limits=limits), fmt)
    for _ in delivery.chunks:
        pass
    seconds = time.perf_counter() - started
    stats = delivery.stats
    print(f"  {fmt:<5} {stats.rows:>9,} rows  {stats.bytes / (1 << 20):8.1f} MiB  {seconds:6.2f} s  "
          f"{stats.rows / seconds:>9,.0f} rows/s  peak RSS {before:6.1f} → {peak_rss_mib():6.1f} MiB")


def run_one(url: str, rows: int, formats: list[str]) -> None:
    started = time.perf_counter()
    name = make_table(url, rows)
    print(f"{url.split(':')[0]}: {rows:,}-row table made in {time.perf_counter() - started:.1f} s; "
          f"5 of {len(COLUMNS)} columns granted")
    try:
        for fmt in formats:
            stream(url, name, rows, fmt)
    finally:
        drop_table(url, name)


def in_children(args) -> None:
    """Each source in a process of its own, so each high-water mark is its own."""
    for source in ("sqlite", "postgresql"):
        argv = [sys.executable, __file__, "--source", source, "--rows", str(args.rows),
                "--formats", args.formats, "--database-url", args.database_url]
        subprocess.run(argv, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv", help="comma-separated: csv,json,xlsx")
    parser.add_argument("--source", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--database-url", default=DEFAULT_POSTGRESQL, help="the PostgreSQL scratch database")
    args = parser.parse_args()
    if args.source == "both":
        in_children(args)
    elif args.source == "postgresql":
        run_one(args.database_url, args.rows, args.formats.split(","))
    else:
        with tempfile.TemporaryDirectory() as folder:
            run_one(f"sqlite:///{Path(folder) / 'source.db'}", args.rows, args.formats.split(","))


if __name__ == "__main__":
    main()
