"""Per-broadcast figures for the CLI and the API: counts by status and reason, progress, rate and ETA."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.delivery_models import Broadcast
from storage.repositories import deliveries

STATUSES = ("queued", "sending", "sent", "failed", "skipped")
REASONS = {
    "muted": "已退订该类别", "not_following": "未关注或已取消关注", "invalid_openid": "OpenID 无效",
    "refused": "拒收订阅通知", "no_channel": "无可用渠道（客服窗口已关闭且未配置模板）",
    "resident_gone": "居民信息已删除", "system_busy": "微信系统繁忙", "unreachable": "微信接口超时或连接失败",
    "daily_quota": "每日额度已用完", "user_block": "用户拒收模板消息", "system_failed": "微信发送失败",
}


def describe(broadcast: Broadcast) -> dict:
    return {
        "id": broadcast.id, "category": broadcast.category, "source": broadcast.source, "scope": broadcast.scope,
        "title": broadcast.title, "text": broadcast.text, "summary": broadcast.summary, "link": broadcast.link,
        "created_by": broadcast.created_by, "status": broadcast.status,
        "send_at": _iso(broadcast.send_at), "created_at": _iso(broadcast.created_at),
        "started_at": _iso(broadcast.started_at), "finished_at": _iso(broadcast.finished_at),
        "paused_until": _iso(broadcast.paused_until), "pause_reason": broadcast.pause_reason,
        "expanded": broadcast.expanded,
    }


async def report(session: AsyncSession, broadcast_id: int, now: datetime) -> dict | None:
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return None
    counts = {s: 0 for s in STATUSES}
    reasons: dict[str, dict[str, int]] = {"failed": {}, "skipped": {}, "queued": {}}
    for status, reason, n in await deliveries.counts(session, broadcast_id):
        counts[status] = counts.get(status, 0) + n
        if reason and status in reasons:
            reasons[status][reason] = reasons[status].get(reason, 0) + n
    total = sum(counts.values())
    finished = counts["sent"] + counts["failed"] + counts["skipped"]
    elapsed = (now - broadcast.started_at).total_seconds() if broadcast.started_at else 0.0
    if broadcast.finished_at and broadcast.started_at:
        elapsed = (broadcast.finished_at - broadcast.started_at).total_seconds()
    rate = finished / elapsed if elapsed > 0 else 0.0
    left = total - finished
    eta = None if broadcast.status != "sending" or not rate else left / rate
    return {
        **describe(broadcast), "total": total, "counts": counts, "reasons": reasons,
        "resent_after_crash": await deliveries.resent_count(session, broadcast_id),
        "progress": (finished / total) if total else (1.0 if broadcast.status == "done" else 0.0),
        "rate_per_second": round(rate, 1), "eta_seconds": None if eta is None else round(eta, 1),
    }


async def listing(session: AsyncSession, limit: int = 50, offset: int = 0) -> list[dict]:
    rows = await session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit).offset(offset))
    return [describe(b) for b in rows]


def bar(rep: dict, width: int = 30) -> str:
    done = int(rep["progress"] * width)
    c = rep["counts"]
    eta = "" if rep["eta_seconds"] is None else f" 预计剩余 {_duration(rep['eta_seconds'])}"
    return (f"[{'#' * done}{'.' * (width - done)}] {rep['progress'] * 100:5.1f}%  "
            f"已发送 {c['sent']} 失败 {c['failed']} "
            f"跳过 {c['skipped']} 待发 {c['queued'] + c['sending']} / 共 {rep['total']}  "
            f"{rep['rate_per_second']}/秒{eta}")


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} 秒"
    if seconds < 3600:
        return f"{seconds // 60} 分 {seconds % 60} 秒"
    return f"{seconds // 3600} 小时 {seconds % 3600 // 60} 分"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
