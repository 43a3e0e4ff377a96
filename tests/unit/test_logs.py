"""Log lines carry request context and timestamps, and never credentials."""

import io
import json
import logging
from collections.abc import Iterator
from typing import Any, Literal

import pytest
import structlog
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong

from ledger.log_redaction import REDACTED, is_secret_key, redact_secrets
from ledger.logs import configure_logging


def redact(**event: Any) -> dict[str, Any]:
    return dict(redact_secrets(None, "info", event))


@pytest.mark.parametrize(
    "key",
    [
        "authorization",
        "Authorization",
        "api_key",
        "X-API-Key",
        "apiKey",
        "key",
        "token",
        "access_token",
        "password",
        "DB_PASSWORD",
        "password_hash",
        "secret",
        "client_secret",
    ],
)
def test_credential_fields_are_redacted(key: str) -> None:
    assert redact(**{key: "s3cr3t"})[key] == REDACTED


@pytest.mark.parametrize("key", ["key_id", "key_prefix", "event", "institution_id", "keys"])
def test_fields_that_only_name_a_key_stay_readable(key: str) -> None:
    assert not is_secret_key(key)
    assert redact(**{key: "visible"})[key] == "visible"


def test_bearer_values_are_redacted_under_any_name() -> None:
    assert redact(header="Bearer abc.def")["header"] == REDACTED
    assert redact(event="bearer abc")["event"] == REDACTED


def test_nested_headers_are_redacted() -> None:
    event = redact(headers={"Authorization": "Basic Zm9v", "Accept": "application/json"})
    assert event["headers"] == {"Authorization": REDACTED, "Accept": "application/json"}
    assert redact(items=[{"token": "t"}])["items"] == [{"token": REDACTED}]


def test_url_passwords_are_redacted_but_the_rest_of_the_url_kept() -> None:
    event = redact(dsn_used="postgresql://ledger:hunter2@db:5432/ledger")
    assert event["dsn_used"] == f"postgresql://ledger:{REDACTED}@db:5432/ledger"
    assert redact(url="http://127.0.0.1:8080/v1")["url"] == "http://127.0.0.1:8080/v1"


def test_redaction_leaves_the_input_untouched() -> None:
    event = {"token": "t", "n": 1}
    redact_secrets(None, "info", event)
    assert event == {"token": "t", "n": 1}


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    yield stream
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_context_level_timestamp_and_no_secret(log_stream: io.StringIO) -> None:
    configure_logging("json", stream=log_stream)
    structlog.contextvars.bind_contextvars(request_id="req-1")
    structlog.get_logger().info("request", authorization="Bearer xyz", status=201)
    [line] = lines(log_stream)
    assert line["event"] == "request"
    assert line["request_id"] == "req-1"
    assert line["level"] == "info"
    assert line["status"] == 201
    assert line["authorization"] == REDACTED
    assert line["timestamp"].endswith("Z")
    assert "xyz" not in log_stream.getvalue()


def test_stdlib_loggers_share_the_format_and_context(log_stream: io.StringIO) -> None:
    configure_logging("json", stream=log_stream)
    structlog.contextvars.bind_contextvars(request_id="req-2")
    logging.getLogger("aiohttp.access").info("GET /healthz 200")
    [line] = lines(log_stream)
    assert line["event"] == "GET /healthz 200"
    assert line["logger"] == "aiohttp.access"
    assert line["request_id"] == "req-2"


def test_level_filters_debug_lines(log_stream: io.StringIO) -> None:
    configure_logging("json", level="warning", stream=log_stream)
    structlog.get_logger().info("quiet")
    structlog.get_logger().warning("loud")
    assert [line["event"] for line in lines(log_stream)] == ["loud"]


def test_console_format_is_for_people(log_stream: io.StringIO) -> None:
    configure_logging("console", stream=log_stream)
    structlog.get_logger().info("started", port=8080, password="pw")
    text = log_stream.getvalue()
    assert "started" in text
    assert "port=8080" in text
    assert "pw" not in text.replace("password", "")


def test_reconfiguring_does_not_duplicate_lines(log_stream: io.StringIO) -> None:
    configure_logging("json", stream=log_stream)
    configure_logging("json", stream=log_stream)
    logging.getLogger("asyncpg").warning("once")
    assert len(lines(log_stream)) == 1


def test_a_json_line_is_written_whatever_its_values_hold() -> None:
    out = io.StringIO()
    configure_logging("json", stream=out)
    structlog.get_logger("t").info("odd", weird=object(), lone="\ud800", n=3)
    line = json.loads(out.getvalue().splitlines()[-1])
    assert line["weird"].startswith("<object object at ")
    assert (line["n"], line["lone"]) == (3, "\ud800")
    assert line["event"] == "odd"


KEY_ID = "lk_0123456789abcdef"
KEY_SECRET = "S3cretS3cretS3cretS3cretS3cretS3cretS3cret_"


def test_a_key_quoted_inside_text_keeps_its_id_and_loses_its_secret() -> None:
    event = redact(event=f"refused {KEY_ID}_{KEY_SECRET} at the door")
    assert event["event"] == f"refused {KEY_ID}_{REDACTED} at the door"


