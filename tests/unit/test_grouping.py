"""Posts decided together for one transaction: in order, each one all or nothing."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from events import payloads as p
from events.envelope import posted_fingerprint
from events.stored import Actor
from ledger.grouping import Accepted, Post, Repeat, decide_group, footprints, partition
from ledger.rules.footprint import GuaranteeRef
from ledger.rules.refusal import Refusal
from ledger.rules.state import View
from ledger.store.decisions import Earlier, Prepared
from ledger.tlog.keys import COSIGNATURE_V1, generate_signer
from tests.factory import envelope, posted
from tests.unit.rules.world import (
    ADMIN,
    BANK,
    GUAR,
    World,
    claim_events,
    issued,
    key,
    seeded,
    snapshot,
)

AT = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
LOAN = 1_000_000_000  # 10 000 000 yuan: three fill the national per-SME cap


def _post(*payloads: p.Payload, event_id: str | None = None) -> Post:
    extra = {} if event_id is None else {"event_id": event_id}
    envelopes = [envelope(e.TYPE, msgspec.to_builtins(e), **extra) for e in payloads]
    return Post(posted(*envelopes), World().poster(payloads[0]), batch=len(payloads) > 1)


def _refs(view: View) -> dict[str, GuaranteeRef]:
    return {gid: GuaranteeRef(g.program_id, g.sme_id) for gid, g in view.guarantees.items()}


def _decide(world: World, *posts: Post) -> list[Accepted | Repeat | Refusal]:
    """Decide `posts` as one group against `world`'s state (all of it loaded)."""
    now, later = partition(list(posts), _refs(world.view))
    assert later == []
    prepared = Prepared(world.view)
    return decide_group(prepared, now, footprints(now, _refs(world.view)), AT).outcomes


def _fresh() -> World:
    w = seeded()
    w.view.dirty.clear()
    return w


def test_each_post_is_decided_against_what_the_posts_before_it_did() -> None:
    w = _fresh()
    outcomes = _decide(
        w,
        _post(issued("G-1", loan_amount=2 * LOAN)),
        _post(issued("G-2", loan_amount=2 * LOAN)),
        _post(issued("G-3", loan_amount=LOAN)),
    )
    assert [type(o).__name__ for o in outcomes] == ["Accepted", "Refusal", "Accepted"]
    refused = outcomes[1]
    assert isinstance(refused, Refusal)
    assert refused.slug == "cap-exceeded"
    assert sorted(w.view.guarantees) == ["G-1", "G-3"]


DEFAULTED = [
    p.LoanDefaulted(guarantee_id="G-1", overdue_principal=1, default_date=dt.date(2026, 1, 10)),
    p.ClaimFiled(guarantee_id="G-1", claim_id="C-1", amount=300_000_000),
]

# (events stored before, the batch, its poster): each batch changes state in place
# before its last event is refused.
BATCHES = {
    "issuances": (
        [],
        [issued("G-7", loan_amount=LOAN), issued("G-8", bank_id="NO-SUCH-BANK")],
        GUAR,
    ),
    "a default and a claim": ([], [*claim_events("G-1", "C-1", 300_000_000, 300_000_000)], BANK),
    "an approval and a compensation": (
        DEFAULTED,
        [
            p.ClaimApproved(guarantee_id="G-1", claim_id="C-1", approved_amount=300_000_000),
            p.CompensationPaid(guarantee_id="G-1", claim_id="C-1"),
            p.ClaimClosed(guarantee_id="G-1", claim_id="C-404"),
        ],
        GUAR,
    ),
    "a repayment": (
        [],
        [
            p.LoanRepaid(guarantee_id="G-1", amount=1),
            p.GuaranteeRenewed(guarantee_id="G-1", maturity_date=dt.date(2027, 6, 1)),
        ],
        BANK,
    ),
}


@pytest.mark.parametrize("name", list(BATCHES))
def test_a_refused_batch_leaves_the_state_as_the_other_posts_alone_would(name: str) -> None:
    before, batch, poster = BATCHES[name]
    w, alone = _fresh(), _fresh()
    for world in (w, alone):
        for event in [issued("G-1", loan_amount=LOAN), *before]:
            world.post(event)
        world.view.dirty.clear()
    refused = _post(*batch)
    refused.actor = key(poster)
    outcomes = _decide(w, refused, _post(issued("G-2", loan_amount=LOAN)))
    alone.post(issued("G-2", loan_amount=LOAN))
    assert isinstance(outcomes[0], Refusal)
    assert outcomes[0].detail.startswith(f"$[{len(batch) - 1}]")
    assert isinstance(outcomes[1], Accepted)
    assert snapshot(w.view) == snapshot(alone.view)


def test_a_post_repeating_an_event_accepted_earlier_in_the_group_repeats_it() -> None:
    w = _fresh()
    event_id = "5d0c4d54-8a1f-4b53-9b4e-6a0f2c9d7e11"
    first = _post(issued("G-1", loan_amount=LOAN), event_id=event_id)
    again = _post(issued("G-1", loan_amount=LOAN), event_id=event_id)
    outcomes = _decide(w, first, again)
    assert isinstance(outcomes[0], Accepted)
    assert outcomes[1] == Repeat([event_id])


