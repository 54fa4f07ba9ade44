"""Normalisation, typo correction and synonym canonicalisation, on both sides of the match."""
from __future__ import annotations

from knowledge.normalize import (
    AliasReplacer,
    HomophoneCorrector,
    char_pinyin,
    normalize_chars,
    split_segments,
    strip_greetings,
)


def test_full_width_and_case():
    assert normalize_chars("ＡＢＣ１２３，物业费？") == "abc123,物业费?"


def test_traditional_to_simplified():
    assert normalize_chars("業委會換屆") == "业委会换届"
    assert normalize_chars("物業費怎麼繳") == "物业费怎么缴"


def test_greetings_removed():
    text = strip_greetings("你好，请问一下物业费怎么交，谢谢！")
    assert "你好" not in text and "请问" not in text and "谢谢" not in text
    assert "物业费怎么交" in text


def test_punctuation_splits_segments():
    assert split_segments("物业费,怎么交?? 谢谢") == ["物业费", "怎么交", "谢谢"]


def test_fuzzy_pinyin():
    assert char_pinyin("是") == char_pinyin("四")  # sh ~ s
    assert char_pinyin("金") == char_pinyin("京")  # in ~ ing
    assert char_pinyin("a") == "a"


def test_homophone_corrector():
    fix = HomophoneCorrector({"业委会", "物业费", "维修基金", "联席会议"})
    assert fix("业为会换届") == "业委会换届"
    assert fix("物叶费多少") == "物业费多少"
    assert fix("联系会议") == "联席会议"
    assert fix("为修鸡金") == "维修基金"
    assert fix("事业费") == "事业费"  # different sound: untouched


def test_listed_typos_do_not_switch_their_term_off():
    """A typo listed for a term sounds like it and means it: not a clash of two terms. Before, 业为会 and 物叶费
    in the typo table made 业委会 and 物业费 "two terms that sound alike", and no other typo of them was fixed."""
    terms = {"业委会", "业为会", "物业费", "物叶费", "事业部", "视野部"}
    canonical = {"业委会": "业主委员会", "业为会": "业主委员会", "物叶费": "物业费", "视野部": "视野"}
    fix = HomophoneCorrector(terms, canonical=canonical)
    assert fix("叶委会干嘛的") == "业委会干嘛的"      # the closest written form of the term
    assert fix("物页费咋算") == "物业费咋算"
    assert fix("是夜部") == "是夜部"                  # 事业部 and 视野部 mean different things: never guessed
    assert HomophoneCorrector(terms)("叶委会") == "叶委会"  # without meanings, alike-sounding terms still clash


def test_bundled_analyzer_fixes_unlisted_typos(kb):
    a = kb.analyzer
    assert a.tokens("叶委会干嘛的") == a.tokens("业委会干嘛的")
    assert a.tokens("物页费咋算") == a.tokens("物业费咋算")


def test_alias_replacer_longest_first_and_canonical_kept():
    rep = AliasReplacer({"维修基金": "专项维修资金", "维修资金": "专项维修资金", "业委会": "业主委员会"},
                        {"专项维修资金", "业主委员会"})
    assert rep("维修基金咋用") == "专项维修资金咋用"
    assert rep("专项维修资金") == "专项维修资金"  # not 专项专项维修资金
    assert rep("业委会") == "业主委员会"


def test_synonyms_apply_on_both_sides(kb):
    a = kb.analyzer
    assert a.tokens("业委会换届") == a.tokens("业主委员会换届")
    assert a.tokens("维修基金") == a.tokens("专项维修资金") == a.tokens("维修资金")
    assert a.tokens("物业废") == a.tokens("物业费")  # typo table
    assert a.tokens("業委會") == a.tokens("业主委员会")


def test_stop_words_and_numbers_dropped(kb):
    tokens = kb.analyzer.tokens("你好，我想问一下我家九十平的物业费到底怎么交啊")
    assert "物业费" in tokens and "交" in tokens
    for dropped in ("你好", "我", "的", "啊", "九十", "怎么", "到底"):
        assert dropped not in tokens


