"""Listing every difference between live and replayed read-model documents."""

from __future__ import annotations

from ledger.audit.compare import diff_docs


def test_equal_documents_have_no_differences() -> None:
    docs = {"g:1": {"balance": 5, "claims": ["C-1"]}}
    assert list(diff_docs("guarantees", docs, {"g:1": {"balance": 5, "claims": ["C-1"]}})) == []


def test_each_differing_leaf_is_listed_with_its_path() -> None:
    live = {"g:1": {"balance": 5, "shares": {"bank": 1, "fund": 2}}}
    replayed = {"g:1": {"balance": 6, "shares": {"bank": 1, "fund": 3}}}
    found = [(d.path, d.live, d.replayed) for d in diff_docs("guarantees", live, replayed)]
    assert found == [("$.balance", 5, 6), ("$.shares.fund", 2, 3)]


def test_a_document_only_one_side_has_is_listed_as_absent_on_the_other() -> None:
    (difference,) = diff_docs("claims", {}, {"c:1": {"status": "filed"}})
    assert difference.describe() == "claims c:1 $: live absent, replayed {'status': 'filed'}"


def test_lists_of_different_lengths_differ_as_a_whole() -> None:
    (difference,) = diff_docs("g", {"k": {"claims": ["C-1"]}}, {"k": {"claims": []}})
    assert (difference.path, difference.live, difference.replayed) == ("$.claims", ["C-1"], [])
