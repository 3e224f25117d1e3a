#!/usr/bin/python3
"""The protocol's scenarios on a 3-node cluster, each client on a random node (seeded), compared
frame for frame with what a single plain server gives for the same scenario (../shared/protocol.md,
protocol-v2.md "Clusters"): msg and ack, copies to the sender's other connections on other
nodes, `left` only when an id's last connection in the cluster closes, `who` with `total`,
watch/presence, typing, binary files, `offline`. Then, on the cluster alone: a burst of 2,000
messages from one connection to an id on another node (in order, none lost), and many senders on
3 nodes to many recipients (each message exactly once, each sender's order kept).

    /usr/bin/python3 tests/cluster/chat_test.py --parley build/parley [--seed N] [--only NAME]
"""
import asyncio
import os
import random
import time

from cluster import (JOIN_SECONDS, Client, Placement, binary_frame, local_cluster, run, single_server,
                     metric, test_args, wait_who)

NODES = 3
BURST = 2000
SENDERS, RECIPIENTS, PER_SENDER = 12, 12, 100
# The default --node-ttl: these checks are about routing, and a node of a loaded CI machine must
# not be taken for dead in the middle of one (failures_test.py checks the TTL itself).
ROUTING_TTL = 10


class Env:
    """One run of a scenario: on the cluster's nodes, or on one server standing for every node. A
    probe connection per node asks `who` until every node sees the same ids (settle)."""

    def __init__(self, nodes, rng):
        self.nodes, self.place = nodes, Placement(nodes, rng)
        self.clients, self.probes, self.open_ids = [], [], {}

    async def start(self):
        self.probes = [await Client(f"probe{i}", f"zz-probe-{i}", n).open() for i, n in enumerate(self.nodes)]

    async def connect(self, name, client_id, node):
        c = await Client(name, client_id, node).open()
        self.clients.append(c)
        self.open_ids[client_id] = self.open_ids.get(client_id, 0) + 1
        return c

    async def close(self, client):
        await client.close()
        self.open_ids[client.id] -= 1
        if not self.open_ids[client.id]:
            del self.open_ids[client.id]

    async def settle(self):
        """Until `who` on every node lists exactly the ids with an open connection (and the probes)."""
        expected = sorted([*self.open_ids, *(p.id for p in self.probes)])
        deadline = time.monotonic() + JOIN_SECONDS
        for probe in self.probes:
            while True:
                await probe.send({"type": "who"})
                who = await probe.expect("who")
                if sorted(who["online"]) == expected and who["total"] == len(expected):
                    break
                assert time.monotonic() < deadline, f"{probe.node.name} sees {sorted(who['online'])}, not {expected}"
                await asyncio.sleep(0.02)

    async def finish(self):
        for c in self.clients + self.probes:
            if c.ws.state.name == "OPEN":
                await c.close()
        return {c.name: c.transcript for c in self.clients}


def msg(to, text, cid=None):
    frame = {"type": "msg", "to": to, "text": text}
    if cid:
        frame["cid"] = cid
    return frame


# --- scenarios: each ends with every connection quiet; its transcripts are compared ------------

async def msg_ack_and_copies(env):
    a1 = await env.connect("a1", "alice", env.place.any())
    a2 = await env.connect("a2", "alice", env.place.other_than(a1.node))
    b1 = await env.connect("b1", "bob", env.place.any())
    b2 = await env.connect("b2", "bob", env.place.other_than(b1.node))
    await env.settle()
    await a1.send(msg("bob", "hello", "c1"))
    for c in (b1, b2, a2):
        await c.expect("msg", **{"from": "alice", "to": "bob", "text": "hello"})
    await a1.expect("ack", cid="c1", status="delivered")
    await b2.send(msg("alice", "hi back"))  # no cid: no ack
    for c in (a1, a2, b1):
        await c.expect("msg", **{"from": "bob", "to": "alice", "text": "hi back"})
    await a2.send(msg("alice", "a note to myself", "c2"))  # every own connection gets it
    await a1.expect("msg", **{"from": "alice", "to": "alice"})
    await a2.expect("msg", **{"from": "alice", "to": "alice"})
    await a2.expect("ack", cid="c2", status="delivered")
    for c in (a1, a2, b1, b2):
        await c.quiet()


