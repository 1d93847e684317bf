"""The national cataloguing rules, codes and vocabularies (pure: no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from catalog.codes import make_uscc, parse_region_code, parse_resource_code, parse_uscc
from catalog.rules import RuleViolations, parse_entry, parse_item
from catalog.vocab import DataType, OpenAttribute, SharingType, UpdateCycle

from .conftest import entry_fields


@pytest.mark.parametrize("code", ["914403001922038216", "91110000802100433B", "11100000000013127D"])
def test_real_credit_codes_pass_the_gb32100_check(code):
    assert parse_uscc(code) == code


@pytest.mark.parametrize(
    "code, complaint",
    [
        ("914403001922038217", "校验位错误，应为“6”"),
        ("91440300192203821", "应为18位"),
        ("91440300192203821I", "不允许的字符：I"),
    ],
)
def test_bad_credit_codes_are_refused_with_the_reason(code, complaint):
    with pytest.raises(ValueError, match=complaint):
        parse_uscc(code)


def test_generated_credit_codes_carry_a_valid_check_character():
    assert parse_uscc(make_uscc("331000", 42)) == make_uscc("331000", 42)


def test_lower_case_and_full_width_credit_codes_are_normalised():
    assert parse_uscc("９１１１００００８０２１００４３３b") == "91110000802100433B"


@pytest.mark.parametrize("raw, parts", [("33100201/000001", ("33100201", "000001")),
                                        ("３３１００２０１／０００００２", ("33100201", "000002"))])
def test_resource_codes_split_into_front_and_sequence(raw, parts):
    assert parse_resource_code(raw) == parts


@pytest.mark.parametrize("raw", ["33100201", "33100201/12", "/000001", "331-002/000001"])
def test_malformed_resource_codes_are_refused(raw):
    with pytest.raises(ValueError, match="前段码/后段码"):
        parse_resource_code(raw)


@pytest.mark.parametrize("raw", ["331002", "110000"])
def test_region_codes_are_six_digits(raw):
    assert parse_region_code(raw) == raw


def test_a_short_region_code_is_refused():
    with pytest.raises(ValueError, match="6位数字"):
        parse_region_code("3310")


# The spellings below are the update_cycle values found in the real catalog of 67 portals.
@pytest.mark.parametrize(
    "raw, cycle",
    [
        ("每年", UpdateCycle.YEARLY), ("年", UpdateCycle.YEARLY), ("按年更新", UpdateCycle.YEARLY),
        ("‘每年’", UpdateCycle.YEARLY), ("每年(更新说明:暂无新业务数据产生)", UpdateCycle.YEARLY),
        ("实时", UpdateCycle.REALTIME), ("即时", UpdateCycle.REALTIME), ("分钟级", UpdateCycle.REALTIME),
        ("小时级", UpdateCycle.REALTIME), ("每日", UpdateCycle.DAILY), ("每天", UpdateCycle.DAILY),
        ("每周", UpdateCycle.WEEKLY), ("每月", UpdateCycle.MONTHLY), ("每半月", UpdateCycle.MONTHLY),
        ("季度", UpdateCycle.QUARTERLY), ("每季度", UpdateCycle.QUARTERLY), ("半年", UpdateCycle.SEMIANNUAL),
        ("每两年", UpdateCycle.BIENNIAL), ("不定期", UpdateCycle.IRREGULAR),
        ("不定期更新", UpdateCycle.IRREGULAR), ("不定时", UpdateCycle.IRREGULAR),
        ("其他", UpdateCycle.IRREGULAR), ("其它", UpdateCycle.IRREGULAR), ("不更新", UpdateCycle.STATIC),
        ("静态数据", UpdateCycle.STATIC), ("yearly", UpdateCycle.YEARLY),
    ],
)
def test_real_update_cycle_spellings_normalise(raw, cycle):
    assert UpdateCycle.parse(raw) is cycle


def test_an_unknown_update_cycle_names_the_value_and_the_choices():
    with pytest.raises(ValueError, match="“牲畜饲养”不是有效的取值.*每年"):
        UpdateCycle.parse("牲畜饲养")


def _problems(**overrides) -> dict[str, list[str]]:
    with pytest.raises(RuleViolations) as caught:
        parse_entry(entry_fields(provider="台州市统计局", **overrides))
    return caught.value.by_field()


def test_a_valid_entry_is_normalised():
    data = parse_entry(entry_fields(provider="台州市统计局", publish_date="2023/06/01"))
    assert data.sharing_type is SharingType.UNCONDITIONAL
    assert data.format_detail == "MySQL"
    assert data.publish_date == dt.date(2023, 6, 1)
    assert [(i.name, i.data_type, i.length) for i in data.items][0] == ("统一社会信用代码", DataType.CHARACTER, 18)


def test_conditional_sharing_needs_a_condition():
    assert "sharing_condition" in _problems(sharing_type="有条件共享")


def test_not_shared_needs_a_basis():
    assert "not_shared_basis" in _problems(sharing_type="不予共享", open_attribute=None)


def test_not_shared_forces_closed_when_open_attribute_is_blank():
    data = parse_entry(entry_fields(provider="p", sharing_type="不予共享", not_shared_basis="涉密",
                                    open_attribute="", sharing_method=""))
    assert data.open_attribute is OpenAttribute.CLOSED


def test_not_shared_refuses_an_open_attribute_that_says_open():
    assert "open_attribute" in _problems(sharing_type="不予共享", not_shared_basis="涉密", open_attribute="无条件开放")


def test_shared_entries_need_a_sharing_method():
    assert "sharing_method" in _problems(sharing_method="")


@pytest.mark.parametrize("field", ["name", "summary", "format", "sharing_type", "update_cycle"])
def test_required_fields_are_reported_by_name(field):
    assert _problems(**{field: ""})[field] == ["必填"]


def test_every_problem_of_an_entry_is_reported_at_once():
    problems = _problems(name="", update_cycle="每x", items="a|a", related_codes="bad")
    assert set(problems) == {"name", "update_cycle", "items", "related_codes"}


def test_item_names_must_be_unique_within_an_entry():
    assert "信息项名称重复：企业名称" in _problems(items="企业名称|企业名称")["items"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("企业名称", ("企业名称", None, None)),
        ("企业名称:字符型:100", ("企业名称", DataType.CHARACTER, 100)),
        ("成立日期：日期型", ("成立日期", DataType.DATE, None)),
        ("其中：女", ("其中：女", None, None)),  # real item names contain colons
        ("公园服务电话（09:00—17:00）", ("公园服务电话（09:00—17:00）", None, None)),
    ],
)
def test_items_read_name_type_and_length(text, expected):
    item = parse_item(text)
    assert (item.name, item.data_type, item.length) == expected


def test_an_item_length_must_be_positive():
    with pytest.raises(ValueError, match="长度应为正整数"):
        parse_item("企业名称:字符型:0")


def test_unreadable_dates_are_refused():
    assert "publish_date" in _problems(publish_date="去年")
