"""The scale benchmark's table and plot: docs/performance.md and docs/img/scale.svg.

The table replaces the block between BEGIN and END in docs/performance.md; the plot
is a log-log SVG written by hand (seconds per operation against events in the
store), so the benchmark needs no plotting library.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DOC = Path("docs/performance.md")
PLOT = Path("docs/img/scale.svg")
BEGIN = "<!-- scale:begin (written by `python -m benchmarks scale`) -->"
END = "<!-- scale:end -->"

# (key, label, colour) of each curve in the plot
CURVES = (
    ("seal_new_seconds", "seal 10k new events", "#1f77b4"),
    ("seal_plain_seconds", "seal 10k new, no subject map", "#17becf"),
    ("incremental_verify_seconds", "verify 10k new events", "#ff7f0e"),
    ("full_verify_seconds", "full verify", "#2ca02c"),
    ("export_one_seconds", "export one customer", "#d62728"),
    ("proof_cold_seconds", "prove one event (cold)", "#9467bd"),
    ("proof_warm_seconds", "prove one event (warm)", "#8c564b"),
    ("as_of_seconds", "customer of 1,000 events as of", "#e377c2"),
)


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _seal(r: dict[str, Any]) -> str:
    """`with map` seconds, and `/ without (ratio min-max)` when the run measured both."""
    cell = _num(r["seal_new_seconds"])
    if r.get("seal_plain_seconds") is not None:
        low, high = r.get("seal_map_ratio_range") or (r["seal_map_ratio"], r["seal_map_ratio"])
        cell += (
            f" / {_num(r['seal_plain_seconds'])} "
            f"(ratio {r['seal_map_ratio']:.2f}, {low:.2f}-{high:.2f})"
        )
    return cell


def table(results: Sequence[dict[str, Any]]) -> str:
    """The markdown table: one row per size."""
    lines = [
        "| events | subjects | append (events/s) | seal 10k new: with map / without (s) | "
        "verify 10k new (s) | full verify (s) | views catch-up (events/s) | "
        "export 1 customer (s) | prove 1 event cold / warm (s) | "
        "1,000-event customer as of (ms) | step took (s) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        kind = "" if r["incremental_verify_kind"] == "incremental" else " ‡"
        subjects = r.get("subjects")
        lines.append(
            f"| {r['events']:,} | {'n/a' if subjects is None else f'{subjects:,}'} | "
            f"{_num(r.get('append_rate'))} | {_seal(r)} | "
            f"{_num(r['incremental_verify_seconds'])}{kind} | {_num(r['full_verify_seconds'])} | "
            f"{_num(r.get('views_rate'))} | {_num(r['export_one_seconds'])} | "
            f"{_num(r['proof_cold_seconds'])} / {_num(r['proof_warm_seconds'], 4)} | "
            f"{_num(r['as_of_seconds'] * 1000, 1)} | {_num(r.get('step_seconds'))} |"
        )
    if any(r["incremental_verify_kind"] != "incremental" for r in results):
        lines.append("")
        lines.append(
            "‡ the incremental verify fell back to a full pass in this run (no kept state)."
        )
    return "\n".join(lines)


def svg(results: Sequence[dict[str, Any]]) -> str:
    """A log-log plot of each operation's seconds against the events in the store."""
    width, height, left, right, top, bottom = 760, 420, 70, 250, 20, 50
    xs = [r["events"] for r in results]
    values = [r[key] for r in results for key, _, _ in CURVES if r.get(key)]
    x_lo, x_hi = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
    if x_hi == x_lo:
        x_hi += 1
    y_lo, y_hi = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    if y_hi == y_lo:
        y_hi += 1
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (math.log10(x) - x_lo) / (x_hi - x_lo) * plot_w

    def py(y: float) -> float:
        return top + plot_h - (math.log10(y) - y_lo) / (y_hi - y_lo) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    for e in range(x_lo, x_hi + 1):
        x = left + (e - x_lo) / (x_hi - x_lo) * plot_w
        out.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="#ddd"/>'
        )
        out.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">1e{e}</text>')
    for e in range(y_lo, y_hi + 1):
        y = top + plot_h - (e - y_lo) / (y_hi - y_lo) * plot_h
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">1e{e} s</text>')
    out.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 12}" text-anchor="middle">'
        "events in the store (log scale)</text>"
    )
    for n, (key, label, colour) in enumerate(CURVES):
        points = [(px(r["events"]), py(r[key])) for r in results if r.get(key)]
        if not points:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in points:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
        ly = top + 10 + n * 20
        out.append(
            f'<line x1="{left + plot_w + 15}" y1="{ly}" x2="{left + plot_w + 35}" y2="{ly}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        out.append(f'<text x="{left + plot_w + 40}" y="{ly + 4}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write(results: Sequence[dict[str, Any]], doc: Path = DOC, plot: Path = PLOT) -> None:
    """Rewrite the table block of `doc` and the plot at `plot` from `results`."""
    plot.parent.mkdir(parents=True, exist_ok=True)
    plot.write_text(svg(results))
    text = doc.read_text() if doc.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    block = f"{BEGIN}\n\n{table(results)}\n\n![How costs grow](img/{plot.name})\n\n{END}"
    doc.write_text(before + block + after)
