"""The one object every handler receives: the message, the resident, the open transaction, the services."""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import ConversationState
from bot.settings import Settings
from bot.types import InboundMessage
from storage.db import Database
from storage.models import Resident

if TYPE_CHECKING:  # imported lazily so the kernel does not depend on optional parts at import time
    from bot.outbound import WeChatClient
    from bot.voice import Recognizer
    from knowledge import KnowledgeHolder


@dataclass
class Services:
    """App-lifetime resources, built once by `bot.app` and shared by every message and job."""

    settings: Settings
    db: Database
    wechat: "WeChatClient | None" = None
    asr: "Recognizer | None" = None  # LINLI_ASR's speech-to-text backend (bot/voice.py); None: `none`
    knowledge: "KnowledgeHolder | None" = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now().astimezone())
    extras: dict[str, Any] = field(default_factory=dict)
    features: list[Any] = field(default_factory=list)  # the app's features (bot.features.Feature), set by bot.app

    async def close_extras(self) -> None:
        """Close what jobs kept in `extras` that has an async `close()` (e.g. the WeChat client the media download
        makes for itself in `linli worker`, where no app client exists)."""
        for value in list(self.extras.values()):
            close = getattr(value, "close", None)
            if close is not None and inspect.iscoroutinefunction(close):
                await close()


@dataclass
class Context:
    message: InboundMessage
    session: AsyncSession
    resident: Resident
    conversation: ConversationState
    services: Services
    now: datetime
    match: re.Match[str] | None = None
    erased: bool = False  # the resident's data was erased: keep nothing about them from this message
    # the previous message was a voice heard as text: {"text", "undo": {"state", "data"} | None} (bot/voice.py)
    previous_heard: dict[str, Any] | None = None
    forget_heard: bool = False  # a handler answered 「不对」: this message is not remembered as heard

    @property
    def text(self) -> str:
        return self.message.text

    @property
    def settings(self) -> Settings:
        return self.services.settings
