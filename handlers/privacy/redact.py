"""Redaction of personal data in free text: the one module used wherever text leaves the jurisdiction (the
Open311 export, public summaries, CSV exports of residents' comments) and when an erased resident's ticket keeps
the staff's own words. Pure functions, no database.

`redact(text)` removes, in every common way of writing them:
- mobile numbers: `13812345678`, `138-1234-5678`, `138.1234.5678`, `13812 345678`, `+86 138 1234 5678`,
  `0086…`, full-width digits (`１３８…`), Chinese numerals (`一三八一二三四五六七八`, with 幺/〇/零);
- landlines with an area code (`022-23456789`, `(022)2345 6789`, `+86 22 2345 6789`), and bare 7–8 digit
  numbers right after 电话/座机/手机/联系方式;
- ID-card numbers (18 digits with a birth year, last one may be X) and other long digit runs (bank cards);
- room and house numbers: `3号楼2单元501`, `三号楼二单元五零一`, `12栋1201室`, `3#501`, `2单元501`, `501室`,
  `5-2-301`, `12-1201`, street numbers (`五福里3号`);
- names before 先生/女士/阿姨/大爷/师傅… (`王先生` → `某先生`), after 姓/我叫/联系人, e-mail addresses,
  WeChat and QQ ids, licence plates.

`mask(text)` is the staff's view of a resident's text: phone numbers keep their first three and last four digits
(`138****5678`) and ID-card numbers are hidden; rooms and names stay (staff need them to do their work).

`has_personal(text)` tells whether `redact` would change anything (used to refuse a public summary that names
someone, rather than publish a silently altered text).

Matching runs on a copy of the text in which full-width characters are folded to ASCII and Chinese numerals
replaced by digits, one character for one, so `１３８…`, `一三八…` and `三号楼` are found by the same patterns
as `138…` and `3号楼`; replacements are then cut out of the original text (its punctuation stays as written).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

PHONE, LANDLINE, ID_NUMBER, LONG_NUMBER = "[电话]", "[电话]", "[证件号]", "[号码]"
ROOM, EMAIL, ACCOUNT, PLATE, NAME = "[房号]", "[邮箱]", "[账号]", "[车牌]", "某"

# One character for one character: the scanned copy keeps every index of the normalised text.
_CN_DIGITS = str.maketrans("〇○零洞幺一二两三四五六七八九十百", "00001122345678911")
_SEP = r"[ \t\-.·–—_]"  # one separator a person may put between digits
_SEPS = r"[ \t\-.·–—_]*"
_CC = r"(?:[(（]\s*)?(?:\+|00)?\s*86\s*(?:[)）]\s*)?"  # country code, optional brackets
_MOBILE = re.compile(rf"(?<![\d+])(?:{_CC}{_SEPS})?1{_SEP}?[3-9](?:{_SEP}?\d){{9}}(?!\d)")
_LANDLINE = re.compile(
    rf"(?<![\d+])(?:{_CC}{_SEPS}[(（]?\s*0?\d{{2,3}}\s*[)）]?|[(（]?\s*0\d{{2,3}}\s*[)）]?)"
    rf"{_SEPS}[2-9]\d{{2,3}}{_SEP}?\d{{4}}(?!\d)")
_CUE_NUMBER = re.compile(r"(?:电话|座机|手机|联系方式|联系|致电|拨打|tel|TEL|Tel)\s*(?:号码|号)?\s*(?:是|为)?[:：]?\s*"
                         r"([2-9]\d{2,3}" + _SEP + r"?\d{4})(?!\d)")
_ID = re.compile(r"(?<![\dA-Za-z])\d{6} ?(?:19|20)\d{2} ?\d{4} ?\d{3}[\dXx](?![\dA-Za-z])")
_LONG = re.compile(r"(?<!\d)\d(?: ?\d){14,}(?!\d)")

_N = r"\d{1,4}"
_ROOM_NUMBER = rf"(?:\d{{3,4}}(?:\s*(?:室|号|户))?|{_N}\s*(?:室|户))"
_BUILDING = rf"(?:{_N}\s*(?:号院|区)\s*)?{_N}\s*(?:号楼|栋|幢|座|#\s*楼?|号)\s*"
_UNIT = rf"{_N}\s*(?:单元|门|梯)\s*"
_FLOOR = rf"{_N}\s*(?:层|楼)\s*"
_ROOMS = [
    re.compile(rf"(?<!\d){_BUILDING}(?:{_UNIT})?(?:{_FLOOR})?{_ROOM_NUMBER}(?!\d)"),
    re.compile(rf"(?<!\d){_UNIT}(?:{_FLOOR})?{_ROOM_NUMBER}(?!\d)"),
    re.compile(r"(?<!\d)\d{3,4}\s*(?:室|号房)"),
    re.compile(r"(?<![\d\-])\d{1,3}-\d{1,2}-\d{2,4}(?![\d\-元块天人个次%％米年月日期])"),
    re.compile(r"(?<![\d\-])\d{1,3}-\d{3,4}(?![\d\-元块天人个次%％米年月日期])"),
]
_STREET_NUMBER = re.compile(r"(?<=[路街巷里])\s*\d{1,4}\s*号(?![楼院线房])")

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩邓冯曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈"
    "钟姜崔谭陆范汪廖石金韦贾夏付傅方邹熊白孟秦邱侯江尹薛闫阎段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易"
    "乔赖施洪辛柴牛温庞樊葛邢齐岳殷倪庄聂章鲁翟耿焦俞柳甘祝包宁尚舒阮柯纪梅童凌毕季裴霍涂苗谷盛曲翁冉骆蓝游靳鲍"
    "喻祁蒲滕屈饶牟艾尤穆卓古吉缪简项连麦褚娄窦戚岑景党费冷晏席米柏宗瞿桂佟臧闵苟邬卞姬仇栾隋刁沙荣巫寇桑郎甄丛"
    "仲虞敖巩佘池苑迟邝封谈匡鞠惠荆冀郁胥班储栗燕鄢谌奚皮粟冼蔺闻厉伊仝郜阚权帅屠豆朴练廉禹井祖漆卿狄宣晋芮晁扈"
    "邸雍裘亓邰赫杭宿逯茹战慕嵇湛尉"
)
_COMPOUND = "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|长孙|宇文|司徒|夏侯|令狐|端木|南宫|独孤|西门"
_HONORIFICS = ("先生|女士|小姐|太太|夫人|阿姨|大爷|大妈|大娘|大叔|大婶|大姐|大哥|奶奶|爷爷|姥姥|姥爷|叔叔|婶婶|伯伯"
               "|师傅|老师|同志|老太太|老大爷")
_SURNAME = rf"(?:{_COMPOUND}|[{_SURNAMES}])"
_HONORIFIC_NAME = re.compile(rf"{_SURNAME}[\u4e00-\u9fff]{{0,2}}?(?={_HONORIFICS})")
_SURNAME_GIVEN = re.compile(rf"(?<=姓)\s*{_SURNAME}")
_NAMED = re.compile(r"(?:(?<=我叫|名叫|叫做)|(?<=名字是|名字叫)|(?<=联系人)|(?<=姓名))\s*[:：]?\s*"
                    r"([\u4e00-\u9fff]{2,3})")
# Starts only where a run of address characters starts (the leftmost match would anyway): without the
# look-behind a long run with no `@` was rescanned from each of its characters, quadratic in the text.
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_ACCOUNT = re.compile(r"(?:(?<=微信号)|(?<=微信)|(?<=QQ号)|(?<=QQ)|(?<=qq))\s*[:：]?\s*(?:是|为)?\s*"
                      r"[A-Za-z0-9][\w\-]{4,19}")
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(rf"[{_PROVINCES}][A-Z][·•\s]?[A-Z0-9]{{5,6}}(?![A-Za-z0-9])")


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    text: str  # what replaces text[start:end]


def _fold(c: str) -> str:
    """The NFKC form of `c` when that is one character (full-width digits, letters and brackets become ASCII),
    else `c`: folding keeps the text's length, so indices carry over."""
    if c.isascii():
        return c
    folded = unicodedata.normalize("NFKC", c)
    return folded if len(folded) == 1 else c


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s.translate(_CN_DIGITS))


