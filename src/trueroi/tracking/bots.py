"""Bot filtering for browser events: a maintained list of crawler user agents, and non-human rates.

- User agents: the patterns of the ``crawler-user-agents`` package (Martin Monperrus' community list of
  crawlers, bots and spiders, MIT, updated with every release; about 1,500 patterns, HeadlessChrome,
  curl and python-requests among them), plus an empty user agent. Results are cached per user agent.
- Rates: a client (address and user agent) sending more than ``per_minute`` events in a minute is not a
  person reading pages; its events beyond that are dropped until the next minute.

Server-side events (the shop's backend, secret key) are never filtered: their user agent is a program's.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from functools import lru_cache

import crawleruseragents

_PATTERNS: list[re.Pattern[str]] = []


def _patterns() -> list[re.Pattern[str]]:
    if not _PATTERNS:
        sources = [entry["pattern"] for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA]
        # a few big alternations instead of 1,500 searches (Python's re has no limit on alternatives)
        _PATTERNS.extend(re.compile("|".join(sources[i : i + 200])) for i in range(0, len(sources), 200))
    return _PATTERNS


@lru_cache(maxsize=8192)
def is_bot_agent(user_agent: str) -> bool:
    """Whether ``user_agent`` is empty or matches a known crawler's pattern."""
    if not user_agent.strip():
        return True
    return any(p.search(user_agent) for p in _patterns())


class RateLimit:
    """Events per client and minute (fixed one-minute windows); thread-safe, bounded in memory.

    Parameters
    ----------
    per_minute
        The most events one client may send in a minute; more are non-human.
    max_clients
        Clients remembered at once; past that the window's counts are forgotten (a flood of new clients
        does not grow memory).
    """

    def __init__(self, per_minute: int, max_clients: int = 200_000) -> None:
        self.per_minute = per_minute
        self.max_clients = max_clients
        self._window = 0
        self._counts: dict[bytes, int] = {}
        self._lock = threading.Lock()

    def allow(self, client: str, events: int, now: float | None = None) -> int:
        """How many of ``events`` new events of ``client`` are within the rate (0 to ``events``)."""
        window = int((time.time() if now is None else now) // 60)
        key = hashlib.blake2b(client.encode("utf-8", "replace"), digest_size=12).digest()
        with self._lock:
            if window != self._window or len(self._counts) >= self.max_clients:
                self._window, self._counts = window, {}
            before = self._counts.get(key, 0)
            self._counts[key] = before + events
        return max(0, min(events, self.per_minute - before))
