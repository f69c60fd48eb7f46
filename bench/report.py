"""The bench's table, its targets (issue 24) and its section of bench/RESULTS.md."""

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
    rows += ["", *_peer(result.get("peer", {}))]
    rows += ["", "| workshop (PKCE, whole flow) | finished | seconds | requests | "
             "p50 ms | p95 ms | max ms | errors | dropped | server CPU ms/request | "
             "peak RSS MB per process |",
             "| --- |" + " ---: |" * 9 + " --- |"]
    for name, row in result["workshop"].items():
        memory = ", ".join(f"{m['role']} {m['peak_mb']}" for m in row["memory"])
        rows.append(
            f"| {name} ({row['attendees']}, {row['spread_s']:.0f} s) | "
            f"{row['finished']}/{row['attendees']} | {row['seconds']:.1f} | "
            f"{row['requests']} | {row['p50_ms']:.0f} | {row['p95_ms']:.0f} | "
            f"{row['max_ms']:.0f} | {row['errors']} | {row.get('dropped', 0)} | "
            f"{row['server_cpu_ms_per_request']:.1f} | {memory} |")
    rows += ["", f"Cold start, launch to first 200 on /: "
             f"{result['cold_start_s'] * 1000:.0f} ms on an existing database, "
             f"{result['first_start_s'] * 1000:.0f} ms on a new one (migrations)"]
    return "\n".join(rows)


def _peer(peer: dict) -> list[str]:
    if not peer or "unavailable" in peer:
        return [f"oidc-provider: not measured ({peer.get('unavailable', 'not run')})"]
    rows = [f"| token, client credentials, {peer['connections']} connections | "
            "requests/s | p50 ms | p99 ms | errors |", "| --- |" + " ---: |" * 4]
    for index, row in enumerate(peer["rounds"]):
        rows.append(f"| {'AB'[index % 2]}{index // 2 + 1}: {row['server']} | "
                    f"{row['rps']:.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | "
                    f"{row['errors']} |")
    return rows


def targets(result: dict) -> list[str]:
    """Each target of issue 24, beside the figure, met or missed."""
    routes, shop, peer = result["routes"], result["workshop"], result.get("peer", {})
    checks = []
    for name in ("step page", "token (client credentials)", "token (code exchange)"):
        if name in routes:
            ratio = routes[name]["ratio"]
            checks.append((f"{name} ÷ hello ≥ 0.5×", ratio >= 0.5 and
                           routes[name]["errors"] == 0,
                           f"{ratio:.2f}×, {routes[name]['errors']} errors"))
    if peer and "unavailable" not in peer:
        errors = sum(peer["errors"].values())
        checks.append((
            f"token ÷ oidc-provider {peer['version']} ≥ 0.25× (goal 0.5×), "
            "no non-200 answer",
            peer["ratio"] >= 0.25 and errors == 0,
            f"{peer['ratio']:.2f}×, p99 {peer['p99_ms']['flowlab']:.0f} ms against "
            f"{peer['p99_ms']['oidc-provider']:.0f} ms, errors {peer['errors']}"))
    else:
        checks.append(("token ÷ oidc-provider ≥ 0.25×", False, "not measured"))
    for name, limit in (("spread", 250), ("crowd", 250), ("burst", 1000)):
        if row := shop.get(name):
            ok = (row["errors"] == 0 and row["finished"] == row["attendees"]
                  and row["p95_ms"] < limit)
            over = f"over {row['spread_s']:.0f} s" if row["spread_s"] else "at once"
            checks.append((f"{row['attendees']} attendees {over}: "
                           f"0 errors, p95 < {limit} ms", ok,
                           f"{row['errors']} errors, {row['finished']}/"
                           f"{row['attendees']} finished, p95 {row['p95_ms']:.0f} ms"))
    dropped = sum(row.get("dropped", 0) for row in shop.values()) + sum(
        row.get("dropped", 0) for row in routes.values()) + sum(
        row.get("dropped", 0) for row in peer.get("rounds", ())
        if row["server"] == "flowlab")
    checks.append(("connections dropped under load (kept-alive clients): none",
                   dropped == 0, f"{dropped} dropped; workers restarted during the "
                                 f"run: {result.get('worker_restarts', '?')}"))
    checks.append(("cold start < 0.5 s (existing database)",
                   result["cold_start_s"] < 0.5,
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
