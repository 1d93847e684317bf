"""Small catalogs and data elements for the matcher's tests."""

from __future__ import annotations

from matching import CatalogIndex, DataElement, Record

CATALOG = [
    Record("ent-1", "企业登记信息", "市场主体登记的基本信息", ["统一社会信用代码", "企业名称",
           "法定代表人", "注册资本", "登记状态"], "市场监督管理局"),
    Record("ent-2", "城乡居民最低生活保障对象名单", "", ["姓名", "公民身份号码", "保障人数"],
           "民政局"),
    Record("ent-3", "公共停车场信息", "公共停车场名称、地址、泊位数", [], "交通运输局"),
    Record("ent-4", "宜宾市珙县重度残疾人家庭无障碍改造花名册", "",
           ["姓名", "联系电话", "现居住地址", "身份证", "残疾证号"], "珙县残疾人联合会"),
    Record("ent-5", "社会保险参保人员信息", "", ["姓名", "身份证号码", "参保险种", "参保时间"],
           "人力资源和社会保障局"),
    Record("ent-6", "建筑施工企业资质信息", "", ["企业名称", "资质等级", "证书编号"],
           "住房和城乡建设局"),
    Record("ent-7", "医疗机构执业登记信息", "", ["机构名称", "地址", "诊疗科目"], "卫生健康委员会"),
    Record("ent-8", "养老机构床位统计", "", ["机构名称", "床位数", "地址"], "民政局"),
]

ELEMENTS = [
    DataElement("de-1", "公民身份号码", "居民身份证上的号码", ("身份证号码",)),
    DataElement("de-2", "统一社会信用代码", "符合GB 32100的代码"),
    DataElement("de-3", "法定代表人姓名", ""),
    DataElement("de-4", "联系电话", ""),
]




def fresh_index(records=CATALOG) -> CatalogIndex:
    return CatalogIndex.build(records, elements=ELEMENTS)
