"""What a post touches: the locks it must hold and the decision state it must load."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from events import payloads as p


@dataclass(frozen=True)
class GuaranteeRef:
    """The immutable facts of an existing guarantee needed before locking."""

    program_id: str
    sme_id: str


@dataclass
class Footprint:
    """Lock keys and state to load for one post (one event or an atomic batch).

    Locks are transaction-scoped advisory locks taken before the transaction
    writes anything, so it has no transaction id yet while it waits. Two
    posts that depend on the same state therefore commit in lock order *and*
    get transaction ids in that order, which is the order the sealer gives
    them in the log: the log replays exactly the decisions that were made.
    """

    exclusive: set[str] = field(default_factory=set)
    shared: set[str] = field(default_factory=set)
    institutions: set[str] = field(default_factory=set)
    programs: set[str] = field(default_factory=set)
    smes: set[str] = field(default_factory=set)
    guarantees: set[str] = field(default_factory=set)
    claims: set[str] = field(default_factory=set)
    balances: set[tuple[str, str]] = field(default_factory=set)
    volumes: set[str] = field(default_factory=set)
    barrier: bool = False
    """The post changes what the limits apply to (a guarantor's limits, a program's
    terms): it waits for every other append to end and holds the rest off."""
    limit_pairs: set[tuple[str, str]] = field(default_factory=set)
    """(guarantor, SME) of issuances: checked against the guarantor's limits, if any."""
    limit_institutions: set[str] = field(default_factory=set)
    """Institutions whose net assets or limits the post records."""
    renewals: set[str] = field(default_factory=set)
    """Guarantees renewed (a raised balance is checked against the guarantor's limits)."""
    discharges: set[str] = field(default_factory=set)
    """Guarantees whose balance leaves force (counted by their program's breaker, if any)."""
    breakers: dict[tuple[str, str], bool] = field(default_factory=dict)
    """(program, institution) breakers read, and whether the post may change them."""

    def add_breaker(self, program_id: str, institution_id: str, exclusive: bool) -> None:
        """Read a breaker (exclusive: and maybe change it), when its program has a limit."""
        key = (program_id, institution_id)
        self.breakers[key] = self.breakers.get(key, False) or exclusive


# Events that can change a guarantee's in-force balance (the amount or whether it
# still counts) lock its SME exclusively, like the cap check that reads the sum.
# Default, claim filing, approval, rejection and recovery read and change only
# their own guarantee, which its stream lock already covers.
_BALANCE_EVENTS = (
    p.LoanRepaid,
    p.GuaranteeRenewed,
    p.GuaranteeReleased,
    p.CompensationPaid,
    p.ClaimClosed,
)


# Events whose balance leaves force, counted by a program's compensation-rate breaker.
_DISCHARGE_EVENTS = (p.LoanRepaid, p.GuaranteeReleased, p.CompensationPaid, p.ClaimClosed)


# Events that change which risk limits apply (a program's rate limit, a guarantor's
# limits): barriers, which every other append waits for (ledger_prepare).
_BARRIER_EVENTS = (p.ProgramAmended, p.InstitutionNetAssetsRecorded, p.InstitutionLimitsSet)


def changes_limits(events: list[p.Payload]) -> bool:
    """Whether the post changes which risk limits apply (it is then stored alone)."""
    return any(isinstance(e, _BARRIER_EVENTS) for e in events)


def referenced_guarantees(events: list[p.Payload]) -> set[str]:
    """Every guarantee the post names (their program and SME are looked up before locking)."""
    # Issued ones are included too: a batch may name an existing guarantee before
    # (wrongly) issuing it again, and must see it exists rather than that it is unknown.
    return {e.guarantee_id for e in events if hasattr(e, "guarantee_id")}


def issued_guarantees(events: list[p.Payload]) -> list[str]:
    """The guarantees the post issues, in order (their loans add to program volumes)."""
    return [e.guarantee_id for e in events if isinstance(e, p.GuaranteeIssued)]


