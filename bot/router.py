"""Routers in the style of aiogram: handlers register for message kinds, events, menu keys and text.

Each feature owns one `Router`; the app combines them in an explicit order. A handler returns a `Reply`
or `UNHANDLED` to let the next matching handler try. Conversation states scope handlers to a dialog step.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Awaitable, Callable, Iterable, Iterator, NamedTuple, Union

from bot.context import Context
from bot.types import UNHANDLED, Reply, _Unhandled

Result = Union[Reply, _Unhandled]
Handler = Callable[[Context], Awaitable[Result]]


class _AnyState:
    def __repr__(self) -> str:
        return "ANY_STATE"


ANY_STATE = _AnyState()  # match inside and outside dialogs
NO_STATE = None  # match only when no dialog is active; "*" matches any active dialog
StateSpec = Union[str, None, _AnyState]
_STATES_KEPT = 512  # conversation states whose route lists a router keeps


def normalize_words(text: str) -> str:
    """Canonical form of a command word: NFKC (full-width → half-width), no spaces or trailing punctuation."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    return re.sub(r"[\s。！!？?，,、~～]+$", "", text)


@dataclass(frozen=True)
class Route:
    callback: Handler
    state: StateSpec
    kinds: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset()
    keys: frozenset[str] = frozenset()
    words: frozenset[str] = frozenset()
    pattern: re.Pattern[str] | None = None

    def state_matches(self, state: str | None) -> bool:
        expected = self.state
        if isinstance(expected, _AnyState):
            return True
        if expected == "*":
            return state is not None
        if expected is None or state is None:
            return expected is None and state is None
        if expected.endswith(".*"):
            return state.startswith(expected[:-1])
        return state == expected

    def match(self, ctx: Context, text: "_Text") -> tuple[bool, re.Match[str] | None]:
        """Whether the message fits this route; the conversation state was already matched by `Router.routes_for`."""
        msg = ctx.message
        if self.kinds and msg.kind not in self.kinds:
            return False, None
        if self.events and msg.event not in self.events:
            return False, None
        if self.keys and msg.event_key not in self.keys:
            return False, None
        if self.words and text.words not in self.words:
            return False, None
        if self.pattern is not None:
            found = self.pattern.search(text.plain)
            return found is not None, found
        return True, None


class _Text:
    """The message text in the two forms routes compare against, computed once per message, not per route."""

    __slots__ = ("content", "_words", "_plain")

    def __init__(self, content: str):
        self.content = content
        self._words: str | None = None
        self._plain: str | None = None

    @property
    def words(self) -> str:
        words = self._words
        if words is None:
            words = self._words = normalize_words(self.content)
        return words

    @property
    def plain(self) -> str:
        plain = self._plain
        if plain is None:
            plain = self._plain = unicodedata.normalize("NFKC", self.content).strip()
        return plain


class _Offer(NamedTuple):
    routes: tuple[Route, ...]
    unworded: tuple[Route, ...]  # `routes` without those bound to words
    words: frozenset[str]  # the words `routes` are bound to


