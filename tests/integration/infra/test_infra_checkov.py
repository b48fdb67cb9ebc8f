"""checkov finds no failed check in infra/bicep, and every skip states its reason inline.

checkov has its own virtualenv (make setup). Without it the test fails in CI and is skipped
elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from support.bicep_model import BICEP_DIR, REPO, bicep_paths

CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"
SKIP_COMMENT = re.compile(r"checkov:skip=([A-Z0-9_]+)(.*)")


@pytest.fixture(scope="module")
def checkov_report() -> dict:
    """checkov's JSON report for infra/bicep (the bicep framework, offline)."""
    if not CHECKOV.exists():
        if os.environ.get("CI"):
            pytest.fail(f"checkov is missing: {CHECKOV} (make setup installs it)")
        pytest.skip(f"checkov is missing: {CHECKOV} (make setup installs it)")
    command = [str(CHECKOV), "-d", str(BICEP_DIR), "--framework", "bicep", "--compact"]
    command += ["--skip-download", "--output", "json"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=170, cwd=REPO, check=False)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    return json.loads(result.stdout)


def test_checkov_reports_no_failed_check(checkov_report):
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range']})"
        for c in checkov_report["results"]["failed_checks"]
    ]
    assert not failed
    assert checkov_report["summary"]["failed"] == 0


def test_checkov_scanned_every_azure_template(checkov_report):
    # checkov's pinned pycep-parser predates the `extension` keyword, so it cannot read the two
    # Microsoft Graph templates; it has no Microsoft.Graph checks either. Everything else is read.
    graph_templates = {str(p) for p in bicep_paths() if "\nextension " in p.read_text()}
    assert graph_templates == {str(BICEP_DIR / "entra.bicep"), str(BICEP_DIR / "modules/entra-api-app.bicep")}
    assert set(checkov_report["results"]["parsing_errors"]) == graph_templates
    checked = {c["resource"].rsplit(".", 1)[0] for c in checkov_report["results"]["passed_checks"]}
    assert {"Microsoft.Storage/storageAccounts", "Microsoft.Web/sites"} <= checked


def skip_comments() -> set[tuple[str, str]]:
    """(template, check id) for every ``checkov:skip`` comment in the templates checkov reads."""
    found = set()
    for path in bicep_paths():
        if "\nextension " in path.read_text():
            continue  # the Graph templates checkov cannot parse (see above)
        for line in path.read_text().splitlines():
            match = SKIP_COMMENT.search(line)
            if match:
                found.add(("/" + path.relative_to(BICEP_DIR).as_posix(), match.group(1)))
    return found


def test_every_skip_comment_is_one_checkov_applied_so_none_is_stale(checkov_report):
    # A skip whose check no longer fires on its resource (or that names a check by a typo) would
    # hide nothing today and silence a real finding tomorrow.
    applied = {(c["file_path"], c["check_id"]) for c in checkov_report["results"]["skipped_checks"]}
    assert skip_comments() == applied


def test_every_skip_states_a_reason(checkov_report):
    for check in checkov_report["results"]["skipped_checks"]:
        assert check.get("check_result", {}).get("suppress_comment", "").strip(" :"), check["check_id"]
