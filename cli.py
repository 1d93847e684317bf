"""The ``exchange`` command: thin commands that open a session, call a service and print.

Expected failures print one clear line (and the list of problems for imports) and exit 1;
wrong usage exits 2.  Run ``exchange --help`` or ``exchange COMMAND --help``.
"""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import sys
from pathlib import Path

import click

from catalog.actors import SYSTEM
from catalog.db import make_session_factory, session_scope
from catalog.errors import CatalogError, ImportFailed
from catalog.vocab import EntryStatus
from exchange.audit.cli import audit
from exchange.dashboards.cli import report
from exchange.synonyms.cli import synonyms

MAX_SHOWN = 50


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Context:
    """Settings and a session factory, built on first use (so ``--help`` needs no database)."""

    def __init__(self):
        from exchange.config import Settings

        self.settings = Settings.from_env()
        self._engine = None

    @property
    def engine(self):
        if self._engine is None:
            from catalog.db import make_engine

            self._engine = make_engine(self.settings.database_url)
        return self._engine

    def session(self, actor=SYSTEM):
        """A unit of work whose changes the audit trail records as ``actor``'s, from "cli"."""
        from exchange.audit.capture import audit_flushes

        audit_flushes()
        factory = make_session_factory(self.engine)
        factory.configure(info={"actor": actor, "client": "cli"})
        return session_scope(factory)

    def actor(self, username: str | None):
        if not username:
            return SYSTEM
        from exchange.accounts.services import get_user

        with self.session() as s:
            return get_user(s, username).actor


pass_context = click.make_pass_decorator(Context, ensure=True)