def _find(text: str, with_rooms: bool = True, with_names: bool = True,
          phone: Callable[[str, str], str] | None = None) -> list[_Hit]:
    """Every personal datum in `text`, earliest first, without overlaps."""
    folded = "".join(_fold(c) for c in text)
    scan = folded.translate(_CN_DIGITS)
    hits: list[_Hit] = []

    def add(pattern: re.Pattern, replacement: Callable[[re.Match], str] | str, group: int = 0,
            source: str = scan) -> None:
        for m in pattern.finditer(source):
            start, end = m.span(group)
            if start == end:
                continue
            hits.append(_Hit(start, end, replacement(m) if callable(replacement) else replacement))

    add(_EMAIL, EMAIL, source=folded)
    add(_ACCOUNT, ACCOUNT, source=folded)
    add(_ID, ID_NUMBER)
    add(_LONG, LONG_NUMBER)
    add(_MOBILE, (lambda m: phone(_digits(m.group()), "mobile")) if phone else PHONE)
    add(_LANDLINE, (lambda m: phone(_digits(m.group()), "landline")) if phone else LANDLINE)
    add(_CUE_NUMBER, (lambda m: phone(_digits(m.group(1)), "local")) if phone else PHONE, group=1)
    if with_rooms:
        for pattern in _ROOMS:
            add(pattern, ROOM)
        add(_STREET_NUMBER, ROOM)
        add(_PLATE, PLATE, source=folded)
    if with_names:
        add(_HONORIFIC_NAME, NAME, source=folded)
        add(_SURNAME_GIVEN, NAME, source=folded)
        add(_NAMED, "某某", group=1, source=folded)
    # Earlier patterns win an overlap (they are the more specific ones); then by position.
    chosen: list[_Hit] = []
    for hit in hits:
        if all(hit.end <= c.start or hit.start >= c.end for c in chosen):
            chosen.append(hit)
    return sorted(chosen, key=lambda h: h.start)


