#!/usr/bin/env python3
"""parley-bench must notice a relay that loses, duplicates or reorders messages.

Usage: detects_faults.py PARLEY_BENCH FAULTY_RELAY_PY
Starts bench/faulty_relay.py (honest, then with each fault), runs `parley-bench relay`
against it and checks the counts in its JSON line and its exit code. Speed is never checked.
"""
import json
import subprocess
import sys

BENCH, RELAY = sys.argv[1], sys.argv[2]
failures = []


def start_relay(*flags):
    proc = subprocess.Popen([sys.executable, RELAY, "--port", "0", *flags], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # "listening on http://127.0.0.1:PORT"
    if "listening on" not in line:
        proc.kill()
        raise SystemExit("faulty_relay.py did not start: " + line)
    return proc, int(line.rsplit(":", 1)[1])


def bench(port, *extra):
    conns = [] if "--connections" in extra else ["--connections", "4"]
    cmd = [BENCH, "relay", "--port", str(port), *conns, "--duration", "1", "--warmup", "0", "--drain", "2",
           "--json", *extra]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return out.returncode, json.loads(out.stdout.strip().splitlines()[-1])


def check(name, cond, detail):
    print(("PASS " if cond else "FAIL ") + name + ("" if cond else ": " + json.dumps(detail)))
    if not cond:
        failures.append(name)


CASES = [
    # (relay flags, parley-bench flags, the count that must be positive or None for an honest relay)
    ([], [], None),
    ([], ["--ack"], None),
    ([], ["--rate", "400"], None),
    (["--drop", "25"], [], "lost"),
    (["--drop", "25"], ["--rate", "400"], "lost"),
    (["--dup", "25"], [], "duplicated"),
    (["--reorder", "25"], [], "reordered"),
    (["--dup", "25"], ["--threads", "2", "--connections", "8"], "duplicated"),
    ([], ["--threads", "2", "--connections", "8", "--window", "1"], None),
]

for relay_flags, bench_flags, fault in CASES:
    proc, port = start_relay(*relay_flags)
    try:
        rc, r = bench(port, *bench_flags)
    finally:
        proc.kill()
        proc.wait()
    name = "relay " + " ".join(relay_flags or ["(honest)"]) + " / bench " + " ".join(bench_flags or ["(closed loop)"])
    counts = {k: r.get(k) for k in ("sent", "received", "lost", "duplicated", "reordered", "ok")}
    check(name + ": messages flowed", r.get("received", 0) > 0, counts)
    if fault is None:
        clean = all(r.get(k) == 0 for k in ("lost", "duplicated", "reordered", "too_late_to_tell"))
        check(name + ": nothing reported, exit 0", clean and r.get("ok") is True and rc == 0, counts)
    else:
        others = [k for k in ("lost", "duplicated", "reordered") if k != fault]
        check(name + ": " + fault + " reported, exit 1",
              r.get(fault, 0) > 0 and r.get("ok") is False and rc == 1, counts)
        check(name + ": no other fault reported", all(r.get(k) == 0 for k in others), counts)

# Durable senders (--ack): a refusal (error "unavailable" naming the cid) frees the window and
# is counted by code, not as a loss; the store's counters come from /metrics when the server
# has them, and their absence is no failure.
for relay_flags, bench_flags in ((["--refuse", "10"], ["--ack"]), (["--refuse", "10"], ["--ack", "--rate", "400"])):
    proc, port = start_relay(*relay_flags)
    try:
        rc, r = bench(port, *bench_flags)
    finally:
        proc.kill()
        proc.wait()
    name = "relay --refuse 10 / bench " + " ".join(bench_flags)
    counts = {k: r.get(k) for k in ("sent", "received", "acks", "refused", "lost", "errors_by_code", "ok")}
    check(name + ": refusals counted by code, not lost, exit 1",
          r.get("refused", 0) > 0 and r.get("errors_by_code", {}).get("unavailable") == r.get("refused")
          and r.get("lost") == 0 and r.get("acks", 0) + r["refused"] == r.get("sent") and r.get("ok") is False
          and rc == 1, counts)

for relay_flags, expect_figures in (([], False), (["--store-metrics"], True)):
    proc, port = start_relay(*relay_flags)
    try:
        rc, r = bench(port, "--ack", "--store-metrics")
    finally:
        proc.kill()
        proc.wait()
    name = "relay " + " ".join(relay_flags or ["(no /metrics)"]) + " / bench --ack --store-metrics"
    fields = {k: r.get(k) for k in ("acked_msgs_per_s", "ack_latency_us", "acks_by_status", "store_commits_per_s",
                                    "store_syncs_per_s", "store_messages_per_commit", "store_metrics_missing", "ok")}
    acked = r.get("acked_msgs_per_s", 0) > 0 and r.get("ack_latency_us", {}).get("count", 0) > 0 \
        and r.get("acks_by_status", {}).get("delivered") == r.get("acks")
    if expect_figures:
        check(name + ": acks timed, store figures reported",
              acked and r.get("store_messages_per_commit") == 4 and r.get("store_commits_per_s", 0) > 0
              and r.get("store_syncs_per_s") == r.get("store_commits_per_s") and r.get("ok") is True and rc == 0, fields)
    else:
        check(name + ": acks timed, store figures left out, exit 0",
              acked and "store_commits_per_s" not in r and "store_metrics_missing" in r and r.get("ok") is True
              and rc == 0, fields)

print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
