"""The ``exchange`` command, run through click's CliRunner on a fresh SQLite file per test.

These tests set EXCHANGE_DATABASE_URL and EXCHANGE_STORAGE_DIR themselves and do not use the shared
database fixture: the CLI opens, migrates and commits to its own database like a real install.
"""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest
from click.testing import CliRunner

from catalog.codes import make_uscc
from catalog.templates import CATALOG
from cli import main
from exchange import create_app, database
from exchange.app import runtime
from tests.conftest import SHARED_DATA

SAMPLE = SHARED_DATA / "templates" / "catalog_sample.csv"
ELEMENTS = SHARED_DATA / "data_elements_real.csv"
SAMPLE_PROVIDER = "【台州市】公共资源中心"  # the provider of the sample's first row


def shared(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"shared data missing: {path}")
    return path


def run(*args, input: str | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def ok(*args) -> str:
    result = run(*args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def failed(result, status: int = 1) -> str:
    """The command stopped on purpose (no stray exception, no traceback); its stderr."""
    assert result.exit_code == status, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.stderr


def use_database(monkeypatch, folder: Path) -> SimpleNamespace:
    path = folder / "exchange.db"
    monkeypatch.setenv("EXCHANGE_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("EXCHANGE_STORAGE_DIR", str(folder / "files"))
    return SimpleNamespace(path=path, url=f"sqlite:///{path}", folder=folder)


@pytest.fixture
def fresh(tmp_path, monkeypatch) -> SimpleNamespace:
    """An empty database file, not yet migrated."""
    return use_database(monkeypatch, tmp_path)


@pytest.fixture
def db(fresh) -> SimpleNamespace:
    """A database migrated to head."""
    ok("db", "upgrade")
    return fresh


def count(db, sql: str) -> int:
    with sqlite3.connect(db.path) as connection:
        value = connection.execute(sql).fetchone()[0]
    connection.close()
    return value


def entries(db) -> int:
    return count(db, "SELECT count(*) FROM catalog_entries")


def departments(db) -> int:
    return count(db, "SELECT count(*) FROM departments")


def copy_sample(db) -> Path:
    """The sample copied where an error workbook may be written beside it."""
    return Path(shutil.copy(shared(SAMPLE), db.folder / "catalog_sample.csv"))


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


DEPARTMENT_ROWS = [
    ["部门名称", "统一社会信用代码", "层级", "行政区划代码", "上级部门"],
    ["台州市人民政府", make_uscc("331000", 1), "市", "331000", ""],
    ["台州市统计局", make_uscc("331000", 2), "市", "331000", "台州市人民政府"],
    ["椒江区统计局", make_uscc("331002", 3), "县", "331002", "台州市统计局"],
]


@pytest.fixture
def departments_csv(tmp_path) -> Path:
    return write_csv(tmp_path / "departments.csv", DEPARTMENT_ROWS)


# -- db -------------------------------------------------------------------------------------------


def test_db_upgrade_brings_the_schema_to_head(fresh):
    head = database.head_revision()
    assert head in ok("db", "upgrade")
    assert ok("db", "current").strip() == f"当前版本：{head}；最新版本：{head}"


def test_db_current_of_an_empty_database_says_uninitialised(fresh):
    assert "未初始化" in ok("db", "current")


def test_db_downgrade_to_base_removes_the_schema_and_upgrade_restores_it(db):
    assert "base" in ok("db", "downgrade", "base")
    assert "未初始化" in ok("db", "current")
    assert count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'catalog_entries'") == 0
    ok("db", "upgrade")
    assert database.head_revision() in ok("db", "current").split("；")[0]
    assert entries(db) == 0


# -- departments and elements ---------------------------------------------------------------------


def test_departments_import_creates_them_with_their_parents(db, departments_csv):
    assert "部门：3 行，新增 3，更新 0" in ok("departments", "import", departments_csv)
    parent = count(db, "SELECT p.name = '台州市统计局' FROM departments d JOIN departments p "
                       "ON p.id = d.parent_id WHERE d.name = '椒江区统计局'")
    assert parent == 1


def test_departments_reimport_updates_by_name(db, departments_csv):
    ok("departments", "import", departments_csv)
    assert "部门：3 行，新增 0，更新 3" in ok("departments", "import", departments_csv)
    assert departments(db) == 3


def test_departments_import_with_a_bad_credit_code_names_the_row_and_writes_nothing(db, tmp_path):
    rows = [list(r) for r in DEPARTMENT_ROWS]
    rows[2][1] = rows[2][1][:17] + ("0" if rows[2][1][17] != "0" else "1")
    stderr = failed(run("departments", "import", write_csv(tmp_path / "bad.csv", rows)))
    assert "第3行" in stderr and "统一社会信用代码" in stderr
    assert departments(db) == 0


def test_elements_import_of_the_gbt_39046_list_creates_242(db):
    assert "数据元：242 行，新增 242，更新 0" in ok("elements", "import", shared(ELEMENTS))
    assert count(db, "SELECT count(*) FROM data_elements") == 242


def test_elements_reimport_updates_242_and_creates_none(db):
    ok("elements", "import", shared(ELEMENTS))
    assert "数据元：242 行，新增 0，更新 242" in ok("elements", "import", ELEMENTS)
    assert count(db, "SELECT count(*) FROM data_elements") == 242


# -- catalog import -------------------------------------------------------------------------------


def test_catalog_import_of_the_sample_creates_40_published_entries(db):
    out = ok("catalog", "import", shared(SAMPLE), "--create-departments")
    assert "40 行，新增 40，更新 0，未变 0" in out
    assert count(db, "SELECT count(*) FROM catalog_entries WHERE status = 'published'") == 40
    assert departments(db) > 0


def test_catalog_reimport_of_the_sample_leaves_every_entry_unchanged(db):
    ok("catalog", "import", shared(SAMPLE), "--create-departments")
    assert "新增 0，更新 0，未变 40，新登记部门 0" in ok("catalog", "import", SAMPLE, "--create-departments")
    assert entries(db) == 40


def test_catalog_dry_run_writes_nothing(db):
    out = ok("catalog", "import", shared(SAMPLE), "--create-departments", "--dry-run")
    assert "检查通过（未写入）：40 行，新增 40" in out
    assert (entries(db), departments(db)) == (0, 0)
    assert "新增 40" in ok("catalog", "import", SAMPLE, "--create-departments")


def test_catalog_import_as_draft_keeps_entries_unpublished(db):
    ok("catalog", "import", shared(SAMPLE), "--create-departments", "--status", "draft")
    assert count(db, "SELECT count(*) FROM catalog_entries WHERE status = 'draft'") == 40
    assert count(db, "SELECT count(*) FROM entry_versions") == 0


def test_catalog_import_of_an_unknown_provider_names_row_column_and_provider(db):
    stderr = failed(run("catalog", "import", copy_sample(db)))
    errors = [line for line in stderr.splitlines() if line.startswith("错误：")]
    assert len(errors) == 1 and "未导入任何数据" in errors[0]
    assert f"第2行“信息资源提供方”列：部门“{SAMPLE_PROVIDER}”未登记" in stderr
    assert (entries(db), departments(db)) == (0, 0)


def test_catalog_import_of_an_unknown_provider_writes_an_error_workbook(db):
    sample = copy_sample(db)
    stderr = failed(run("catalog", "import", sample))
    workbook = sample.with_name("catalog_sample.errors.xlsx")
    assert str(workbook) in stderr
    book = openpyxl.load_workbook(workbook, read_only=True)
    listing = list(book["错误清单"].iter_rows(values_only=True))
    assert listing[0] == ("行号", "列", "单元格内容", "问题")
    assert (2, "信息资源提供方", SAMPLE_PROVIDER) in {row[:3] for row in listing[1:]}
    assert len(listing) == 41
    bad_rows = list(book["出错的行"].iter_rows(values_only=True))
    assert bad_rows[0][:3] == ("原行号", "信息资源代码", "信息资源名称")
    assert bad_rows[1][:3] == (2, "33100201/000001", "大数据平台单位信息")


def test_catalog_import_writes_the_error_workbook_where_asked(db, tmp_path):
    target = tmp_path / "reports" / "problems.xlsx"
    target.parent.mkdir()
    failed(run("catalog", "import", copy_sample(db), "--errors", target))
    assert openpyxl.load_workbook(target, read_only=True).sheetnames == ["错误清单", "出错的行"]


def test_catalog_import_with_a_bad_cell_names_it_and_writes_nothing(db, tmp_path):
    rows = list(csv.reader(io.StringIO(shared(SAMPLE).read_text(encoding="utf-8-sig"))))
    rows[4][CATALOG.headers.index("更新周期")] = "每世纪"
    stderr = failed(run("catalog", "import", write_csv(tmp_path / "bad.csv", rows), "--create-departments"))
    assert "第5行“更新周期”列" in stderr and "每世纪" in stderr
    assert (entries(db), departments(db)) == (0, 0)


def _workbook(path: Path, sheet: str) -> Path:
    book = openpyxl.Workbook()
    book.active.title = sheet
    book.active.append(CATALOG.headers)
    book.save(path)
    return path


MALFORMED = {
    "not a spreadsheet": ("catalog.xlsx", lambda p: p.write_bytes(b"this is not a zip archive"), []),
    "missing required header": ("catalog.csv", lambda p: p.write_text("信息资源名称\n人口年报\n", encoding="utf-8"), []),
    "wrong sheet": ("catalog.xlsx", lambda p: _workbook(p, "信息资源目录"), ["--sheet", "第二页"]),
    "unsupported type": ("catalog.pdf", lambda p: p.write_text("信息资源名称\n", encoding="utf-8"), []),
    "empty file": ("catalog.csv", lambda p: p.write_text("", encoding="utf-8"), []),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_catalog_import_of_a_malformed_file_fails_in_one_line(db, tmp_path, case):
    name, make, options = MALFORMED[case]
    path = tmp_path / name
    make(path)
    stderr = failed(run("catalog", "import", path, *options))
    lines = stderr.strip().splitlines()
    assert lines[0].startswith("错误：")
    assert len(lines) <= 2, stderr
    assert entries(db) == 0


def test_catalog_import_of_a_missing_file_is_a_usage_error(db, tmp_path):
    stderr = failed(run("catalog", "import", tmp_path / "nowhere.csv"), status=2)
    assert "nowhere.csv" in stderr


# -- catalog export round trip --------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_catalog_export_then_import_round_trips_unchanged(db, tmp_path, suffix):
    ok("catalog", "import", shared(SAMPLE), "--create-departments")
    target = tmp_path / f"out.{suffix}"
    assert "已导出 40 条目录" in ok("catalog", "export", target)
    assert "40 行，新增 0，更新 0，未变 40" in ok("catalog", "import", target)


def test_catalog_csv_export_has_the_template_headers(db, tmp_path):
    ok("catalog", "import", shared(SAMPLE), "--create-departments")
    ok("catalog", "export", tmp_path / "out.csv")
    header = next(csv.reader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8-sig"))))
    assert header == CATALOG.headers


def test_catalog_export_filters_by_status(db, tmp_path):
    ok("catalog", "import", shared(SAMPLE), "--create-departments", "--status", "draft")
    assert "已导出 0 条目录" in ok("catalog", "export", tmp_path / "out.csv", "--status", "published")
    assert "已导出 40 条目录" in ok("catalog", "export", tmp_path / "out.csv", "--status", "draft")


# -- users and tokens -----------------------------------------------------------------------------


@pytest.fixture
def with_departments(db, departments_csv):
    ok("departments", "import", departments_csv)
    return db


def test_users_create_binds_a_role_and_department(with_departments):
    out = ok("users", "create", "alice", "--role", "provider", "--department", "台州市统计局",
             "--password", "secret-123", "--name", "统计局 数据员")
    assert "已创建用户 alice（提供方）" in out
    assert count(with_departments, "SELECT count(*) FROM users u JOIN departments d ON d.id = u.department_id "
                                   "WHERE u.username = 'alice' AND u.role = 'provider' "
                                   "AND d.name = '台州市统计局'") == 1


def test_token_is_printed_once_and_opens_the_api(with_departments):
    ok("users", "create", "alice", "--role", "provider", "--department", "台州市统计局", "--password", "secret-123")
    out = ok("tokens", "create", "alice", "--name", "脚本")
    assert len(out.splitlines()) == 1
    token = out.strip()
    assert token.startswith("exk_")
    assert count(with_departments, f"SELECT count(*) FROM api_tokens WHERE digest = '{token}'") == 0
    app = create_app({"database_url": with_departments.url, "storage_dir": str(with_departments.folder / "files")})
    try:
        response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        me = response.get_json()
        assert (me["username"], me["role"], me["department"]["name"]) == ("alice", "provider", "台州市统计局")
        assert app.test_client().get("/api/v1/me", headers={"Authorization": "Bearer exk_x"}).status_code == 401
    finally:
        runtime(app).engine.dispose()


def test_each_token_is_new(with_departments):
    ok("users", "create", "admin1", "--role", "admin", "--password", "secret-123")
    assert ok("tokens", "create", "admin1") != ok("tokens", "create", "admin1")


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (["--role", "king", "--department", "台州市统计局"], 2, "--role"),
        (["--role", "provider", "--department", "台州市不存在局"], 1, "找不到部门“台州市不存在局”"),
        (["--role", "requester"], 1, "必须属于一个部门"),
        (["--role", "provider", "--department", "台州市统计局", "--password", "short"], 1, "密码至少8位"),
    ],
)
def test_users_create_with_bad_input_says_what_is_wrong(with_departments, args, status, says):
    if "--password" not in args:
        args = [*args, "--password", "secret-123"]
    stderr = failed(run("users", "create", "bob", *args), status=status)
    assert says in stderr
    assert count(with_departments, "SELECT count(*) FROM users") == 0


def test_users_create_refuses_a_taken_username(with_departments):
    ok("users", "create", "alice", "--role", "bureau", "--password", "secret-123")
    stderr = failed(run("users", "create", "alice", "--role", "bureau", "--password", "secret-456"))
    assert "已存在" in stderr


def test_tokens_create_for_an_unknown_user_fails(db):
    stderr = failed(run("tokens", "create", "nobody"))
    assert stderr.startswith("错误：") and "nobody" in stderr
    assert count(db, "SELECT count(*) FROM api_tokens") == 0


# -- demo -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One demo load, shared by the tests that only read it."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        env = use_database(monkeypatch, tmp_path_factory.mktemp("demo"))
        result = run("demo", "--no-serve")
        assert result.exit_code == 0, (result.output, result.exception)
        env.output = result.stdout
        yield env


def test_demo_loads_departments_and_a_few_hundred_entries(demo):
    assert departments(demo) >= 10
    assert 200 <= entries(demo) <= 1000
    assert count(demo, "SELECT count(*) FROM data_elements") > 0


def test_demo_mounts_some_entries_and_not_others(demo):
    mounted = count(demo, "SELECT count(DISTINCT entry_id) FROM mounted_resources WHERE unmounted_at IS NULL")
    assert 0 < mounted < entries(demo)
    kinds = count(demo, "SELECT count(DISTINCT kind) FROM mounted_resources")
    assert kinds == 3


def test_demo_prints_credentials_for_every_role(demo):
    lines = demo.output.splitlines()
    for role in ("admin", "bureau", "provider", "requester"):
        assert any(line.split()[0] == role and "密码" in line and "令牌 exk_" in line for line in lines if line.strip()), role


def test_demo_credentials_open_the_api(demo):
    line = next(line for line in demo.output.splitlines() if line.split() and line.split()[0] == "requester")
    token = line.split("令牌")[1].split()[0]
    app = create_app({"database_url": demo.url, "storage_dir": str(demo.folder / "files")})
    try:
        response = app.test_client().get("/api/v1/entries", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.get_json()["total"] > 0
    finally:
        runtime(app).engine.dispose()


def test_demo_run_again_does_not_load_twice(demo):
    tables = ("departments", "catalog_entries", "mounted_resources", "users", "api_tokens")
    before = {t: count(demo, f"SELECT count(*) FROM {t}") for t in tables}
    out = ok("demo", "--no-serve")
    assert "跳过演示数据加载" in out
    assert "令牌" not in out
    assert {t: count(demo, f"SELECT count(*) FROM {t}") for t in tables} == before


def test_demo_opens_with_flags_and_a_dashboard_snapshot(demo):
    assert count(demo, "SELECT count(*) FROM flags WHERE resolved_at IS NULL") > 0
    assert count(demo, "SELECT count(DISTINCT day) FROM dashboard_figures") == 1
    assert "freshness-scan：" in demo.output and "dashboard-snapshot：" in demo.output
