"""Every shell command the README shows can run as shown: checked offline, command by command.

`ledger` lines are parsed by the real argument parser (subcommands, options, choices),
and each option appears in its subcommand's --help; `make` targets exist; `curl` calls
name routes the OpenAPI document serves; variables exported are the documented ones.
What needs a running service was run by hand (see the README's tour).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
from pathlib import Path

import pytest

from ledger.cli import build_parser, main
from ledger.http.openapi import document

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# What the shell substitutes, where the parser checks the value's form.
_SUBSTITUTED = {"$(cat digest.txt)": "42:" + "ab" * 32}
_BLOCK = re.compile(r"^```(?:sh|bash|shell)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _commands() -> list[list[str]]:
    found = []
    for block in _BLOCK.findall(README):
        pending = ""
        for line in block.replace("\\\n", " ").splitlines():
            pending += line
            try:
                tokens = shlex.split(pending, comments=True)
            except ValueError:  # a quoted argument goes on over the next line
                pending += "\n"
                continue
            pending = ""
            if tokens and tokens[-1] == "&":
                tokens.pop()
            tokens = [_SUBSTITUTED.get(t, t) for t in tokens]
            while "|" in tokens:  # each command of a pipeline on its own
                found.append(tokens[: tokens.index("|")])
                tokens = tokens[tokens.index("|") + 1 :]
            if tokens:
                found.append(tokens)
        assert pending == "", f"unclosed quote in the README: {pending!r}"
    return found


COMMANDS = _commands()


def _of(*programs: str) -> list[list[str]]:
    return [c for c in COMMANDS if c[0] in programs]


def _ids(commands: list[list[str]]) -> list[str]:
    return [" ".join(c)[:60] for c in commands]


def test_the_readme_shows_only_commands_this_test_knows_how_to_check() -> None:
    known = {"ledger", ".venv/bin/ledger", "make", "curl", "export", "docker", "tee"}
    assert [c for c in COMMANDS if c[0] not in known] == []
    assert COMMANDS[0] == ["make", "run"]
    assert COMMANDS[1] == ["make", "test"]


LEDGER = _of("ledger", ".venv/bin/ledger")


@pytest.mark.parametrize("command", LEDGER, ids=_ids(LEDGER))
def test_each_ledger_command_parses_as_shown(command: list[str]) -> None:
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        try:
            args = build_parser().parse_args(command[1:])
        except SystemExit:
            pytest.fail(f"{' '.join(command)}: {errors.getvalue().strip()}")
    assert getattr(args, "handler", None) is not None


@pytest.mark.parametrize("command", LEDGER, ids=_ids(LEDGER))
def test_each_option_shown_is_in_its_commands_help(command: list[str]) -> None:
    words = [t for t in command[1:] if not t.startswith("-")]
    options = [t.split("=")[0] for t in command[1:] if t.startswith("--")]
    shown = io.StringIO()
    for depth in range(len(words), 0, -1):  # the deepest prefix that is a subcommand
        shown = io.StringIO()
        with contextlib.redirect_stdout(shown), contextlib.redirect_stderr(io.StringIO()):
            code = main([*words[:depth], "--help"])
        if code == 0 and all(o in shown.getvalue() for o in options):
            break
    assert code == 0
    for option in options:
        assert option in shown.getvalue(), option


MAKE = _of("make")


@pytest.mark.parametrize("command", MAKE, ids=_ids(MAKE))
def test_each_make_target_exists(command: list[str]) -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in command[1:]:
        assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), target


CURL = _of("curl")


def _route(path: str) -> str | None:
    for template in json.loads(document())["paths"]:
        pattern = re.sub(r"\{[^}/]+\}", "[^/]+", template)
        if re.fullmatch(pattern, path):
            return str(template)
    return None


@pytest.mark.parametrize("command", CURL, ids=_ids(CURL))
def test_each_curl_call_names_a_served_route_and_method(command: list[str]) -> None:
    [url] = [t for t in command if t.startswith("http://")]
    path = url.split("://", 1)[1].split("/", 1)[1].split("?", 1)[0]
    template = _route("/" + path)
    assert template is not None, url
    method = command[command.index("-X") + 1].lower() if "-X" in command else "get"
    assert method in json.loads(document())["paths"][template]
    if "-d" in command:
        json.loads(command[command.index("-d") + 1])


def test_each_variable_exported_is_a_documented_setting() -> None:
    table = README[README.index("## Configuration") :]
    for command in _of("export"):
        name = command[1].split("=")[0]
        assert f"| `{name}` |" in table, name


def test_docker_compose_commands_name_its_services() -> None:
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for command in _of("docker"):
        assert command[1] == "compose"
        for service in command[3:]:
            if not service.startswith("-"):
                assert f"\n  {service}:" in compose, service
