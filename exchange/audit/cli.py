"""``exchange audit``: check the audit trail's hash chain."""

from __future__ import annotations

import sys

import click


@click.group("audit")
def audit():
    """The audit trail (审计日志)."""


@audit.command("verify")
@click.option("--batch", default=2_000, show_default=True, type=click.IntRange(min=1),
              help="Events fetched at a time.")
def audit_verify(batch: int):
    """Check every event's hash and link; name the first broken one (exit status 1)."""
    from catalog.db import make_engine
    from exchange.config import Settings

    from .services import verify

    engine = make_engine(Settings.from_env().database_url)
    try:
        with engine.connect() as connection:
            result = verify(connection, batch=batch)
    finally:
        engine.dispose()
    if not result.ok:
        click.secho(f"链在事件 #{result.broken_id} 处断开：{result.message}（此前 {result.count} 条完整）",
                    fg="red", err=True)
        sys.exit(1)
    click.echo(f"链完整：{result.count} 条")
