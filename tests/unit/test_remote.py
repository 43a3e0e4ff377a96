"""The audit commands' HTTP session with a ledger: what it refuses before any request."""

from __future__ import annotations

import pytest

from ledger.remote import Ledger, RemoteError


@pytest.mark.parametrize(
    "url", ["http://user:secret@127.0.0.1:8080", "https://user@ledger.example"]
)
def test_a_url_holding_a_user_or_password_is_refused_in_one_line(url: str) -> None:
    with pytest.raises(RemoteError, match="give the URL without it") as refused:
        Ledger(url, "lk_key")
    assert "secret" not in str(refused.value)
