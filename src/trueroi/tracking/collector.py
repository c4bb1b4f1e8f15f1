"""The collector: takes an event batch from a request, checks it, and answers only once it is durable.

One :class:`Collector` serves one web process (:mod:`trueroi.web.api_collect` makes it on first use). For
each batch it

1. reads the JSON and finds the workspace by its key: the secret key (``Authorization: Bearer``) for the
   shop's backend, the public write key (``write_key`` in the body) for the browser tracker; an unknown key
   is refused, and a key only ever reaches its own workspace's log;
2. checks and normalises every event (:mod:`trueroi.tracking.events`), truncating the client address
   (:mod:`trueroi.tracking.privacy`);
3. drops browser events of bots (:mod:`trueroi.tracking.bots`);
4. hands the batch to the local write-ahead log (:class:`~trueroi.tracking.wal.WalWriter`, group commit and
   fsync) or, with ``[collector] queue_url``, to NATS JetStream, and waits until it is kept;
5. answers ``{"accepted": N}``, or 503 when the batch could not be kept (disk full, unwritable log, queue
   unreachable): nothing is acknowledged that was not kept, and the sender retries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trueroi.io import jsonable
from trueroi.server.config import CollectorConfig
from trueroi.tracking.bots import RateLimit, is_bot_agent
from trueroi.tracking.events import CollectRefused, Received, normalize_batch, parse_body
from trueroi.tracking.keys import KeyRing
from trueroi.tracking.nats_queue import NatsPublisher
from trueroi.tracking.privacy import stored_ip
from trueroi.tracking.wal import WalWriter


@dataclass(frozen=True)
class Accepted:
    """A batch kept: how many events were accepted (and stored once), and how many were dropped as bots."""

    accepted: int
    filtered: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The answer's body: ``{"accepted": N}``."""
        return jsonable({"accepted": self.accepted})


class Collector:
    """Checks and keeps event batches for the workspaces of one server home.

    Parameters
    ----------
    home
        The server home's folder (its collector keys file and, by default, its WAL).
    config
        The home's ``[collector]`` settings.
    """

    def __init__(self, home: Path, config: CollectorConfig) -> None:
        self.config = config
        self.keys = KeyRing(home)
        self.limiter = RateLimit(config.bot_events_per_minute)
        self.max_body = int(config.max_body_kb * 1000)
        self.queue = NatsPublisher(config) if config.queue_url else None
        self.wal = None
        if self.queue is None:
            self.wal = WalWriter(
                config.resolved_wal_dir(home),
                durable=config.durable,
                segment_bytes=int(config.segment_mb * 1e6),
            )

    async def collect(
        self,
        body: bytes,
        *,
        key: str | None,
        browser: bool,
        client_ip: str | None = None,
        user_agent: str = "",
        now: datetime | None = None,
    ) -> Accepted:
        """Check and keep one batch (see the module's notes); returns once it is kept.

        Raises
        ------
        CollectRefused
            400 (not JSON), 401 (unknown key), 413 (too many events), 422 (an event that does not fit) or
            503 (the batch could not be kept).
        """
        data = parse_body(body)
        if browser:
            sent = data.get("write_key")
            key = sent if isinstance(sent, str) else key
        workspace = self.keys.workspace(key, secret=not browser)
        if workspace is None:
            which = "write key" if browser else "secret key (Authorization: Bearer SECRET_KEY)"
            raise CollectRefused(401, f"the {which} is unknown")
        received = Received(
            now or datetime.now(UTC), browser, stored_ip(client_ip, self.config.ip_mode), user_agent
        )
        events = normalize_batch(data, received, self.config.max_events)
        total = len(events)
        if browser:
            if is_bot_agent(user_agent):
                return Accepted(0, total)
            events = events[: self.limiter.allow(f"{client_ip}|{user_agent}", total)]
        if events:
            await self._keep(workspace, events)
        return Accepted(len(events), total - len(events))

    async def _keep(self, workspace: str, events: list[dict[str, Any]]) -> None:
        payload = {"ws": workspace, "events": events}
        data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        try:
            if self.queue is not None:
                await self.queue.put(payload, data)
            else:
                await self.wal.append_async(workspace, data)
        except OSError as exc:
            raise CollectRefused(
                503, f"the events could not be stored now ({exc.strerror or exc}); send them again later"
            ) from exc

    def close(self) -> None:
        if self.wal is not None:
            self.wal.close()
