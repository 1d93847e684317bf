"""Time the web pages a provider and the admin use most; print the figures.

    python bench/web_pages.py                                        # SQLite file in a temp folder
    python bench/web_pages.py --database-url postgresql://postgres@127.0.0.1:5432/test_web
    python bench/web_pages.py --entries 20000 --requests 50

The database is emptied, the demo jurisdiction loaded (``exchange demo``'s data), the provider
``tongji``'s department given ``--entries`` more entries (the demo catalog's rows repeated under
new names, imported in bulk), and the freshness scan run.  Then, signed in through Flask's test
client (no network, so the figures are the app's own time), each page is requested ``--requests``
times and the median and 95th percentile printed, and the demo catalog is imported through the
import page (a background task polled to its end).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from catalog import importing  # noqa: E402
from catalog.actors import SYSTEM  # noqa: E402
from catalog.db import session_scope  # noqa: E402
from catalog.templates import CATALOG, read_sheet  # noqa: E402
from exchange import create_app, database  # noqa: E402
from exchange.demo import DATA, MAX_BYTES, load_demo  # noqa: E402
from exchange.freshness.scan import scan  # noqa: E402

TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
PROVIDER = "【台州市】台州市统计局"
PAGES = {
    "tongji": ["/home", "/provider/entries", "/provider/entries?sort=name&page=5",
               "/provider/entries?q=人口&mounted=no", "/provider/flags", "/provider/demands",
               "/provider/entries/{first}"],
    "admin": ["/admin/users", "/admin/users?sort=department", "/admin/departments", "/admin/departments?sort=-parent",
              "/admin/settings", "/bureau/elements?sort=-name", "/bureau/audit", "/bureau/audit?sort=action"],
}


def fresh(url: str) -> None:
    try:
        database.downgrade(url, "base")
    except Exception:  # noqa: BLE001 — an empty database has nothing to downgrade
        pass
    database.upgrade(url)


def load(app, storage: Path, extra: int, now: dt.datetime) -> None:
    sessions = app.extensions["exchange"].sessions
    with session_scope(sessions) as s:
        load_demo(s, storage=storage, now=now)
    if extra:
        sheet = read_sheet(DATA / "catalog.csv", filename="catalog.csv", template=CATALOG, max_bytes=MAX_BYTES)
        base = sheet.frame
        copies = base.sample(n=extra, replace=True, random_state=7).reset_index(drop=True)
        copies["name"] = [f"{name}（副本{i}）" for i, name in enumerate(copies["name"])]
        copies["provider"], copies["provider_code"], copies["resource_code"] = PROVIDER, None, None
        sheet.frame = copies
        with session_scope(sessions) as s:
            importing.import_catalog(s, actor=SYSTEM, sheet=sheet, now=now)
    scan(sessions, now=now)


def signed_in(app, username: str):
    client = app.test_client()
    token = TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": username, "password": f"{username}-demo",
                                           "csrf_token": token})
    assert response.status_code == 302, response.status_code
    return client


def time_pages(app, requests: int) -> None:
    print(f"{'page':<42} {'median ms':>10} {'p95 ms':>8}")
    for username, paths in PAGES.items():
        client = signed_in(app, username)
        listing = client.get("/provider/entries").get_data(as_text=True) if username == "tongji" else ""
        first = next(iter(re.findall(r'href="/provider/entries/(\d+)"', listing)), "")
        for path in (p.format(first=first) for p in paths):
            client.get(path)  # warm
            took = []
            for _ in range(requests):
                started = time.perf_counter()
                response = client.get(path)
                took.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            took.sort()
            p95 = took[min(len(took) - 1, int(len(took) * 0.95))]
            print(f"{username + ' ' + path:<42} {statistics.median(took):>10.1f} {p95:>8.1f}")


def time_import(app) -> None:
    client = signed_in(app, "tongji")
    token = TOKEN.search(client.get("/home").get_data(as_text=True)).group(1)
    text = (DATA / "catalog.csv").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines()[1:] if PROVIDER in line]
    payload = "\n".join([text.splitlines()[0], *rows]) + "\n"
    started = time.perf_counter()
    response = client.post("/provider/import", data={"csrf_token": token, "dry_run": "1",
                                                     "file": (io.BytesIO(payload.encode()), "catalog.csv")},
                           content_type="multipart/form-data")
    status = response.location + ".json"
    polls = 0
    while (state := client.get(status).get_json())["state"] == "running":
        polls += 1
        time.sleep(0.05)
    print(f"trial import of {len(rows)} rows through the page: {time.perf_counter() - started:.2f} s "
          f"({state['state']}, {polls} polls)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--entries", type=int, default=10_000, help="extra entries for the provider")
    parser.add_argument("--requests", type=int, default=30, help="requests per page")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="web-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    fresh(url)
    app = create_app({"database_url": url, "storage_dir": str(folder / "files"), "log_level": "WARNING"})
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    load(app, folder / "files", args.entries, now)
    took = time.perf_counter() - started
    print(f"loaded the demo and {args.entries} more entries in {took:.1f} s ({url.split(':')[0]})")
    time_pages(app, args.requests)
    time_import(app)


if __name__ == "__main__":
    main()
