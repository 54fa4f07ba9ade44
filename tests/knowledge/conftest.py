"""Shared fixtures for the knowledge-base tests: the bundled knowledge base (loaded once) and a tiny one."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from knowledge import KnowledgeBase
from tests.knowledge.kb_testutil import write

TINY = textwrap.dedent("""\
    - id: fee-pay
      title: 物业费怎么交？
      questions: [物业费交费方式]
      keywords: [物业费, 交费]
      answer: 到物业服务中心交。
      source: linli 常见问题
    - id: fund-what
      title: 专项维修资金是什么？
      questions: [维修资金的用途]
      answer: 业主共有的维修资金。
      source: 《民法典》第二百八十一条
    """)


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    write(tmp_path / "tiny", "topic.yaml", TINY)
    return tmp_path / "tiny"