@pytest.mark.parametrize(
    "mistyped",
    [
        f"lk_{KEY_ID[3:].upper()}_{KEY_SECRET}",
        f"LK_{KEY_ID[3:]}_{KEY_SECRET}",
        f"{KEY_ID[:-1]}_{KEY_SECRET}",
        f"lk-{KEY_ID[3:]}-{KEY_SECRET}",
    ],
)
def test_a_mistyped_key_inside_text_loses_its_secret(mistyped: str) -> None:
    event = redact(event=f"GET /v1/guarantees/{mistyped}", request_id=mistyped)
    assert KEY_SECRET[:20] not in event["event"]
    assert KEY_SECRET[:20] not in event["request_id"]


def test_a_bearer_token_inside_text_is_redacted() -> None:
    assert redact(event="sent 'Bearer abc.def' twice")["event"] == f"sent 'Bearer {REDACTED}' twice"


@pytest.mark.parametrize("space", ["\\t", "\\xc2\\xa0", "\\xa0", "\\u00a0"])
def test_a_token_after_an_escaped_space_in_a_quoted_line_is_redacted(space: str) -> None:
    """aiohttp quotes a header line it cannot read as Python bytes: a tab is written `\\t`."""
    line = f"Got more than 8190 bytes: b'Bearer{space}{KEY_ID}_{KEY_SECRET}{space}aaaa'"
    got = redact(event=line)["event"]
    assert KEY_SECRET not in got
    assert KEY_SECRET[:8] not in got
    other = f"Got more than 8190 bytes: b'Bearer{space}tok.en.value{space}aaaa'"
    assert "tok.en.value" not in redact(event=other)["event"]


def test_an_authorization_header_quoted_in_text_loses_its_whole_value() -> None:
    line = "  b'Authorization: Basic dXNlcjpwYXNz\\x00x'"
    assert redact(event=line)["event"] == f"  b'Authorization: {REDACTED}'"


def test_plain_text_is_left_as_it_is() -> None:
    text = "GET /v1/guarantees/G-1 answered 200 for http://127.0.0.1:8080/v1"
    assert redact(event=text)["event"] == text


def _raise_quoting_a_key() -> None:
    # As aiohttp's parser does for a header line it cannot read.
    line = f"b'Authorization: Bearer {KEY_ID}_{KEY_SECRET}\\x00'"
    raise ValueError(f"Invalid header value char:\n  {line}")


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_a_traceback_quoting_a_key_is_written_without_it(
    log_stream: io.StringIO, fmt: Literal["json", "console"]
) -> None:
    configure_logging(fmt, stream=log_stream)
    try:
        _raise_quoting_a_key()
    except ValueError:
        logging.getLogger("aiohttp.server").exception("Error handling request from %s", "peer")
    text = log_stream.getvalue()
    assert "Invalid header value char" in text
    assert "_raise_quoting_a_key" in text  # the traceback itself is kept
    assert KEY_SECRET not in text


def test_a_request_the_http_parser_refuses_is_one_warning_without_a_traceback(
    log_stream: io.StringIO,
) -> None:
    configure_logging("json", stream=log_stream)
    header = f"b'Authorization: Bearer {KEY_ID}_{KEY_SECRET}\\x00'"
    try:
        raise BadHttpMessage(f"Invalid header value char:\n\n  {header}\n       ^")
    except BadHttpMessage:
        logging.getLogger("aiohttp.server").exception("Error handling request from %s", "127.0.0.1")
    [line] = lines(log_stream)
    assert line["level"] == "warning"
    assert (
        line["event"]
        == "http request refused: Invalid header value char (status 400, from 127.0.0.1)"
    )
    assert "exception" not in line
    assert "Authorization" not in log_stream.getvalue()


@pytest.mark.parametrize(
    "value", ["Basic b3BlcmF0b3I6U3VwM3JTM2NyZXQ=", "session=S3cretCookieValue", KEY_SECRET]
)
def test_a_header_too_long_is_logged_without_what_it_quotes(
    log_stream: io.StringIO, value: str
) -> None:
    configure_logging("json", stream=log_stream)
    try:
        raise LineTooLong(f"{value}xxxx...", "8190")
    except LineTooLong:
        logging.getLogger("aiohttp.server").exception("Error handling request from %s", "127.0.0.1")
    [line] = lines(log_stream)
    assert line["event"] == (
        "http request refused: Got more than 8190 bytes when reading (status 400, from 127.0.0.1)"
    )
    assert value[-12:] not in log_stream.getvalue()


def test_the_console_format_writes_control_characters_as_escapes(
    log_stream: io.StringIO,
) -> None:
    configure_logging("console", stream=log_stream)
    structlog.get_logger("t").info("access", path="/nope\x1b[2J\x1b[31mRED\nforged line")
    text = log_stream.getvalue()
    assert "\x1b" not in text
    assert "/nope\\\\x1b[2J\\\\x1b[31mRED\\\\x0aforged line" in text  # as repr() shows it
    assert text.count("\n") == 1


def test_other_errors_keep_their_level_and_traceback(log_stream: io.StringIO) -> None:
    configure_logging("json", stream=log_stream)
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        logging.getLogger("aiohttp.server").exception("Error handling request from %s", "peer")
    [line] = lines(log_stream)
    assert (line["level"], line["event"]) == ("error", "Error handling request from peer")
    assert "RuntimeError: a bug" in line["exception"]
