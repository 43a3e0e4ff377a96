"""Verification in the browser against a made-up log: honest growth is proved, and a fork, a
bad signature or a changed key raises the alarm naming the tree sizes."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser import forge
from tests.browser.conftest import LiveLedger
from tests.browser.helpers import sign_in, visit

pytestmark = pytest.mark.asyncio(loop_scope="session")

TREE = [json.dumps({"event": i}).encode() for i in range(8)]
FORK = TREE[:3] + [json.dumps({"event": i, "rewritten": True}).encode() for i in range(3, 8)]


class FakeLog:
    """Answers the log routes for a tree the test chooses, signed with the vector key."""

    def __init__(self) -> None:
        self.key = forge.VERIFIER_KEY
        self.leaves: list[bytes] = []
        self.note = ""
        self.proof_text = ""
        self.serves_checkpoint = True

    async def serve(self, page: Any, leaves: list[bytes], *, corrupt: bool = False) -> None:
        """Serve `leaves` as the log, its checkpoint signed (or with a corrupted signature)."""
        self.leaves = leaves
        self.note = await forge.sign(page, forge.checkpoint_text(leaves))
        if corrupt:
            line = self.note.rstrip("\n").split(" ")
            sig = bytearray(forge.base64.b64decode(line[-1]))
            sig[-1] ^= 1
            self.note = " ".join([*line[:-1], forge.b64(bytes(sig))]) + "\n"

    async def __call__(self, route: Any) -> None:
        url = urlsplit(route.request.url)
        text = "text/plain; charset=utf-8"
        if not self.note:
            # Until the test serves a tree, this is a ledger without a verifiable log.
            await route.fulfill(status=404, content_type="application/problem+json", body="{}")
        elif url.path == "/v1/log/key":
            await route.fulfill(status=200, content_type=text, body=self.key + "\n")
        elif url.path == "/v1/log/checkpoint" and self.serves_checkpoint:
            await route.fulfill(status=200, content_type=text, body=self.note)
        elif url.path == "/v1/log/proof/consistency":
            q = parse_qs(url.query)
            m, n = int(q["from"][0]), int(q["to"][0])
            if n > len(self.leaves):
                # As the ledger answers a size past its tree.
                size = len(self.leaves)
                detail = f"query.to: must be at most the sealed log's size ({size})"
                problem = {"status": 422, "detail": detail}
                await route.fulfill(
                    status=422, content_type="application/problem+json", body=json.dumps(problem)
                )
                return
            body = forge.consistency_body(m, self.leaves[:n])
            await route.fulfill(status=200, content_type="application/json", body=body)
        elif url.path.endswith("/proof"):
            await route.fulfill(status=200, content_type=text, body=self.proof_text)
        else:
            await route.fulfill(status=404, content_type="application/problem+json", body="{}")


async def _audit(watched: Any, ledger: LiveLedger) -> Any:
    page = await visit(watched, ledger, "/console/audit")
    await page.wait_for_selector("#s-latest-signed-checkpoint ~ div :is(dl, .notice)")
    return page


async def _verified(
    browser: Any, ledger: LiveLedger, leaves: list[bytes], who: str = "reader"
) -> tuple[FakeLog, Any]:
    """Signed in as `who` before a fake log of `leaves`, whose checkpoint the audit page
    has verified and this browser keeps."""
    fake = FakeLog()
    watched = await sign_in(browser, ledger, who, fake=fake)
    await fake.serve(watched.page, leaves)
    await _audit(watched, ledger)
    return fake, watched


async def test_a_grown_log_is_proved_consistent_with_the_checkpoint_verified_before(
    browser: Any, ledger: LiveLedger
) -> None:
    fake = FakeLog()
    watched = await sign_in(browser, ledger, "reader", fake=fake)
    await fake.serve(watched.page, TREE[:5])
    page = await _audit(watched, ledger)
    assert await page.get_attribute("[data-verified-size]", "data-verified-size") == "5"
    await fake.serve(page, TREE)
    page = await _audit(watched, ledger)
    assert await page.get_attribute("[data-verified-size]", "data-verified-size") == "8"
    assert "proved consistent with tree size 5" in await page.inner_text("main")
    assert await page.is_hidden("#alarm")
    await page.context.close()


async def test_a_forked_checkpoint_raises_the_alarm_naming_both_sizes(
    browser: Any, ledger: LiveLedger
) -> None:
    fake, watched = await _verified(browser, ledger, TREE[:5])
    await fake.serve(watched.page, FORK)
    page = await _audit(watched, ledger)
    alarm = await page.inner_text("#alarm")
    assert "tree size 8" in alarm
    assert "tree size 5" in alarm
    assert await page.get_attribute("#alarm", "role") == "alert"
    # The forked checkpoint is never taken as verified.
    assert await page.get_attribute("[data-verified-size]", "data-verified-size") == "5"
    await page.context.close()


async def test_a_log_gone_back_raises_the_alarm_on_every_page(
    browser: Any, ledger: LiveLedger
) -> None:
    """Rolled back below what this browser verified: the log cannot prove its smaller
    checkpoint, and that is the alarm, not an error page (it was a bare 422)."""
    fake, watched = await _verified(browser, ledger, TREE)
    await fake.serve(watched.page, FORK[:5])
    page = await _audit(watched, ledger)
    alarm = await page.inner_text("#alarm")
    assert "The log went back: it now serves a checkpoint at tree size 5" in alarm
    assert "tree size 8 this browser verified before" in alarm
    assert "could not be shown" not in await page.inner_text("main")
    page = await visit(watched, ledger, "/console/programs")
    await page.wait_for_selector("#alarm:not([hidden])")
    assert "went back" in await page.inner_text("#alarm")
    await page.context.close()


async def test_a_badly_signed_checkpoint_raises_the_alarm_naming_its_size(
    browser: Any, ledger: LiveLedger
) -> None:
    fake, watched = await _verified(browser, ledger, TREE[:5])
    await fake.serve(watched.page, TREE, corrupt=True)
    page = await _audit(watched, ledger)
    alarm = await page.inner_text("#alarm")
    assert "tree size 8 does not verify" in alarm
    assert "tree size 5" in alarm
    await page.context.close()


async def test_a_changed_log_key_raises_the_alarm(browser: Any, ledger: LiveLedger) -> None:
    fake, watched = await _verified(browser, ledger, TREE[:5])
    fake.key = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
    page = await _audit(watched, ledger)
    assert "not the key PeterNeumann+c74f20a3" in await page.inner_text("#alarm")
    await page.context.close()


def _tlog_proof(index: int, leaves: list[bytes], note: str, extra: bytes) -> str:
    hashes = "".join(forge.b64(h) + "\n" for h in forge.inclusion(index, leaves))
    return f"c2sp.org/tlog-proof@v1\nextra {forge.b64(extra)}\nindex {index}\n{hashes}\n{note}"


EVENT = {
    "event_id": "3f2b8c1e-5a0d-4c55-9b1e-0c8a7d2e4f61",
    "type": "loan.repaid",
    "occurred_at": "2025-06-01T10:00:00+08:00",
    "stream_id": "guarantee-G-NAT-002",
    "stream_version": 2,
    "recorded_at": "2025-06-01T10:00:01+08:00",
    "data": {"guarantee_id": "G-NAT-002", "amount": 100000000},
}


async def _event_logged(
    browser: Any, ledger: LiveLedger
) -> tuple[FakeLog, Any, bytes, list[bytes]]:
    """Signed in as the auditor before a fake log whose leaf 5 is EVENT: the log, the
    page, EVENT's bytes and the leaves."""
    fake = FakeLog()
    watched = await sign_in(browser, ledger, "auditor", fake=fake)
    event = json.dumps(EVENT).encode()
    leaves = [*TREE[:5], event, *TREE[6:]]
    await fake.serve(watched.page, leaves)
    return fake, watched, event, leaves


