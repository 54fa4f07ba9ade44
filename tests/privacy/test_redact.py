"""The redaction module, table-driven: every common way of writing a phone number, a room, an ID-card number or
a name is removed, and the ordinary words of a complaint (ticket numbers, dates, amounts, hotlines) survive."""
from __future__ import annotations

import pytest

from handlers.privacy.redact import has_personal, mask, redact

# (text, fragments that must be gone, fragments that must stay)
CASES = [
    # mobiles
    ("电话13812345678", ["13812345678", "5678"], ["电话"]),
    ("打138-1234-5678找我", ["1234", "5678"], ["找我"]),
    ("号码138.1234.5678", ["138.1234", "5678"], ["号码"]),
    ("13812 345678 随时打", ["13812", "345678"], ["随时打"]),
    ("138 1234 5678", ["1234", "5678"], []),
    ("+86 138 1234 5678", ["+86", "1234 5678"], []),
    ("+8613812345678", ["8613812345678"], []),
    ("(+86)138-1234-5678", ["1234"], []),
    ("0086 13812345678", ["0086", "13812345678"], []),
    ("86-13812345678", ["13812345678"], []),
    ("１３８１２３４５６７８", ["13812345678", "１３８"], []),
    ("电话一三八一二三四五六七八", ["一三八一二三四五六七八"], ["电话"]),
    ("幺三八幺二三四五六七八", ["幺三八"], []),
    ("手机：139 8765 4321。", ["8765", "4321"], ["手机"]),
    ("两个号码13812345678和13987654321", ["13812345678", "13987654321"], ["两个号码", "和"]),
    # landlines
    ("座机022-23456789", ["23456789", "022-2345"], ["座机"]),
    ("(022)2345 6789", ["2345 6789"], []),
    ("（022）23456789", ["23456789"], []),
    ("022 2345 6789", ["2345 6789"], []),
    ("+86 22 2345 6789", ["2345 6789"], []),
    ("０２２－２３４５６７８９", ["23456789", "２３４５"], []),
    ("电话23456789，晚上打", ["23456789"], ["晚上打"]),
    # ID cards and other long numbers
    ("身份证120101199001011234", ["120101199001011234"], ["身份证"]),
    ("身份证号12010119900101123X", ["12010119900101123X"], []),
    ("卡号6222 0212 3456 7890 123", ["6222", "7890"], ["卡号"]),
    # rooms and houses
    ("3号楼2单元501漏水", ["501", "3号楼2单元"], ["漏水"]),
    ("三号楼二单元五零一漏水", ["五零一", "三号楼"], ["漏水"]),
    ("住5-2-301的业主", ["5-2-301"], ["业主"]),
    ("12栋1201室", ["1201"], []),
    ("3#501楼上噪音", ["3#501"], ["楼上噪音"]),
    ("2单元501室门口", ["501"], ["门口"]),
    ("楼上1202室每晚装修", ["1202"], ["每晚装修"]),
    ("3号楼5层502", ["502"], []),
    ("12-1201的住户", ["12-1201"], ["住户"]),
    ("五福里3号门口", ["3号"], ["五福里", "门口"]),
    # names
    ("楼上王先生每晚吵", ["王先生"], ["某先生", "每晚吵"]),
    ("找物业的李阿姨", ["李阿姨"], ["某阿姨"]),
    ("刘大爷家漏水", ["刘大爷"], ["某大爷"]),
    ("王小明女士反映", ["王小明"], ["某女士", "反映"]),
    ("欧阳先生", ["欧阳"], ["某先生"]),
    ("张三先生说", ["张三"], ["某先生说"]),
    ("居委会主任张阿姨", ["张阿姨"], ["居委会", "阿姨"]),
    ("张师傅来修过", ["张师傅"], ["某师傅"]),
    ("我姓赵，住在这里", ["姓赵"], ["我姓某"]),
    ("联系人：孙丽华", ["孙丽华"], ["联系人"]),
    ("我叫周建国", ["周建国"], ["我叫"]),
    # accounts, e-mail, plates
    ("邮箱 wang.li@example.com", ["wang.li@example.com"], ["邮箱"]),
    ("微信号：wxid_abc123", ["wxid_abc123"], ["微信号"]),
    ("QQ 12345678", ["12345678"], []),
    ("ＱＱ：１２３４５６７８", ["１２３４５６７８"], []),
    ("津A12345占了消防通道", ["津A12345"], ["占了消防通道"]),
]

KEPT = [
    "投诉 JF20261126-0007 已办结",
    "2026-11-26 上午电梯停运",
    "物业费每月2.5元/平方米，共1000户",
    "请拨打12345政务服务便民热线",
    "3号楼电梯坏了三天",
    "这位先生说得对",
    "保洁阿姨很辛苦",
    "装修时间8:00–18:00",
    "维修资金使用了1-2次",
    "友谊路街道谊景社区",
]


@pytest.mark.parametrize("text, gone, kept", CASES)
def test_redact_removes_personal_data(text, gone, kept):
    out = redact(text)
    for fragment in gone:
        assert fragment not in out, f"{text!r} → {out!r} still has {fragment!r}"
    for fragment in kept:
        assert fragment in out, f"{text!r} → {out!r} lost {fragment!r}"
    assert has_personal(text)


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_words_survive(text):
    assert redact(text) == text and not has_personal(text)


def test_there_are_enough_cases():
    assert len(CASES) + len(KEPT) >= 40


def test_mask_is_the_staff_view():
    text = mask("找我13812345678或022-23456789，身份证120101199001011234，3号楼2单元501王先生")
    assert "138****5678" in text and "022-****6789" in text and "[证件号]" in text
    assert "13812345678" not in text and "120101199001011234" not in text
    assert "3号楼2单元501" in text and "王先生" in text  # staff need the room and the name


def test_redact_of_nothing():
    assert redact(None) == "" and redact("") == "" and not has_personal(None)