def test_pinyin_bigrams_match_homophones(kb):
    a, b = kb.analyzer.analyze("物业费"), kb.analyzer.analyze("无业费")
    assert set(a.grams) & set(b.grams)


def test_homophone_corrector_keeps_protected_terms():
    """公示 sounds like 公司 under fuzzy pinyin (sh ~ s); written correctly, it is never rewritten."""
    terms = {"物业公司", "业委会"}
    assert HomophoneCorrector(terms)("物业公示栏") == "物业公司栏"  # what happens without protection
    fix = HomophoneCorrector(terms, protected={"公示", "物业"})
    assert fix("物业公示栏") == "物业公示栏"
    assert fix("物业公四") == "物业公司"  # a real typo outside protected words is still corrected
    assert fix("业为会公示") == "业委会公示"


def test_bundled_analyzer_keeps_disclosure_words(kb):
    assert "公示" in kb.analyzer.tokens("物业公示栏应该贴哪些东西")
    assert "公众号" not in kb.analyzer.tokens("物业服务好不好谁来评")  # 服务好 is not the alias 服务号


def test_own_keywords_are_corrected_like_synonym_terms(tmp_path):
    """A knowledge base without its own synonyms.yaml: typos of its entries' keywords are fixed too."""
    from knowledge import KnowledgeBase

    (tmp_path / "entries.yaml").write_text(
        "- id: hallway\n  title: 楼道能堆东西吗？\n  questions: [楼道里放杂物行吗]\n  keywords: [楼道堆物]\n"
        "  answer: 不行，楼道是消防通道。\n  source: 物业服务中心\n", encoding="utf-8")
    kb = KnowledgeBase.load(tmp_path)
    assert kb.analyzer.normalize("邻居楼道堆务怎么办") == ["邻居楼道堆物怎么办"]
    assert kb.analyzer.normalize("楼道堆物") == ["楼道堆物"]


def test_two_character_terms_only_where_the_characters_stand_alone(kb):
    """务业 → 物业, 电题 → 电梯 (each character segmented on its own); 房住 inside 租房住的 and a real word
    such as 工时 are what the resident wrote."""
    a = kb.analyzer
    assert a.normalize("务业都该管那些事") == ["物业都该管那些事"]
    assert a.tokens("电题坏了找谁") == a.tokens("电梯坏了找谁")
    assert a.normalize("我租房住的") == ["我租房住的"]
    assert a.normalize("工时多少") == ["工时多少"]
    assert HomophoneCorrector({"物业"})("务业") == "务业"  # without a segmenter, two-character terms take no part


def test_two_character_windows_never_guess_on_a_function_word(tmp_path, kb):
    """谁 and 了 stand alone in 这事谁管 and 跟物业吵了两句, yet 谁管 is not 水管 (a title word here) and 吵了 is
    not 炒了 (an alias of 解聘 in the bundled table): one content character is too little to guess on."""
    from knowledge import KnowledgeBase

    assert kb.analyzer.normalize("跟物业吵了两句") == ["跟物业吵了两句"]
    assert "解聘" not in kb.analyzer.tokens("跟物业吵了两句")
    (tmp_path / "entries.yaml").write_text(
        "- id: pipe\n  title: 水管爆了找谁\n  questions: [家里水管漏水怎么办]\n"
        "  answer: 先关总阀，再报物业。\n  source: 物业服务中心\n", encoding="utf-8")
    own = KnowledgeBase.load(tmp_path)
    assert own.analyzer.normalize("这事谁管") == ["这事谁管"]
    assert own.analyzer.normalize("水官爆了") == ["水管爆了"]  # two content characters: still corrected
    assert kb.analyzer.normalize("小区听水了") == ["小区停水了"]


def test_title_words_are_corrected_like_synonym_terms(tmp_path):
    from knowledge import KnowledgeBase

    (tmp_path / "entries.yaml").write_text(
        "- id: charging\n  title: 电动车充电桩在哪？\n  questions: [哪里能给电动车充电]\n"
        "  answer: 在3号楼北侧车棚。\n  source: 物业服务中心\n", encoding="utf-8")
    kb = KnowledgeBase.load(tmp_path)
    assert kb.analyzer.normalize("冲电桩在哪") == ["充电桩在哪"]
