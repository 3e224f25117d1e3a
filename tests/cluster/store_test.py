#!/usr/bin/python3
"""A 3-node cluster sharing one PostgreSQL store (--store postgres; protocol-v2.md "Clusters"),
clients on random nodes (seeded):
- Two ids on two nodes send to each other at the same time: every ack carries a seq, the seqs of
  the conversation are 1..N without gap or repeat, each recipient got each message once with the
  seq of its ack, and `history` asked on a third node lists them all in seq order.
- Redis killed: a message to an id on another node is still committed and acked `stored`; after
  Redis is back, a new connection of that id gets it (inbox or history).
- kill -9 of the recipient's node while a sender on another node keeps sending: the recipient
  reconnects to another node and `history` holds every message that was acked, exactly once.

PostgreSQL: the ctest fixture's (PARLEY_SERVICES_FILE, a schema of its own), else one started here.

    /usr/bin/python3 tests/cluster/store_test.py --parley build/parley [--seed N]
"""
import asyncio
import contextlib
import os
import random
import time

from cluster import Client, local_cluster, run, test_args, wait_who
from services import Services, running_services

NODES = 3
NODE_TTL = 3
CONCURRENT = 100  # messages each way in the concurrent exchange
DURING_CRASH = 300  # messages sent while the recipient's node is killed


def msg(to, text, cid):
    return {"type": "msg", "to": to, "text": text, "cid": cid}


@contextlib.contextmanager
def postgres_url(schema):
    fixture = Services.from_env()
    if fixture:
        yield fixture.database_url(schema)
        return
    with running_services() as own:
        yield own.database_url(schema)


async def history(node, me, peer):
    """Every message of the conversation {me, peer}, as (seq, text), asked on `node`."""
    c = await Client(f"h-{me}", me, node).open()
    with contextlib.suppress(AssertionError):
        while (await c.recv(1)).get("type") != "inbox":  # what the inbox pushes first
            pass
    got, after = [], 0
    while True:
        await c.send({"type": "history", "with": peer, "after": after, "limit": 200, "cid": f"h{after}"})
        while True:
            f = await c.recv()
            if f.get("type") == "history" and f.get("cid") == f"h{after}":
                break
            if f.get("type") == "msg" and "seq" in f and {f["from"], f["to"]} == {me, peer}:
                got.append((f["seq"], f["text"]))
        if not f["more"] or not got:
            break
        after = got[-1][0]
    await c.close()
    return got


async def concurrent_exchange(cluster, rng):
    n_a, n_b, n_h = rng.sample(cluster.live(), NODES)
    a = await Client("a", "ann", n_a).open()
    b = await Client("b", "ben", n_b).open()
    for c in (a, b):
        await c.expect("inbox")
    await wait_who(cluster.live(), {"ann", "ben"})

    async def side(me, peer):
        acks, received = {}, []
        for i in range(CONCURRENT):
            await me.send(msg(peer.id, f"{me.id}:{i}", f"{me.id}-{i}"))
        while len(acks) < CONCURRENT or len(received) < CONCURRENT:
            f = await me.recv()
            if f["type"] == "ack":
                assert f["status"] == "delivered" and "seq" in f, f
                acks[f["cid"]] = f["seq"]
            elif f["type"] == "msg" and f["from"] == peer.id:
                received.append((f["seq"], f["text"]))
            else:
                raise AssertionError(f"{me.name}: unexpected {f}")
        return acks, received

    (acks_a, got_a), (acks_b, got_b) = await asyncio.gather(side(a, b), side(b, a))
    seqs = sorted([*acks_a.values(), *acks_b.values()])
    assert seqs == list(range(1, 2 * CONCURRENT + 1)), f"seqs not 1..{2 * CONCURRENT}: {seqs[:10]}…"
    for acks, got, sender in ((acks_a, got_b, "ann"), (acks_b, got_a, "ben")):
        expected = sorted((seq, f"{sender}:{cid.split('-')[1]}") for cid, seq in acks.items())
        assert sorted(got) == expected, f"{sender}'s messages as received differ from the acks"
    stored = await history(n_h, "ann", "ben")
    assert stored == sorted(stored) and [s for s, _ in stored] == seqs, "history on a third node"
    print(f"  {2 * CONCURRENT} messages ann ({n_a.name}) <-> ben ({n_b.name}) at once: seqs 1..{len(seqs)}, "
          f"each delivered once with its seq; history on {n_h.name} the same")
    await a.close()
    await b.close()


