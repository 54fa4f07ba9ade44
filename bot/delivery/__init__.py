"""The delivery engine: every message pushed to residents goes through its durable outbox (see docs/delivery.md).

Features call `create_broadcast(session, category=..., scope=Scope(...), content=Content(...), created_by=...)`;
`linli worker` processes send. Modules: outbox (API + life cycle), channels (pure channel choice), sender,
ratelimit, quota, scheduler, worker, progress, api (HTTP), cli, inbound (the 客服 window).
"""
from bot.delivery.channels import Content
from bot.delivery.outbox import Scope, create_broadcast

__all__ = ["Content", "Scope", "create_broadcast"]