def footprint(events: list[p.Payload], refs: Mapping[str, GuaranteeRef]) -> Footprint:
    """The footprint of a post, given the facts of the guarantees it refers to.

    `refs` is read before any lock is held. A guarantee missing from it is not
    loaded even if its issuance commits while this post waits for its locks:
    the post then sees the guarantee as unknown and is refused, rather than
    being decided without the SME and program locks that guarantee needs.
    """
    fp = Footprint()
    known = dict(refs)
    # Parties of guarantees this post issues: a discharge later in the post counts for
    # one of them, in a breaker no stored guarantee leads ledger_prepare to.
    issued_here: dict[str, p.GuaranteeIssued] = {}
    for event in events:
        fp.exclusive.add(f"stream:{event.stream_id}")
        match event:
            case p.InstitutionRegistered() | p.StatementFiled():
                fp.institutions.add(event.institution_id)
            case p.WitnessRegistered():
                pass  # its stream's lock (above) is all it needs
            case p.ProgramRegistered() | p.ProgramAmended():
                # An amendment may add or drop a rate limit, which decides whether posts
                # in the program take the breaker's lock: none may be under way meanwhile.
                fp.barrier = fp.barrier or isinstance(event, p.ProgramAmended)
                fp.exclusive.add(f"program:{event.program_id}")
                fp.programs.add(event.program_id)
                fp.institutions.update(event.terms.parties.values())
            case p.SmeRegistered() | p.SmeEligibilityRecorded():
                fp.exclusive.add(f"sme:{event.sme_id}")
                fp.smes.add(event.sme_id)
            case p.GuaranteeIssued():
                known[event.guarantee_id] = GuaranteeRef(event.program_id, event.sme_id)
                issued_here[event.guarantee_id] = event
                fp.exclusive.add(f"sme:{event.sme_id}")
                fp.shared.add(f"program:{event.program_id}")
                fp.programs.add(event.program_id)
                fp.smes.add(event.sme_id)
                fp.guarantees.add(event.guarantee_id)
                fp.balances.add((event.sme_id, event.program_id))
                fp.institutions.update(
                    i for i in (event.bank_id, event.guarantor_id, event.reguarantor_id) if i
                )
                fp.limit_pairs.add((event.guarantor_id, event.sme_id))
                fp.add_breaker(event.program_id, event.guarantor_id, False)
                fp.add_breaker(event.program_id, event.bank_id, False)
            case p.InstitutionNetAssetsRecorded() | p.InstitutionLimitsSet():
                # Whether a guarantor has limits decides whether its posts take its lock.
                fp.barrier = True
                fp.institutions.add(event.institution_id)
                fp.limit_institutions.add(event.institution_id)
            case p.LimitReinstated():
                fp.shared.add(f"program:{event.program_id}")
                fp.institutions.add(event.institution_id)
                fp.programs.add(event.program_id)
                fp.add_breaker(event.program_id, event.institution_id, True)
            case _:
                _guarantee_event(fp, event, known)
                first = issued_here.get(getattr(event, "guarantee_id", ""))
                if first is not None and isinstance(event, _DISCHARGE_EVENTS):
                    fp.add_breaker(first.program_id, first.guarantor_id, True)
                    fp.add_breaker(first.program_id, first.bank_id, True)
    fp.shared -= fp.exclusive
    return fp


def _guarantee_event(fp: Footprint, event: p.Payload, known: Mapping[str, GuaranteeRef]) -> None:
    guarantee_id: str = event.guarantee_id  # type: ignore[union-attr]
    ref = known.get(guarantee_id)
    if ref is None:
        return  # unknown before locking: not loaded, so the rules refuse it
    fp.guarantees.add(guarantee_id)
    if isinstance(event, p.ClaimFiled):
        fp.exclusive.add(f"claim:{event.claim_id}")
        fp.claims.add(event.claim_id)
    fp.programs.add(ref.program_id)
    if isinstance(event, _BALANCE_EVENTS):
        fp.exclusive.add(f"sme:{ref.sme_id}")
        fp.balances.add((ref.sme_id, ref.program_id))
    if isinstance(event, _DISCHARGE_EVENTS):
        fp.discharges.add(guarantee_id)
    if isinstance(event, p.GuaranteeRenewed):
        fp.renewals.add(guarantee_id)
        # A renewal that raises the balance checks the program's current per-SME
        # cap, which an amendment (exclusive on the program) may change.
        fp.shared.add(f"program:{ref.program_id}")
    if isinstance(event, p.CompensationPaid):
        # The cap headroom depends on every issuance and compensation in the program.
        fp.exclusive.add(f"program:{ref.program_id}")
        fp.volumes.add(ref.program_id)


def merged(footprints: list[Footprint]) -> Footprint:
    """One footprint covering every one of `footprints`: posts stored in one transaction
    hold the locks and load the state of them all (exclusive wins over shared)."""
    if len(footprints) == 1:
        return footprints[0]
    whole = Footprint()
    for fp in footprints:
        whole.exclusive |= fp.exclusive
        whole.shared |= fp.shared
        whole.institutions |= fp.institutions
        whole.programs |= fp.programs
        whole.smes |= fp.smes
        whole.guarantees |= fp.guarantees
        whole.claims |= fp.claims
        whole.balances |= fp.balances
        whole.volumes |= fp.volumes
        whole.barrier = whole.barrier or fp.barrier
        whole.limit_pairs |= fp.limit_pairs
        whole.limit_institutions |= fp.limit_institutions
        whole.renewals |= fp.renewals
        whole.discharges |= fp.discharges
        for (program_id, institution_id), exclusive in fp.breakers.items():
            whole.add_breaker(program_id, institution_id, exclusive)
    whole.shared -= whole.exclusive
    return whole
