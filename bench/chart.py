#!/usr/bin/env python3
"""Draw a benchmark's medians as an SVG bar chart (stdlib only, no matplotlib).

    .venv/bin/python bench/chart.py bench/results/bench-<stamp>.json [-o out.svg]

One group of bars per test, one bar per server, each bar's height the median requests
per server CPU-second, labelled with its ratio to the baseline (aiohttp). ``run.py``
calls ``write_chart`` after every run (``results/bench-<stamp>.svg``); the chart in
``docs/`` is a copy of one of those.
"""

from __future__ import annotations

import argparse
import json
import os
from html import escape

# one colour per server, the same in every chart; others get a grey
COLOURS = {
    "squall": "#1f6feb",
    "squall-alt": "#6ea8fe",
    "squall-py312": "#0b3d91",
    "aiohttp": "#d4a017",
    "aiohttp-uvloop": "#d4a017",
    "granian-starlette": "#2da44e",
    "limit": "#8c8c8c",
    "python-limit": "#8c8c8c",
}
LABELS = {
    "squall": "Squall",
    "squall-py312": "Squall on Python 3.12",
    "aiohttp": "aiohttp + uvloop",
    "aiohttp-uvloop": "aiohttp + uvloop",
    "granian-starlette": "granian + starlette",
    "limit": "bare httptools + uvloop (ceiling)",
    "python-limit": "bare httptools + uvloop (ceiling)",
}
BAR, GAP, GROUP_GAP, HEIGHT, TOP, LEFT, BOTTOM = 22, 3, 34, 300, 56, 70, 70


def svg_chart(
    summary: list[dict], servers: list[str], tests: list[str], title: str, baseline: str
) -> str:
    """The SVG text: req/CPU-s per (server, test) from run.py's summary rows."""
    value = {(r["server"], r["test"]): r.get("rps_per_cpu") for r in summary}
    present = [s for s in servers if any(value.get((s, t)) for t in tests)]
    groups = [t for t in tests if any(value.get((s, t)) for s in present)]
    # the pipelined bars dwarf the rest: each group is scaled on its own axis maximum,
    # printed above it, so every group reads on its own
    width = max(660, LEFT + len(groups) * (len(present) * (BAR + GAP) + GROUP_GAP) + 20)
    legend_h = 18 * len(present)
    total_h = TOP + HEIGHT + BOTTOM + legend_h
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total_h}" '
        f'viewBox="0 0 {width} {total_h}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{total_h}" fill="white"/>',
        f'<text x="{LEFT}" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<text x="{LEFT}" y="38" fill="#555">requests per server CPU-second (median); '
        f"label: x {escape(LABELS.get(baseline, baseline))}; each group on its own scale</text>",
    ]
    x = LEFT
    base_y = TOP + HEIGHT
    for test in groups:
        top = max(value.get((s, test)) or 0 for s in present)
        group_w = len(present) * (BAR + GAP)
        out.append(
            f'<text x="{x + group_w / 2:.0f}" y="{TOP - 4}" text-anchor="middle" '
            f'fill="#555">max {top:,.0f}</text>'
        )
        ref = value.get((baseline, test))
        for s in present:
            v = value.get((s, test))
            if v:
                h = HEIGHT * v / top
                colour = COLOURS.get(s, "#b0b0b0")
                out.append(
                    f'<rect x="{x}" y="{base_y - h:.1f}" width="{BAR}" height="{h:.1f}" '
                    f'fill="{colour}"><title>{escape(s)} {test}: {v:,.0f} req/CPU-s</title></rect>'
                )
                if ref:
                    out.append(
                        f'<text x="{x + BAR / 2}" y="{base_y - h - 3:.1f}" text-anchor="middle" '
                        f'font-size="9">{v / ref:.1f}x</text>'
                    )
            x += BAR + GAP
        out.append(
            f'<text x="{x - group_w / 2:.0f}" y="{base_y + 16}" text-anchor="middle" '
            f'font-size="12">{escape(test)}</text>'
        )
        x += GROUP_GAP
    out.append(
        f'<line x1="{LEFT - 6}" y1="{base_y}" x2="{width - 10}" y2="{base_y}" stroke="#333"/>'
    )
    y = base_y + BOTTOM - 20
    for s in present:
        out.append(
            f'<rect x="{LEFT}" y="{y - 10}" width="12" height="12" '
            f'fill="{COLOURS.get(s, "#b0b0b0")}"/>'
            f'<text x="{LEFT + 18}" y="{y}">{escape(LABELS.get(s, s))}</text>'
        )
        y += 18
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_chart(path: str, data: dict, baseline: str = "aiohttp") -> None:
    """Write the chart of run.py's JSON ``data`` (meta + summary) to ``path``."""
    args = data["meta"]["args"]
    when = data["meta"].get("started", "")
    title = f"Squall and peers, one core each, {when}"
    svg = svg_chart(data["summary"], list(args["servers"]), list(args["tests"]), title, baseline)
    with open(path, "w") as f:
        f.write(svg)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("results", help="a results/bench-<stamp>.json written by run.py")
    ap.add_argument("-o", "--output", help="default: the same name with .svg")
    ap.add_argument("--baseline", default="aiohttp")
    args = ap.parse_args()
    with open(args.results) as f:
        data = json.load(f)
    out = args.output or os.path.splitext(args.results)[0] + ".svg"
    write_chart(out, data, args.baseline)
    print(out)


if __name__ == "__main__":
    main()