def expected_errors(fn):
    """Domain errors become one line on stderr and exit status 1, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ImportFailed as exc:
            report_problems(exc)
            sys.exit(1)
        except CatalogError as exc:
            click.secho(f"错误：{exc.message}", fg="red", err=True)
            if isinstance(exc.details, dict):
                for field, messages in exc.details.items():
                    click.echo(f"  {field}: {'；'.join(map(str, messages))}", err=True)
            sys.exit(1)

    return wrapper


def report_problems(exc: ImportFailed) -> None:
    click.secho(f"错误：{exc.message}", fg="red", err=True)
    for problem in exc.problems[:MAX_SHOWN]:
        click.echo(f"  {problem}", err=True)
    if len(exc.problems) > MAX_SHOWN:
        click.echo(f"  …… 另有 {len(exc.problems) - MAX_SHOWN} 处，见错误工作簿", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="exchange")
def main():
    """政务数据共享交换平台 — the government data-sharing exchange.

    Settings come from EXCHANGE_* environment variables (see README); the database defaults to
    exchange.db (SQLite) in the working directory.
    """


# -- database -------------------------------------------------------------------------------------


@main.group()
def db():
    """Migrate the database schema (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@pass_context
def db_upgrade(ctx: Context, revision: str):
    """Upgrade the schema to REVISION (default: head)."""
    from exchange import database

    database.upgrade(ctx.settings.database_url, revision)
    click.echo(f"数据库已升级到 {database.current_revision(ctx.engine)}")


@db.command("downgrade")
@click.argument("revision")
@pass_context
def db_downgrade(ctx: Context, revision: str):
    """Downgrade the schema to REVISION ('base' removes every table)."""
    from exchange import database

    database.downgrade(ctx.settings.database_url, revision)
    click.echo(f"数据库已降级到 {database.current_revision(ctx.engine) or 'base'}")


@db.command("current")
@pass_context
def db_current(ctx: Context):
    """Show the schema revision of the database and the newest one known."""
    from exchange import database

    current = database.current_revision(ctx.engine) or "（未初始化）"
    click.echo(f"当前版本：{current}；最新版本：{database.head_revision()}")


# -- catalog --------------------------------------------------------------------------------------


@main.group()
def catalog():
    """Import and export the catalog in the national template."""


def _progress_printer():
    state = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = state.get(stage)
        if bar is None:
            bar = state[stage] = click.progressbar(length=max(total, 1), label=stage, file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    return progress


def _run_import(ctx: Context, file: Path, template, importer, errors: Path | None, sheet=None, **kwargs):
    from catalog.exporting import write_error_workbook
    from catalog.templates import read_sheet

    with file.open("rb") as stream:
        data = read_sheet(stream, filename=file.name, template=template,
                          max_bytes=ctx.settings.max_upload_mb << 20, sheet=sheet)
    try:
        with ctx.session(kwargs.get("actor", SYSTEM)) as s:
            result = importer(s, sheet=data, **kwargs)
            if not kwargs.get("dry_run"):
                _audit_import(s, template, file, result, kwargs.get("actor", SYSTEM))
            return result
    except ImportFailed as exc:
        target = errors or file.with_name(f"{file.stem}.errors.xlsx")
        rows = {number: record for number, record in data.records()}
        write_error_workbook(exc.problems, target, template=template, rows=rows)
        report_problems(exc)
        click.echo(f"错误工作簿：{target}", err=True)
        sys.exit(1)


def _audit_import(session, template, file: Path, result, actor) -> None:
    """Imports write past the ORM: one summary event records each."""
    from exchange.audit.services import record_import

    counts = result if isinstance(result, dict) else result.as_dict()
    record_import(session, actor=actor, kind=template.kind, file_name=file.name, counts=counts, now=now())


@catalog.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
@click.option("--create-departments", is_flag=True, help="Register providers not yet known.")
@click.option("--status", type=click.Choice(["draft", "submitted", "published"]),
              help="Status of imported entries (default: published for the bureau/admin, draft for a provider).")
@click.option("--sheet", help="Worksheet to read (default: 信息资源目录, else the first).")
@click.option("--errors", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the error workbook (default: FILE.errors.xlsx).")
@click.option("--user", "username", help="Import as this user (default: the system administrator).")
@pass_context
@expected_errors
def catalog_import(ctx: Context, file: Path, dry_run, create_departments, status, sheet, errors, username):
    """Import FILE (.xlsx or .csv): all or nothing; re-importing updates by resource code."""
    from catalog.importing import import_catalog
    from catalog.templates import CATALOG

    result = _run_import(
        ctx, file, CATALOG, import_catalog, errors, sheet=sheet, actor=ctx.actor(username), now=now(),
        status=EntryStatus(status) if status else None, dry_run=dry_run,
        create_departments=create_departments, progress=_progress_printer(),
    )
    verb = "检查通过（未写入）" if dry_run else "导入完成"
    click.echo(f"{verb}：{result.rows} 行，新增 {result.created}，更新 {result.updated}，"
               f"未变 {result.unchanged}，新登记部门 {result.departments_created}")
    if result.ignored_headers:
        click.echo(f"已忽略不认识的列：{'、'.join(result.ignored_headers)}")


@catalog.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--status", type=click.Choice([s.value for s in EntryStatus]), help="Only entries in this status.")
@click.option("--provider-id", type=int, help="Only this department's entries.")
@pass_context
@expected_errors
def catalog_export(ctx: Context, file: Path, status, provider_id):
    """Export the catalog to FILE (.xlsx or .csv) in the national template."""
    from catalog.exporting import export_catalog
    from catalog.services import EntryFilter

    filters = EntryFilter(status=status, provider_id=provider_id, sort="resource_code")
    with ctx.session() as s:
        count = export_catalog(s, actor=SYSTEM, target=file, filters=filters)
    click.echo(f"已导出 {count} 条目录到 {file}")


@main.group()
def elements():
    """Standard data elements (数据元)."""


@elements.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
@click.option("--errors", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the error workbook.")
@pass_context
@expected_errors
def elements_import(ctx: Context, file: Path, dry_run, errors):
    """Import data elements from FILE (.xlsx or .csv); updates by identifier."""
    from catalog.elements import import_elements
    from catalog.templates import ELEMENTS

    result = _run_import(ctx, file, ELEMENTS, import_elements, errors, actor=SYSTEM, dry_run=dry_run)
    click.echo(f"数据元：{result['rows']} 行，新增 {result['created']}，更新 {result['updated']}")


@main.group()
def departments():
    """Departments (部门)."""


@departments.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
@click.option("--errors", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the error workbook.")
@pass_context
@expected_errors
def departments_import(ctx: Context, file: Path, dry_run, errors):
    """Import departments from FILE (.xlsx or .csv); updates by name."""
    from catalog.elements import import_departments
    from catalog.templates import DEPARTMENTS

    result = _run_import(ctx, file, DEPARTMENTS, import_departments, errors, actor=SYSTEM, dry_run=dry_run)
    click.echo(f"部门：{result['rows']} 行，新增 {result['created']}，更新 {result['updated']}")


# -- accounts -------------------------------------------------------------------------------------


@main.group()
def users():
    """User accounts."""


@users.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["provider", "requester", "bureau", "admin"]))
@click.option("--department", help="Department name, code or id (required for provider and requester).")
@click.option("--name", "display_name", help="Name shown to others.")
@click.option("--password", help="Password (asked for when omitted).")
@pass_context
@expected_errors
def users_create(ctx: Context, username, role, department, display_name, password):
    """Create a user bound to a department with a role."""
    from exchange.accounts.services import create_user

    password = password or getpass.getpass("密码：")
    with ctx.session() as s:
        user = create_user(s, actor=SYSTEM, username=username, password=password, role=role,
                           department=department, display_name=display_name)
        click.echo(f"已创建用户 {user.username}（{user.role.label}）")


@main.group()
def tokens():
    """API tokens."""


@tokens.command("create")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.option("--days", type=click.IntRange(min=1), help="Expire after this many days (default: never).")
@pass_context
@expected_errors
def tokens_create(ctx: Context, username, name, days):
    """Issue an API token for USERNAME; it is shown once."""
    from exchange.accounts.services import create_token, get_user

    with ctx.session() as s:
        _, secret = create_token(s, user=get_user(s, username), name=name, now=now(), days=days)
    click.echo(secret)


# -- running --------------------------------------------------------------------------------------


def _serve(ctx: Context, host: str, port: int) -> None:
    from waitress import serve

    from exchange import create_app
    from exchange.scheduler import build

    jobs = build(make_session_factory(ctx.engine), settings=ctx.settings)
    jobs.start()  # the single-machine default: the scheduler runs inside the web process
    click.echo(f"在 http://{host}:{port}/ 提供服务（API 文档：/api/v1/docs），Ctrl+C 停止")
    try:
        serve(create_app(), host=host, port=port, threads=8)
    finally:
        jobs.shutdown(wait=False)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@pass_context
def serve(ctx: Context, host: str, port: int):
    """Serve the exchange on an existing database (run 'exchange db upgrade' first)."""
    _serve(ctx, host, port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Load the demo and exit.")
@pass_context
@expected_errors
def demo(ctx: Context, host: str, port: int, no_serve: bool):
    """Migrate, load a demo jurisdiction (台州市) with users, print their credentials, serve."""
    from exchange import database
    from exchange.demo import load_demo

    database.upgrade(ctx.settings.database_url)
    with ctx.session() as s:
        from catalog.services import list_departments

        loaded = list_departments(s, page_size=1).total > 0
        credentials = [] if loaded else load_demo(s, storage=ctx.settings.storage_path, now=now())
    if loaded:
        click.echo("数据库中已有数据，跳过演示数据加载（删除 exchange.db 可重新加载）")
    for user, token in credentials:
        click.echo(f"  {user.role:<9} {user.username:<9} 密码 {user.password:<15} 令牌 {token}  {user.display_name}")
    if credentials:  # the flags and the dashboards have something to show from the first page
        for job in ("freshness-scan", "dashboard-snapshot"):
            click.echo(f"{job}：", nl=False)
            _run_job(ctx, job)
    if not no_serve:
        _serve(ctx, host, port)


# -- demands, matching, notifications -------------------------------------------------------------


@main.group()
def demands():
    """Demands (数据需求)."""


@demands.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
@click.option("--create-departments", is_flag=True, help="Register requesting departments not yet known.")
@click.option("--errors", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the error workbook.")
@pass_context
@expected_errors
def demands_import(ctx: Context, file: Path, dry_run, create_departments, errors):
    """Import a 需求征集 sheet (xlsx/csv): all or nothing; the demands are filed, submitted and
    matched; re-importing updates by 需求编号."""
    from exchange.deadlines import Deadlines
    from exchange.demands.importing import DEMANDS, import_demands
    from exchange.demands.matching import MatchEngine, match_demands
    from exchange.workdays import WorkCalendar

    def run(session, **kwargs):
        result = import_demands(session, **kwargs)
        if not dry_run:
            match_demands(session, engine=MatchEngine(), now=kwargs["now"], refs=result.refs)
        return result

    result = _run_import(ctx, file, DEMANDS, run, errors, actor=SYSTEM, now=now(), dry_run=dry_run,
                         deadlines=Deadlines(WorkCalendar.from_settings(ctx.settings)),
                         create_departments=create_departments)
    verb = "检查通过（未写入）" if dry_run else "导入完成"
    click.echo(f"{verb}：{result.rows} 行，新增 {result.created}，更新 {result.updated}，"
               f"新登记部门 {result.departments_created}")


@main.group("match")
def match_group():
    """Demand→supply matching."""


@match_group.command("run")
@click.option("--all", "everything", is_flag=True, help="Every open demand.")
@click.option("--demand", "ref", help="One demand, by its reference (需求编号).")
@pass_context
@expected_errors
def match_run(ctx: Context, everything: bool, ref: str | None):
    """Match demands against the catalog; keep the suggestions, explanations and verdicts."""
    from exchange.demands.matching import MatchEngine, match_demands

    if everything == bool(ref):
        raise click.UsageError("请给出 --all 或 --demand REF 之一")
    with ctx.session() as s:
        results = match_demands(s, engine=MatchEngine(), now=now(), refs=[ref] if ref else None)
    if ref and not results:
        raise CatalogError(f"需求“{ref}”不存在")
    failed = sum(1 for _, result in results if result is None)
    unmet = sum(1 for _, result in results if result is not None and not result.matched)
    unreadable = f"，无可识别文字 {failed}" if failed else ""
    click.echo(f"已匹配 {len(results)} 项需求：可满足 {len(results) - unmet - failed}，未满足 {unmet}{unreadable}")


@match_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--top", "top_k", default=5, show_default=True, type=click.IntRange(1, 50), help="Candidates per demand.")
@pass_context
@expected_errors
def match_export(ctx: Context, file: Path, top_k: int):
    """One row per demand and candidate (csv or xlsx): demand_ref, rank, resource_code, resource_name,
    provider, score, status, unmet_reason, explanation."""
    from exchange.demands.matching import MatchEngine, export_frame

    with ctx.session() as s:
        frame = export_frame(s, engine=MatchEngine(), now=now(), top_k=top_k)
    if file.suffix.lower() == ".xlsx":
        frame.to_excel(file, index=False, engine="xlsxwriter")
    else:
        frame.to_csv(file, index=False, encoding="utf-8-sig")
    click.echo(f"已导出 {len(frame)} 行到 {file}")


@main.group()
def notifications():
    """Notification copies by e-mail and webhook."""


@notifications.command("remind")
@pass_context
def notifications_remind(ctx: Context):
    """Remind the departments whose demands, applications and objections are due within 2
    working days or overdue (once per item and kind); the scheduler runs it daily."""
    _run_job(ctx, "notifications-remind")


@notifications.command("send")
@pass_context
def notifications_send(ctx: Context):
    """Send the e-mail and webhook copies that are due (failures retry later, with backoff)."""
    _run_job(ctx, "notifications-send")


def _run_job(ctx: Context, name: str) -> None:
    """Run the job under its lease, as the scheduler does: never beside a running one."""
    from exchange import scheduler

    sessions, started = make_session_factory(ctx.engine), now()
    holder = scheduler.lease_by_hand(sessions, job=name, by="cli", now=started)
    if holder is None:
        click.echo(f"任务 {name} 正在运行（定时运行或他人刚刚启动），请等它结束后再试", err=True)
        sys.exit(1)
    run = scheduler.run_held(sessions, job=name, holder=holder, settings=ctx.settings, now=started)
    click.echo(_run_summary(run))
    if run.error:
        sys.exit(1)


@main.group()
def jobs():
    """Scheduled jobs: what they are, their last run; run one now."""


@jobs.command("list")
@pass_context
def jobs_list(ctx: Context):
    """The known jobs, when they run, and their last run."""
    from exchange.freshness.services import last_runs
    from exchange.scheduler import JOBS

    with ctx.session() as s:
        runs = last_runs(s, jobs=list(JOBS))
    for name, run in runs.items():
        click.echo(f"{name}\t{JOBS[name].help}\n\t上次：{_run_summary(run)}")


def _run_summary(run) -> str:
    if run is None:
        return "从未运行"
    outcome = run.status.label + (f"：{run.error}" if run.error else "")
    return f"{run.started_at:%Y-%m-%d %H:%M:%S} UTC，{outcome}，耗时 {run.duration_ms} ms，{_counts_text(run.counts)}"


def _counts_text(counts: dict) -> str:
    from exchange.freshness.models import FlagKind
    from exchange.runs import COUNT_LABELS

    def one(key, value) -> str:
        if isinstance(value, dict):  # the freshness scan's counts per flag kind
            return f"{FlagKind(key).label}：新开 {value['opened']}，仍未解决 {value['kept']}，已解决 {value['resolved']}"
        return f"{COUNT_LABELS.get(key, key)} {value}"

    return "；".join(one(key, value) for key, value in counts.items())


@jobs.command("run")
@click.argument("name")
@pass_context
def jobs_run(ctx: Context, name: str):
    """Run a job now by name (see `exchange jobs list`) and print its counts."""
    from exchange.scheduler import JOBS

    if name not in JOBS:
        raise click.BadParameter(f"没有名为“{name}”的任务，可选：{'、'.join(JOBS)}", param_hint="NAME")
    _run_job(ctx, name)


@main.group("scheduler")
def scheduler_group():
    """The job scheduler."""


@scheduler_group.command("run")
@pass_context
def scheduler_run(ctx: Context):
    """Run the scheduled jobs in this process until stopped (a database lease keeps two
    scheduler processes from running one job at once)."""
    from exchange.scheduler import JOBS, build

    click.echo(f"调度器已启动：{'、'.join(JOBS)}（Ctrl+C 停止）")
    build(make_session_factory(ctx.engine), settings=ctx.settings, blocking=True).start()


main.add_command(audit)
main.add_command(report)
main.add_command(synonyms)

if __name__ == "__main__":
    main()