async def copy_on_a_node_the_recipient_is_not_on(env):
    a1 = await env.connect("a1", "alice", env.place.any())
    a2 = await env.connect("a2", "alice", env.place.other_than(a1.node))
    b = await env.connect("b", "bob", env.place.other_than(a1.node, a2.node))  # three nodes
    await env.settle()
    await a1.send(msg("bob", "one", "c1"))
    await b.expect("msg", text="one")
    await a2.expect("msg", text="one")
    await a1.expect("ack", cid="c1", status="delivered")
    await b.send(msg("alice", "two", "c2"))
    await a1.expect("msg", text="two")
    await a2.expect("msg", text="two")
    await b.expect("ack", cid="c2", status="delivered")
    for c in (a1, a2, b):
        await c.quiet()


async def left_only_after_the_last_connection(env):
    a1 = await env.connect("a1", "alice", env.place.any())
    a2 = await env.connect("a2", "alice", env.place.other_than(a1.node))
    b = await env.connect("b", "bob", env.place.any())
    c = await env.connect("c", "carol", env.place.any())  # never chats with alice: no `left`
    await env.settle()
    await b.send(msg("alice", "hi", "c1"))
    await a1.expect("msg", text="hi")
    await a2.expect("msg", text="hi")
    await b.expect("ack", cid="c1", status="delivered")
    await env.close(a1)
    await env.settle()
    await b.quiet(0.5)  # alice is still on a2's node
    await a2.send(msg("bob", "still here", "c2"))
    await b.expect("msg", text="still here")
    await a2.expect("ack", cid="c2", status="delivered")
    await env.close(a2)
    await env.settle()
    await b.expect("left", id="alice")
    for x in (b, c):
        await x.quiet()


async def who_cluster_wide(env):
    users = [await env.connect(f"u{i}", f"user{i}", env.place.any()) for i in range(6)]
    users.append(await env.connect("u0b", "user0", env.place.other_than(users[0].node)))
    await env.settle()
    for u in users:
        await u.send({"type": "who", "cid": "w"})
        who = await u.expect("who", cid="w", total=6 + NODES)
        assert sorted(who["online"]) == sorted({*(x.id for x in users), *(p.id for p in env.probes)}), who
    for u in users:
        await u.quiet()


async def watch_and_presence(env):
    w = await env.connect("w", "watcher", env.place.any())
    await w.send({"type": "watch", "ids": ["xavier", "yann", "watcher"]})
    await w.expect("presence", id="xavier", online=False)
    await w.expect("presence", id="yann", online=False)
    await w.expect("presence", id="watcher", online=True)
    y = await env.connect("y", "yann", env.place.other_than(w.node))
    await w.expect("presence", id="yann", online=True)
    x1 = await env.connect("x1", "xavier", env.place.any())
    await w.expect("presence", id="xavier", online=True)
    x2 = await env.connect("x2", "xavier", env.place.other_than(x1.node))
    await env.settle()
    await w.quiet()  # a second connection changes nothing
    await env.close(x1)
    await env.settle()
    await w.quiet()  # nor does closing one of two
    await env.close(x2)
    await w.expect("presence", id="xavier", online=False)
    await env.close(y)
    await w.expect("presence", id="yann", online=False)
    w2 = await env.connect("w2", "watcher2", env.place.other_than(w.node))  # watches a remote id
    await env.settle()
    await w2.send({"type": "watch", "ids": ["watcher"]})
    await w2.expect("presence", id="watcher", online=True)
    await env.close(w)
    await w2.expect("presence", id="watcher", online=False)
    await w2.quiet()


