"""The console's verification code (verify.js), run in the real browser on the published vectors."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveLedger
from tests.browser.helpers import open_page
from tests.required import cannot_run

pytestmark = pytest.mark.asyncio(loop_scope="session")

_ROOT = Path(__file__).resolve().parents[2]


def _vectors() -> Path:
    # The shared folder sits beside the repository (CI) or beside its work trees.
    places = (
        os.environ.get("LEDGER_TEST_VECTORS"),
        _ROOT / "tests" / "unit" / "tlog" / "vectors",  # the copy shipped with the tests
        _ROOT / "tests" / "vectors",
        _ROOT.parent / "shared" / "vectors",
        _ROOT.parent.parent / "shared" / "vectors",
    )
    for place in places:
        if place and (Path(place) / "rfc6962").is_dir():
            return Path(place)
    cannot_run("no test vectors: set LEDGER_TEST_VECTORS to the shared vectors folder")


def _load(kind: str) -> list[dict[str, Any]]:
    found = []
    for path in sorted((_vectors() / "rfc6962" / kind).rglob("*.json")):
        case = json.loads(path.read_text())
        case["file"] = str(path.relative_to(_vectors()))
        found.append(case)
    return found


async def _run(browser: Any, ledger: LiveLedger, script: str, arg: Any) -> Any:
    watched = await open_page(browser)
    page = watched.page
    # Any console page will do: verify.js is imported as the console imports it.
    await page.goto(ledger.url + "/console/")
    try:
        return await page.evaluate(script, arg)
    finally:
        await page.context.close()


_INCLUSION = """async (cases) => {
  const v = await import('/console/assets/verify.js');
  const wrong = [];
  for (const c of cases) {
    let ok;
    try { ok = await v.verifyInclusion(c.leafIdx, c.treeSize, c.leafHash, c.proof, c.root); }
    catch (e) { if (!(e instanceof v.VerifyError)) wrong.push(c.file + ': ' + e); ok = false; }
    if (ok === c.wantErr) wrong.push(c.file + (c.wantErr ? ' verified' : ' failed'));
  }
  return {count: cases.length, wrong};
}"""


async def test_inclusion_proofs_verify_exactly_as_the_rfc6962_vectors_say(
    browser: Any, ledger: LiveLedger
) -> None:
    cases = _load("inclusion")
    result = await _run(browser, ledger, _INCLUSION, cases)
    assert result["count"] == len(cases) > 50
    assert result["wrong"] == []


_CONSISTENCY = """async (cases) => {
  const v = await import('/console/assets/verify.js');
  const wrong = [];
  for (const c of cases) {
    let ok;
    try { ok = await v.verifyConsistency(c.size1, c.size2, c.root1, c.root2, c.proof); }
    catch (e) { if (!(e instanceof v.VerifyError)) wrong.push(c.file + ': ' + e); ok = false; }
    if (ok === c.wantErr) wrong.push(c.file + (c.wantErr ? ' verified' : ' failed'));
  }
  return {count: cases.length, wrong};
}"""


async def test_consistency_proofs_verify_exactly_as_the_rfc6962_vectors_say(
    browser: Any, ledger: LiveLedger
) -> None:
    cases = _load("consistency")
    result = await _run(browser, ledger, _CONSISTENCY, cases)
    assert result["count"] == len(cases) > 50
    assert result["wrong"] == []


_NOTE = """async (n) => {
  const v = await import('/console/assets/verify.js');
  const outcome = async (note, vkey) => {
    try { await v.openNote(note, await v.parseVerifierKey(vkey)); return 'ok'; }
    catch (e) { return e instanceof v.VerifyError ? 'refused' : 'crashed: ' + e; }
  };
  const both = n.signed_note + n.second_signature_line;
  const onlySecond = n.text + '\\n' + n.second_signature_line;
  return {
    signed: await outcome(n.signed_note, n.verifier_key),
    other_signature_ignored: await outcome(both, n.verifier_key),
    second_key_alone: await outcome(both, n.second_verifier_key),
    altered_text: await outcome(n.signed_note.replace('cryptography', 'Cryptography'),
                                n.verifier_key),
    unsigned_by_known_key: await outcome(onlySecond, n.verifier_key),
    bad_key_id: await outcome(n.signed_note, n.verifier_key.replace('+c74f20a3+', '+c74f20a4+')),
  };
}"""


async def test_signed_notes_open_with_their_key_and_only_with_it(
    browser: Any, ledger: LiveLedger
) -> None:
    """The C2SP signed-note vector verifies; altered text, a missing signature or a verifier
    key whose id does not match are refused, and an unknown key's signature is ignored."""
    note = json.loads((_vectors() / "signed-note.json").read_text())
    result = await _run(browser, ledger, _NOTE, note)
    assert result == {
        "signed": "ok",
        "other_signature_ignored": "ok",
        "second_key_alone": "ok",
        "altered_text": "refused",
        "unsigned_by_known_key": "refused",
        "bad_key_id": "refused",
    }


_PLUS_KEY = """async () => {
  const v = await import('/console/assets/verify.js');
  for (let i = 0; i < 200; i++) {
    const pair = await crypto.subtle.generateKey({name: 'Ed25519'}, true, ['sign', 'verify']);
    const pub = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
    const material = new Uint8Array([1, ...pub]);
    const b64 = v.toBase64(material);
    if (!b64.includes('+')) continue;
    const name = 'example.com/log';
    const id = (await v.sha256(new Uint8Array([...new TextEncoder().encode(name + '\\n'),
                                                ...material]))).slice(0, 4);
    const parsed = await v.parseVerifierKey(`${name}+${v.toHex(id)}+${b64}`);
    return [parsed.name, parsed.id === v.toHex(id)];
  }
  return null;
}"""


async def test_a_verifier_key_whose_base64_holds_a_plus_parses(
    browser: Any, ledger: LiveLedger
) -> None:
    assert await _run(browser, ledger, _PLUS_KEY, None) == ["example.com/log", True]
