"""Property: the pure fold of accepted events agrees with the rules' own decision state."""

from __future__ import annotations

from hypothesis import given, settings

from events.breaker import business_year
from events.types import ROLES
from projections.fold import Fold
from tests.unit.projections.scenario import OPS, T0, random_steps


@settings(max_examples=60, deadline=None)
@given(OPS)
def test_fold_balances_statuses_and_shares_equal_the_rules_state(
    ops: list[tuple[int, int, int]],
) -> None:
    """Whatever the sequence, the read models show what the rules decided."""
    ledger = random_steps(ops)
    fold = Fold().apply_all(ledger.entries)
    view = ledger.view
    for gid, g in view.guarantees.items():
        body = fold.guarantee_summary(gid)
        assert body is not None
        assert (body["status"], body["balance"]) == (g.status, g.balance)
        assert body["claims"] == list(g.claims)
        assert body["shares_bp"] == g.shares_bp.as_dict()
        assert body["parties"] == g.parties
        for cid, claim in g.claims.items():
            shares = fold.claim_shares(cid)
            assert shares is not None
            assert shares["status"] == claim.status
            borne = claim.borne.as_dict() if claim.borne else dict.fromkeys(ROLES, 0)
            assert {r: shares["shares"][r]["borne"] for r in ROLES} == borne
            assert {r: shares["shares"][r]["recovered"] for r in ROLES} == claim.recovered.as_dict()
    for (sme_id, program_id), balance in view.sme_balance.items():
        exposure = fold.sme_exposure(sme_id)
        assert exposure is not None
        rows = {row["program_id"]: row for row in exposure["programs"]}
        assert rows[program_id]["balance"] == balance
        assert rows[program_id]["cap"] == view.programs[program_id].terms.per_sme_cap
    for program_id, program in view.programs.items():
        summary = fold.program_summary(program_id)
        assert summary is not None
        assert summary["version"] == program.version
        borne = {role: amount for role, amount in summary["totals"]["borne"].items() if amount}
        assert borne == {role: amount for role, amount in program.borne.items() if amount}
    for (program_id, institution_id, year), breaker in view.breakers.items():
        position = fold.institution_position(institution_id, year)
        assert position is not None
        rows = {row["program_id"]: row for row in position["programs"]}
        terms = view.programs[program_id].terms.compensation_rate_limit
        if terms is None:
            # Counted, limit or not; shown only under a limit.
            assert "limit" not in rows[program_id]
            continue
        limit = rows[program_id]["limit"]
        if terms.role not in rows[program_id]["roles"]:
            # Counted for a limit of its own role to come; not rated under this one.
            assert (limit["rate_bp"], limit["discharged"], limit["status"]) == (None, 0, "ok")
            continue
        assert (limit["rate_bp"], limit["discharged"], limit["status"]) == (
            breaker.rate_bp,
            breaker.discharged,
            breaker.status(terms),
        )
    assert all(year == business_year(T0) for _, _, year in view.breakers)