async def typing_across_nodes(env):
    a = await env.connect("a", "alice", env.place.any())
    b1 = await env.connect("b1", "bob", env.place.other_than(a.node))
    b2 = await env.connect("b2", "bob", env.place.other_than(b1.node))
    await env.settle()
    await a.send({"type": "typing", "to": "bob"})
    await b1.expect("typing", **{"from": "alice"})
    await b2.expect("typing", **{"from": "alice"})
    await a.send({"type": "typing", "to": "nobody"})  # dropped silently
    for c in (a, b1, b2):
        await c.quiet()


async def binary_files_across_nodes(env):
    a1 = await env.connect("a1", "alice", env.place.any())
    a2 = await env.connect("a2", "alice", env.place.other_than(a1.node))
    b = await env.connect("b", "bob", env.place.other_than(a1.node))
    await env.settle()
    payload = random.Random(7).randbytes(200_000)
    await a1.send(binary_frame({"to": "bob", "name": "cat.png", "mime": "image/png", "cid": "f1"}, payload))
    for c in (b, a2):
        frame = await c.expect("binary")
        assert frame[1]["from"] == "alice" and frame[1]["name"] == "cat.png" and frame[2] == payload, frame[1]
    await a1.expect("ack", cid="f1", status="delivered")
    await b.send(binary_frame({"to": "alice", "cid": "f2"}, b"\x00\xff" * 10))
    for c in (a1, a2):
        frame = await c.expect("binary")
        assert "name" not in frame[1] and frame[2] == b"\x00\xff" * 10, frame[1]
    await b.expect("ack", cid="f2")
    for c in (a1, a2, b):
        await c.quiet()


async def offline_for_an_id_connected_nowhere(env):
    a = await env.connect("a", "alice", env.place.any())
    gone = await env.connect("g", "gone", env.place.other_than(a.node))
    await env.settle()
    await env.close(gone)
    await env.settle()
    for to in ("nobody", "gone"):
        await a.send(msg(to, "anyone?", "c-" + to))
        await a.expect("error", code="offline", cid="c-" + to, to=to)
    await a.send(binary_frame({"to": "nobody", "cid": "f"}, b"x"))
    await a.expect("error", code="offline", cid="f")
    await a.quiet()


SCENARIOS = [msg_ack_and_copies, copy_on_a_node_the_recipient_is_not_on, left_only_after_the_last_connection, who_cluster_wide,
             watch_and_presence, typing_across_nodes, binary_files_across_nodes,
             offline_for_an_id_connected_nowhere]


async def run_scenario(scenario, nodes, seed):
    env = Env(nodes, random.Random(f"{seed}-{scenario.__name__}"))
    await env.start()
    try:
        await scenario(env)
        await env.settle()
    finally:
        transcripts = await env.finish()
    return transcripts, {c.name: c.node.name for c in env.clients}


def first_difference(reference, cluster):
    for name in sorted(set(reference) | set(cluster)):
        ref, got = reference.get(name, []), cluster.get(name, [])
        for i in range(max(len(ref), len(got))):
            r = ref[i] if i < len(ref) else "(nothing)"
            g = got[i] if i < len(got) else "(nothing)"
            if r != g:
                return f"{name}, frame {i}: single server gave {r}, the cluster {g}"
    return None


# --- on the cluster alone ------------------------------------------------------------------------

async def burst_in_order(cluster, rng):
    """BURST messages from one connection to an id on another node: all arrive, in order."""
    sender_node = rng.choice(cluster.nodes)
    a = await Client("a", "burst-a", sender_node).open()
    b = await Client("b", "burst-b", rng.choice([n for n in cluster.nodes if n is not sender_node])).open()
    await wait_who(cluster.nodes, {"burst-a", "burst-b"})
    started = time.monotonic()

    async def send_all():
        for i in range(BURST):
            await a.send(msg("burst-b", str(i), f"c{i}"))

    async def acks():
        for i in range(BURST):
            await a.expect("ack", cid=f"c{i}", status="delivered")

    async def receive():
        for i in range(BURST):
            frame = await b.recv()
            assert frame.get("type") == "msg" and frame["text"] == str(i), f"message {i}: got {frame}"

    await asyncio.gather(send_all(), acks(), receive())
    took = time.monotonic() - started
    print(f"  burst: {BURST} messages {sender_node.name} -> {b.node.name} in order, none lost, "
          f"{took:.2f} s ({BURST / took:.0f} msg/s)")
    await a.close()
    await b.close()


