"""The owners' committee's account in WeChat (issue 20): it links its WeChat like any staff account (我的账号 →
绑定微信, handlers/staff), then gets a push when a motion of its estate opens, closes (with the verdict), is
withdrawn or is opened by staff after the committee drafted it (push kind `owners_motion`, which the account may
switch off), and 「待办」 in chat lists its estate's motions instead of tickets (it has none).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.staff import push_to_staff
from storage.models import Staff
from storage.owner_models import Motion
from storage.repositories import owners as repo

WHAT = {"open": "已开始表决", "closed": "已结束", "withdrawn": "已撤销", "released": "已由工作人员核对开启"}


async def notify(session: AsyncSession, motion: Motion, what: str, now: datetime, detail: str = "") -> int:
    """Push to the estate's committee accounts that a motion `what` happened (WHAT); how many were reached."""
    people = await repo.committee_accounts(session, motion.estate_id)
    if not people:
        return 0
    text = f"业主表决事项「{motion.title}」{WHAT[what]}" + (f"：{detail}" if detail else "。")
    return await push_to_staff(session, people, kind="owners_motion", title="业主表决", text=text[:300],
                               link=f"/console/owners/motions/{motion.id}", now=now,
                               source=f"motion:{motion.id}:committee:{what}", created_by="owners")


async def todo_text(session: AsyncSession, staff: Staff) -> str:
    """「待办」 for a committee's account: its estate's motions not yet closed."""
    from handlers.owners import motions

    found = [m for m in await repo.motions(session, estate_ids=[staff.committee_estate_id],
                                           statuses=["draft", "scheduled", "open"], limit=20)]
    if not found:
        return "本小区目前没有待开启或进行中的业主表决。业主委员会可在工作台「业主表决」起草表决事项。"
    lines = [f"本小区的业主表决（{len(found)} 项）："]
    lines += [f"· {m.title}【{motions.STATUS_LABELS.get(m.status, m.status)}】截止 {motions.local(m.closes_at)}"
              for m in found]
    lines.append("参与情况和结果请到工作台「业主表决」查看。")
    return "\n".join(lines)
