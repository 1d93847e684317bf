"""Catalog services: departments, data elements, entries and their lifecycle.

Every function takes the session first and the rest by keyword, checks the actor's permission,
raises domain errors, and never commits (the caller owns the transaction).
"""

from .common import DEFAULT_CODE_FRONT, MAX_PAGE_SIZE, VISIBLE_TO_ALL, Page, ordering, paginate
from .directory import (
    DEPARTMENT_SORTS,
    ELEMENT_SORTS,
    DepartmentData,
    create_department,
    create_element,
    department_name,
    find_department,
    get_department,
    get_element,
    list_departments,
    list_elements,
    parse_department,
)
from .entries import (
    ACTION_LABELS,
    TRANSITIONS,
    code_front_for,
    create_entry,
    entry_data,
    next_sequence,
    parse_entry_fields,
    publish_version,
    resolve_provider,
    snapshot,
    transition,
    update_entry,
)
from .listing import (
    MAX_IN_LIST,
    SORTABLE,
    EntryFilter,
    apply_filters,
    get_entry,
    is_mounted,
    list_entries,
    list_status_changes,
    list_versions,
    mounted_entry_ids,
    visible_entries,
)

__all__ = [
    "ACTION_LABELS", "DEFAULT_CODE_FRONT", "MAX_IN_LIST", "MAX_PAGE_SIZE", "SORTABLE", "TRANSITIONS",
    "VISIBLE_TO_ALL", "DepartmentData", "EntryFilter", "Page", "apply_filters", "code_front_for",
    "create_department", "create_element", "create_entry", "entry_data", "find_department",
    "get_department", "get_element", "get_entry", "is_mounted", "list_departments", "list_elements",
    "list_entries", "list_status_changes", "list_versions", "mounted_entry_ids", "next_sequence",
    "ordering", "paginate", "parse_department", "parse_entry_fields", "publish_version", "resolve_provider",
    "snapshot", "transition", "update_entry", "visible_entries",
]
