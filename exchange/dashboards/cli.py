"""``exchange report``: the monthly assessment workbook (考核)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click


@click.command("report")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--month", help="The month assessed, YYYY-MM (default: the previous month).")
def report(file: Path, month: str | None):
    """Write the monthly assessment workbook FILE.xlsx: a sheet per figure, a scorecard sheet per
    department, and the lists of stale, unmounted and overdue items."""
    from catalog.db import make_engine, make_session_factory, session_scope
    from catalog.errors import CatalogError
    from exchange.config import Settings

    from .facts import Moment
    from .report import month_period, write_report

    settings = Settings.from_env()
    moment = Moment(dt.datetime.now(dt.UTC), settings.timezone)
    engine = make_engine(settings.database_url)
    try:
        period = month_period(month, today=moment.day)
        with session_scope(make_session_factory(engine)) as session:
            counts = write_report(session, target=file, period=period, moment=moment)
    except CatalogError as exc:
        click.secho(f"错误：{exc.message}", fg="red", err=True)
        sys.exit(1)
    finally:
        engine.dispose()
    click.echo(f"已生成 {period.start:%Y-%m} 考核报告 {file}：{counts['sheets']} 个工作表，"
               f"{counts['departments']} 个部门的考核表")
