"""Pure rules of registration: parsing a room, describing a resident, the wording of the dialog."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.localtime import local_text
from storage.models import Resident, ResidentRole

ROLE_OPTIONS = (ResidentRole.owner, ResidentRole.tenant)
_ROOM = re.compile(r"^(?P<building>[0-9A-Za-z一-龥]{1,12}?)(?:号楼|栋|号|幢)?[-－—/ ]?(?P<rest>[0-9A-Za-z][0-9A-Za-z\-]{0,20})$")


@dataclass(frozen=True)
class Room:
    building: str
    room: str


def parse_room(text: str) -> Room | None:
    """Read `3-2-501`, `3号楼2-501`, `12栋1201` as building + room; None when it does not look like one."""
    cleaned = unicodedata.normalize("NFKC", text).strip().replace("单元", "-").replace("室", "")
    cleaned = re.sub(r"\s+", "", cleaned)
    if "-" in cleaned and not re.search(r"号楼|栋|幢", cleaned):
        building, _, rest = cleaned.partition("-")
        if re.fullmatch(r"[0-9A-Za-z]{1,12}", building) and re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z\-]{0,20}", rest):
            return Room(building, rest)
        return None
    found = _ROOM.match(cleaned)
    if not found:
        return None
    return Room(found.group("building"), found.group("rest").strip("-"))


def describe(resident: Resident) -> str:
    """What linli stores about a resident, in the words shown by 我的信息."""
    if resident.community is None:
        where = "尚未绑定社区（回复「绑定」即可绑定）"
    else:
        street = resident.community.street
        where = f"{street.district.name} {street.name} {resident.community.name}"
    lines = [f"所在社区：{where}"]
    if resident.estate is not None:
        lines.append(f"小区：{resident.estate.name}")
        if resident.estate.property_company is not None:
            lines.append(f"物业服务企业：{resident.estate.property_company.name}")
    if resident.building or resident.room:
        lines.append(f"楼号房号：{resident.building or ''}-{resident.room or ''}")
    if resident.role is not None:
        lines.append(f"身份：{resident.role.label}")
    if resident.bound_at is not None:
        lines.append(f"绑定时间：{local_text(resident.bound_at)}")
    if resident.consent_at is not None:
        lines.append(f"同意保存信息时间：{local_text(resident.consent_at)}")
    lines.append("接收推送：" + ("是" if resident.subscribed else "否"))
    return "\n".join(lines)


CONSENT = "绑定后，本公众号会保存上述信息，仅用于向您推送本社区公示、核实满意度调查资格和办理您的投诉。"