def _apply(text: str, hits: list[_Hit]) -> str:
    out, at = [], 0
    for hit in hits:
        out.append(text[at:hit.start])
        out.append(hit.text)
        at = hit.end
    out.append(text[at:])
    return "".join(out)


def redact(text: str | None) -> str:
    """`text` without phone numbers, ID-card numbers, room/house numbers, names and account ids (see module doc)."""
    text = text or ""
    return _apply(text, _find(text))


def redact_value(value):
    """`redact` applied to every string inside a JSON-like value (dicts, lists); other values unchanged."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    return value


def has_personal(text: str | None) -> bool:
    return bool(_find(text or ""))


def _masked(digits: str, kind: str) -> str:
    if kind == "mobile":
        digits = digits[-11:]
        return digits[:3] + "****" + digits[-4:]
    if kind == "landline":
        digits = digits[2:] if digits.startswith("86") and not digits.startswith("860") else digits
        area = digits[:-8] if len(digits) >= 11 else digits[:-7]
        area = area if area.startswith("0") else "0" + area
        return f"{area}-****{digits[-4:]}"
    return "****" + digits[-4:]


def mask(text: str | None) -> str:
    """Staff's view: phone numbers masked to their first three and last four digits, ID-card numbers hidden;
    rooms and names kept."""
    text = text or ""
    return _apply(text, _find(text, with_rooms=False, with_names=False, phone=_masked))


__all__ = ["redact", "redact_value", "has_personal", "mask"]
