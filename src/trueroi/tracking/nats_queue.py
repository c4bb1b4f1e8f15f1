"""Event batches through NATS JetStream, for collectors and loaders on several machines.

With ``[collector] queue_url = "nats://..."`` a collector publishes each accepted batch as one message to the
subject ``nats_subject`` of the JetStream stream ``nats_stream`` (file storage, work-queue retention: a
message is removed once a loader acknowledged it) and answers the client only after JetStream's publish
acknowledgement, i.e. once the stream has stored it (on a cluster: on a quorum of its replicas). The
message id (``Nats-Msg-Id``) is a digest of the batch's event ids, so a batch sent twice within the stream's
duplicate window is stored once.

Loaders share one durable pull consumer (``trueroi-loader``): each fetches messages, commits their events
to the warehouse (:func:`trueroi.tracking.store.load_events`) and only then acknowledges them. A loader
killed between the commit and the acknowledgement gets the messages again after ``nats_ack_wait_seconds``;
their events are then already stored (by ``event_id``) and are not stored twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import nats
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from trueroi.server.config import CollectorConfig

CONSUMER = "trueroi-loader"
DUPLICATE_WINDOW_S = 120.0
CONNECT_TIMEOUT_S = 2.0
PUBLISH_TIMEOUT_S = 5.0


def servers(config: CollectorConfig) -> list[str]:
    return [u.strip() for u in config.queue_url.split(",") if u.strip()]


def message_id(payload: dict[str, Any]) -> str:
    """The batch's ``Nats-Msg-Id``: a digest of its workspace and event ids."""
    ids = "\n".join(e["event_id"] for e in payload["events"])
    return hashlib.sha256(f"{payload['ws']}\n{ids}".encode()).hexdigest()


async def connect(config: CollectorConfig) -> Any:
    """A connection to the configured NATS servers, with the stream in place; returns the JetStream
    context (its ``_nc`` is the connection)."""
    client = await nats.connect(
        servers(config), connect_timeout=CONNECT_TIMEOUT_S, max_reconnect_attempts=-1, allow_reconnect=True
    )
    js = client.jetstream()
    try:
        await js.stream_info(config.nats_stream)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=config.nats_stream,
                subjects=[config.nats_subject],
                storage=StorageType.FILE,
                retention=RetentionPolicy.WORK_QUEUE,
                duplicate_window=DUPLICATE_WINDOW_S,
            )
        )
    return js


class NatsPublisher:
    """Publishes batches for one event loop (each web process has its own), connecting on first use."""

    def __init__(self, config: CollectorConfig) -> None:
        self.config = config
        self._js: Any = None
        self._lock: asyncio.Lock | None = None

    async def put(self, payload: dict[str, Any], data: bytes) -> None:
        """Publish one batch; returns once JetStream has stored it.

        Raises
        ------
        OSError
            When NATS cannot be reached or does not acknowledge in time (the caller answers 503).
        """
        try:
            js = await self._context()
            await js.publish(
                self.config.nats_subject,
                data,
                timeout=PUBLISH_TIMEOUT_S,
                headers={"Nats-Msg-Id": message_id(payload)},
            )
        except (TimeoutError, NatsError, NatsTimeout, OSError) as exc:
            raise OSError(f"the event queue did not store the batch: {type(exc).__name__} {exc}") from exc

    async def _context(self) -> Any:
        if self._js is not None:
            return self._js
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._js is None:
                self._js = await connect(self.config)
        return self._js

    async def close(self) -> None:
        if self._js is not None:
            await self._js._nc.drain()
            self._js = None


@dataclass
class Delivery:
    """One fetched message: its workspace, its events, and the message to acknowledge."""

    workspace: str
    events: list[dict[str, Any]]
    message: Any
    sequence: int


class NatsConsumer:
    """A loader's side of the queue: fetch batches, acknowledge them after the warehouse commit."""

    def __init__(self, config: CollectorConfig) -> None:
        self.config = config
        self._js: Any = None
        self._sub: Any = None

    async def open(self) -> None:
        self._js = await connect(self.config)
        self._sub = await self._js.pull_subscribe(
            self.config.nats_subject,
            durable=CONSUMER,
            stream=self.config.nats_stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=self.config.nats_ack_wait_seconds,
                max_ack_pending=-1,
            ),
        )

    async def fetch(self, batch: int, timeout: float) -> list[Delivery]:
        """Up to ``batch`` messages, waiting up to ``timeout`` seconds for the first."""
        try:
            messages = await self._sub.fetch(batch, timeout=timeout)
        except NatsTimeout:
            return []
        out = []
        for message in messages:
            payload = json.loads(message.data)
            out.append(Delivery(payload["ws"], payload["events"], message, message.metadata.sequence.stream))
        return out

    async def ack(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            await delivery.message.ack()

    async def close(self) -> None:
        if self._js is not None:
            await self._js._nc.drain()
            self._js = None
