"""Settings, read once from ``EXCHANGE_*`` environment variables into one object.

Nothing here runs at import time: :func:`Settings.from_env` is called by the app factory and the
CLI.  Every setting is listed in README.md (a test keeps the two in step).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

PREFIX = "EXCHANGE_"


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///exchange.db"
    secret_key: str = ""
    storage_dir: str = "exchange-files"
    max_upload_mb: int = 200
    mount_timeout: int = 10
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"
    smtp_url: str = ""
    holidays: str = ""
    workdays: str = ""
    webhook_url: str = ""
    session_minutes: int = 120
    probe_timeout: int = 10
    probe_concurrency: int = 8
    flag_escalation_days: int = 30
    secure_cookies: bool = False

    HELP = {
        "database_url": "SQLAlchemy URL of the database; postgresql:// uses psycopg 3",
        "secret_key": "key that signs login sessions; a random one per process when empty",
        "storage_dir": "folder where mounted files are stored, by checksum",
        "max_upload_mb": "largest file accepted for import or mount, in MiB",
        "mount_timeout": "seconds to wait when a mounted database or API is checked",
        "timezone": "time zone of dates shown and of 'today' in the rules",
        "log_level": "logging level (DEBUG, INFO, WARNING …)",
        "holidays": "extra non-working days, comma-separated YYYY-MM-DD (on top of the official calendar)",
        "workdays": "extra working days (e.g. adjusted weekends), comma-separated YYYY-MM-DD",
        "smtp_url": "send notification copies by email: smtp://user:password@host:port/sender",
        "webhook_url": "POST every notification as JSON to this URL",
        "session_minutes": "minutes a web login stays valid without activity ('remember me' keeps it longer)",
        "probe_timeout": "seconds one probe of a mounted table, file or API may take before it counts as failed",
        "probe_concurrency": "mounted resources probed at once (threads)",
        "flag_escalation_days": "days a flag may stay open before the scan escalates it to the bureau",
        "secure_cookies": "send the login cookies over HTTPS only (on behind TLS; off for plain HTTP on one machine)",
    }

    @classmethod
    def from_env(cls, environ: dict | None = None, **overrides) -> "Settings":
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _parsed(f.name, f.type, raw)
        return replace(cls(**values), **overrides)

    @classmethod
    def env_names(cls) -> list[str]:
        return [PREFIX + f.name.upper() for f in fields(cls)]

    def dates(self, name: str) -> list[dt.date]:
        """A comma-separated date setting, parsed; a bad date names the setting."""
        text = getattr(self, name)
        try:
            return [dt.date.fromisoformat(part.strip()) for part in text.split(",") if part.strip()]
        except ValueError as exc:
            raise ValueError(f"{PREFIX}{name.upper()}: {exc}") from None

    SECRET = ("secret_key",)  # never shown
    URLS = ("database_url", "smtp_url", "webhook_url")  # shown with their passwords masked

    def described(self) -> list[dict]:
        """Every setting as it is in force: variable, value (secrets masked), default, meaning."""
        defaults = type(self)()
        return [{"name": PREFIX + f.name.upper(), "value": self._shown(f.name), "help": self.HELP.get(f.name, ""),
                 "default": getattr(self, f.name) == getattr(defaults, f.name)} for f in fields(self)]

    def _shown(self, name: str) -> str:
        value = str(getattr(self, name))
        if name in self.SECRET:
            return "••••••" if value else ""
        if name in self.URLS and value:
            parts = urlsplit(value)
            if parts.password:
                netloc = parts.netloc.replace(f":{parts.password}@", ":••••••@", 1)
                return urlunsplit(parts._replace(netloc=netloc))
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def storage_path(self) -> Path:
        return Path(self.storage_dir)


SWITCH = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _parsed(name: str, kind: str, raw: str):
    """An environment value as its setting's type; a bad one names the variable."""
    try:
        if kind == "int":
            return int(raw)
        if kind == "bool":
            return SWITCH[raw.strip().lower()]
    except (KeyError, ValueError):
        expected = "on or off" if kind == "bool" else "a whole number"
        raise ValueError(f"{PREFIX}{name.upper()}: {raw!r} is not {expected}") from None
    return raw
