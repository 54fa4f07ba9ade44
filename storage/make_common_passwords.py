"""How storage/common-passwords.txt was made (run by a developer; the list itself is committed and shipped).

    python -m storage.make_common_passwords common-passwords.txt.gz > storage/common-passwords.txt

The list is two parts, merged, lower-cased and de-duplicated:

1. The 20,000 most common passwords of public breach corpora compiled by Royce Williams
   (https://gist.github.com/roycewilliams/226886fd01572964e1431ac8afc999ce), as Django ships them in
   `django/contrib/auth/common-passwords.txt.gz` (BSD-3-Clause; taken from the Django 5.2 wheel on PyPI).
   That list is dominated by English-speaking users and few of its entries reach 12 characters.
2. Passwords Chinese users are known to choose, GENERATED here from well-known patterns (no Chinese corpus
   could be downloaded): the top lists of the 2011 CSDN/Tianya leaks and their shapes — 我爱你 in pinyin and
   digits (woaini, 5201314, 1314520), qq + number, keyboard walks (1qaz2wsx3edc), repeated and counted digits,
   lucky numbers (888888, 666666), common pinyin names and surnames followed by birth years, birthdays and
   love numbers, and words of this service's own world (linli, tianjin, wuye, shequ, admin) with years and digits.

Only the second part is generated; nothing here is random, so running it again gives the same file.
"""
from __future__ import annotations

import gzip
import sys
from itertools import product
from pathlib import Path

SURNAMES = ["wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma", "zhu",
            "hu", "guo", "he", "gao", "lin", "luo", "zheng", "liang", "xie", "song", "tang", "han", "feng", "deng",
            "cao", "peng", "zeng", "xiao", "tian", "dong", "pan", "yuan", "cai", "jiang", "yu", "du", "ye", "cheng",
            "wei", "su", "lu", "ding", "ren", "shen", "yao", "jin"]
GIVEN = ["wei", "fang", "na", "min", "jing", "li", "qiang", "lei", "jun", "yang", "yong", "yan", "jie", "tao",
         "ming", "chao", "xiuying", "xia", "ping", "gang", "hui", "hong", "hua", "yu", "ying", "dan", "bin", "bo",
         "peng", "long", "fei", "xin", "hao", "lin", "ling", "mei", "juan", "qing", "liang", "jian", "tingting",
         "xiaoyan", "xiaoming", "yanan", "jiahui", "zihan", "yuxuan", "haoran", "yichen", "xinyi"]
FULL_NAMES = ["zhangwei", "wangwei", "wangfang", "liwei", "lina", "zhangmin", "lijing", "wangjing", "liuwei",
              "wangxiuying", "zhangli", "lixiuying", "wangli", "zhangjing", "zhangxiuying", "liqiang", "wangmin",
              "limin", "wanglei", "liuyang", "wangyan", "wangyong", "lijun", "zhangyong", "lijie", "zhangjie",
              "zhanglei", "wangqiang", "lijuan", "wangjun", "zhangyan", "zhangtao", "wangtao", "liyan", "wangchao",
              "liming", "liyong", "wangjuan", "liujie", "liumin", "lixia", "lili", "zhangjun", "wangjie",
              "zhangqiang", "wanggang", "wangping", "liufang", "zhangping", "chenjing", "liuyan", "yangyang",
              "chenlong", "huangwei", "zhaolei", "zhouhui", "wuhao", "xuming", "sunli", "mayun"]
LOVE = ["woaini", "aini", "woaini1314", "iloveyou", "woaiwojia", "woaimama", "woaibaba", "loveyou", "woxihuanni",
        "wolaopo", "laopo", "laogong", "baobei", "qinaide", "xiaobao", "tiantian", "kuaile", "xingfu", "pingan",
        "ai", "nihao", "wangba", "zhongguo", "beijing", "shanghai", "tianjin", "china"]
LOVE_NUMBERS = ["1314", "520", "521", "5201314", "1314520", "13145201314", "52013145201314", "5211314", "201314",
                "1314521", "7758521", "5845201314", "584520", "9420", "1314woaini", "520520"]
SERVICE = ["linli", "tianjin", "tj", "wuye", "shequ", "jiedao", "hexi", "hexiqu", "nankai", "heping", "hedong",
           "hebei", "hongqiao", "binhai", "admin", "administrator", "root", "guanli", "guanliyuan", "mima", "password",
           "qwerty", "wechat", "weixin", "gongzhonghao", "console", "system", "test", "user", "zhanghao", "yezhu",
           "yeweihui", "juweihui", "wuyegongsi", "linlidemo", "linli-demo"]
DIGITS = ["123", "1234", "12345", "123456", "1234567", "12345678", "123456789", "1234567890", "888888", "666666",
          "111111", "000000", "123123", "112233", "147258", "159357", "321", "54321", "654321", "987654321", "520",
          "1314", "5201314", "8888", "6666", "2008", "2020", "2021", "2022", "2023", "2024", "2025", "2026", "@123",
          "!@#", "@2024", "@2025", "@2026", "#123", ".com", "88", "66", "00", "01", "007", "110", "119", "168",
          "1688", "518", "5188", "8", "1", "!", "@", "."]
