"""First-party tracking: a browser tracker, a server-side events API, a collector that loses nothing, a
loader into the warehouse, and live numbers.

::

    browser (/t.js, write key) --+                       +--> WAL (fsync, group commit) --+
                                 +--> collector (web) ---+                                +--> loader
    shop backend (secret key) ---+                       +--> NATS JetStream (queue_url) -+

Modules:

- :mod:`~trueroi.tracking.events`: the event contract, checks and clock-skew handling;
- :mod:`~trueroi.tracking.keys`: per-workspace write and secret keys (``trueroi collector keys``);
- :mod:`~trueroi.tracking.collector`: :class:`Collector` (what ``POST /collect/v1/...`` calls);
- :mod:`~trueroi.tracking.wal`: the write-ahead log (segments, records, group commit);
- :mod:`~trueroi.tracking.nats_queue`: the same through NATS JetStream;
- :mod:`~trueroi.tracking.loader`: WAL and queue loaders (``trueroi serve`` runs one);
- :mod:`~trueroi.tracking.store`: raw events and canonical rows in one transaction, privacy deletes;
- :mod:`~trueroi.tracking.sessions`, :mod:`~trueroi.tracking.outcomes`: sessions and touchpoints (the GA4
  import's rules), orders and conversions;
- :mod:`~trueroi.tracking.bots`, :mod:`~trueroi.tracking.privacy`: bot filter, address truncation;
- :mod:`~trueroi.tracking.live`: the live page's numbers.
"""

from trueroi.tracking.collector import Accepted, Collector
from trueroi.tracking.events import CollectRefused
from trueroi.tracking.keys import CollectorKeys, collector_keys
from trueroi.tracking.live import LiveNumbers, live_numbers
from trueroi.tracking.loader import QueueLoader, WalLoader, run_loader
from trueroi.tracking.store import Forgotten, TrackingLoad, apply_retention, forget_user, load_events

__all__ = [
    "Accepted",
    "CollectRefused",
    "Collector",
    "CollectorKeys",
    "Forgotten",
    "LiveNumbers",
    "QueueLoader",
    "TrackingLoad",
    "WalLoader",
    "apply_retention",
    "collector_keys",
    "forget_user",
    "live_numbers",
    "load_events",
    "run_loader",
]
