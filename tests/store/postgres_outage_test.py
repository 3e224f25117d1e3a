#!/usr/bin/python3
"""PostgreSQL going away under a running Parley (--store postgres), on a PostgreSQL of the test's
own (tests/services; it is stopped, so the shared fixture's is not used):

1. a message is acked; PostgreSQL is stopped (fast shutdown, then in a second round SIGKILL);
2. /healthz turns 503 before any request (after the fast shutdown), a send gets `unavailable`,
   /healthz names postgres, /metrics parley_store_up 0;
3. PostgreSQL starts again on the same port and data; Parley reconnects by itself: /healthz
   200, the refused message retried with its cid is stored (not a duplicate), the acked one
   retried is a duplicate with the same seq; history holds each once, seqs gapless.

Also: a Parley started with a URL where nothing listens exits 1 at once with one line saying why.

Usage: postgres_outage_test.py --parley PATH [--seed N]
"""
import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile

from store_client import (REPLY_SECONDS, Server, add_server_args, connect, free_port, healthz_until, http_get, report,
                          run_test)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "services"))
from services import running_services  # noqa: E402

RECOVERY_SECONDS = 15  # reconnects are tried every second; a PostgreSQL start takes about one


async def send(ws, cid, text="hello"):
    """Sends to bob and returns the ack or error answering cid."""
    await ws.send(json.dumps({"type": "msg", "to": "bob", "text": text or cid, "cid": cid}))
    while True:
        f = json.loads(await asyncio.wait_for(ws.recv(), REPLY_SECONDS))
        if f.get("cid") == cid and f.get("type") in ("ack", "error"):
            return f


async def until_stored(port, cid, seconds):
    """Retries cid (a fresh connection each time, as a client would) until it is acked."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        ws = await connect(port, "alice")
        try:
            f = await send(ws, cid, cid)
        finally:
            await ws.close()
        if f["type"] == "ack" or asyncio.get_running_loop().time() > deadline:
            return f
        await asyncio.sleep(0.2)


async def outage(port, services, kill, n, problems):
    """One outage (kill: SIGKILL instead of a fast shutdown); messages c<n>a acked before it,
    c<n>b refused during it."""
    ws = await connect(port, "alice")
    before = await send(ws, f"c{n}a", f"c{n}a")
    if before.get("type") != "ack":
        problems.append(f"before the outage: {before}")
    services.stop_postgres(kill=kill)
    if not kill:  # a fast shutdown closes the sessions: an idle Parley notices within a second
        status, body = await healthz_until(port, 503, 3)
        if status != 503:
            problems.append(f"/healthz with PostgreSQL shut down, before any request: {status} {body}")
    during = await send(ws, f"c{n}b", f"c{n}b")
    await ws.close()
    if during.get("code") != "unavailable":
        problems.append(f"a send with PostgreSQL down got {during}, not unavailable")
    status, body = await healthz_until(port, 503, 5)
    if status != 503 or "postgres" not in body:
        problems.append(f"/healthz with PostgreSQL down: {status} {body}")
    metrics = http_get(port, "/metrics")[1]
    if "parley_store_up 0" not in metrics:
        problems.append("/metrics does not say parley_store_up 0 while PostgreSQL is down")
    services.start_postgres()
    status, body = await healthz_until(port, 200, RECOVERY_SECONDS)
    if status != 200:
        problems.append(f"/healthz after PostgreSQL came back: {status} {body}")
    after = await until_stored(port, f"c{n}b", RECOVERY_SECONDS)
    if after.get("type") != "ack" or after.get("duplicate"):
        problems.append(f"the refused message retried: {after}")
    again = await until_stored(port, f"c{n}a", RECOVERY_SECONDS)
    if not again.get("duplicate") or again.get("seq") != before.get("seq"):
        problems.append(f"the acked message retried: {again}, first ack {before}")


def unreachable_start(parley, problems):
    """parley with a URL on a loopback port where nothing listens: exit 1, one line, no hang."""
    url = f"postgresql://parley@127.0.0.1:{free_port()}/postgres"
    try:
        r = subprocess.run([parley, "--port", "0", "--store", "postgres", "--postgres-url", url],
                           capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        problems.append("a start with an unreachable PostgreSQL did not end within 20 s")
        return
    lines = (r.stdout + r.stderr).strip().splitlines()
    if r.returncode != 1 or len(lines) != 1 or "cannot start: store postgres:" not in lines[0]:
        problems.append(f"a start with an unreachable PostgreSQL: exit {r.returncode}, said {lines}")


async def history(port):
    ws = await connect(port, "alice")
    try:
        await ws.send(json.dumps({"type": "history", "with": "bob", "limit": 100, "cid": "h"}))
        frames = []
        while True:
            f = json.loads(await asyncio.wait_for(ws.recv(), REPLY_SECONDS))
            if f.get("type") == "msg":
                frames.append(f)
            elif f.get("cid") == "h":
                return frames
    finally:
        await ws.close()


async def main(args):
    problems = []
    unreachable_start(os.environ.get("PARLEY_BINARY") or args.parley, problems)
    with tempfile.TemporaryDirectory(prefix="parley-pg-outage-") as tmp:
        with running_services(os.path.join(tmp, "services")) as services:
            server = Server(args, os.path.join(tmp, "data"), os.path.join(tmp, "server.log"))
            server.store = ["--store", "postgres", "--postgres-url", services.database_url("outage")]
            try:
                port = server.start()
                for n, kill in enumerate([False, True]):
                    await outage(port, services, kill, n, problems)
                stored = await history(port)
            except Exception:
                print(f"server log: {server.log_tail()}")
                raise
            finally:
                server.stop()
    texts = [f["text"] for f in stored]
    if texts != ["c0a", "c0b", "c1a", "c1b"] or [f["seq"] for f in stored] != [1, 2, 3, 4]:
        problems.append(f"history: {[(f['seq'], f['text']) for f in stored]}")
    return report("postgres_outage", {"stored": len(stored)}, problems)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_server_args(parser)
    run_test("postgres_outage", main, parser.parse_args())
