#!/usr/bin/python3
"""Disk-full test of the durable store (protocol-v2.md: "The store is down or full").

The data dir lives on a small tmpfs. While senders send, a filler file takes every free byte:
sends must then be refused with `unavailable` (never acked) and /healthz must answer 503. Once
the filler is deleted, the refused messages are resent with the same cids and new ones follow:
all must be acked, /healthz must answer 200, and history must hold every acked message exactly
once, with gapless seqs, in each sender's order.

Usage: disk_full_test.py --parley PATH | --peer node-ws [--size-mib 8] [--seed N]
Needs root (mount); without it the test prints SKIP and exits 0.
"""
import argparse
import asyncio
import errno
import json
import os
import random
import subprocess
import tempfile
import time

from store_client import (ONLINE, Server, add_server_args, healthz_until, run_test, listen, make_senders, open_all,
                          report, verify)


def fill(path):
    """Writes path until the filesystem is full; returns the bytes written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    written = 0
    try:
        for chunk in (1 << 16, 1 << 12):
            while True:
                try:
                    written += os.write(fd, b"\0" * chunk)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return written


async def until(ready, seconds):
    """Waits for ready() to be true, at most seconds; returns ready()."""
    deadline = time.monotonic() + seconds
    while not ready() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return ready()


def check_health(args, status, body, want, problems):
    """/healthz must answer 200 with the store ok, or 503 with the store unavailable."""
    try:
        doc = json.loads(body)
    except ValueError:
        doc = {}
    store = str(doc.get("store", ""))
    if want == 200:
        good = status == 200 and store == "ok"
    else:
        good = status == 503 and store.startswith("unavailable") and (
            not args.parley or doc.get("status") == "unavailable")
    if not good:
        problems.append(f"/healthz answered {status} {body.strip()!r}, expected {want}")


async def scenario(args, server, mnt, senders, problems):
    port = server.start()
    def acked():
        return sum(1 for s in senders for m in s.messages if m.acks)

    def refused():
        return sum(s.refusals for s in senders)

    listeners = [asyncio.create_task(listen(port, r)) for r in ONLINE]
    try:
        await open_all(senders, port)
        stop = asyncio.Event()
        runs = asyncio.gather(*(s.run(stop) for s in senders))
        if not await until(lambda: acked() >= args.before_fill, 15):
            raise RuntimeError(f"only {acked()} messages acked before the disk filled")
        check_health(args, *await healthz_until(port, 200, 5), 200, problems)
        filler = os.path.join(mnt, "filler")
        filled = fill(filler)
        if not await until(lambda: refused() > 0, 20):
            problems.append("no send was refused within 20 s of the disk filling up")
        check_health(args, *await healthz_until(port, 503, 10), 503, problems)
        stop.set()
        await asyncio.wait_for(runs, 20)
        full_refused, before = refused(), {s.id: len(s.messages) for s in senders}
        os.remove(filler)
        # Recovery: each run resends the refused messages first (same cids), then new ones.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            stop = asyncio.Event()
            runs = asyncio.gather(*(s.run(stop) for s in senders))
            await asyncio.sleep(0.5)
            stop.set()
            await asyncio.wait_for(runs, 20)
            if not any(s.unacked() for s in senders):
                break
        new_acked = sum(1 for s in senders for m in s.messages[before[s.id]:] if m.acks)
        if not new_acked:
            problems.append("no new message was acked once the disk had room again")
        check_health(args, *await healthz_until(port, 200, 10), 200, problems)
        server.kill9()  # what history shows next comes from the disk
        counts, found = await verify(server.start(), senders)
        problems.extend(found)
        return counts, dict(filler_bytes=filled, refused=full_refused, refused_after=refused() - full_refused,
                            new_acked=new_acked)
    finally:
        for task in listeners:
            task.cancel()
        await asyncio.gather(*(s.close() for s in senders), return_exceptions=True)


async def main(args):
    senders = make_senders(args.senders, random.Random(args.seed), pad=args.pad)
    with tempfile.TemporaryDirectory(prefix="parley-diskfull-") as tmp:
        mnt = os.path.join(tmp, "mnt")
        os.mkdir(mnt)
        mount = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={args.size_mib}m", "parley-disk-full", mnt],
                               capture_output=True, text=True)
        if mount.returncode != 0:
            print(f"SKIP disk-full: cannot mount a tmpfs: {mount.stderr.strip() or mount.returncode}")
            return 0
        server = Server(args, os.path.join(mnt, "data"), os.path.join(tmp, "server.log"))
        problems = []
        try:
            counts, extra = await scenario(args, server, mnt, senders, problems)
        except Exception:
            print(f"server log: {server.log_tail()}")
            raise
        finally:
            server.stop()
            if subprocess.run(["umount", mnt]).returncode != 0:
                subprocess.run(["umount", "-l", mnt])
    return report("disk-full", counts, problems, seed=args.seed, size_mib=args.size_mib, **extra)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_server_args(parser)
    parser.add_argument("--size-mib", type=int, default=8, help="size of the tmpfs holding the data dir")
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--pad", type=int, default=1024, help="bytes of filler in each message's text")
    parser.add_argument("--before-fill", type=int, default=200, help="messages acked before the disk fills")
    args = parser.parse_args()
    run_test("disk-full", main, args)
