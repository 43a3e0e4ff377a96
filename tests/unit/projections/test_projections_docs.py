"""The document set a projection applies events to."""

from __future__ import annotations

import pytest

from projections.base import Docs, NotLoaded


def test_strict_documents_refuse_a_key_that_was_never_loaded() -> None:
    docs = Docs(strict=True)
    with pytest.raises(NotLoaded):
        docs.get("guarantee:G-1")


def test_strict_documents_answer_none_for_a_key_loaded_and_not_found() -> None:
    docs = Docs(strict=True)
    docs.load({}, {"guarantee:G-1"})
    assert docs.get("guarantee:G-1") is None


def test_loading_never_replaces_a_document_changed_in_the_batch() -> None:
    docs = Docs(strict=True)
    docs.put("sme:S", {"balance": 5})
    docs.load({"sme:S": {"balance": 1}}, {"sme:S"})
    assert docs.need("sme:S") == {"balance": 5}
    assert docs.take_changed() == {"sme:S": {"balance": 5}}
    assert docs.take_changed() == {}


def test_peek_never_raises_for_an_unloaded_key() -> None:
    assert Docs(strict=True).peek("program:P") is None
