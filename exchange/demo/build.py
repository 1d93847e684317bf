"""Build the demo jurisdiction shipped in ``exchange/demo/data`` from the real public data.

Run from a checkout with ``shared/data`` beside it: ``python -m exchange.demo.build``.  It takes
the catalog of 台州市 (cnpds:zhejiang_taizhou, Apache-2.0, CN-PDS) for its busiest departments
and the GB/T 39046-2020 data-element sample, and writes them in the national templates.  The
sharing attributes, codes and dates, which the open-data portal does not publish, are filled in
deterministically for illustration.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from collections import Counter
from pathlib import Path

from catalog.codes import make_uscc
from catalog.vocab import UpdateCycle

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT / "shared" / "data"
OUT = Path(__file__).resolve().parent / "data"
PORTAL = "cnpds:zhejiang_taizhou"
DEPARTMENTS = 14
ENTRIES = 320
REGIONS = {"台州市": "331000", "椒江区": "331002", "黄岩区": "331003", "路桥区": "331004",
           "三门县": "331022", "天台县": "331023", "仙居县": "331024", "温岭市": "331081",
           "临海市": "331082", "玉环市": "331083"}


def roll(*parts: object) -> int:
    return int(hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:8], 16) % 100


def region_of(department: str) -> str:
    place = department[1:department.index("】")] if department.startswith("【") else "台州市"
    return REGIONS.get(place, "331000")


def main() -> None:
    csv.field_size_limit(sys.maxsize)
    with (SOURCE / "catalog_real.csv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["source"] == PORTAL and r["items"]]
    busiest = [d for d, _ in Counter(r["department"] for r in rows).most_common(DEPARTMENTS)]
    chosen = [r for r in rows if r["department"] in busiest][:ENTRIES]
    _write_departments(busiest)
    _write_catalog(chosen)
    _write_elements()
    print(f"{len(busiest)} departments, {len(chosen)} entries written to {OUT.name}/")


def _write(name: str, header: list[str], rows: list[list]) -> None:
    with (OUT / name).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _write_departments(names: list[str]) -> None:
    rows = [["台州市大数据发展管理局", make_uscc("331000", 9001), "市", "331000", ""],
            ["台州市住房和城乡建设局", make_uscc("331000", 9002), "市", "331000", ""],
            ["台州市医疗保障局（需求方）", make_uscc("331000", 9003), "市", "331000", ""]]
    for serial, name in enumerate(names, start=1):
        region = region_of(name)
        level = "市" if region == "331000" else "县"
        rows.append([name, make_uscc(region, serial), level, region, ""])
    _write("departments.csv", ["部门名称", "统一社会信用代码", "层级", "行政区划代码", "上级部门"], rows)


def _write_catalog(rows: list[dict]) -> None:
    out = []
    for index, row in enumerate(rows, start=1):
        r = roll(row["resource_name"], index)
        sharing = "无条件共享" if r < 70 else "有条件共享" if r < 92 else "不予共享"
        try:
            cycle = UpdateCycle.parse(row["update_cycle"]).label
        except ValueError:
            cycle = "不定期"
        out.append([
            f"33100201/{index:06d}", row["resource_name"], row["department"], "",
            row["summary"] or row["resource_name"], "部门信息资源",
            ("数据库/MySQL", "电子表格/XLSX", "接口/JSON")[r % 3], row["items"], sharing,
            "仅用于行政审批和监管，需说明使用依据" if sharing == "有条件共享" else "",
            "涉及个人隐私，依据《中华人民共和国个人信息保护法》" if sharing == "不予共享" else "",
            "" if sharing == "不予共享" else ("库表", "文件", "接口")[r % 3],
            "不予开放" if sharing == "不予共享" else ("有条件开放", "无条件开放")[r % 2], cycle,
            "2023-06-01", "", "",
        ])
    header = ["信息资源代码", "信息资源名称", "信息资源提供方", "信息资源提供方代码", "信息资源摘要",
              "信息资源分类", "信息资源格式", "信息项", "共享类型", "共享条件", "不予共享依据",
              "共享方式", "开放属性", "更新周期", "发布日期", "最近更新日期", "关联资源代码"]
    _write("catalog.csv", header, out)


def _write_elements() -> None:
    with (SOURCE / "data_elements_real.csv").open(encoding="utf-8") as handle:
        rows = [[r["name"], r["definition"], r["datatype"], r["source"]] for r in csv.DictReader(handle)]
    _write("data_elements.csv", ["中文名称", "定义", "数据类型", "来源"], rows)


if __name__ == "__main__":
    main()
