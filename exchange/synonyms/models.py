"""The bureau's synonym table: one row per group of equivalent terms, the first one canonical."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models import Authored, Base, Timestamped, vocab
from catalog.vocab import Vocabulary

SEPARATOR = "|"


class SynonymKind(Vocabulary):
    SYNONYM = "synonym", "同义词", "同义", "同义名称"
    ABBREVIATION = "abbreviation", "简称", "缩写", "缩略语"
    RELATED = "related", "近义", "近义词", "相关", "≈"
    LEARNED = "learned", "学习所得", "学习"


class Synonym(Timestamped, Authored, Base):
    """A group of terms the matcher treats as one (``related`` ones as near terms: offered, at a
    lower item score, and explained as such)."""

    __tablename__ = "synonyms"

    id: Mapped[int] = mapped_column(primary_key=True)
    terms: Mapped[str] = mapped_column(String(1000), unique=True)  # "canonical|variant|…"
    kind: Mapped[SynonymKind] = mapped_column(vocab(SynonymKind, "kind"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id", ondelete="SET NULL"), index=True)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def term_list(self) -> list[str]:
        return self.terms.split(SEPARATOR)
