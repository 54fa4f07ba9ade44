"""The speech backends themselves: settings, how a local model directory picks its engine, the real engines' glue
(faster-whisper's WhisperModel, FunASR's AutoModel) against stand-in modules with their documented API, and the
clear error when an engine's package is not installed."""
from __future__ import annotations

import asyncio
import importlib.util
import sys
import types
from pathlib import Path

import pytest

from bot import voice
from bot.settings import SettingsError, parse
from bot.voice import ASRUnavailable, Audio, LocalRecognizer, engine_for

AMR = b"#!AMR\n" + bytes(32)


def model_dir(tmp_path: Path, *files: str) -> Path:
    path = tmp_path / "model"
    path.mkdir()
    for name in files:
        (path / name).write_bytes(b"x")
    return path


def test_settings_choose_a_backend():
    assert parse({}).asr == "none" and voice.build(parse({})) is None
    http = parse({"LINLI_ASR": "http", "LINLI_ASR_URL": "http://127.0.0.1:9000/asr", "LINLI_ASR_TIMEOUT": "2.5"})
    assert isinstance(voice.build(http), voice.HttpRecognizer) and http.asr_timeout == 2.5
    local = parse({"LINLI_ASR": "LOCAL", "LINLI_ASR_MODEL": "/srv/models/sensevoice"})
    assert isinstance(voice.build(local), LocalRecognizer) and local.asr_engine == "auto"
    with pytest.raises(SettingsError, match="LINLI_ASR_URL"):
        parse({"LINLI_ASR": "http"})
    with pytest.raises(SettingsError, match="LINLI_ASR_MODEL"):
        parse({"LINLI_ASR": "local"})
    with pytest.raises(SettingsError, match="LINLI_ASR=whisper"):
        parse({"LINLI_ASR": "whisper"})


def test_a_model_directory_picks_its_engine(tmp_path):
    assert engine_for(model_dir(tmp_path, "model.bin", "config.json", "tokenizer.json")).name == "faster-whisper"
    other = tmp_path / "sv"
    other.mkdir()
    (other / "config.yaml").write_text("model: SenseVoiceSmall")
    (other / "model.pt").write_bytes(b"x")
    assert engine_for(other).name == "funasr"
    assert engine_for(other, "faster-whisper").name == "faster-whisper"  # LINLI_ASR_ENGINE wins
    with pytest.raises(ASRUnavailable, match="not a model of any known engine"):
        engine_for(tmp_path)
    with pytest.raises(ASRUnavailable, match="not a directory"):
        engine_for(tmp_path / "missing")
    with pytest.raises(ASRUnavailable, match="unknown engine"):
        engine_for(other, "kaldi")


@pytest.mark.skipif(importlib.util.find_spec("faster_whisper") is not None, reason="faster-whisper is installed")
async def test_missing_faster_whisper_says_what_to_install(tmp_path):
    recognizer = LocalRecognizer(str(model_dir(tmp_path, "model.bin", "config.json")))
    with pytest.raises(ASRUnavailable, match="pip install faster-whisper"):
        await recognizer.transcribe(Audio(AMR, "amr"))
    with pytest.raises(ASRUnavailable):  # not cached as a failure: tried again (the package may be installed now)
        await recognizer.transcribe(Audio(AMR, "amr"))


@pytest.mark.skipif(importlib.util.find_spec("funasr") is not None, reason="funasr is installed")
async def test_missing_funasr_says_what_to_install(tmp_path):
    recognizer = LocalRecognizer(str(model_dir(tmp_path, "config.yaml", "model.pt")))
    with pytest.raises(ASRUnavailable, match="pip install funasr"):
        await recognizer.transcribe(Audio(AMR, "amr"))


async def test_faster_whisper_glue_follows_its_api(tmp_path, monkeypatch):
    calls = {}

    class Segment:
        def __init__(self, text):
            self.text = text

    class WhisperModel:
        def __init__(self, path, device, compute_type):
            calls["init"] = (path, device, compute_type)

        def transcribe(self, audio, language, beam_size, vad_filter):
            calls["audio"] = (Path(audio).suffix, Path(audio).read_bytes(), language)
            return iter([Segment("楼道灯"), Segment("坏了")]), object()

    module = types.ModuleType("faster_whisper")
    module.WhisperModel = WhisperModel
    monkeypatch.setitem(sys.modules, "faster_whisper", module)
    path = model_dir(tmp_path, "model.bin", "config.json")
    recognizer = LocalRecognizer(str(path))
    assert await recognizer.transcribe(Audio(AMR, "amr")) == "楼道灯坏了"
    assert calls["init"] == (str(path), "cpu", "int8") and calls["audio"] == (".amr", AMR, "zh")


async def test_funasr_glue_follows_its_api(tmp_path, monkeypatch):
    calls = {}

    class AutoModel:
        def __init__(self, model, device, disable_update):
            calls["init"] = (model, device, disable_update)

        def generate(self, input, language, use_itn):
            calls["audio"] = (Path(input).read_bytes(), language, use_itn)
            return [{"key": "voice", "text": "<|zh|><|NEUTRAL|><|Speech|><|withitn|>电梯坏了。"}]

    funasr = types.ModuleType("funasr")
    funasr.AutoModel = AutoModel
    utils = types.ModuleType("funasr.utils")
    post = types.ModuleType("funasr.utils.postprocess_utils")
    post.rich_transcription_postprocess = lambda text: text.rsplit(">", 1)[-1]
    for name, module in (("funasr", funasr), ("funasr.utils", utils), ("funasr.utils.postprocess_utils", post)):
        monkeypatch.setitem(sys.modules, name, module)
    path = model_dir(tmp_path, "config.yaml", "model.pt")
    assert await LocalRecognizer(str(path)).transcribe(Audio(AMR, "amr")) == "电梯坏了。"
    assert calls["init"] == (str(path), "cpu", True) and calls["audio"] == (AMR, "zh", True)


async def test_one_transcription_at_a_time_even_after_a_timeout(tmp_path, monkeypatch):
    from tests.voice.conftest import LOADS, standin_model

    folders = []
    real_mkdtemp = voice.tempfile.mkdtemp
    monkeypatch.setattr(voice.tempfile, "mkdtemp", lambda **kw: folders.append(real_mkdtemp(**kw)) or folders[-1])
    recognizer = LocalRecognizer(standin_model(tmp_path, "电梯坏了", delay=0.6))
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(recognizer.transcribe(Audio(AMR, "amr")), 0.2)
    # the first recording is still in the model's thread: the next one waits for it instead of running beside it
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(recognizer.transcribe(Audio(AMR, "amr")), 0.2)
    assert await asyncio.wait_for(recognizer.transcribe(Audio(AMR, "amr")), 3) == "电梯坏了"
    assert len(LOADS) == 1 and len(folders) == 2  # the second gave up waiting: it never reached the model
    assert not any(Path(f).exists() for f in folders)  # every temporary recording is removed
