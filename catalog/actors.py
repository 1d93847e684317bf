"""Who is acting, and what each role may do with catalog objects.

The exchange's user accounts turn into an :class:`Actor`; catalog services take one and check
permissions themselves, so every door (API, pages, CLI, jobs) gets the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import PermissionDenied
from .vocab import Vocabulary


class Role(Vocabulary):
    PROVIDER = "provider", "提供方"
    REQUESTER = "requester", "需求方"
    BUREAU = "bureau", "大数据局"
    ADMIN = "admin", "管理员"


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    name: str
    role: Role
    department_id: int | None = None

    @property
    def oversees_all(self) -> bool:
        """The bureau and the platform admin see and manage every department's catalog."""
        return self.role in (Role.BUREAU, Role.ADMIN)

    def may_write_for(self, department_id: int) -> bool:
        if self.oversees_all:
            return True
        return self.role is Role.PROVIDER and self.department_id == department_id

    def require_write_for(self, department_id: int, what: str = "该部门的目录") -> None:
        if not self.may_write_for(department_id):
            raise PermissionDenied(f"{self.name}无权修改{what}")

    def require_role(self, *roles: Role, action: str) -> None:
        if self.role not in roles:
            names = "、".join(r.label for r in roles)
            raise PermissionDenied(f"只有{names}可以{action}")


SYSTEM = Actor(user_id=None, name="系统", role=Role.ADMIN)
