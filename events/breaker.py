"""The compensation-rate circuit breaker's arithmetic, shared by the rules and the read models.

One institution's standing in one program for one calendar year of business
dates: what left force, how much of it by
compensation, and whether new issuance is suspended.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from events.business import SHANGHAI
from events.terms import CompensationRateLimit

BreakerStatus = Literal["ok", "warning", "suspended", "reinstated"]
"""What the breaker says of an institution in a program for a year."""

Discharge = Literal["repaid", "released", "compensated", "closed"]
"""The ways a balance leaves force (section 9's `discharged` is their sum)."""


def business_year(at: dt.datetime) -> int:
    """The calendar year of a business time's date in Asia/Shanghai."""
    return at.astimezone(SHANGHAI).year


class Breaker(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Discharged amounts in fen by kind, and whether issuance is suspended or reinstated."""

    repaid: int = 0
    released: int = 0
    compensated: int = 0
    closed: int = 0
    suspended: bool = False
    reinstated: bool = False

    @property
    def discharged(self) -> int:
        """repaid + released + compensated + closed."""
        return self.repaid + self.released + self.compensated + self.closed

    @property
    def rate_bp(self) -> int | None:
        """floor(compensated * 10000 / discharged), None while nothing was discharged."""
        discharged = self.discharged
        return None if discharged == 0 else self.compensated * 10000 // discharged

    def trips(self, limit: CompensationRateLimit) -> bool:
        """Whether its sums are at or above `limit`'s suspend_bp, with at least min_discharged
        discharged."""
        rate = self.rate_bp
        return (
            rate is not None
            and rate >= limit.suspend_bp
            and self.discharged >= limit.min_discharged
        )

    def suspended_under(self, limit: CompensationRateLimit) -> bool:
        """Whether issuance is suspended under `limit`: an event tripped it, or its sums trip
        a limit that came after they were counted (a program amended to carry one; the next
        discharge counted under the limit then keeps the suspension), and no reinstatement
        lifted it since."""
        return self.suspended or (not self.reinstated and self.trips(limit))

    def status(self, limit: CompensationRateLimit) -> BreakerStatus:
        """ok, warning (rate at or above warning_bp), suspended or reinstated."""
        if self.suspended_under(limit):
            return "suspended"
        if self.reinstated:
            return "reinstated"
        rate = self.rate_bp
        return "warning" if rate is not None and rate >= limit.warning_bp else "ok"


def record(
    breaker: Breaker, limit: CompensationRateLimit | None, kind: Discharge, amount: int
) -> bool:
    """Count `amount` discharged as `kind`; return True when this suspends issuance.

    Every discharge is counted, limit or not (None: the program carries none for the
    institution's role), so that a limit added later rates the whole year. Suspension
    follows any event that leaves the rate at or above suspend_bp with at least
    min_discharged discharged; once reinstated, only a compensation does.
    """
    if amount <= 0:
        return False
    if limit is not None and not breaker.reinstated and breaker.trips(limit):
        # Suspended since a limit that came after its sums (suspended_under): kept so, as
        # any suspension is, whatever this discharge does to the rate, until reinstated.
        breaker.suspended = True
    setattr(breaker, kind, getattr(breaker, kind) + amount)
    if limit is None or breaker.suspended or (breaker.reinstated and kind != "compensated"):
        return False
    if not breaker.trips(limit):
        return False
    breaker.suspended = True
    breaker.reinstated = False
    return True


def reinstate(breaker: Breaker) -> None:
    """Lift a suspension: it holds until a later compensation crosses suspend_bp again."""
    breaker.suspended = False
    breaker.reinstated = True
