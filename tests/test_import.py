"""Bulk import and export in the national templates: good files, every kind of bad file, round trips."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import func, select

from catalog import services
from catalog.actors import SYSTEM
from catalog.elements import import_departments, import_elements
from catalog.errors import ImportFailed, PermissionDenied
from catalog.exporting import catalog_frame, export_catalog, write_error_workbook
from catalog.importing import import_catalog
from catalog.models import CatalogEntry, DataElement, Department, EntryVersion, InfoItem
from catalog.templates import CATALOG, DEPARTMENTS, ELEMENTS, read_sheet
from catalog.vocab import EntryStatus, UpdateCycle

from .conftest import SHARED_DATA

SAMPLE = SHARED_DATA / "templates" / "catalog_sample.csv"
ELEMENTS_FILE = SHARED_DATA / "data_elements_real.csv"
pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason="../shared/data is not beside the checkout")


def sheet_of(path, template=CATALOG, **kwargs):
    return read_sheet(path, filename=path.name, template=template, max_bytes=1 << 26, **kwargs)


def csv_sheet(text: str, name="catalog.csv", template=CATALOG):
    return read_sheet(io.BytesIO(text.encode("utf-8")), filename=name, template=template, max_bytes=1 << 20)


def sample_rows() -> pd.DataFrame:
    return pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)


def rows_to_csv(frame: pd.DataFrame):
    return csv_sheet(frame.to_csv(index=False))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_the_sample_template_imports_with_its_providers(session, now):
    result = import_catalog(session, actor=SYSTEM, sheet=sheet_of(SAMPLE), now=now, create_departments=True)
    assert (result.created, result.departments_created) == (40, count(session, Department))
    assert count(session, CatalogEntry) == 40
    entry = session.scalar(select(CatalogEntry).where(CatalogEntry.resource_code == "33100201/000001"))
    assert entry.provider.name == "【台州市】公共资源中心"
    assert [i.name for i in entry.items][:2] == ["ID", "平台ID"]
    assert entry.status is EntryStatus.PUBLISHED and entry.version == 1


def test_real_variant_spellings_are_normalised_on_import(session, now):
    import_catalog(session, actor=SYSTEM, sheet=sheet_of(SAMPLE), now=now, create_departments=True)
    cycles = dict(session.execute(select(CatalogEntry.resource_code, CatalogEntry.update_cycle)).all())
    assert cycles["33100201/000004"] is UpdateCycle.STATIC  # 不更新


def test_reimporting_updates_by_code_instead_of_duplicating(session, now):
    import_catalog(session, actor=SYSTEM, sheet=sheet_of(SAMPLE), now=now, create_departments=True)
    frame = sample_rows()
    frame.loc[0, "信息资源名称"] = "大数据平台单位信息（修订）"
    result = import_catalog(session, actor=SYSTEM, sheet=rows_to_csv(frame), now=now)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 39)
    entry = session.scalar(select(CatalogEntry).where(CatalogEntry.resource_code == "33100201/000001"))
    assert entry.name == "大数据平台单位信息（修订）" and entry.version == 2
    assert count(session, CatalogEntry) == 40
    assert count(session, EntryVersion) == 41


def test_an_unknown_provider_is_an_error_naming_row_and_column(session, now):
    with pytest.raises(ImportFailed) as caught:
        import_catalog(session, actor=SYSTEM, sheet=sheet_of(SAMPLE), now=now)
    first = caught.value.problems[0]
    assert (first.row, first.column, first.value) == (2, "信息资源提供方", "【台州市】公共资源中心")
    assert count(session, CatalogEntry) == 0 and count(session, Department) == 0


def test_every_bad_cell_is_reported_and_nothing_is_written(session, now):
    frame = sample_rows()
    frame.loc[2, "更新周期"] = "牲畜饲养"
    frame.loc[5, "共享类型"] = "有条件共享"
    frame.loc[5, "共享条件"] = ""
    frame.loc[7, "信息资源代码"] = "33100201-000001"
    with pytest.raises(ImportFailed) as caught:
        import_catalog(session, actor=SYSTEM, sheet=rows_to_csv(frame), now=now, create_departments=True)
    where = {(p.row, p.column) for p in caught.value.problems}
    assert where == {(4, "更新周期"), (7, "共享条件"), (9, "信息资源代码")}
    assert count(session, CatalogEntry) == 0 and count(session, Department) == 0


def test_duplicate_codes_within_a_file_are_reported_on_each_row(session, now):
    frame = sample_rows()
    frame.loc[1, "信息资源代码"] = frame.loc[0, "信息资源代码"]
    with pytest.raises(ImportFailed) as caught:
        import_catalog(session, actor=SYSTEM, sheet=rows_to_csv(frame), now=now, create_departments=True)
    assert [(p.row, p.message) for p in caught.value.problems] == [(2, "信息资源代码在文件中重复"),
                                                                     (3, "信息资源代码在文件中重复")]


def test_a_dry_run_checks_everything_and_writes_nothing(session, now):
    result = import_catalog(session, actor=SYSTEM, sheet=sheet_of(SAMPLE), now=now,
                            create_departments=True, dry_run=True)
    assert result.created == 40
    assert count(session, CatalogEntry) == 0 and count(session, Department) == 0


def test_a_provider_imports_drafts_of_its_own_department_only(session, user, department, now):
    own = department("【台州市】公共资源中心", 301)
    provider = user("pub", "provider", own)[0].actor
    rows = sample_rows()
    mine = rows[rows["信息资源提供方"] == own.name]
    result = import_catalog(session, actor=provider, sheet=rows_to_csv(mine), now=now)
    statuses = set(session.scalars(select(CatalogEntry.status)))
    assert result.created == len(mine) and statuses == {EntryStatus.DRAFT}
    with pytest.raises(ImportFailed, match="问题"):
        import_catalog(session, actor=provider, sheet=sheet_of(SAMPLE), now=now, create_departments=False)


def test_a_provider_cannot_import_as_published(session, user, department, now):
    provider = user("pub", "provider", department("【台州市】公共资源中心", 301))[0].actor
    with pytest.raises(PermissionDenied):
        import_catalog(session, actor=provider, sheet=sheet_of(SAMPLE), now=now, status=EntryStatus.PUBLISHED)


def test_codes_are_generated_when_absent(session, now):
    frame = sample_rows().head(3)
    frame["信息资源代码"] = ""
    import_catalog(session, actor=SYSTEM, sheet=rows_to_csv(frame), now=now, create_departments=True)
    codes = sorted(session.scalars(select(CatalogEntry.resource_code)))
    assert codes == ["000000/000001", "000000/000002", "000000/000003"]


def test_items_named_like_a_data_element_are_bound_to_it(session, now):
    import_elements(session, actor=SYSTEM, sheet=sheet_of(ELEMENTS_FILE, ELEMENTS))
    frame = sample_rows().head(1)
    frame["信息项"] = "办件编号甲|实施主体代码"
    import_catalog(session, actor=SYSTEM, sheet=rows_to_csv(frame), now=now, create_departments=True)
    bound = dict(session.execute(select(InfoItem.name, InfoItem.element_id)).all())
    assert bound["办件编号甲"] is None
    element = session.get(DataElement, bound["实施主体代码"])
    assert element.name == "实施主体代码"


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_export_then_import_round_trips(session, tmp_path, now, suffix):
    import_catalog(session, actor=SYSTEM, sheet=sheet_of(SAMPLE), now=now, create_departments=True)
    target = tmp_path / f"export.{suffix}"
    assert export_catalog(session, actor=SYSTEM, target=target) == 40
    result = import_catalog(session, actor=SYSTEM, sheet=sheet_of(target), now=now)
    assert (result.unchanged, result.created, result.updated) == (40, 0, 0)


def test_export_writes_the_template_headers_and_labels(session, now):
    import_catalog(session, actor=SYSTEM, sheet=sheet_of(SAMPLE), now=now, create_departments=True)
    frame = catalog_frame(session, actor=SYSTEM)
    row = frame[frame["resource_code"] == "33100201/000004"].iloc[0]
    assert (row["sharing_type"], row["update_cycle"], row["format"]) == ("有条件共享", "不更新", "电子表格/XLSX")


def test_english_headers_are_accepted(session, now):
    frame = sample_rows().head(2).rename(columns={c.header: c.field for c in CATALOG.columns})
    result = import_catalog(session, actor=SYSTEM, sheet=rows_to_csv(frame), now=now, create_departments=True)
    assert result.created == 2


def test_missing_required_headers_are_named(now):
    with pytest.raises(ImportFailed) as caught:
        csv_sheet("信息资源名称,信息资源摘要\n甲,乙\n")
    assert "信息资源提供方" in caught.value.problems[0].message
    assert "更新周期" in caught.value.problems[0].message


def test_unknown_headers_are_ignored_and_reported():
    frame = sample_rows().head(1)
    frame["序号"] = "1"
    assert rows_to_csv(frame).ignored_headers == ["序号"]


def test_a_wrong_sheet_name_lists_the_sheets_there(tmp_path):
    path = tmp_path / "catalog.xlsx"
    sample_rows().to_excel(path, sheet_name="目录", index=False)
    with pytest.raises(ImportFailed, match="找不到工作表“汇总”，文件中有：目录"):
        sheet_of(path, sheet="汇总")


def test_a_corrupt_xlsx_is_refused_clearly():
    with pytest.raises(ImportFailed, match="Excel 文件无法打开"):
        read_sheet(io.BytesIO(b"not a zip"), filename="x.xlsx", template=CATALOG, max_bytes=1 << 20)


def test_an_oversized_file_is_refused_before_it_is_parsed():
    with pytest.raises(ImportFailed, match="文件过大"):
        read_sheet(io.BytesIO(b"x" * 2048), filename="x.csv", template=CATALOG, max_bytes=1024)


def test_a_gb18030_csv_is_read(session, now):
    data = sample_rows().head(2).to_csv(index=False).encode("gb18030")
    sheet = read_sheet(io.BytesIO(data), filename="gbk.csv", template=CATALOG, max_bytes=1 << 20)
    assert import_catalog(session, actor=SYSTEM, sheet=sheet, now=now, create_departments=True).created == 2


def test_the_error_workbook_lists_problems_and_marks_bad_rows(session, tmp_path, now):
    frame = sample_rows()
    frame.loc[2, "更新周期"] = "牲畜饲养"
    sheet = rows_to_csv(frame)
    with pytest.raises(ImportFailed) as caught:
        import_catalog(session, actor=SYSTEM, sheet=sheet, now=now, create_departments=True)
    target = write_error_workbook(caught.value.problems, tmp_path / "errors.xlsx", template=CATALOG,
                                  rows=dict(sheet.records()))
    book = openpyxl.load_workbook(target)
    listing = list(book["错误清单"].iter_rows(values_only=True))
    assert listing[1][:3] == (4, "更新周期", "牲畜饲养")
    marked = list(book["出错的行"].iter_rows(values_only=True))
    assert marked[1][0] == 4 and "牲畜饲养" in marked[1]


def test_the_gbt_39046_elements_import_and_reimport_in_place(session):
    first = import_elements(session, actor=SYSTEM, sheet=sheet_of(ELEMENTS_FILE, ELEMENTS))
    second = import_elements(session, actor=SYSTEM, sheet=sheet_of(ELEMENTS_FILE, ELEMENTS))
    assert (first["created"], second["created"], second["updated"]) == (242, 0, 242)
    element = session.scalar(select(DataElement).where(DataElement.identifier == "GBT39046-2020.T4.002"))
    assert (element.name, element.data_type.value, element.format) == ("基本编码", "character", "an..10")


def test_departments_import_checks_codes_and_links_parents(session):
    good = "部门名称,统一社会信用代码,层级,行政区划代码,上级部门\n台州市人民政府,,市,331000,\n台州市统计局,11331000MB0000001X,市,331000,台州市人民政府\n"
    with pytest.raises(ImportFailed) as caught:
        import_departments(session, actor=SYSTEM, sheet=csv_sheet(good, template=DEPARTMENTS))
    assert (caught.value.problems[0].row, caught.value.problems[0].column) == (3, "统一社会信用代码")
    fixed = good.replace("11331000MB0000001X", "")
    import_departments(session, actor=SYSTEM, sheet=csv_sheet(fixed, template=DEPARTMENTS))
    child = services.find_department(session, "台州市统计局")
    assert child.parent.name == "台州市人民政府"
