#!/usr/bin/python3
"""Two Parley processes on one PostgreSQL database (what the nodes of a cluster share), without
Redis: each node only knows its own connections, the database is their only common part.

Pairs of senders, one on each node, write to each other (the same conversation from both nodes
at once), and to ids that other senders of both nodes write to. Midway one node is killed with
SIGKILL and restarted; its senders resend what was not acked (same cid). At the end history must
hold every acked message exactly once, seqs gapless and unique per conversation, each sender's
order kept, every ack naming the stored mid, seq and ts (protocol-v2 "Stores", "Acked means
durable", "Retries are safe").

Usage: shared_store_test.py --parley PATH --store postgres [--pairs 4] [--seconds 2] [--seed N]
"""
import argparse
import asyncio
import os
import random
import tempfile

from store_client import OFFLINE, ONLINE, Sender, Server, add_server_args, listen, open_all, report, run_test, verify


def make_pairs(count, rng):
    """a<i> (node A) and b<i> (node B) write to each other, to an online id and an offline one."""
    a = [Sender(f"a{i}", [f"b{i}", ONLINE[i % 3], OFFLINE[i % 3]], random.Random(rng.random())) for i in range(count)]
    b = [Sender(f"b{i}", [f"a{i}", ONLINE[i % 3], OFFLINE[(i + 1) % 3]], random.Random(rng.random()))
         for i in range(count)]
    return a, b


async def run_both(ports, groups, seconds, kill=None):
    """Both groups send for `seconds` (each on its node); then `kill` (a Server) is killed, or
    everyone stops and waits for every ack."""
    listeners = [asyncio.create_task(listen(ports[0], r)) for r in ONLINE]
    stop = asyncio.Event()
    try:
        for port, senders in zip(ports, groups):
            await open_all(senders, port)
        runs = asyncio.gather(*(s.run(stop, resend_acked=True) for g in groups for s in g))
        await asyncio.sleep(seconds)
        if kill:
            kill.kill9()
        stop.set()
        await asyncio.wait_for(runs, 20)
    finally:
        for task in listeners:
            task.cancel()
        await asyncio.gather(*(s.close() for g in groups for s in g), return_exceptions=True)


async def main(args):
    if args.store != "postgres":
        print("SKIP shared_store: two servers share a store only with --store postgres")
        return 0
    rng = random.Random(args.seed)
    a, b = make_pairs(args.pairs, rng)
    with tempfile.TemporaryDirectory(prefix="parley-shared-") as tmp:
        data = os.path.join(tmp, "data")  # one database for both: it names the database
        node_a = Server(args, data, os.path.join(tmp, "a.log"))
        node_b = Server(args, data, os.path.join(tmp, "b.log"))
        try:
            ports = [node_a.start(), node_b.start()]
            await run_both(ports, [a, b], args.seconds, kill=node_b)
            ports[1] = node_b.start()
            await run_both(ports, [a, b], args.seconds)
            counts, problems = await verify(ports[0], a + b)
        except Exception:
            print(f"node a log: {node_a.log_tail()}\nnode b log: {node_b.log_tail()}")
            raise
        finally:
            node_a.stop()
            node_b.stop()
    refused = sum(s.refusals for s in a + b)
    if refused:
        problems.append(f"{refused} sends refused (unavailable) with a healthy database")
    return report("shared_store", counts, problems, seed=args.seed, pairs=args.pairs,
                  retried=sum(s.retries for s in a + b))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_server_args(parser)
    parser.add_argument("--pairs", type=int, default=4, help="sender pairs (one on each node)")
    parser.add_argument("--seconds", type=float, default=2, help="of sending, in each of the two rounds")
    args = parser.parse_args()
    run_test("shared_store", main, args)
