"""knowledge.segment.cut is jieba's no-HMM segmentation word for word, on the knowledge base's tokenizer (with its
user words) as on texts jieba treats specially (ASCII runs, symbols, whitespace, characters outside its ranges)."""
from __future__ import annotations

import random

from knowledge import KnowledgeBase
from knowledge.analyzer import new_tokenizer
from knowledge.segment import cut

TRICKY = [
    "", "物业费", "Wifi密码2024多少", "a物b业c", "x-y z_w 3.5平米", "①② カナ 𠀀字", "\t a  b\r\n", "业委会业委会业委会",
    "abc123 物业费交了吗？", "有用吗有事吗", "C++和C#", "100%的业主", "物业公司物业公示栏",
]


def test_cut_equals_jieba_on_the_bundled_knowledge_base_texts():
    kb = KnowledgeBase.load()
    tokenizer = kb.analyzer.tokenizer
    texts = TRICKY + [t for e in kb.entries for t in (*e.phrasings(), e.answer)]
    for text in texts:
        assert cut(tokenizer, text) == tokenizer.lcut(text, HMM=False), text


def test_cut_equals_jieba_on_random_text_with_user_words():
    tokenizer = new_tokenizer([("趴窝", 50, None), ("物业小哥", None, None), ("ab", 3, None)])
    rng = random.Random(3)
    alphabet = "物业费交业委会主任电梯趴窝小哥维修基金了吗不没有ab1 -.%"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert cut(tokenizer, text) == tokenizer.lcut(text, HMM=False), text
