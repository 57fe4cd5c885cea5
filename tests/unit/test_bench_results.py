"""The types of bench/results.json: the stored results load and write back the same JSON,
results written before the balanced entries were named explicitly are migrated, and a key
the types do not know is refused."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bench.report import render_summary, targets
from bench.results import SCHEMA, BalancedModelled, BenchResults, Strategies
from local.config import REPO_ROOT

STORED = REPO_ROOT / "bench" / "results.json"
# The balanced models of the 2026-11-21 run, per source: runs since measure the balanced
# strategy and make no model, so the schema-1 shape is rebuilt from these.
MODELS = Path(__file__).parent / "data" / "bench_balanced_models.json"


def stored() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(STORED.read_text())
    return data


def models() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MODELS.read_text())
    return data


def schema_1_without_a_measured_run() -> dict[str, Any]:
    """The shape a run wrote when no balanced run was measured: the model as `balanced`."""
    data = stored()
    data["schema"] = 1
    for source in data["sources"]:
        strategies = source["strategies"]
        strategies.pop("balanced_modelled", None)
        strategies["balanced"] = models()[source["name"]]
    return data


def test_the_stored_results_load_and_write_back_the_same_json() -> None:
    original = stored()

    written = BenchResults.model_validate(copy.deepcopy(original)).to_json()

    assert written.pop("schema") == SCHEMA
    original.pop("schema")
    assert written == original


def test_the_typed_results_are_what_the_summary_renders() -> None:
    results = BenchResults.load(STORED)
    data = results.to_json()

    assert [row.model_dump() for row in results.targets] == targets(data)
    for source in results.sources:
        assert source.strategies.balanced is not None  # a whole run measures balanced
        compared = source.strategies.balanced_compared()
        assert compared is source.strategies.balanced
        assert f"## {source.name}: {source.description}" in render_summary(data)


def test_a_model_written_as_balanced_is_loaded_as_the_model() -> None:
    old = schema_1_without_a_measured_run()

    results = BenchResults.model_validate(old)
    written = results.to_json()

    for source, old_source in zip(results.sources, old["sources"], strict=True):
        assert source.strategies.balanced is None
        assert isinstance(source.strategies.balanced_compared(), BalancedModelled)
        model = source.strategies.balanced_modelled
        assert model is not None
        assert model.model_dump(mode="json") == old_source["strategies"]["balanced"]
    assert written["schema"] == SCHEMA
    for source_json in written["sources"]:
        assert set(source_json["strategies"]) == {"per_rung", "balanced_modelled"}
    rows = targets(written)
    assert all("(modelled)" in row["name"] for row in rows if "balanced CPU" in row["name"])
    summary = render_summary(written)
    assert "balanced (modelled)" in summary and "balanced (model)" not in summary


def test_a_renamed_or_unknown_key_is_refused() -> None:
    data = stored()
    data["sources"][0]["strategies"]["per_rung"]["wall_secs"] = 1.0
    with pytest.raises(ValidationError, match="wall_secs"):
        BenchResults.model_validate(data)


def test_two_models_of_balanced_are_refused() -> None:
    source = stored()["sources"][0]
    strategies = copy.deepcopy(source["strategies"])
    strategies["balanced"] = strategies["balanced_modelled"] = models()[source["name"]]
    with pytest.raises(ValidationError, match="two models"):
        Strategies.model_validate(strategies)


def test_a_measured_run_needs_no_model_and_shows_none() -> None:
    data = stored()
    for source in data["sources"]:
        source["strategies"].pop("balanced_modelled", None)

    written = BenchResults.model_validate(copy.deepcopy(data)).to_json()
    summary = render_summary(written)

    assert all("balanced_modelled" not in s["strategies"] for s in written["sources"])
    assert "Balanced, as the pipeline ran it" in summary
    assert "The model of it" not in summary and "balanced (model)" not in summary


def test_a_run_with_a_model_shows_it_beside_the_measured_run() -> None:
    data = stored()
    for source in data["sources"]:
        source["strategies"]["balanced_modelled"] = models()[source["name"]]

    summary = render_summary(BenchResults.model_validate(data).to_json())

    assert "The model of it (before grouped jobs existed)" in summary
    assert "balanced (model)" in summary


def test_balanced_neither_measured_nor_modelled_is_refused() -> None:
    strategies = copy.deepcopy(stored()["sources"][0]["strategies"])
    strategies.pop("balanced_modelled", None)
    strategies.pop("balanced")
    with pytest.raises(ValidationError, match="neither measured nor modelled"):
        Strategies.model_validate(strategies)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    data = stored()
    data["schema"] = SCHEMA + 1
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValidationError, match="schema"):
        BenchResults.load(path)


def test_a_results_file_without_the_optional_sections_writes_none_of_them() -> None:
    data = stored()
    for key in ("memory_bound", "lambda_cold_import", "soak", "chunking", "partial_runs"):
        data.pop(key, None)

    written = BenchResults.model_validate(data).to_json()

    assert not {"memory_bound", "soak", "chunking", "partial_runs", "av1_vs_h264"} & set(written)
    assert written["sources"][0]["rungs"][-1]["ssim"] is None  # audio: None is kept