def test_an_event_id_reused_in_the_group_for_another_event_is_a_conflict() -> None:
    w = _fresh()
    event_id = "5d0c4d54-8a1f-4b53-9b4e-6a0f2c9d7e12"
    first = _post(issued("G-1", loan_amount=LOAN), event_id=event_id)
    other = _post(issued("G-1", loan_amount=2 * LOAN), event_id=event_id)
    outcomes = _decide(w, first, other)
    assert isinstance(outcomes[1], Refusal)
    assert outcomes[1].slug == "idempotency-conflict"
    assert w.view.guarantees["G-1"].loan_amount == LOAN


def test_a_post_repeating_a_stored_event_is_a_repeat_and_decides_nothing() -> None:
    w = _fresh()
    again = _post(issued("G-1", loan_amount=LOAN))
    event_id = again.event_ids[0]
    earlier = Earlier(event_id, "guarantee-G-1", 1, 7, 7, posted_fingerprint(again.events[0]), AT)
    prepared = Prepared(w.view, earlier={event_id: earlier})
    decided = decide_group(prepared, [again], footprints([again], {}), AT)
    assert decided.outcomes == [Repeat([event_id])]
    assert "G-1" not in w.view.guarantees


def test_a_post_on_a_guarantee_issued_earlier_in_the_group_waits_for_the_next_group() -> None:
    issue = _post(issued("G-9", loan_amount=LOAN))
    repay = _post(p.LoanRepaid(guarantee_id="G-9", amount=1))
    assert partition([issue, repay], {}) == ([issue], [repay])


def test_a_post_on_a_stored_guarantee_is_decided_with_its_group() -> None:
    issue = _post(issued("G-9", loan_amount=LOAN))
    repay = _post(p.LoanRepaid(guarantee_id="G-1", amount=1))
    refs = {"G-1": GuaranteeRef("national-sme-tech-2024", "91500000MA5U7K3Q8Y")}
    assert partition([issue, repay], refs) == ([issue, repay], [])


def _net_assets() -> p.InstitutionNetAssetsRecorded:
    return p.InstitutionNetAssetsRecorded(
        institution_id=GUAR, net_assets=1_000_000, as_of=dt.date(2025, 12, 31)
    )


def test_a_post_changing_the_limits_goes_alone_and_what_follows_it_waits() -> None:
    w = _fresh()
    first, barrier, after = _post(issued("G-1")), _post(_net_assets()), _post(issued("G-2"))
    assert partition([first, barrier, after], _refs(w.view)) == ([first], [barrier, after])
    assert partition([barrier, after], _refs(w.view)) == ([barrier], [after])


def test_a_program_amendment_goes_alone_too() -> None:
    w = _fresh()
    program = w.view.programs["national-sme-tech-2024"]
    amended = _post(p.ProgramAmended(program_id=program.program_id, terms=program.terms))
    later = _post(issued("G-1"))
    assert partition([amended, later], _refs(w.view)) == ([amended], [later])


READER = Actor(role="reader")
STRANGER = key("NO-PARTY-BANK")  # a bank that is no party to G-1
AHEAD = AT + dt.timedelta(days=30)


def _on_g1(w: World, poster: Actor, **extra: object) -> list[Accepted | Repeat | Refusal]:
    """A repayment of G-1 by `poster`, with `extra` in its envelope, decided against `w`
    where G-1's stream is at version 1 with a business time after AT."""
    repaid = p.LoanRepaid(guarantee_id="G-1", amount=1)
    post = Post(posted(envelope(repaid.TYPE, msgspec.to_builtins(repaid), **extra)), poster)
    prepared = Prepared(w.view, versions={"guarantee-G-1": 1}, occurred={"guarantee-G-1": AHEAD})
    now, _ = partition([post], _refs(w.view))
    return decide_group(prepared, now, footprints(now, _refs(w.view)), AT).outcomes


@pytest.mark.parametrize("poster", [READER, STRANGER], ids=["reader", "no party"])
@pytest.mark.parametrize(
    "extra",
    [{"expected_version": 7}, {"occurred_at": "2026-01-01T08:00:00+08:00"}],
    ids=["stream version", "business time"],
)
def test_a_key_that_may_not_post_the_event_learns_nothing_of_its_stream(
    poster: Actor, extra: dict[str, object]
) -> None:
    """403, not the 409 that would tell the stream's version or latest business time."""
    w = _fresh()
    w.post(issued("G-1"))
    (refused,) = _on_g1(w, poster, **extra)
    assert isinstance(refused, Refusal)
    assert (refused.status, refused.slug) == (403, "forbidden")
    assert "current_version" not in refused.extra
    assert "latest_occurred_at" not in refused.extra


def test_its_party_is_told_the_streams_version() -> None:
    w = _fresh()
    w.post(issued("G-1"))
    (refused,) = _on_g1(w, key(BANK), expected_version=7)
    assert isinstance(refused, Refusal)
    assert (refused.slug, refused.extra["current_version"]) == ("version-conflict", 1)


def test_a_key_that_may_not_register_witnesses_is_not_told_a_witness_id_is_taken() -> None:
    w = _fresh()
    verifier = generate_signer("W-1", COSIGNATURE_V1).verifier().encode()
    registered = p.WitnessRegistered(witness_id="W-1", name="Witness", key=verifier)
    body = envelope(registered.TYPE, msgspec.to_builtins(registered))
    prepared = Prepared(w.view, versions={"witness-W-1": 1})
    outcomes = [
        decide_group(prepared, [post], footprints([post], {}), AT).outcomes[0]
        for post in (Post(posted(body), READER), Post(posted(body), ADMIN))
    ]
    assert [(o.status, o.slug) for o in outcomes if isinstance(o, Refusal)] == [
        (403, "forbidden"),
        (409, "invalid-state"),
    ]
