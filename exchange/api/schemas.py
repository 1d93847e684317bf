"""marshmallow schemas at the API's edge: shapes, types and lengths; unknown fields are refused.

Enumerations are accepted as their value (``unconditional``) or Chinese label (``无条件共享``) and
normalised by the cataloguing rules; responses give the value.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from catalog.vocab import (
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
from catalog.services import MAX_PAGE_SIZE

Text = fields.String


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema)),
            "page": fields.Integer(),
            "page_size": fields.Integer(),
            "total": fields.Integer(),
            "pages": fields.Integer(),
        },
        name=name,
    )


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class SearchArgs(PageArgs):
    q = Text(validate=validate.Length(max=200), metadata={"description": "名称或代码包含的文字"})


# -- departments and data elements ----------------------------------------------------------------


class DepartmentRef(Schema):
    id = fields.Integer()
    name = Text()
    code = Text(allow_none=True)


class DepartmentOut(DepartmentRef):
    level = fields.Enum(DepartmentLevel, by_value=True, allow_none=True)
    region_code = Text(allow_none=True)
    parent_id = fields.Integer(allow_none=True)


class DepartmentIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    code = Text(validate=validate.Length(max=18), allow_none=True)
    level = Text(allow_none=True, metadata={"description": "国家/省/市/县/乡 或 national … township"})
    region_code = Text(allow_none=True, validate=validate.Length(max=6))
    parent = Text(allow_none=True, metadata={"description": "上级部门的名称或统一社会信用代码"})


class ElementOut(Schema):
    id = fields.Integer()
    identifier = Text()
    name = Text()
    english_name = Text(allow_none=True)
    definition = Text(allow_none=True)
    data_type = fields.Enum(DataType, by_value=True, allow_none=True)
    format = Text(allow_none=True)
    value_domain = Text(allow_none=True)
    synonyms = fields.List(Text())
    source = Text(allow_none=True)
    status = Text()


class ElementIn(Schema):
    identifier = Text(required=True, validate=validate.Length(min=1, max=64))
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    english_name = Text(allow_none=True, validate=validate.Length(max=200))
    definition = Text(allow_none=True)
    data_type = Text(allow_none=True)
    format = Text(allow_none=True, validate=validate.Length(max=64))
    value_domain = Text(allow_none=True)
    synonyms = fields.List(Text(validate=validate.Length(min=1, max=200)), load_default=list)
    source = Text(allow_none=True, validate=validate.Length(max=200))


# -- entries --------------------------------------------------------------------------------------


class ItemIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    data_type = Text(allow_none=True)
    length = fields.Integer(allow_none=True, validate=validate.Range(min=1))
    element_id = fields.Integer(allow_none=True)
    sharing_type = Text(allow_none=True)


class ItemOut(Schema):
    id = fields.Integer()
    name = Text()
    data_type = fields.Enum(DataType, by_value=True, allow_none=True)
    length = fields.Integer(allow_none=True)
    element_id = fields.Integer(allow_none=True)
    sharing_type = fields.Enum(SharingType, by_value=True, allow_none=True)


class EntryFields(Schema):
    name = Text(validate=validate.Length(min=1, max=200))
    summary = Text(validate=validate.Length(min=1, max=10_000))
    provider_id = fields.Integer()
    provider = Text(metadata={"description": "提供方名称（无 provider_id 时）"})
    provider_code = Text(allow_none=True)
    category = Text(metadata={"description": "基础/主题/部门信息资源"})
    classification_code = Text(allow_none=True, validate=validate.Length(max=64))
    format = Text(metadata={"description": "电子文件/电子表格/数据库/图形图像/流媒体/自描述格式/接口"})
    format_detail = Text(allow_none=True, validate=validate.Length(max=64))
    items = fields.List(fields.Nested(ItemIn))
    sharing_type = Text()
    sharing_condition = Text(allow_none=True)
    not_shared_basis = Text(allow_none=True)
    sharing_method = Text(allow_none=True)
    open_attribute = Text(allow_none=True)
    update_cycle = Text()
    publish_date = fields.Date(allow_none=True)
    last_updated = fields.Date(allow_none=True)
    related_codes = fields.List(Text())


class EntryCreate(EntryFields):
    resource_code = Text(allow_none=True, metadata={"description": "前段码/后段码；不填则自动生成"})


class EntryPatch(EntryFields):
    lock_version = fields.Integer(required=True, metadata={"description": "读取时的 lock_version"})


class TransitionIn(Schema):
    reason = Text(allow_none=True, validate=validate.Length(max=2000))
    lock_version = fields.Integer(allow_none=True)


class EntryFilterFields(Schema):
    provider_id = fields.Integer()
    sharing_type = fields.Enum(SharingType, by_value=True)
    status = fields.Enum(EntryStatus, by_value=True)
    update_cycle = fields.Enum(UpdateCycle, by_value=True)
    category = fields.Enum(Category, by_value=True)
    mounted = fields.Boolean()
    q = Text(validate=validate.Length(min=1, max=200), metadata={"description": "名称、摘要或信息项中的文字"})
    sort = Text(load_default="-updated_at", metadata={"description": "name, resource_code, updated_at, publish_date, last_updated; 前缀 - 表示降序"})


class EntryFilterArgs(PageArgs, EntryFilterFields):
    pass


class MountOut(Schema):
    id = fields.Integer()
    kind = fields.Enum(MountKind, by_value=True)
    url = fields.Method("masked_url", allow_none=True)
    table_name = Text(allow_none=True)
    change_column = Text(allow_none=True)
    file_name = Text(allow_none=True)
    checksum = Text(allow_none=True)
    size_bytes = fields.Integer(allow_none=True)
    columns = fields.List(fields.Dict())
    row_count = fields.Integer(allow_none=True)
    data_changed_at = fields.DateTime(allow_none=True)
    health = fields.Enum(Health, by_value=True)
    checked_at = fields.DateTime(allow_none=True)
    mounted_at = fields.DateTime()
    unmounted_at = fields.DateTime(allow_none=True)

    def masked_url(self, mount) -> str | None:
        from catalog.sources import masked

        return masked(mount.url)


class MountIn(Schema):
    kind = fields.Enum(MountKind, by_value=True, required=True)
    url = Text(validate=validate.Length(min=1, max=2000), metadata={"description": "库表：SQLAlchemy URL；接口：http(s) 地址"})
    table = Text(validate=validate.Length(min=1, max=200))
    change_column = Text(allow_none=True, validate=validate.Length(max=200))


class FileMountIn(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class EntryRef(Schema):
    id = fields.Integer()
    resource_code = Text()
    name = Text()
    provider = fields.Nested(DepartmentRef)
    sharing_type = fields.Enum(SharingType, by_value=True)


class EntrySummary(Schema):
    id = fields.Integer()
    resource_code = Text()
    name = Text()
    provider = fields.Nested(DepartmentRef)
    sharing_type = fields.Enum(SharingType, by_value=True)
    update_cycle = fields.Enum(UpdateCycle, by_value=True)
    status = fields.Enum(EntryStatus, by_value=True)
    version = fields.Integer()
    last_updated = fields.Date(allow_none=True)
    updated_at = fields.DateTime()
    mounted = fields.Boolean()


class EntryOut(EntrySummary):
    summary = Text()
    category = fields.Enum(Category, by_value=True)
    classification_code = Text(allow_none=True)
    format = fields.Enum(ResourceFormat, by_value=True)
    format_detail = Text(allow_none=True)
    sharing_condition = Text(allow_none=True)
    not_shared_basis = Text(allow_none=True)
    sharing_method = fields.Enum(SharingMethod, by_value=True, allow_none=True)
    open_attribute = fields.Enum(OpenAttribute, by_value=True)
    publish_date = fields.Date(allow_none=True)
    related_codes = fields.List(Text())
    lock_version = fields.Integer()
    created_at = fields.DateTime()
    items = fields.List(fields.Nested(ItemOut))
    mounts = fields.List(fields.Nested(MountOut))


class VersionOut(Schema):
    version = fields.Integer()
    published_at = fields.DateTime()
    published_by = fields.Integer(allow_none=True)
    snapshot = fields.Dict()


class StatusChangeOut(Schema):
    from_status = fields.Enum(EntryStatus, by_value=True, allow_none=True)
    to_status = fields.Enum(EntryStatus, by_value=True)
    reason = Text(allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    at = fields.DateTime()


class ImportArgs(Schema):
    dry_run = fields.Boolean(load_default=False)
    create_departments = fields.Boolean(load_default=False)
    status = fields.Enum(EntryStatus, by_value=True, allow_none=True)
    sheet = Text(allow_none=True)


class ImportOut(Schema):
    rows = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    departments_created = fields.Integer()
    dry_run = fields.Boolean()
    ignored_headers = fields.List(Text())


class ExportArgs(EntryFilterFields):
    format = Text(load_default="xlsx", validate=validate.OneOf(["xlsx", "csv"]))


class UserOut(Schema):
    id = fields.Integer()
    username = Text()
    display_name = Text()
    role = Text()
    department = fields.Nested(DepartmentRef, allow_none=True)


class ErrorBody(Schema):
    code = Text()
    message = Text()
    details = fields.Raw(allow_none=True)


class ErrorOut(Schema):
    error = fields.Nested(ErrorBody)
