"""``exchange synonyms``: the bureau's synonym table from the command line."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import sys
from pathlib import Path

import click

from .models import SynonymKind

KINDS = [k.value for k in SynonymKind]
SORTS = ["terms", "-terms", "kind", "-kind", "created_at", "-created_at", "updated_at", "-updated_at", "id", "-id"]


@contextlib.contextmanager
def _session(username: str | None = None):
    """A unit of work on the configured database, audited as USERNAME's (or the system's) from "cli"."""
    from catalog.actors import SYSTEM
    from catalog.db import make_engine, make_session_factory, session_scope
    from exchange.accounts.services import get_user
    from exchange.audit.capture import audit_flushes
    from exchange.config import Settings

    audit_flushes()
    engine = make_engine(Settings.from_env().database_url)
    try:
        factory = make_session_factory(engine)
        factory.configure(info={"actor": SYSTEM, "client": "cli"})
        with session_scope(factory) as session:
            actor = get_user(session, username).actor if username else SYSTEM
            session.info["actor"] = actor
            yield session, actor
    finally:
        engine.dispose()


def _failures(fn):
    """Expected errors: one line (and every bad row of an import) on stderr, exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from catalog.errors import CatalogError, ImportFailed

        try:
            return fn(*args, **kwargs)
        except CatalogError as exc:
            click.secho(f"错误：{exc.message}", fg="red", err=True)
            problems = exc.problems if isinstance(exc, ImportFailed) else []
            for problem in problems[:50]:
                click.echo(f"  {problem}", err=True)
            if isinstance(exc.details, dict):
                for name, messages in exc.details.items():
                    shown = "；".join(map(str, messages)) if isinstance(messages, list) else messages
                    click.echo(f"  {name}: {shown}", err=True)
            sys.exit(1)

    return wrapper


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@click.group("synonyms")
def synonyms():
    """The synonym table (同义词库): built-in list + data elements' synonyms + these groups."""


@synonyms.command("list")
@click.option("--kind", type=click.Choice(KINDS), help="Only this kind.")
@click.option("-q", "--query", "q", help="Text in a term or the note.")
@click.option("--sort", default="terms", show_default=True, type=click.Choice(SORTS))
@click.option("--page", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--page-size", default=50, show_default=True, type=click.IntRange(1, 200))
@_failures
def synonyms_list(kind, q, sort, page, page_size):
    """List groups: id, kind, terms (canonical first), note."""
    from . import services

    with _session() as (s, _):
        found = services.list_synonyms(s, filters=services.SynonymFilter(kind=kind and SynonymKind(kind), q=q),
                                       sort=sort, page=page, page_size=page_size)
        for synonym in found.items:
            click.echo(f"{synonym.id}\t{synonym.kind.label}\t{synonym.terms}\t{synonym.note or ''}")
    click.echo(f"第 {found.page}/{found.pages} 页，共 {found.total} 组", err=True)


@synonyms.command("add")
@click.argument("terms", nargs=-1, required=True)
@click.option("--kind", default="synonym", show_default=True, type=click.Choice(KINDS))
@click.option("--note", help="Why the terms are equivalent, or where they come from.")
@click.option("--user", "username", help="Record the change as this bureau user's.")
@_failures
def synonyms_add(terms, kind, note, username):
    """Add a group of TERMS (two or more; the first is canonical), e.g. 身份证号 公民身份号码."""
    from . import services

    with _session(username) as (s, actor):
        synonym = services.create_synonym(s, actor=actor, terms=list(terms), kind=kind, note=note, now=_now())
        click.echo(f"已添加 #{synonym.id}：{synonym.terms}（{synonym.kind.label}）")


@synonyms.command("remove")
@click.argument("terms", nargs=-1)
@click.option("--id", "synonym_id", type=int, help="Remove the group with this id instead.")
@click.option("--user", "username", help="Record the change as this bureau user's.")
@_failures
def synonyms_remove(terms, synonym_id, username):
    """Remove the group with exactly these TERMS (in order), or --id N."""
    from . import services

    if bool(terms) == (synonym_id is not None):
        raise click.UsageError("请给出词条或 --id 之一")
    with _session(username) as (s, actor):
        if synonym_id is not None:
            services.delete_synonym(s, actor=actor, synonym_id=synonym_id)
        else:
            services.delete_by_terms(s, actor=actor, terms=list(terms))
    click.echo("已删除")


@synonyms.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
@click.option("--user", "username", help="Record the change as this bureau user's.")
@_failures
def synonyms_import(file: Path, dry_run: bool, username):
    """Import 词条 (terms separated by |), 类型, 备注 from xlsx or csv: all or nothing."""
    from catalog.templates import read_sheet
    from exchange.config import Settings

    from . import services

    limit = Settings.from_env().max_upload_mb << 20
    sheet = read_sheet(file, filename=file.name, template=services.SYNONYMS, max_bytes=limit)
    with _session(username) as (s, actor):
        result = services.import_synonyms(s, actor=actor, sheet=sheet, now=_now(), dry_run=dry_run)
    prefix = "检查通过（未写入）" if dry_run else "已导入"
    click.echo(f"{prefix}：{result.rows} 行，新增 {result.created}，更新 {result.updated}，未变 {result.unchanged}")


@synonyms.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), help="Only this kind.")
@_failures
def synonyms_export(file: Path, kind):
    """Write the table to FILE (.xlsx or .csv) in the import's columns."""
    from catalog.templates import write_sheet

    from . import services

    with _session() as (s, _):
        frame = services.synonyms_frame(s, filters=services.SynonymFilter(kind=kind and SynonymKind(kind)))
    write_sheet(frame, file, template=services.EXPORT)
    click.echo(f"已导出 {len(frame)} 组到 {file}")
