"""The dashboards' summary rows and the bureau's scorecard thresholds.

``dashboard_figures`` holds every figure of every day in long form, one row per (day, scope,
figure): the whole platform (``department_id`` and ``level`` null), one level (国家/省/市/县/乡:
``level`` set) or one department (``department_id`` set).  Figures are counts (or a median) that
the daily snapshot writes set-based; rates are read as one count over another, so a period's rate
is the sum of its days' numerators over the sum of their denominators (read from the running
totals the snapshot also writes, ``<figure>:total``).  A figure absent on a day is zero.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models import Base


class DashboardFigure(Base):
    __tablename__ = "dashboard_figures"
    __table_args__ = (
        Index("ix_dashboard_figures_scope_day", "department_id", "level", "day"),  # a scope's days
        # some figures of every department on a day (the sorted table, the charts), from the index alone
        Index("ix_dashboard_figures_day_figure", "day", "figure", "department_id", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    level: Mapped[str | None] = mapped_column(String(20))
    figure: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)


class ScorecardThreshold(Base):
    """Where a figure turns yellow and red: set by the bureau, defaults in code until then."""

    __tablename__ = "scorecard_thresholds"

    figure: Mapped[str] = mapped_column(String(64), primary_key=True)
    green: Mapped[float] = mapped_column(Float)  # at or better than this: green
    yellow: Mapped[float] = mapped_column(Float)  # at or better than this: yellow; worse: red
    updated_at: Mapped[dt.datetime] = mapped_column()
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}
