"""``python -m devstack token --state-dir DIR`` finds a stack started with ``up --state-dir DIR`` (issue 26,
item 2), and when it cannot, says where it looked."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack.__main__ import main, parse_args
from devstack.idp import DevIdentityProvider
from devstack.stack import Stack


def test_token_finds_the_keys_where_up_keeps_them(tmp_path: Path, identity_provider: DevIdentityProvider,
                                                  capsys: pytest.CaptureFixture[str]):
    stack_dir = tmp_path / "my-stack"
    identity_provider.save_state(Stack(state_dir=stack_dir).idp_state)  # what `up --state-dir my-stack` writes
    assert main(["token", "--state-dir", str(stack_dir), "--role", "SignalR.Send"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.count(".") == 2


def test_the_error_says_where_it_looked(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["token", "--state-dir", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert str(tmp_path / "idp" / "idp.json") in error
    assert "--state-dir" in error


def test_state_dir_is_documented_for_both_commands(capsys: pytest.CaptureFixture[str]):
    for command in ("up", "token"):
        with pytest.raises(SystemExit):
            parse_args([command, "--help"])
        assert "--state-dir" in capsys.readouterr().out