class Router:
    def __init__(self, name: str, help_lines: Iterable[str] = (), cancel_notes: dict[str, str] | None = None):
        self.name = name
        self.help_lines = list(help_lines)  # what this feature offers, shown by 「帮助」
        # what 「取消」 tells a resident leaving one of this feature's dialogs, by state or state group
        self.cancel_notes = dict(cancel_notes or {})
        self.routes: list[Route] = []
        # the routes that can take a message of a given kind in a given conversation state, in registration order
        # (most routes belong to one dialog step or one kind, so a message is compared with a few of them), the
        # same without the routes bound to words, and every word those routes are bound to
        self._by_state: dict[tuple[str | None, str | None], _Offer] = {}

    def _add(self, **spec) -> Callable[[Handler], Handler]:
        def register(callback: Handler) -> Handler:
            self.routes.append(Route(callback=callback, **spec))
            self._by_state.clear()
            return callback

        return register

    def routes_for(self, state: str | None, kind: str | None = None, words: str | None = None) -> tuple[Route, ...]:
        """The routes for a conversation state; of those only the ones that take messages of `kind` if given, and
        when the message's `words` (`normalize_words` of its text) are none of the words routes are bound to, none
        of those routes (each would refuse it: most messages are questions, not command words)."""
        key = (state, kind)
        offer = self._by_state.get(key)
        if offer is None:
            routes = tuple(r for r in self.routes
                           if r.state_matches(state) and (kind is None or not r.kinds or kind in r.kinds))
            offer = _Offer(routes, tuple(r for r in routes if not r.words),
                           frozenset(word for r in routes for word in r.words))
            if len(self._by_state) < _STATES_KEPT:  # states are declared in code; a stray stored one is not kept
                self._by_state[key] = offer
        return offer.routes if words is None or words in offer.words else offer.unworded

    def message(self, *kinds: str, state: StateSpec = NO_STATE):
        """Any message of these kinds (text, image, voice, location, ...)."""
        return self._add(kinds=frozenset(kinds), state=state)

    def event(self, *events: str, state: StateSpec = ANY_STATE):
        return self._add(kinds=frozenset({"event"}), events=frozenset(events), state=state)

    def click(self, *keys: str, state: StateSpec = ANY_STATE):
        """A menu button (CLICK event) with one of these keys."""
        return self._add(kinds=frozenset({"event"}), events=frozenset({"click"}), keys=frozenset(keys), state=state)

    def words(self, *words: str, state: StateSpec = NO_STATE):
        """Text that is exactly one of these words (after normalisation)."""
        return self._add(kinds=frozenset({"text"}), words=frozenset(normalize_words(w) for w in words), state=state)

    def text(self, pattern: str | re.Pattern[str] | None = None, *, state: StateSpec = NO_STATE):
        """Text matching a regular expression (searched), or any text when no pattern is given."""
        compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
        return self._add(kinds=frozenset({"text"}), pattern=compiled, state=state)

    def state(self, state: str, *kinds: str):
        """Input while the conversation is in `state` (a declared `State`, or a group's `.any`)."""
        return self._add(kinds=frozenset(kinds or ("text",)), state=state)


def dialog_specs(routers: Iterable[Router]) -> list[tuple[str, str]]:
    """(router name, state spec) of every route bound to a dialog step or a dialog group, for
    `bot.states.check_routes`."""
    return [(router.name, r.state) for router in routers for r in router.routes
            if isinstance(r.state, str) and r.state != "*"]


async def route(routers: Iterable[Router], ctx: Context) -> Result:
    """Offer the message to each matching handler in order until one handles it.

    A dialog step that does not understand its input may end the dialog and return UNHANDLED: the message is
    then offered once more from the start, as if no dialog had been open (soft dialogs such as picking from
    a list, where a resident may simply move on).
    """
    routers = list(routers)
    state_before = ctx.conversation.state
    result = await _first_taker(routers, ctx)
    if result is UNHANDLED and state_before is not None and ctx.conversation.state is None:
        result = await _first_taker(routers, ctx)
    return result


async def _first_taker(routers: list[Router], ctx: Context) -> Result:
    before = ctx.conversation.state
    text = _Text(ctx.message.content)
    for router in routers:
        for r in _offers(router, ctx, text):
            matched, found = r.match(ctx, text)
            if not matched:
                continue
            ctx.match = found
            result = await r.callback(ctx)
            if result is not UNHANDLED:
                return result
            if before is not None and ctx.conversation.state is None:
                return UNHANDLED  # a dialog ended itself: `route` offers the message afresh, from the start
    return UNHANDLED


def _offers(router: Router, ctx: Context, text: _Text) -> Iterator[Route]:
    """The router's routes for the conversation's state, in order; should a handler that declines the message
    move the dialog to another state, the routes after it are chosen by that state."""
    state, kind = ctx.conversation.state, ctx.message.kind
    for r in router.routes_for(state, kind, text.words if kind == "text" else None):
        yield r  # resumed once the route's handler (if it matched) has declined
        if ctx.conversation.state != state:
            rest = router.routes[router.routes.index(r) + 1:]
            yield from (later for later in rest if later.state_matches(ctx.conversation.state))
            return
