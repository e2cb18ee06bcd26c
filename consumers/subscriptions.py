"""Webhook subscriptions, kept in Redis so every gateway and dispatcher replica sees the same.

One hash, ``sw:{sw:subscriptions}:all``: subscription id -> Subscription JSON. The REST API
on the gateway writes it; ``stancewire dispatcher --subscriptions FILE`` loads a file into
it at start (file entries replace entries with the same id).
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import cast

from pydantic import BaseModel, ConfigDict, ValidationError
from redis.asyncio import Redis

from schemas.desks import Subscription, SubscriptionRequest

log = logging.getLogger(__name__)

KEY = "sw:{sw:subscriptions}:all"


class SubscriptionsFile(BaseModel):
    """The subscriptions file (JSON): ``{"subscriptions": [...]}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subscriptions: tuple[Subscription, ...] = ()


def load_file(path: Path) -> tuple[Subscription, ...]:
    return SubscriptionsFile.model_validate_json(path.read_text()).subscriptions


class SubscriptionStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def add(self, desk: str, request: SubscriptionRequest) -> Subscription:
        subscription = Subscription(
            id=f"sub-{secrets.token_hex(8)}", desk=desk, **request.model_dump()
        )
        await self.put(subscription)
        return subscription

    async def put(self, subscription: Subscription) -> None:
        await self._redis.hset(KEY, subscription.id, subscription.model_dump_json())

    async def all(self) -> list[Subscription]:
        """Every readable subscription; one that does not validate is logged and skipped, so
        it cannot stop deliveries to the others."""
        raw = cast(dict[str, str], await self._redis.hgetall(KEY))
        found = []
        for subscription_id, value in raw.items():
            try:
                found.append(Subscription.model_validate_json(value))
            except ValidationError as exc:
                log.error("subscription %s unreadable, skipped: %s", subscription_id, exc)
        return sorted(found, key=lambda s: s.id)

    async def get(self, subscription_id: str) -> Subscription | None:
        raw = cast(str | None, await self._redis.hget(KEY, subscription_id))
        return None if raw is None else Subscription.model_validate_json(raw)

    async def delete(self, subscription_id: str) -> bool:
        return bool(await self._redis.hdel(KEY, subscription_id))
