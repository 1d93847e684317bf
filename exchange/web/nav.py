"""The navigation each role sees: (label, endpoint) pairs; labels are translated in the layout."""

from __future__ import annotations

from catalog.actors import Role

from .i18n import N_

NAV = {
    Role.PROVIDER: [(N_("首页"), "home.index"), (N_("本部门目录"), "provider.entries"), (N_("导入目录"), "provider.import_form"),
                    (N_("目录问题"), "provider.flags"), (N_("待办需求"), "provider.demands"),
                    (N_("共享申请"), "provider.applications"), (N_("异议"), "provider.objections"),
                    (N_("本部门统计"), "bureau.dashboard")],
    Role.ADMIN: [(N_("首页"), "home.index"), (N_("用户管理"), "admin.users"), (N_("部门管理"), "admin.departments"),
                 (N_("设置"), "admin.settings")],
    Role.BUREAU: [(N_("首页"), "home.index"), (N_("监管看板"), "bureau.dashboard"), (N_("考核"), "bureau.scorecards_page"),
                  (N_("需求审核"), "bureau.demands"),
                  (N_("目录审核"), "bureau.submissions"), (N_("数据元"), "bureau.elements"),
                  (N_("同义词库"), "vocabulary.synonyms_list"), (N_("豁免审批"), "exemptions.listing"),
                  (N_("定时任务"), "bureau.jobs"), (N_("审计日志"), "bureau.audit_trail")],
    Role.REQUESTER: [(N_("首页"), "home.index"), (N_("查找数据"), "requester.search"),
                     (N_("提出需求"), "requester.demand_new"), (N_("我的需求"), "requester.demands"),
                     (N_("我的共享申请"), "requester.applications"), (N_("我的授权"), "requester.grants")],
}


def navigation(user) -> list[tuple[str, str]]:
    return NAV.get(user.role, [])