async def redis_down_stores(cluster, rng):
    n_a, n_c = rng.sample(cluster.live(), 2)
    a = await Client("a", "amy", n_a).open()
    c = await Client("c", "cal", n_c).open()
    for x in (a, c):
        await x.expect("inbox")
    await wait_who(cluster.live(), {"amy", "cal"})
    cluster.services.kill_redis()
    cluster.wait_health(lambda h: h.get("redis") == "unreachable", "redis unreachable")
    await a.send(msg("cal", "while Redis is down", "d1"))
    ack = await a.expect("ack", cid="d1")
    assert ack["status"] == "stored", ack
    cluster.services.start_redis()
    cluster.wait_nodes(NODES)
    c2 = await Client("c2", "cal", rng.choice(cluster.live())).open()
    got = []
    while True:
        f = await c2.recv()
        if f["type"] == "inbox":
            break
        got.append(f.get("text"))
    if "while Redis is down" not in got:
        got = [t for _, t in await history(rng.choice(cluster.live()), "cal", "amy")]
    assert "while Redis is down" in got, f"cal never got it: {got}"
    print(f"  Redis down: amy ({n_a.name}) -> cal ({n_c.name}) acked stored; cal's new connection has it")
    for x in (a, c, c2):
        await x.close()


async def kill9_loses_nothing_acked(cluster, rng):
    n_s, n_r = rng.sample(cluster.live(), 2)
    s = await Client("s", "sam", n_s).open()
    r = await Client("r", "rex", n_r).open()
    for x in (s, r):
        await x.expect("inbox")
    await wait_who(cluster.live(), {"sam", "rex"})
    acked = {}

    async def send_all():
        for i in range(DURING_CRASH):
            await s.send(msg("rex", f"m{i}", f"k{i}"))
            if i == DURING_CRASH // 3:
                n_r.kill9()
            await asyncio.sleep(0.005)

    async def collect():
        while len(acked) < DURING_CRASH:
            f = await s.recv(NODE_TTL + 5)
            if f["type"] == "ack":
                acked[f["cid"]] = f["seq"]
            elif f["type"] == "error":
                raise AssertionError(f"sam got {f}")

    await asyncio.gather(send_all(), collect())
    stored = await history(rng.choice(cluster.live()), "rex", "sam")
    texts = [t for _, t in stored]
    assert sorted(texts) == sorted(f"m{i}" for i in range(DURING_CRASH)), \
        f"history has {len(texts)} messages, {len(set(texts))} distinct; acked {len(acked)}"
    assert [seq for seq, _ in stored] == sorted(acked.values()), "the acks' seqs are not history's"
    print(f"  kill -9 of rex's node {n_r.name} after {DURING_CRASH // 3} of {DURING_CRASH} messages "
          f"from sam ({n_s.name}): all {len(acked)} acked, history on another node holds each once")
    await s.close()


async def main(args):
    rng = random.Random(args.seed)
    with postgres_url(f"cluster_{args.seed % 100000}_{os.getpid()}") as url, \
            local_cluster(args.parley, NODES, node_ttl=args.node_ttl,
                          node_flags=("--store", "postgres", "--postgres-url", url)) as cluster:
        for check in (concurrent_exchange, redis_down_stores, kill9_loses_nothing_acked):
            if args.only and args.only != check.__name__:
                continue
            if len(cluster.live()) < NODES:
                cluster.add_node()
                cluster.wait_nodes(NODES)
            started = time.monotonic()
            await check(cluster, rng)
            print(f"    ({check.__name__}: {time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    run("cluster.store", main, test_args(__doc__, node_ttl=NODE_TTL))
