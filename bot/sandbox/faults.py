"""Injectable faults for the sandbox (pure): latency, an errcode (e.g. -1 system busy), or a dropped connection,
per endpoint or for all (`*`), firing with a probability and/or for a limited count.

Endpoints are written as paths (`/cgi-bin/message/custom/send`) or short (`message/custom/send`, `stable_token`).
"""
from __future__ import annotations

import itertools
import random
from dataclasses import asdict, dataclass, field

ALL = "*"


def normalize_endpoint(endpoint: str) -> str:
    endpoint = (endpoint or ALL).strip()
    if endpoint == ALL or endpoint.startswith("/"):
        return endpoint
    return "/" + endpoint if endpoint.startswith("cgi-bin/") else "/cgi-bin/" + endpoint


@dataclass
class Fault:
    endpoint: str = ALL
    latency: float = 0.0
    errcode: int | None = None
    errmsg: str | None = None
    drop: bool = False
    probability: float = 1.0
    count: int | None = None  # fires this many times, then is removed; None = until cleared
    id: int = 0
    fired: int = 0

    @classmethod
    def from_json(cls, data: dict) -> "Fault":
        known = {"endpoint", "latency", "errcode", "errmsg", "drop", "probability", "count"}
        unknown = set(data) - known
        if unknown:
            raise ValueError("未知字段：" + "、".join(sorted(unknown)))
        fault = cls(**data)
        fault.endpoint = normalize_endpoint(fault.endpoint)
        fault.latency = float(fault.latency)
        fault.probability = float(fault.probability)
        if fault.errcode is not None:
            fault.errcode = int(fault.errcode)
        if not 0 <= fault.probability <= 1 or fault.latency < 0 or (fault.count is not None and fault.count < 1):
            raise ValueError("probability 应在 0–1，latency ≥ 0，count ≥ 1")
        if not (fault.latency or fault.drop or fault.errcode is not None):
            raise ValueError("至少指定 latency、errcode 或 drop 之一")
        return fault

    def as_json(self) -> dict:
        return asdict(self)


@dataclass
class Outcome:
    latency: float = 0.0
    drop: bool = False
    errcode: int | None = None
    errmsg: str | None = None
    fired: list[int] = field(default_factory=list)


class FaultBook:
    def __init__(self, rng: random.Random | None = None):
        self.rng = rng or random.Random()
        self.faults: list[Fault] = []
        self.fired_total = 0
        self._ids = itertools.count(1)

    def add(self, fault: Fault) -> Fault:
        fault.id = next(self._ids)
        self.faults.append(fault)
        return fault

    def clear(self, endpoint: str | None = None, fault_id: int | None = None) -> int:
        before = len(self.faults)
        target = normalize_endpoint(endpoint) if endpoint else None
        self.faults = [f for f in self.faults
                       if not ((target is None or f.endpoint == target) and (fault_id is None or f.id == fault_id))]
        return before - len(self.faults)

    def roll(self, path: str) -> Outcome:
        """Decide what happens to one request on `path`; consumes counts of the faults that fire."""
        outcome = Outcome()
        for fault in list(self.faults):
            if fault.endpoint not in (ALL, path) or self.rng.random() >= fault.probability:
                continue
            fault.fired += 1
            self.fired_total += 1
            outcome.fired.append(fault.id)
            if fault.count is not None and fault.fired >= fault.count:
                self.faults.remove(fault)
            outcome.latency += fault.latency
            outcome.drop = outcome.drop or fault.drop
            if fault.errcode is not None and outcome.errcode is None:
                outcome.errcode, outcome.errmsg = fault.errcode, fault.errmsg
        return outcome