@pytest.mark.parametrize(("served", "outcome"), [("honest", "verified"), ("altered", "failed")])
async def test_an_event_page_checks_its_inclusion_proof(
    browser: Any, ledger: LiveLedger, served: str, outcome: str
) -> None:
    """The event's bytes are leaf 5 of an 8-leaf signed tree; altered bytes do not verify."""
    fake, watched, event, leaves = await _event_logged(browser, ledger)
    shown = event if served == "honest" else event.replace(b"100000000", b"900000000")
    fake.proof_text = _tlog_proof(5, leaves, fake.note, shown)
    page = await visit(watched, ledger, f"/console/events/{EVENT['event_id']}")
    await page.wait_for_selector("[data-proof]")
    assert await page.get_attribute("[data-proof]", "data-proof") == outcome
    if outcome == "verified":
        assert "position 6" in await page.inner_text("main")
    await page.context.close()


async def test_an_event_page_refuses_the_proof_of_another_event(
    browser: Any, ledger: LiveLedger
) -> None:
    """The proof holds, but of EVENT: asked for another event, the page must not go green."""
    fake, watched, event, leaves = await _event_logged(browser, ledger)
    fake.proof_text = _tlog_proof(5, leaves, fake.note, event)
    other = "0d6f3a52-8b1e-4f0c-a2d4-7e9b3c1f5a60"
    page = await visit(watched, ledger, f"/console/events/{other}")
    await page.wait_for_selector("[data-proof]")
    assert await page.get_attribute("[data-proof]", "data-proof") == "failed"
    assert f"not of {other}" in await page.inner_text("main")
    assert "G-NAT-002" not in await page.inner_text("main")
    await page.context.close()


