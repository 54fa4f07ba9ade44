"""Voice messages, heard as text before routing (docs/voice.md).

The dispatcher calls `hear` once per message, before the resident's transaction: a voice message with WeChat's
`Recognition` (or, without it, transcribed by the `LINLI_ASR` backend from the audio fetched with `media/get`)
becomes a text message with `heard=True`, so every feature takes it wherever it takes text. The reply then starts
with 「您说的是：…」 (`echo`), and the kernel remembers the heard message for one turn (`remember` / `recall`), so
that a 「不对」 right after it (handlers/common) can undo the dialog step it advanced.

What 「不对」 can undo: the conversation state only. When the heard message left a dialog open (a step answered,
a dialog entered), the state before it is restored: nothing else a dialog step does is final before its
confirmation (a survey's draft row is rewritten by the next answer). When it closed the dialog (a complaint
filed, a binding done, a question handed to staff), its effects are committed and stand: the resident is asked
to say it again or type it.

A voice that cannot be heard (no backend, a failure, a timeout, silence) stays a `voice` message: the tickets
dialog keeps it as evidence, policy_qa hands it to staff, and elsewhere the resident is asked to type it.

Backends: `none`; `http` (POST the audio to `LINLI_ASR_URL`, JSON `{"text": …}` back); `local` (an engine from
`ENGINES`, loaded lazily from `LINLI_ASR_MODEL`). Everything is bounded by `LINLI_ASR_TIMEOUT`; the webhook
pushes a reply that misses WeChat's 5 s.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Protocol

import aiohttp

from bot import metrics
from bot.conversation import ConversationState
from bot.settings import Settings
from bot.types import InboundMessage, Reply

log = logging.getLogger("linli.voice")

HEARD_KEY = "_heard"  # the memory of a heard message, kept one turn in the conversation data
HEARD_STATE = "voice.heard"  # the conversation row's state when the heard message left no dialog open
ECHO_MAX = 200
_FINAL_PUNCTUATION = re.compile(r"[\s。．.！!？?，,、…]+$")
TEXT_MAX = 2000


class RecognitionFailed(Exception):
    """The backend could not turn this audio into text (operator log only; the resident is told simply)."""


class ASRUnavailable(RuntimeError):
    """The configured backend cannot run here (the engine package is not installed, the model is missing)."""


@dataclass(frozen=True)
class Audio:
    data: bytes
    format: str  # WeChat's `Format`: amr or speex


class Recognizer(Protocol):
    async def transcribe(self, audio: Audio) -> str: ...


Transcribe = Callable[[str], str]  # a loaded model: audio file path → text (runs in a thread)


@dataclass(frozen=True)
class Engine:
    """A local speech-to-text engine: whether a model directory is one of its models, and how to load it."""

    name: str
    detect: Callable[[Path], bool]
    load: Callable[[Path], Transcribe]


ENGINES: dict[str, Engine] = {}


def register_engine(engine: Engine) -> Engine:
    ENGINES[engine.name] = engine
    return engine


def _missing(package: str, engine: str) -> ASRUnavailable:
    return ASRUnavailable(f"LINLI_ASR=local needs the {engine} engine: pip install {package} (see docs/voice.md)")


def _load_faster_whisper(path: Path) -> Transcribe:
    try:
        from faster_whisper import WhisperModel
    except ImportError:
        raise _missing("faster-whisper", "faster-whisper") from None
    model = WhisperModel(str(path), device="cpu", compute_type="int8")

    def transcribe(audio_path: str) -> str:
        segments, _info = model.transcribe(audio_path, language="zh", beam_size=5, vad_filter=True)
        return "".join(segment.text for segment in segments)

    return transcribe


def _load_funasr(path: Path) -> Transcribe:
    try:
        from funasr import AutoModel
        from funasr.utils.postprocess_utils import rich_transcription_postprocess
    except ImportError:
        raise _missing("funasr", "FunASR") from None
    model = AutoModel(model=str(path), device="cpu", disable_update=True)

    def transcribe(audio_path: str) -> str:
        results = model.generate(input=audio_path, language="zh", use_itn=True)
        return "".join(rich_transcription_postprocess(r.get("text", "")) for r in results or [])

    return transcribe


# faster-whisper models are CTranslate2 conversions (model.bin + config.json); FunASR / SenseVoice models from
# ModelScope carry config.yaml and model.pt
register_engine(Engine("faster-whisper", lambda p: (p / "model.bin").is_file() and (p / "config.json").is_file(),
                       _load_faster_whisper))
register_engine(Engine("funasr", lambda p: (p / "config.yaml").is_file() and (p / "model.pt").is_file(), _load_funasr))


def engine_for(path: Path, name: str = "auto") -> Engine:
    if name != "auto":
        if name not in ENGINES:
            raise ASRUnavailable(f"LINLI_ASR_ENGINE={name}: unknown engine (known: {', '.join(sorted(ENGINES))})")
        return ENGINES[name]
    if not path.is_dir():
        raise ASRUnavailable(f"LINLI_ASR_MODEL={path}: not a directory")
    for engine in ENGINES.values():
        if engine.detect(path):
            return engine
    raise ASRUnavailable(f"LINLI_ASR_MODEL={path}: not a model of any known engine ({', '.join(sorted(ENGINES))})")


class LocalRecognizer:
    """A model on this machine, loaded on first use (in a thread, once) and run one audio at a time."""

    def __init__(self, path: str, engine: str = "auto"):
        self.path, self.engine_name = Path(path), engine
        self._loading: asyncio.Task[Transcribe] | None = None
        self._busy = asyncio.Semaphore(1)  # a model uses every core it gets: one transcription at a time

    async def _model(self) -> Transcribe:
        if self._loading is None:
            engine = engine_for(self.path, self.engine_name)
            log.info("loading the %s speech model", engine.name)
            self._loading = asyncio.ensure_future(asyncio.to_thread(engine.load, self.path))
        try:
            # shielded: a timed-out message does not abandon the load, the next voice message uses the model
            return await asyncio.shield(self._loading)
        except ASRUnavailable:
            self._loading = None  # e.g. the package gets installed: try again next time
            raise

    async def transcribe(self, audio: Audio) -> str:
        model = await self._model()
        await self._busy.acquire()
        try:
            folder = Path(tempfile.mkdtemp(prefix="linli-voice-"))
            file = folder / f"voice.{audio.format or 'amr'}"
            file.write_bytes(audio.data)
        except BaseException:
            self._busy.release()
            raise
        work = asyncio.ensure_future(asyncio.to_thread(model, str(file)))

        def done(_: asyncio.Future) -> None:  # a thread cannot be stopped: the model stays busy until it returns
            self._busy.release()
            shutil.rmtree(folder, ignore_errors=True)

        work.add_done_callback(done)
        return await asyncio.shield(work)


class HttpRecognizer:
    """A speech service: POST the audio (Content-Type audio/<format>), JSON `{"text": "…"}` back."""

    def __init__(self, url: str, timeout: float):
        self.url, self.timeout = url, aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def transcribe(self, audio: Audio) -> str:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        fmt = audio.format or "amr"
        try:
            async with self._session.post(self.url, data=audio.data, params={"format": fmt},
                                          headers={"Content-Type": f"audio/{fmt}"}, timeout=self.timeout) as resp:
                if resp.status != 200:
                    raise RecognitionFailed(f"speech service answered HTTP {resp.status}")
                answer = json.loads(await resp.read())
        except (aiohttp.ClientError, ValueError) as exc:
            raise RecognitionFailed(f"speech service: {type(exc).__name__}") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("text"), str):
            raise RecognitionFailed("speech service answered without a text field")
        return answer["text"]

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def build(settings: Settings) -> Recognizer | None:
    """The backend `LINLI_ASR` chooses (nothing is loaded yet)."""
    if settings.asr == "http":
        return HttpRecognizer(settings.asr_url, settings.asr_timeout)
    if settings.asr == "local" and settings.asr_model:
        return LocalRecognizer(settings.asr_model, settings.asr_engine)
    return None


async def hear(message: InboundMessage, recognizer: Recognizer | None, wechat: Any, timeout: float) -> InboundMessage:
    """The message as the features should see it: a heard voice becomes text; anything else is unchanged."""
    if message.kind != "voice":
        return message
    recognition = str(message.raw.get("Recognition") or "").strip()
    if recognition:
        metrics.VOICE.labels("recognition").inc()
        return _heard(message, recognition)
    if recognizer is None or wechat is None or not message.media_id:
        metrics.VOICE.labels("none").inc()
        return message
    try:
        text = await asyncio.wait_for(_transcribe(message, recognizer, wechat), timeout)
    except asyncio.TimeoutError:
        metrics.VOICE.labels("timeout").inc()
        log.warning("voice recognition timed out after %.1fs", timeout)
        return message
    except Exception as exc:  # the backend's own errors, WeChat's media API, a missing engine: never the resident's
        metrics.VOICE.labels("failed").inc()
        log.warning("voice recognition failed: %s: %s", type(exc).__name__, exc)
        return message
    text = " ".join(text.split())
    metrics.VOICE.labels("asr" if text else "empty").inc()
    return _heard(message, text) if text else message


async def _transcribe(message: InboundMessage, recognizer: Recognizer, wechat: Any) -> str:
    data, _content_type = await wechat.get_media(message.media_id)
    fmt = str(message.raw.get("Format") or "amr").lower()
    return await recognizer.transcribe(Audio(data, fmt if fmt.isalnum() else "amr"))


def _heard(message: InboundMessage, text: str) -> InboundMessage:
    # the final full stop or question mark is the recogniser's, not the resident's: 「确认。」 is 「确认」, and
    # 「3号楼2单元501。」 a room number (every dialog reads the text as typed)
    text = _FINAL_PUNCTUATION.sub("", text.strip()) or text.strip()
    return replace(message, kind="text", content=text[:TEXT_MAX], heard=True)


def echo(text: str, reply: Reply) -> Reply:
    """「您说的是：…」 first, so the resident can check what was understood."""
    shown = text if len(text) <= ECHO_MAX else text[:ECHO_MAX] + "…"
    line = f"您说的是：「{shown}」（不对请回复「不对」）"
    return Reply(f"{line}\n{reply.text}" if reply.text else line)


def recall(state: ConversationState) -> dict[str, Any] | None:
    """Take the memory of a heard previous message out of the conversation (it lasts one turn)."""
    memory = state.data.get(HEARD_KEY) if state.state is not None else None
    if state.state == HEARD_STATE:
        state.state, state.data, state.changed = None, {}, True
    elif memory is not None:
        state.data = {k: v for k, v in state.data.items() if k != HEARD_KEY}
        state.changed = True
    return memory if isinstance(memory, dict) else None


def snapshot(state: ConversationState) -> dict[str, Any]:
    return {"state": state.state, "data": json.loads(json.dumps(state.data, default=str))}


def remember(state: ConversationState, text: str, before: dict[str, Any]) -> None:
    """Keep, for the next message only, what was heard and the conversation before it (when a dialog is still open
    after it, so restoring the state is all an undo needs)."""
    memory = {"text": text[:ECHO_MAX], "undo": before if state.state is not None else None}
    if state.state is None:
        state.state, state.data = HEARD_STATE, {HEARD_KEY: memory}
    else:
        state.data = {**state.data, HEARD_KEY: memory}
    state.changed = True
