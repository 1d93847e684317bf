"""The real catalog of 67 portals (../shared/data/catalog_real.csv) in the national template.

The portals publish open-data catalogs: names, departments, summaries, some items and an update
cycle as written.  What a sharing catalog adds (codes, sharing type and condition, method, dates)
is filled in deterministically here, with a realistic spread, so benchmarks and demos import the
real vocabulary at real scale.  Unknown or blank update cycles become 不定期.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

from catalog.vocab import UpdateCycle

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REAL_CATALOG = DATA / "catalog_real.csv"
REAL_ELEMENTS = DATA / "data_elements_real.csv"

# portal → (region code, jurisdiction name)
PLACES = {
    "beijing": ("110000", "北京市"), "hainan": ("460000", "海南省"), "shanghai": ("310000", "上海市"),
    "zhejiang": ("330000", "浙江省"), "jiangsu": ("320000", "江苏省"), "anhui": ("340000", "安徽省"),
    "ningxia": ("640000", "宁夏回族自治区"), "shaanxi": ("610000", "陕西省"),
}


def _stable(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big")


def read_real(path: Path = REAL_CATALOG, limit: int | None = None) -> list[dict]:
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return rows[:limit] if limit else rows


def jurisdiction(source: str) -> tuple[str, str]:
    """``cnpds:zhejiang_taizhou`` → (a region code, a readable tag) for department names."""
    place = source.split(":", 1)[1]
    province, _, city = place.partition("_")
    if city == province or not city:
        return PLACES.get(province, ("100000", province))
    region = PLACES.get(province, ("100000", province))[0][:2] + f"{_stable(city) % 90 + 1:02d}00"
    return region, f"{city}"


def _cycle(raw: str) -> str:
    try:
        return UpdateCycle.parse(raw).label if raw.strip() else "不定期"
    except ValueError:
        return "不定期"


def template_row(row: dict, index: int) -> dict:
    region, tag = jurisdiction(row["source"])
    dept = row["department"].strip() or "未注明部门"
    roll = _stable(f"{row['source']}|{row['resource_name']}|{index}") % 100
    sharing = "无条件共享" if roll < 70 else "有条件共享" if roll < 92 else "不予共享"
    items = "|".join(dict.fromkeys(i.strip()[:200] for i in row["items"].split("|") if i.strip()))
    return {
        "信息资源代码": f"{region}{_stable(row['source']) % 100:02d}/{index + 1:06d}",
        "信息资源名称": row["resource_name"].strip()[:200] or "未命名资源",
        "信息资源提供方": f"【{tag}】{dept}",
        "信息资源提供方代码": "",
        "信息资源摘要": row["summary"].strip() or row["resource_name"].strip() or "无",
        "信息资源分类": "部门信息资源",
        "信息资源格式": ("数据库", "电子表格", "接口")[roll % 3],
        "信息项": items,
        "共享类型": sharing,
        "共享条件": "仅用于履行法定职责，须说明使用依据" if sharing == "有条件共享" else "",
        "不予共享依据": "《中华人民共和国个人信息保护法》第十三条" if sharing == "不予共享" else "",
        "共享方式": "" if sharing == "不予共享" else ("库表", "文件", "接口")[roll % 3],
        "开放属性": "不予开放" if sharing == "不予共享" else ("无条件开放", "有条件开放")[roll % 2],
        "更新周期": _cycle(row["update_cycle"]),
        "发布日期": "2023-06-01",
        "最近更新日期": f"202{roll % 4}-{roll % 12 + 1:02d}-{roll % 28 + 1:02d}",
        "关联资源代码": "",
    }


def write_template(target: Path, rows: list[dict]) -> int:
    converted = [template_row(row, i) for i, row in enumerate(rows)]
    if target.suffix == ".csv":
        with target.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(converted[0]))
            writer.writeheader()
            writer.writerows(converted)
    else:
        import pandas as pd

        pd.DataFrame(converted).to_excel(target, index=False, sheet_name="信息资源目录", engine="xlsxwriter")
    return len(converted)