async def test_an_event_under_a_forked_checkpoint_is_not_shown(
    browser: Any, ledger: LiveLedger
) -> None:
    """Its proof holds in the forked tree, signed with the log key: the alarm is raised,
    and the bytes that tree carries are not shown as the event."""
    fake, watched = await _verified(browser, ledger, TREE, who="auditor")
    forged = json.dumps({**EVENT, "data": {"guarantee_id": "G-NAT-002", "amount": 9}}).encode()
    leaves = [*FORK[:5], forged, *FORK[6:]]
    await fake.serve(watched.page, leaves)
    fake.proof_text = _tlog_proof(5, leaves, fake.note, forged)
    page = await visit(watched, ledger, f"/console/events/{EVENT['event_id']}")
    await page.wait_for_selector("[data-proof]")
    assert await page.get_attribute("[data-proof]", "data-proof") == "failed"
    assert await page.is_visible("#alarm")
    assert '"amount": 9' not in await page.inner_text("main")
    await page.context.close()


@pytest.mark.parametrize("stops", ["the key and the checkpoint", "the checkpoint"])
async def test_a_pinned_log_no_longer_served_raises_the_alarm(
    browser: Any, ledger: LiveLedger, stops: str
) -> None:
    """Once this browser pinned the key and verified a checkpoint, a ledger that stops
    serving them can no longer prove what it proved: that is no 'not served' notice."""
    fake, watched = await _verified(browser, ledger, TREE[:5])
    if stops == "the checkpoint":
        fake.serves_checkpoint = False
        expected = "serves no signed checkpoint, but this browser verified one at tree size 5"
    else:
        fake.note = ""
        expected = "no longer serves its log key"
    page = await visit(watched, ledger, "/console/audit")
    await page.wait_for_selector("#alarm:not([hidden])")
    assert expected in await page.inner_text("#alarm")
    await page.context.close()


async def test_cosignatures_the_console_cannot_check_are_not_shown_as_checked(
    browser: Any, ledger: LiveLedger
) -> None:
    """A cosignature line of a witness no one registered, with a signature of zeros."""
    fake = FakeLog()
    watched = await sign_in(browser, ledger, "reader", fake=fake)
    await fake.serve(watched.page, TREE[:5])
    zeros = forge.b64(bytes([0x11, 0x22, 0x33, 0x44]) + bytes(8) + bytes(64))
    fake.note += f"\u2014 made-up-witness {zeros}\n"
    page = await _audit(watched, ledger)
    main = await page.inner_text("main")
    assert "not checked here" in main
    assert "Witnesses that cosigned" not in main
    await page.context.close()
