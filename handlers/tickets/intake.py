"""One-shot complaint parsing: `投诉 楼道灯坏了三天了` → category guess, description, phone, what is missing.

Pure functions. The category is guessed from keywords (longer keywords weigh more); an unclear guess (no hit,
or a tie) leaves the category missing, so the dialog asks for it instead of filing it wrongly.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from handlers.tickets.rules import find_phone

KEYWORDS: dict[str, tuple[str, ...]] = {
    "repair": ("维修", "报修", "坏了", "损坏", "故障", "漏水", "渗水", "跑水", "堵塞", "堵了", "电梯", "楼道灯", "路灯",
               "灯不亮", "水管", "管道", "暖气", "供暖", "门禁", "单元门", "墙皮", "脱落", "裂缝", "停电", "停水", "修"),
    "fees": ("物业费", "收费", "乱收费", "涨价", "多收", "账单", "发票", "押金", "水电费", "退费", "滞纳金"),
    "income": ("公共收益", "广告费", "电梯广告", "场地租金", "出租收入", "收益分配", "收益公示", "收益"),
    "parking": ("停车", "车位", "车库", "占道", "充电桩", "电动车", "停车费", "僵尸车", "堵车"),
    "environment": ("噪音", "太吵", "吵闹", "扰民", "垃圾", "卫生", "异味", "臭味", "绿化", "装修声", "广场舞", "油烟",
                    "宠物", "狗叫", "遛狗", "蚊虫", "老鼠", "环境"),
    "committee": ("业委会", "业主委员会", "业主大会", "换届", "选举", "委员"),
    "developer": ("开发商", "交房", "房屋质量", "质量问题", "保修期", "延期交付", "烂尾", "配套", "规划变更", "开发"),
    "property": ("物业", "保安", "保洁", "门卫", "服务态度", "不作为", "管家", "巡逻", "物业公司"),
}
_COMMAND = re.compile(r"^(?:我要投诉|我想投诉|投诉|我要反映|反映问题|反映|举报|报事)\s*[:：,，。\s]*")
MIN_DESCRIPTION = 4
MAX_DESCRIPTION = 500


@dataclass
class Intake:
    description: str
    category: str | None = None
    phone: str | None = None
    scores: dict[str, int] = field(default_factory=dict)

    @property
    def missing(self) -> list[str]:
        """What the dialog still has to ask: `category`, `description` (phone, photos, location are optional)."""
        out = []
        if self.category is None:
            out.append("category")
        if len(self.description) < MIN_DESCRIPTION:
            out.append("description")
        return out


def strip_command(text: str) -> str:
    """The complaint text without the leading command word (投诉 / 我要投诉 / 反映 …), otherwise as the resident
    wrote it (full-width punctuation stays: 「，」 is not turned into 「,」)."""
    return _COMMAND.sub("", text.strip(), count=1).strip()


def guess_category(text: str) -> tuple[str | None, dict[str, int]]:
    """(category code or None when unclear, score per category)."""
    scores: dict[str, int] = {}
    for code, words in KEYWORDS.items():
        score = sum(len(w) for w in words if w in text)
        if score:
            scores[code] = score
    if not scores:
        return None, scores
    best = max(scores.values())
    leaders = [c for c, s in scores.items() if s == best]
    return (leaders[0] if len(leaders) == 1 else None), scores


def parse(text: str) -> Intake:
    """Read a complaint written in one message (with or without the command word). The description is never
    cut: one longer than MAX_DESCRIPTION is refused by `description_problem`, as in the step-by-step dialog."""
    body = strip_command(text)
    category, scores = guess_category(unicodedata.normalize("NFKC", body))
    return Intake(description=body, category=category, phone=find_phone(body), scores=scores)


def description_problem(text: str) -> str | None:
    """Why `text` cannot be a complaint's description (Chinese), or None."""
    clean = unicodedata.normalize("NFKC", text).strip()
    if len(clean) < MIN_DESCRIPTION:
        return f"描述太短了，请用至少 {MIN_DESCRIPTION} 个字说明发生了什么、在哪里、持续多久。"
    if len(clean) > MAX_DESCRIPTION:
        return f"描述太长了（{len(clean)} 字），请精简到 {MAX_DESCRIPTION} 字以内。"
    return None
