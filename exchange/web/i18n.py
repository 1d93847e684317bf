"""Translations: the marker for text translated where it is shown, and the catalog's upkeep.

Page text is written in Chinese and translated to English through ``translations/en``.  Text
that is defined in one place and translated where it is shown (navigation, vocabulary labels,
error titles) is marked ``N_("…")`` so extraction finds it.  To refresh the catalog after
changing text::

    python -m exchange.web.i18n        # extract, add vocabulary labels, update en, compile

then fill the new ``msgstr`` entries in ``translations/en/LC_MESSAGES/messages.po`` and run it
again to compile.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
CATALOG = HERE / "translations"


def N_(text: str) -> str:
    """Mark text for extraction; it is translated later, where it is shown."""
    return text


def vocabulary_labels() -> list[str]:
    """Every label of the controlled vocabularies the pages show (statuses, types, roles …)."""
    from catalog.actors import Role
    from catalog.vocab import Vocabulary

    from ..dashboards import figures, lists, scorecards
    from ..dashboards.exporting import COLUMN_LABELS
    from ..demands import models as demands
    from ..freshness import models as freshness
    from ..sharing import models as sharing

    del demands, freshness, sharing, figures  # imported for their vocabularies
    labels: list[str] = [r.label for r in Role]
    labels += [listing.label for listing in lists.LISTS.values()]  # the dashboards' drill-down titles,
    labels += [*scorecards.COLOUR_LABELS.values(), *COLUMN_LABELS.values()]  # colours and column headers
    pending = list(Vocabulary.__subclasses__())
    while pending:
        vocab = pending.pop()
        pending += vocab.__subclasses__()
        labels += [member.label for member in vocab]
    return sorted(set(labels))


def refresh() -> None:  # pragma: no cover - a maintenance command, run by hand
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po, write_po

    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    template = Catalog(project="exchange", locale=None)
    for filename, lineno, message, _comments, _context in extract_from_dir(HERE, method_map, keywords=keywords):
        template.add(message, locations=[(filename, lineno)])
    for label in vocabulary_labels():
        template.add(label, locations=[("vocabulary", 0)])
    po_path = CATALOG / "en" / "LC_MESSAGES" / "messages.po"
    po_path.parent.mkdir(parents=True, exist_ok=True)
    if po_path.exists():
        with po_path.open("rb") as f:
            catalog = read_po(f, locale="en")
        catalog.update(template, update_header_comment=False, no_fuzzy_matching=True)
    else:
        catalog = Catalog(locale="en", project="exchange")
        catalog.update(template)
    with po_path.open("wb") as f:
        write_po(f, catalog, width=120, omit_header=False, sort_output=True, ignore_obsolete=True)
    missing = [m.id for m in catalog if m.id and not m.string]
    with po_path.with_suffix(".mo").open("wb") as f:
        write_mo(f, catalog, use_fuzzy=False)
    print(f"{len(catalog)} messages, {len(missing)} without an English text")


if __name__ == "__main__":  # pragma: no cover
    refresh()
