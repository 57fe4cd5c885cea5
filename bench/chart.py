"""bench/chart.png from results.json: CPU by strategy, wall against workers, cost."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt

from bench.report import typed_sources
from bench.results import TaskCosts

STRATEGY_COLOURS = {
    "decode only": "#bbbbbb",
    "floor": "#4c72b0",
    "balanced": "#55a868",
    "one job per rung": "#dd8452",
}


def write_chart(results: Mapping[str, Any], path: Path) -> None:
    sources = typed_sources(results)
    figure, (cpu_axes, wall_axes, cost_axes) = plt.subplots(1, 3, figsize=(16, 5.2))
    figure.suptitle(
        f"StreamForge transcoding, x264 {results['settings']['preset']}, "
        f"{results['generated_at'][:10]} ({results['machine']['cpus']} cores)"
    )

    width = 0.2
    for index, source in enumerate(sources):
        values = {
            "decode only": source.decode.cpu_seconds,
            "floor": source.floor.cpu_seconds,
            "balanced": source.strategies.balanced_compared().cpu_seconds,
            "one job per rung": source.strategies.per_rung.encode_cpu_seconds,
        }
        for offset, (label, value) in enumerate(values.items()):
            cpu_axes.bar(
                index + (offset - 1.5) * width,
                value,
                width,
                color=STRATEGY_COLOURS[label],
                label=label if index == 0 else None,
            )
    cpu_axes.set_xticks(range(len(sources)), [s.name for s in sources])
    cpu_axes.set_ylabel("CPU seconds (FFmpeg)")
    cpu_axes.set_title("CPU per source")
    cpu_axes.legend(fontsize="small")

    for source, marker in zip(sources, "os^", strict=False):
        per_rung = source.strategies.per_rung.by_workers
        balanced = source.strategies.balanced_compared().by_workers
        wall_axes.plot(
            [r.workers for r in per_rung],
            [r.wall_seconds for r in per_rung],
            marker=marker,
            color=STRATEGY_COLOURS["one job per rung"],
            label=f"{source.name}: one job per rung",
        )
        wall_axes.plot(
            [r.workers for r in balanced],
            [r.wall_seconds for r in balanced],
            marker=marker,
            linestyle="--",
            color=STRATEGY_COLOURS["balanced"],
            label=f"{source.name}: balanced",
        )
        wall_axes.axhline(
            source.floor.task_wall_seconds
            + source.strategies.per_rung.orchestration_overhead_seconds,
            color=STRATEGY_COLOURS["floor"],
            linestyle=":",
            linewidth=1,
        )
    wall_axes.set_xlabel("parallel workers (2 vCPU each)")
    wall_axes.set_ylabel("wall seconds, upload to COMPLETED")
    wall_axes.set_title("Wall vs workers (dotted: floor, 1 task)")
    wall_axes.legend(fontsize="x-small")

    for index, source in enumerate(sources):
        entries: dict[str, TaskCosts] = {
            "floor": source.floor,
            "balanced": source.strategies.balanced_compared(),
            "one job per rung": source.strategies.per_rung,
        }
        for offset, (label, entry) in enumerate(entries.items()):
            costs = entry.cost_per_source_minute_usd
            cost = costs.get("cpu_bound", costs["without_minimum"])["x86"]
            cost_axes.bar(
                index + (offset - 1) * 0.25,
                cost * 1000,
                0.25,
                color=STRATEGY_COLOURS[label],
                label=label if index == 0 else None,
            )
    cost_axes.set_xticks(range(len(sources)), [s.name for s in sources])
    cost_axes.set_ylabel("USD per 1000 source minutes")
    cost_axes.set_title("Fargate x86 on-demand, CPU-bound")
    cost_axes.legend(fontsize="small")

    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
