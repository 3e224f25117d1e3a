#!/usr/bin/python3
"""fsync proof of the durable store (protocol-v2.md: "Acked means durable", commits grouped).

Runs the server under `strace -f -e trace=fsync,fdatasync`, sends messages from many
connections at once, pipelined, and checks from strace that the store synced, and that one sync
covered many messages. Against Parley it also reads /metrics: parley_store_syncs_total and
parley_store_commits_total must grow, and the syncs counted there must agree with strace's
within a factor of ten. Without strace (Debian package `strace`) it prints SKIP and exits 0.

Usage: fsync_test.py --parley PATH | --peer node-ws [--messages 2000] [--connections 50]
"""
import argparse
import asyncio
import os
import random
import re
import shutil
import subprocess
import tempfile

from store_client import (OFFLINE, Sender, Server, add_server_args, http_get, open_all, report, run_test,
                          verify)

SYNC = re.compile(rb"\b(?:fsync|fdatasync)\(")  # a call's first line ("<... resumed>" lines do not match)


def syncs_in(trace):
    with open(trace, "rb") as f:
        return len(SYNC.findall(f.read()))


def store_metrics(port):
    status, body = http_get(port, "/metrics")
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}")
    return {m[0]: float(m[1]) for m in re.findall(r"^(parley_store_\w+)(?:\{[^}]*\})? (\S+)$", body, re.M)}


async def main(args):
    strace = shutil.which("strace")
    if not strace:
        print("SKIP fsync: strace is not installed (apt-get install strace)")
        return 0
    probe = subprocess.run([strace, "-e", "trace=none", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"SKIP fsync: strace cannot trace here: {probe.stderr.strip()}")
        return 0
    rng = random.Random(args.seed)
    n = args.connections
    senders = [Sender(f"f{i}", [f"f{(i + 1) % n}", OFFLINE[i % len(OFFLINE)]], random.Random(rng.random()))
               for i in range(n)]
    per_sender = args.messages // n
    with tempfile.TemporaryDirectory(prefix="parley-fsync-") as tmp:
        trace = os.path.join(tmp, "strace.txt")
        server = Server(args, os.path.join(tmp, "data"), os.path.join(tmp, "server.log"))
        problems = []
        try:
            port = server.start(wrapper=[strace, "-f", "-qq", "-e", "trace=fsync,fdatasync", "-e", "signal=none",
                                         "-o", trace])
            await open_all(senders, port)
            before = store_metrics(port) if args.parley else {}
            syncs_before = syncs_in(trace)
            stop = asyncio.Event()
            await asyncio.wait_for(asyncio.gather(
                *(s.run(stop, window=per_sender, burst=per_sender, pause=0, budget=per_sender) for s in senders)),
                60)
            syncs = syncs_in(trace) - syncs_before  # strace writes a call's line before it returns
            after = store_metrics(port) if args.parley else {}
            counts, found = await verify(port, senders)
            problems.extend(found)
        except Exception:
            print(f"server log: {server.log_tail()}")
            raise
        finally:
            await asyncio.gather(*(s.close() for s in senders), return_exceptions=True)
            server.stop()
    acked = counts["acked"]
    extra = dict(seed=args.seed, connections=n, strace_syncs=syncs,
                 messages_per_sync=round(acked / syncs, 1) if syncs else 0)
    if syncs == 0:
        problems.append("strace saw no fsync or fdatasync while messages were acked")
    elif acked / syncs <= 5:
        problems.append(f"{acked} messages took {syncs} syncs: commits are not grouped")
    if args.parley:
        grew = {k: after.get(k, 0) - before.get(k, 0) for k in
                ("parley_store_syncs_total", "parley_store_commits_total", "parley_store_committed_messages_total")}
        extra.update(metric_syncs=grew["parley_store_syncs_total"], metric_commits=grew["parley_store_commits_total"])
        if min(grew.values()) <= 0:
            problems.append(f"store counters did not grow: {grew}")
        elif not syncs / 10 <= grew["parley_store_syncs_total"] <= syncs * 10:
            problems.append(f"parley_store_syncs_total grew by {grew['parley_store_syncs_total']:.0f}, "
                            f"strace saw {syncs} syncs: not the same order of magnitude")
    return report("fsync", counts, problems, **extra)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_server_args(parser)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    run_test("fsync", main, args)
