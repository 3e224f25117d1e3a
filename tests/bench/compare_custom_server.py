#!/usr/bin/env python3
"""bench/compare --server NAME=COMMAND: the named server runs as a column of its own, with
{port} replaced, and the TLS workloads skip it.

Usage: compare_custom_server.py COMPARE PARLEY_BENCH FAULTY_RELAY_PY
The server is bench/faulty_relay.py, honest (no flags), started by compare from the command
given. Speed is never checked: only that the run happened, was ok, and was named.
"""
import json
import os
import subprocess
import sys
import tempfile

COMPARE, BENCH, RELAY = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []


def check(name, cond, detail=""):
    print(("PASS " if cond else "FAIL ") + name + ("" if cond else ": " + str(detail)[-600:]))
    if not cond:
        failures.append(name)


with tempfile.TemporaryDirectory(prefix="compare-custom-") as d:
    out = os.path.join(d, "r.jsonl")
    cmd = [sys.executable, COMPARE, "--quick", "--servers", "", "--bench", BENCH,
           "--server", f"honest={sys.executable} {RELAY} --port {{port}}",
           "--workloads", "relay_w16,relay_w16_tls", "--out", out]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    check("compare exits 0", run.returncode == 0, run.stdout + run.stderr)
    lines = [json.loads(l) for l in open(out)] if os.path.exists(out) else []
    header = next((l for l in lines if "machine" in l), {})
    runs = [l for l in lines if "server" in l]
    check("the header names the command", "{port}" in header.get("custom_servers", {}).get("honest", ""), header)
    check("one relay_w16 run of the named server",
          [(r["server"], r["workload"]) for r in runs] == [("honest", "relay_w16")], runs)
    check("the run is ok", bool(runs) and runs[0].get("ok") is True, runs)
    check("the table has the column", "| metric | honest |" in run.stdout, run.stdout)
    check("the TLS workload is skipped", "relay_w16_tls honest     skipped: no TLS" in run.stderr, run.stderr)
    bad = subprocess.run([sys.executable, COMPARE, "--server", "x=no-port-here", "--bench", BENCH],
                         capture_output=True, text=True, timeout=60)
    check("a command without {port} is refused", bad.returncode == 2 and "{port}" in bad.stderr, bad.stderr)

print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
