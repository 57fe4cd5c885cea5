"""The bench's load generator against the gateway emulator: every request it makes reaches
the API and is counted, and a refused one counts as an error, not as a latency."""

from __future__ import annotations

from bench.api_load import run_load, warm_up
from local.stack import OfflineStack


def test_every_round_is_answered_and_timed(offline_stack: OfflineStack) -> None:
    tokens = [offline_stack.token("bench-load-a"), offline_stack.token("bench-load-b")]
    warmed = warm_up(offline_stack.api_url, tokens)
    assert (warmed["count"], warmed["errors"]) == (6, 0)

    report = run_load(offline_stack.api_url, tokens, requests_per_thread=2, time_limit_seconds=60)

    for operation in ("create", "get", "list"):
        counted = report["operations"][operation]
        assert (counted["count"], counted["errors"]) == (4, 0), operation
        assert 0 < counted["p50_ms"] <= counted["p99_ms"] <= counted["max_ms"]


def test_a_refused_request_is_an_error(offline_stack: OfflineStack) -> None:
    report = run_load(offline_stack.api_url, ["not-a-token"], 1, time_limit_seconds=60)

    assert report["operations"]["create"] == {"count": 0, "errors": 1}
    assert report["operations"]["list"] == {"count": 0, "errors": 1}
