"""Voice fixtures: a bot with every chat feature and a choice of speech backend, and a stand-in local engine
registered the way faster-whisper and FunASR are (`bot.voice.ENGINES`), since no real model can be installed here.

The stand-in's "model" is a directory holding `standin.json` ({"text", "mode", "delay"}); it checks that it got
the recording WeChat's media API served (an AMR file), then answers `text`, fails, or takes `delay` seconds.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bot import voice
from handlers import common, policy_qa, registration, surveys, tickets
from tests.support import fixed_clock
from tests.surveys.conftest import NOW

LOADS: list[str] = []  # model directories the stand-in engine loaded (lazily, once per recognizer)


def _load_standin(path: Path):
    config = json.loads((path / "standin.json").read_text(encoding="utf-8"))
    LOADS.append(str(path))

    def transcribe(audio_path: str) -> str:
        audio = Path(audio_path).read_bytes()
        assert audio.startswith(b"#!AMR\n"), "the stand-in got something other than the voice recording"
        if config.get("delay"):
            time.sleep(config["delay"])
        if config.get("mode") == "fail":
            raise RuntimeError("stand-in engine failure")
        return config.get("text", "")

    return transcribe


STANDIN = voice.Engine("standin", lambda p: (p / "standin.json").is_file(), _load_standin)


@pytest.fixture(autouse=True)
def standin_engine():
    voice.register_engine(STANDIN)
    LOADS.clear()
    yield
    voice.ENGINES.pop("standin", None)


def standin_model(tmp_path: Path, text: str = "", *, mode: str = "ok", delay: float = 0.0) -> str:
    model = tmp_path / "standin-model"
    model.mkdir(exist_ok=True)
    (model / "standin.json").write_text(json.dumps({"text": text, "mode": mode, "delay": delay}), encoding="utf-8")
    return str(model)


def routers():
    return [common.build_router(), registration.build_router(), tickets.build_router(), surveys.build_router(),
            policy_qa.build_router(), common.fallback_router()]


@pytest.fixture
def voice_bot(start_bot, settings):
    """Start a bot with all chat features and the given settings changes (the speech backend)."""

    async def start(**changes):
        return await start_bot(settings.with_(**changes), clock=fixed_clock(NOW), routers=routers(), plugins=[])

    return start
