"""The policy's three ready-made questionnaires (津 社区物业管理 policy, 「三上账」):

- `property`   物业服务质量 — the basis for assessing property-service companies (民政部门定期组织满意度调查);
- `developer`  开发建设单位房屋质量 — 房屋质量、维修时限、修缮效果, a parameter of the developer's qualification;
- `old-estate` 旧楼区长效管理 — the basis for paying the long-term management subsidy.

Each is a list of question dicts (see `rules.validate_questions`): ratings 1–5 with labels, one single choice,
one multiple choice, and an optional free comment. `build(template)` returns a fresh copy to store on a campaign.
"""
from __future__ import annotations

import copy

RATING = ["非常不满意", "不满意", "一般", "满意", "非常满意"]


def _rating(qid: str, title: str, text: str) -> dict:
    return {"id": qid, "kind": "rating", "title": title, "text": text, "labels": list(RATING), "required": True}


def _comment(qid: str, text: str) -> dict:
    return {"id": qid, "kind": "comment", "title": "意见建议", "text": text, "required": False}


PROPERTY = [
    _rating("q1", "服务态度", "您对物业服务人员的服务态度是否满意？"),
    _rating("q2", "维修及时", "您对报修后物业上门维修的及时程度是否满意？"),
    _rating("q3", "保洁", "您对小区公共区域（楼道、道路、垃圾收运）的保洁是否满意？"),
    _rating("q4", "绿化", "您对小区绿化的养护是否满意？"),
    _rating("q5", "秩序维护", "您对小区门岗、巡逻、车辆停放等秩序维护是否满意？"),
    _rating("q6", "收费公开", "您对物业服务收费标准及公共收益收支的公开情况是否满意？"),
    {"id": "q7", "kind": "single", "title": "续聘意愿", "text": "合同期满后，您是否支持续聘现物业服务企业？",
     "options": ["支持", "不支持", "说不清"], "required": True},
    {"id": "q8", "kind": "multiple", "title": "最需改进", "text": "您认为物业服务最需要改进的是哪些方面？（可多选）",
     "options": ["服务态度", "维修及时", "保洁", "绿化", "秩序维护", "收费公开", "其他"], "required": False},
    _comment("q9", "您对物业服务还有什么意见或建议？"),
]

DEVELOPER = [
    _rating("q1", "房屋质量", "您对所住房屋的建筑质量（结构、防水、门窗、管线等）是否满意？"),
    _rating("q2", "维修时限", "保修期内报修后，您对开发建设单位维修的及时程度是否满意？"),
    _rating("q3", "修缮效果", "您对维修后的修缮效果是否满意？"),
    {"id": "q4", "kind": "single", "title": "报修经历", "text": "保修期内您是否向开发建设单位报修过房屋质量问题？",
     "options": ["报修过，已修好", "报修过，未修好", "没有报修过"], "required": True},
    {"id": "q5", "kind": "multiple", "title": "质量问题", "text": "您家或楼内出现过哪些质量问题？（可多选）",
     "options": ["屋面或外墙渗漏", "墙体开裂", "管道漏水堵塞", "门窗问题", "电梯问题", "外墙保温脱落", "其他"],
     "required": False},
    _comment("q6", "您对房屋质量和保修还有什么意见或建议？"),
]

OLD_ESTATE = [
    _rating("q1", "环境卫生", "您对小区环境卫生和垃圾清运是否满意？"),
    _rating("q2", "绿化养护", "您对小区绿化养护是否满意？"),
    _rating("q3", "设施维护", "您对路灯、楼道、下水管道等公共设施的维护是否满意？"),
    _rating("q4", "治安秩序", "您对小区治安和秩序是否满意？"),
    _rating("q5", "停车管理", "您对小区车辆停放管理是否满意？"),
    _rating("q6", "管理公开", "您对管理单位的收费和工作情况公开是否满意？"),
    {"id": "q7", "kind": "single", "title": "整体变化", "text": "与一年前相比，您觉得小区面貌有什么变化？",
     "options": ["明显改善", "有所改善", "没有变化", "变差了"], "required": True},
    {"id": "q8", "kind": "multiple", "title": "最需改善", "text": "您认为小区最需要改善的是哪些方面？（可多选）",
     "options": ["环境卫生", "绿化", "公共设施", "治安", "停车", "信息公开", "其他"], "required": False},
    _comment("q9", "您对旧楼区长效管理还有什么意见或建议？"),
]

TEMPLATES = {
    "property": {"label": "物业服务质量满意度调查", "subject_type": "property_company", "questions": PROPERTY},
    "developer": {"label": "开发建设单位房屋质量满意度调查", "subject_type": "developer", "questions": DEVELOPER},
    "old-estate": {"label": "旧楼区长效管理满意度调查", "subject_type": "old_estate_unit", "questions": OLD_ESTATE},
}
TEMPLATE_LABELS = {key: value["label"] for key, value in TEMPLATES.items()} | {"custom": "自定义调查"}
SUBJECT_LABELS = {"property_company": "物业服务企业", "developer": "开发建设单位", "old_estate_unit": "旧楼区管理单位",
                  "free": "调查对象"}


def build(template: str) -> list[dict]:
    """A fresh copy of the template's questions; KeyError for an unknown template."""
    return copy.deepcopy(TEMPLATES[template]["questions"])