async def many_to_many(cluster, rng):
    """SENDERS connections on random nodes each send PER_SENDER messages to random recipients (also
    on random nodes), all at once: each recipient gets each message addressed to it exactly once,
    each sender's in the order sent, and each sender gets every ack."""
    senders = [await Client(f"s{i}", f"sender{i}", rng.choice(cluster.nodes)).open() for i in range(SENDERS)]
    recipients = [await Client(f"r{i}", f"rcpt{i}", rng.choice(cluster.nodes)).open() for i in range(RECIPIENTS)]
    await wait_who(cluster.nodes, {c.id for c in senders + recipients})
    plan = {s.id: [rng.randrange(RECIPIENTS) for _ in range(PER_SENDER)] for s in senders}
    expected = {r.id: [] for r in recipients}
    for s in senders:
        for k, r in enumerate(plan[s.id]):
            expected[recipients[r].id].append((s.id, k))
    started = time.monotonic()

    async def send(s):
        for k, r in enumerate(plan[s.id]):
            await s.send(msg(recipients[r].id, f"{s.id}:{k}", f"c{k}"))
        for k in range(PER_SENDER):
            await s.expect("ack", cid=f"c{k}", status="delivered")

    async def receive(r):
        got = []
        for _ in expected[r.id]:
            frame = await r.recv()
            sender, k = frame["text"].split(":")
            assert frame["from"] == sender, frame
            got.append((sender, int(k)))
        await r.quiet(0.3)
        return r.id, got

    results = await asyncio.gather(*(send(s) for s in senders), *(receive(r) for r in recipients))
    took = time.monotonic() - started
    for rid, got in results[SENDERS:]:
        assert sorted(got) == sorted(expected[rid]), f"{rid}: not each message exactly once"
        for s in senders:
            mine = [k for sender, k in got if sender == s.id]
            assert mine == sorted(mine), f"{rid}: {s.id}'s messages out of order: {mine}"
    total = SENDERS * PER_SENDER
    placement = {c.id: c.node.name for c in senders + recipients}
    print(f"  many to many: {total} messages, {SENDERS} senders to {RECIPIENTS} recipients on "
          f"{NODES} nodes, each exactly once in order, {took:.2f} s; placement {placement}")
    for c in senders + recipients:
        await c.close()


async def main(args):
    with single_server(args.parley) as single, local_cluster(args.parley, NODES, node_ttl=ROUTING_TTL) as cluster:
        for scenario in SCENARIOS:
            if args.only and args.only != scenario.__name__:
                continue
            reference, _ = await run_scenario(scenario, [single] * NODES, args.seed)
            got, placement = await run_scenario(scenario, cluster.nodes, args.seed)
            difference = first_difference(reference, got)
            assert difference is None, f"{scenario.__name__} (placement {placement}): {difference}"
            frames = sum(len(t) for t in got.values())
            print(f"  {scenario.__name__}: {frames} frames as on one server; placement {placement}")
        rng = random.Random(args.seed)
        for check in (burst_in_order, many_to_many):
            if not args.only or args.only == check.__name__:
                await check(cluster, rng)
        out = [n.metrics() for n in cluster.nodes]
        frames = sum(metric(m, "parley_cluster_messages_out_total") for m in out)
        batches = sum(metric(m, "parley_cluster_batches_out_total") for m in out)
        received = sum(metric(m, "parley_cluster_messages_in_total") for m in out)
        assert received == frames, f"forwarded {frames} frames, {received} arrived"
        assert sum(metric(m, "parley_cluster_bad_batches_total") for m in out) == 0
        print(f"  /metrics: {frames:.0f} frames forwarded and received in {batches:.0f} publishes "
              f"({frames / max(batches, 1):.1f} per publish)")


if __name__ == "__main__":
    run("cluster.chat", main, test_args(__doc__))
