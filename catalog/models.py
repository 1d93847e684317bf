"""The catalog's tables: departments, data elements, catalog entries with their information items,
published versions and status changes, and the resources mounted behind entries.

This module owns the declarative ``Base`` every package's models share.  The ``users`` table that
actor columns point to belongs to the exchange's accounts (``exchange.accounts.models``).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .vocab import (
    Category,
    DataType,
    DepartmentLevel,
    EntryStatus,
    Health,
    MountKind,
    OpenAttribute,
    ResourceFormat,
    SharingMethod,
    SharingType,
    UpdateCycle,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC one is required")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def vocab(enum_cls: type[enum.Enum], name: str) -> SAEnum:
    """A portable enumeration column: VARCHAR plus a named CHECK constraint."""
    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


class Authored:
    """Who created and last changed the row (null: the system, e.g. a command-line import)."""

    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Department(Timestamped, Base):
    """A government department (部门): everything in the catalog is owned by one."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    code: Mapped[str | None] = mapped_column(String(18), unique=True)  # 统一社会信用代码
    level: Mapped[DepartmentLevel | None] = mapped_column(vocab(DepartmentLevel, "level"))
    region_code: Mapped[str | None] = mapped_column(String(6))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    # users belong to departments, so these two references are added after both tables exist
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True))

    parent: Mapped[Department | None] = relationship(remote_side=[id], foreign_keys=[parent_id])


class DataElement(Timestamped, Authored, Base):
    """A standard data element (数据元, GB/T 19488 / ISO/IEC 11179 style)."""

    __tablename__ = "data_elements"

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    english_name: Mapped[str | None] = mapped_column(String(200))
    definition: Mapped[str | None] = mapped_column(Text)
    data_type: Mapped[DataType | None] = mapped_column(vocab(DataType, "data_type"))
    format: Mapped[str | None] = mapped_column(String(64))
    value_domain: Mapped[str | None] = mapped_column(Text)
    synonyms: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="standard")


class CatalogEntry(Timestamped, Authored, Base):
    """A catalog entry (信息资源目录) with the national core metadata.

    The row is the working copy; every publication freezes a snapshot in ``entry_versions``.
    """

    __tablename__ = "catalog_entries"
    __table_args__ = (
        CheckConstraint(
            "sharing_type <> 'not_shared' OR (open_attribute = 'closed' AND not_shared_basis IS NOT NULL)",
            name="not_shared_rules",
        ),
        CheckConstraint(
            "sharing_type <> 'conditional' OR sharing_condition IS NOT NULL",
            name="conditional_rules",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_code: Mapped[str] = mapped_column(String(64), unique=True)
    code_front: Mapped[str] = mapped_column(String(32), index=True)
    code_sequence: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    provider_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    summary: Mapped[str] = mapped_column(Text)
    category: Mapped[Category] = mapped_column(vocab(Category, "category"))
    classification_code: Mapped[str | None] = mapped_column(String(64))
    format: Mapped[ResourceFormat] = mapped_column(vocab(ResourceFormat, "format"))
    format_detail: Mapped[str | None] = mapped_column(String(64))
    sharing_type: Mapped[SharingType] = mapped_column(vocab(SharingType, "sharing_type"), index=True)
    sharing_condition: Mapped[str | None] = mapped_column(Text)
    not_shared_basis: Mapped[str | None] = mapped_column(Text)
    sharing_method: Mapped[SharingMethod | None] = mapped_column(vocab(SharingMethod, "sharing_method"))
    open_attribute: Mapped[OpenAttribute] = mapped_column(vocab(OpenAttribute, "open_attribute"))
    update_cycle: Mapped[UpdateCycle] = mapped_column(vocab(UpdateCycle, "update_cycle"), index=True)
    publish_date: Mapped[dt.date | None] = mapped_column(Date)
    last_updated: Mapped[dt.date | None] = mapped_column(Date)
    related_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[EntryStatus] = mapped_column(vocab(EntryStatus, "status"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=0)  # number of publications
    content_hash: Mapped[str] = mapped_column(String(64))
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}

    provider: Mapped[Department] = relationship(lazy="joined", innerjoin=True)
    items: Mapped[list[InfoItem]] = relationship(
        back_populates="entry",
        order_by="InfoItem.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    mounts: Mapped[list[MountedResource]] = relationship(
        back_populates="entry",
        order_by="MountedResource.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    text: Mapped[EntryText] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class EntryText(Base):
    """The folded text (name, summary, item names) the catalog's text filter scans.

    Kept apart from the wide entry row so a scan reads a few megabytes, not the whole catalog."""

    __tablename__ = "entry_texts"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_entries.id", ondelete="CASCADE"), primary_key=True
    )
    text: Mapped[str] = mapped_column(Text)


class InfoItem(Base):
    """An information item (信息项) of an entry, optionally bound to a data element."""

    __tablename__ = "info_items"
    __table_args__ = (UniqueConstraint("entry_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("catalog_entries.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    data_type: Mapped[DataType | None] = mapped_column(vocab(DataType, "data_type"))
    length: Mapped[int | None] = mapped_column(Integer)
    element_id: Mapped[int | None] = mapped_column(
        ForeignKey("data_elements.id", ondelete="SET NULL"), index=True
    )
    sharing_type: Mapped[SharingType | None] = mapped_column(vocab(SharingType, "sharing_type"))

    entry: Mapped[CatalogEntry] = relationship(back_populates="items")
    element: Mapped[DataElement | None] = relationship()


class EntryVersion(Base):
    """A frozen copy of an entry as published (version 1, 2, …)."""

    __tablename__ = "entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("catalog_entries.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict] = mapped_column(JSON)
    published_at: Mapped[dt.datetime] = mapped_column()
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class StatusChange(Base):
    """One lifecycle step of an entry: who moved it from what to what, when and why."""

    __tablename__ = "entry_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_entries.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[EntryStatus | None] = mapped_column(vocab(EntryStatus, "from_status"))
    to_status: Mapped[EntryStatus] = mapped_column(vocab(EntryStatus, "to_status"))
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column()


class MountedResource(Base):
    """The real resource behind an entry (挂接资源): a database table, a stored file or an API.

    ``data_changed_at`` is the observed last change of the data itself, distinct from the
    entry's declared metadata update.  An unmounted resource keeps its row with ``unmounted_at``.
    """

    __tablename__ = "mounted_resources"
    __table_args__ = (Index("ix_mounted_resources_entry_active", "entry_id", "unmounted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("catalog_entries.id", ondelete="CASCADE"))
    kind: Mapped[MountKind] = mapped_column(vocab(MountKind, "kind"))
    url: Mapped[str | None] = mapped_column(Text)  # SQLAlchemy URL of a table, or an API endpoint
    table_name: Mapped[str | None] = mapped_column(String(200))
    change_column: Mapped[str | None] = mapped_column(String(200))
    file_key: Mapped[str | None] = mapped_column(String(200))  # name in the platform's file store
    file_name: Mapped[str | None] = mapped_column(String(255))
    checksum: Mapped[str | None] = mapped_column(String(64))  # sha256 of the stored file
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    columns: Mapped[list[dict]] = mapped_column(JSON, default=list)
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    data_changed_at: Mapped[dt.datetime | None] = mapped_column()
    health: Mapped[Health] = mapped_column(vocab(Health, "health"), default=Health.UNKNOWN)
    checked_at: Mapped[dt.datetime | None] = mapped_column()
    mounted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    mounted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unmounted_at: Mapped[dt.datetime | None] = mapped_column()
    unmounted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    entry: Mapped[CatalogEntry] = relationship(back_populates="mounts")
