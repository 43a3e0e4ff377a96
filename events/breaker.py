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
    reinstated_bp: int | None = None
    """The suspend_bp of the limit a reinstatement lifted the suspension under."""
    reinstated_min: int | None = None
    """That limit's min_discharged."""

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

    def reinstated_under(self, limit: CompensationRateLimit) -> bool:
        """Whether a reinstatement covers `limit`: it was given under that limit or a
        tighter one (suspend_bp and min_discharged no higher). A limit tightened, or added
        again, past the one reinstated under rates the year afresh."""
        if not self.reinstated:
            return False
        if self.reinstated_bp is None or self.reinstated_min is None:
            return True
        return (
            limit.suspend_bp >= self.reinstated_bp
            and limit.min_discharged >= self.reinstated_min
        )

    def suspended_under(self, limit: CompensationRateLimit) -> bool:
        """Whether issuance is suspended under `limit`: an event tripped it, or its sums trip
        a limit that came after they were counted (a program amended to carry one; the next
        discharge counted under the limit then keeps the suspension), and no reinstatement
        under that limit lifted it since."""
        return self.suspended or (not self.reinstated_under(limit) and self.trips(limit))

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
    if limit is not None and not breaker.reinstated_under(limit) and breaker.trips(limit):
        # Suspended since a limit that came after its sums (suspended_under): kept so, as
        # any suspension is, whatever this discharge does to the rate, until reinstated.
        _suspend(breaker)
    setattr(breaker, kind, getattr(breaker, kind) + amount)
    if limit is None or breaker.suspended or (breaker.reinstated and kind != "compensated"):
        return False
    if not breaker.trips(limit):
        return False
    _suspend(breaker)
    return True


def _suspend(breaker: Breaker) -> None:
    breaker.suspended = True
    breaker.reinstated = False
    breaker.reinstated_bp = breaker.reinstated_min = None


def reinstate(breaker: Breaker, limit: CompensationRateLimit) -> None:
    """Lift a suspension under `limit`: it holds until a later compensation crosses
    suspend_bp again, or the program's limit is tightened (or added again) past it."""
    breaker.suspended = False
    breaker.reinstated = True
    breaker.reinstated_bp = limit.suspend_bp
    breaker.reinstated_min = limit.min_discharged
