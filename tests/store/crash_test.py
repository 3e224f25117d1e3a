#!/usr/bin/python3
"""Crash test of the durable store (protocol-v2.md, "Acked means durable", "Retries are safe").

Several senders send pipelined messages with unique cids to ids online and offline; at a random
moment the server is killed with SIGKILL, restarted on the same data dir, and every sender
reconnects and resends what was not acked, with the same cid (and one message already acked,
which must come back as a duplicate). After the last round, history must hold every acked
message exactly once, with gapless seqs, in each sender's order, under the mid and seq its acks
named.

Usage: crash_test.py --parley PATH | --peer node-ws [--rounds 5] [--seed N]
"""
import argparse
import asyncio
import os
import random
import tempfile

from store_client import (ONLINE, Server, add_server_args, listen, make_senders, open_all, report, run_test,
                          verify)

async def round_trip(server, senders, last, args, rng):
    """One life of the server: start it, let everyone connect and send, then kill it at a random
    moment (or, in the last round, stop sending and wait for every ack)."""
    port = server.start()
    listeners = [asyncio.create_task(listen(port, r)) for r in ONLINE]
    stop = asyncio.Event()
    try:
        await open_all(senders, port)
        runs = asyncio.gather(*(s.run(stop, resend_acked=True) for s in senders))
        await asyncio.sleep(rng.uniform(args.min_delay, args.max_delay))
        if last:
            stop.set()
        else:
            server.kill9()
        await asyncio.wait_for(runs, 20)
    finally:
        for task in listeners:
            task.cancel()
        await asyncio.gather(*(s.close() for s in senders), return_exceptions=True)
    return port


async def main(args):
    rng = random.Random(args.seed)
    senders = make_senders(args.senders, rng)
    with tempfile.TemporaryDirectory(prefix="parley-crash-") as tmp:
        server = Server(args, os.path.join(tmp, "data"), os.path.join(tmp, "server.log"))
        try:
            for r in range(args.rounds + 1):
                port = await round_trip(server, senders, r == args.rounds, args, rng)
            counts, problems = await verify(port, senders)
        except Exception:
            print(f"server log: {server.log_tail()}")
            raise
        finally:
            server.stop()
    refused = sum(s.refusals for s in senders)
    if refused:
        problems.append(f"{refused} sends refused (unavailable) with a healthy disk")
    return report("crash", counts, problems, seed=args.seed, rounds=args.rounds,
                  retried=sum(s.retries for s in senders), refused=refused)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_server_args(parser)
    parser.add_argument("--rounds", type=int, default=5, help="kill -9 and restart this many times")
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--min-delay", type=float, default=0.2, help="seconds of sending before the kill, at least")
    parser.add_argument("--max-delay", type=float, default=1.5, help="... and at most")
    args = parser.parse_args()
    run_test("crash", main, args)
