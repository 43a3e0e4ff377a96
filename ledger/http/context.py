"""What the HTTP handlers share, as typed aiohttp application keys."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web
from structlog.typing import FilteringBoundLogger

from ledger.http.follow import SealedLog
from ledger.http.metrics import Metrics
from ledger.runtime import Runtime


@dataclass(frozen=True)
class Limits:
    """Bounds on waiting, so a slow or missing database answers 503 instead of piling up."""

    acquire_timeout: float = 3.0
    """Longest wait for a pooled connection (pool exhausted or database gone)."""
    post_timeout: float = 20.0
    """Longest a post may take, sealing included."""
    read_timeout: float = 10.0
    """Longest a read may take."""
    audit_timeout: float = 300.0
    """Longest a chain verification may take."""
    min_position_wait: float = 5.0
    """Longest a read model waits for `min_position`."""
    stream_heartbeat: float = 15.0
    """Seconds between comment lines on an idle event stream (keeps proxies from closing it)."""
    stream_stall: float = 30.0
    """Longest an event stream waits for its consumer to take what was sent; then it is cut
    off (it resumes from its last id) rather than buffered for without end."""
    body_timeout: float = 30.0
    """Longest a posted body may take to arrive once its headers have: a poster trickling
    it (or gone without closing) holds no connection and no file descriptor longer."""
    stream_lifetime: float = 3600.0
    """Seconds after which an event stream ends cleanly; its consumer reconnects with its
    last id (its key is then checked again, and load balancers can move it)."""


RUNTIME = web.AppKey("runtime", Runtime)
"""The running ledger: pool, posting service, sealer."""

METRICS = web.AppKey("metrics", Metrics)
"""Request and append counters for /metrics."""

LIMITS = web.AppKey("limits", Limits)
"""Timeouts of this app."""

SEALED_LOG = web.AppKey("sealed_log", SealedLog)
"""Long-poll support for GET /v1/events."""

LOG_ORIGIN = web.AppKey("log_origin", str)
"""The log's origin (ledger.store.origin), the `source` of every CloudEvent served."""

ACCESS_LOG = web.AppKey("access_log", FilteringBoundLogger)
"""The logger of the access lines, bound once when the app is made: structlog's lazy
proxy would build a new bound logger for every line (a fifth of a line's cost)."""

STATE_FOLDS = web.AppKey("state_folds", asyncio.Semaphore)
"""Past states of a long log folded in processes of their own (ledger/audit/
state_process.py): one at a time, since each takes a core from posting while it runs."""
