"""The bench's table, its targets (issue 11) and its section of bench/RESULTS.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def table(result: dict) -> str:
    rows = ["| what | requests/s | × hello | p50 ms | p95 ms | errors |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, row in result["routes"].items():
        rows.append(f"| {name} | {row['rps']:.0f} | {row['ratio']:.2f} | "
                    f"{row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {row['errors']} |")
    rows += ["", "| workshop (PKCE, whole flow) | finished | seconds | requests | "
             "p50 ms | p95 ms | max ms | errors | server CPU ms/request | "
             "peak RSS MB per process |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name, row in result["workshop"].items():
        memory = ", ".join(f"{m['role']} {m['peak_mb']}" for m in row["memory"])
        rows.append(
            f"| {name} | {row['finished']}/{row['attendees']} | {row['seconds']:.1f} | "
            f"{row['requests']} | {row['p50_ms']:.0f} | {row['p95_ms']:.0f} | "
            f"{row['max_ms']:.0f} | {row['errors']} | "
            f"{row['server_cpu_ms_per_request']:.1f} | {memory} |")
    rows += ["", f"Cold start, launch to first 200 on /: "
             f"{result['cold_start_s'] * 1000:.0f} ms on an existing database, "
             f"{result['first_start_s'] * 1000:.0f} ms on a new one (migrations)"]
    return "\n".join(rows)


def targets(result: dict) -> list[str]:
    """Each target of issue 11, met or missed and by how much."""
    routes, shop = result["routes"], result["workshop"]
    spread, burst = shop.get("spread"), shop.get("burst")
    checks = []
    if spread:
        checks.append(("300 over 30 s: 0 errors, p95 < 250 ms",
                       spread["errors"] == 0 and spread["p95_ms"] < 250,
                       f"{spread['errors']} errors, p95 {spread['p95_ms']:.0f} ms"))
    if burst:
        checks.append(("burst: 0 errors, every run finished",
                       burst["errors"] == 0 and burst["finished"] == burst["attendees"],
                       f"{burst['errors']} errors, "
                       f"{burst['finished']}/{burst['attendees']} finished"))
    for name in ("token (client credentials)", "token (code exchange)"):
        if name in routes:
            ratio = routes[name]["ratio"]
            checks.append((f"{name} ≥ 0.5× hello", ratio >= 0.5, f"{ratio:.2f}×"))
    pages = [n for n in ("home", "advisor result", "lesson", "step page")
             if n in routes]
    if pages:
        low = min(pages, key=lambda n: routes[n]["ratio"])
        checks.append(("pages ≥ 0.5× hello", routes[low]["ratio"] >= 0.5,
                       f"lowest: {low} {routes[low]['ratio']:.2f}×"))
    checks.append(("cold start < 1 s (restart)", result["cold_start_s"] < 1,
                   f"{result['cold_start_s'] * 1000:.0f} ms"))
    checks.append(("cold start < 1 s (new database)", result["first_start_s"] < 1,
                   f"{result['first_start_s'] * 1000:.0f} ms"))
    peak = max((m["peak_mb"] for row in shop.values() for m in row["memory"]),
               default=0.0)
    checks.append(("memory < 150 MB per process", peak < 150, f"peak {peak} MB"))
    return [f"- {'met' if ok else 'MISSED'}: {what} ({shown})"
            for what, ok, shown in checks]


def record(result: dict, command: str, label: str) -> None:
    """Replace this label's section of RESULTS.md (other sections stay)."""
    begin, end = f"<!-- bench:{label} -->", f"<!-- /bench:{label} -->"
    section = "\n".join([
        begin, f"## {label}", "", f"`{command}` — {result['when']}, "
        f"{result['machine']}", "", table(result), "", "Targets:", "",
        *targets(result), "", "<details><summary>JSON</summary>", "", "```json",
        json.dumps(result, indent=1), "```", "", "</details>", end])
    text = RESULTS.read_text() if RESULTS.exists() else _HEAD
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text)


_HEAD = """# Benchmark results

Written by `make bench` (bench/run.py): each run replaces its own section below.
Figures are from a shared 2-core machine; the load average is given with each run.
"""
