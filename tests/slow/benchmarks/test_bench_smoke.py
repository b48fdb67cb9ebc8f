"""`python -m bench --smoke` runs every benchmark at a tiny size: CI proves they work, never how fast.

Nothing here asserts on a timing; only that each benchmark ran, produced numbers, and that
its counts add up.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--json", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "figure" in done.stdout  # the table was printed
    return {result["name"]: result for result in json.loads(out.read_text())}


def test_every_benchmark_ran_without_errors_and_produced_figures(smoke_results: dict[str, dict]) -> None:
    assert set(smoke_results) == {"cold_start", "first_request", "warm", "queue", "fanout", "batch_http", "batch_queue",
                                  "idempotency"}
    for result in smoke_results.values():
        assert result["errors"] == []
        assert result["rows"]
        assert all(row["ratio"] is None or row["ratio"] > 0 for row in result["rows"])


def test_cold_start_answered_every_broadcast_without_loading_azure_identity(smoke_results: dict[str, dict]) -> None:
    checks = smoke_results["cold_start"]["checks"]
    assert checks["statuses"] == [202]
    assert checks["upstream_received"] == checks["upstream_expected"]
    assert checks["azure_identity_loaded"] is False
    assert checks["azure_data_tables_loaded"] is False  # the idempotency store's SDK: first need only


def test_first_request_answered_every_broadcast_fetching_keys_once_per_process(smoke_results: dict[str, dict]):
    checks = smoke_results["first_request"]["checks"]
    assert checks["statuses"] == [202]
    assert checks["upstream_received"] == checks["upstream_expected"]
    assert checks["idp_fetches"]["metadata"] == checks["idp_fetches"]["jwks"] == checks["upstream_expected"]


def test_warm_sent_every_request_on_every_side(smoke_results: dict[str, dict]) -> None:
    checks = smoke_results["warm"]["checks"]
    sent = checks["sent_per_side"]
    assert checks["statuses"] == {"facade": {"202": sent}, "baseline": {"202": sent}, "transport": {"202": sent}}
    assert checks["upstream_received"] == checks["upstream_expected"] == 3 * sent


def test_queue_accounts_for_every_command(smoke_results: dict[str, dict]) -> None:
    for side in ("facade", "baseline"):
        counts = smoke_results["queue"]["checks"][side]
        assert counts["sent"] == counts["delivered"] + counts["dead_lettered"] + counts["poisoned"]
        assert counts["remaining"] == 0
        assert counts["dead_lettered"] == counts["sent"] // 100


def test_fanout_delivered_every_broadcast_to_every_client(smoke_results: dict[str, dict]) -> None:
    checks = smoke_results["fanout"]["checks"]
    assert checks["received"] == {"facade": checks["expected_per_side"], "baseline": checks["expected_per_side"]}
    assert checks["client_errors"] == []


def test_http_batches_answered_every_item_and_drew_a_speedup_curve(smoke_results: dict[str, dict]) -> None:
    checks = smoke_results["batch_http"]["checks"]
    assert checks["delivered"] == checks["expected"] == checks["upstream_received"]
    assert [point["items"] for point in checks["speedup"]][:3] == [1, 2, 5]
    assert all(point["speedup"] > 0 for point in checks["speedup"])
    assert checks["cpu_delivered"] == dict.fromkeys(("facade", "transport", "requests"), checks["cpu_expected"])


def test_queue_batches_account_for_every_item_on_both_sides(smoke_results: dict[str, dict]) -> None:
    assert set(smoke_results["batch_queue"]["checks"]) == {"20ms", "0ms"}  # realistic upstream, then CPU-bound
    for checks in smoke_results["batch_queue"]["checks"].values():
        for side in ("batch", "single"):
            assert checks[side]  # one entry per round
            for counts in checks[side]:
                assert counts["sent"] == counts["delivered"] + counts["dead_lettered"] + counts["poisoned"]
                assert counts["delivered"] == counts["sent"]
                assert counts["remaining"] == 0
        assert all(counts["messages"] * 100 == counts["sent"] for counts in checks["batch"])


def test_the_speedup_plot_is_a_png_written_beside_the_report(tmp_path: Path) -> None:
    from bench.plot import write_speedup_plot

    target = tmp_path / "plot.png"
    write_speedup_plot([{"items": 1, "speedup": 1.0, "parallelism": 16},
                        {"items": 100, "speedup": 12.0, "parallelism": 16}], target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_idempotency_sent_keyed_and_plain_commands_once_and_replayed_without_sending(smoke_results: dict[str, dict]):
    checks = smoke_results["idempotency"]["checks"]
    sent = checks["sent_per_side"]
    assert checks["statuses"] == {side: {"202": sent} for side in ("keyed", "plain", "replay")}
    assert checks["upstream_received"] == checks["upstream_expected"] == 2 * sent  # replays send nothing
    assert checks["table_round_trips"] == {"keyed": 2 * sent, "plain": 0, "replay": 2 * sent}
    assert checks["replay_headers"] == ["true"]