YEARS = [str(y) for y in range(1950, 2027)]
KEYBOARD = ["1qaz2wsx", "1qaz2wsx3edc", "1qaz2wsx3edc4rfv", "qazwsxedc", "qazwsxedcrfv", "1q2w3e4r", "1q2w3e4r5t",
            "1q2w3e4r5t6y", "1q2w3e4r5t6y7u", "q1w2e3r4", "q1w2e3r4t5y6", "qwertyuiop", "qwertyuiop123",
            "asdfghjkl", "asdfghjkl123", "zxcvbnm", "zxcvbnm123", "zxcvbnm123456", "qweasdzxc", "qweasdzxc123",
            "123qweasdzxc", "qwe123qwe123", "asd123asd123", "zaq12wsx", "zaq1xsw2cde3", "1234qwer", "1234qwerasdf",
            "qwer1234", "qwerasdfzxcv", "asdf1234", "abcd1234", "abc123456789", "a123456789", "a1234567890",
            "aa123456789", "abcdefg123", "abcdefgh", "abcdefghijkl", "password123", "password1234", "passw0rd",
            "p@ssw0rd", "p@ssword", "p@ssw0rd123", "admin123", "admin1234", "admin12345", "admin123456",
            "admin@123", "admin888", "root123", "root123456", "test123456"]


def digit_runs() -> set[str]:
    runs = set()
    for d in "0123456789":
        for n in range(6, 17):
            runs.add(d * n)
    counting = "12345678901234567890"
    for n in range(6, 17):
        runs.add(counting[:n])
        runs.add("".join(reversed(counting[:n])))
        runs.add("0" + counting[:n - 1])
    for pair in ("12", "13", "14", "52", "58", "66", "68", "88", "99", "11", "00", "20", "10", "16", "18", "19"):
        for times in range(3, 9):
            runs.add(pair * times)
    for triple in ("123", "520", "147", "258", "369", "159", "357", "321", "456", "789", "110", "168", "888",
                   "666", "999", "000", "111", "112", "211", "101"):
        for times in range(2, 6):
            runs.add(triple * times)
    for block in ("1234", "1314", "5201", "2580", "1357", "2468", "6789", "4321", "1111", "8888", "1688"):
        for times in range(2, 5):
            runs.add(block * times)
    for extra in ("147258369", "147258369147", "159357456", "159753", "789456123", "741852963", "963852741",
                  "123654789", "12344321", "123321", "123321123321", "1234554321", "31415926", "3141592653",
                  "314159265358", "13800138000", "13888888888", "18888888888", "13912345678", "13812345678",
                  "110110110", "110120119", "5201314520", "52013141314", "1314520520", "5845201314"):
        runs.add(extra)
    return runs


def chinese_patterns() -> set[str]:
    words = set(KEYBOARD) | digit_runs()
    for p in ("qq", "qq123", "wx", "weixin", "a", "aa", "abc", "aaa", "woaini", "wo"):
        for n in ("123456", "1234567", "12345678", "123456789", "1234567890", "5201314", "1314520", "888888",
                  "666666", "000000", "111111", "520520", "13145201314", "112233", "123123", "147258369"):
            words.add(p + n)
    for head, tail in product(LOVE, LOVE_NUMBERS + ["123", "123456", "123456789", "888", "888888", "666666"]):
        words.add(head + tail)
        words.add(tail + head)
    for head, year in product(LOVE, [str(y) for y in range(1970, 2027)]):
        words.add(head + year)
    birth_years = [str(y) for y in range(1965, 2009)]
    name_tails = ["123", "123456", "123456789", "888888", "666666", "5201314", "1314", "520"]
    for name in FULL_NAMES + [s + g for s, g in product(SURNAMES[:20], GIVEN[:10])]:
        for tail in birth_years + name_tails:
            words.add(name + tail)
        words.add(name + name)
        words.add(name + "woaini")
    for surname in SURNAMES:
        for tail in ["123456", "1234567", "12345678", "123456789", "888888", "666666", "1314520"] + YEARS:
            words.add(surname + tail)
    for name in FULL_NAMES:
        for year in [str(y) for y in range(1970, 2006)]:
            for mmdd in ("0101", "0808"):
                words.add(name + year + mmdd)
    for word, tail in product(SERVICE, [str(y) for y in range(2000, 2027)] + DIGITS):
        words.add(word + tail)
        words.add(word + "@" + tail.lstrip("@!#."))
    for word in SERVICE:
        words.add(word)
        words.add(word + word)
        for tail in ("!@#", "!@#$", "@123456", "#123456", "_123456", "-123456", ".123456", "123456!", "123!@#"):
            words.add(word + tail)
    for year in YEARS:
        for mmdd in ("0101", "0214", "0520", "0808", "1001", "1111", "1212", "1225"):
            words.add(year + mmdd)
            words.add(mmdd + year)
    return {w for w in words if w}


def read_upstream(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def build(upstream: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for word in upstream:
        seen.setdefault(word.lower(), None)
    for word in sorted(chinese_patterns() - set(seen)):
        seen.setdefault(word.lower(), None)
    return list(seen)


HEADER = """\
# Common passwords: a password on this list is refused (compared in lower case; storage/password_policy.py).
# Part 1, in its own order: Royce Williams' 20,000 most common passwords, as shipped by Django
#   (django/contrib/auth/common-passwords.txt.gz, BSD-3-Clause).
# Part 2, sorted: passwords Chinese users are known to choose, GENERATED from well-known patterns (woaini1314,
#   qq123456, 1qaz2wsx3edc, pinyin names + years, ...) because no Chinese list could be downloaded.
# Made by storage/make_common_passwords.py; to add a password, add a line (one password a line).
"""


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    words = build(read_upstream(Path(argv[0])))
    sys.stdout.write(HEADER + "\n".join(words) + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
