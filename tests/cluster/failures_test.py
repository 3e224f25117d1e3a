#!/usr/bin/python3
"""Failures of a 3-node cluster (protocol-v2.md "Clusters", docs/cluster.md), clients on random
nodes (seeded), without a store:
- kill -9 of a node: its ids go offline on the others within --node-ttl (the time is measured and
  printed), its partners get `left`, its watchers `presence` offline; its clients reconnect to
  another node and chat again.
- Redis killed (kill -9) and restarted on the same port: while it is down a message to an id on
  another node gets `unavailable`, one on the same node is delivered, /healthz says redis
  unreachable; an id that connects and one that closes meanwhile are seen right once it is back.
  Then the nodes reconnect by themselves (/healthz redis ok, nodes == N), `who` on each node
  lists everyone, the partner of the id that closed gets `left`, and messages cross nodes again.
  Redis dropping only the subscriber connections: every node stays up and reconnects.
- Redis paused (SIGSTOP): past --cluster-max-pending-bytes a cross-node message gets
  `unavailable`; what was acked before arrives, in order, once Redis runs again. Paused past
  the TTL: no node is reaped (no `left`), since no node died.
- A node stopped with SIGTERM: its ids go offline on the others at once (well under the TTL).

    /usr/bin/python3 tests/cluster/failures_test.py --parley build/parley [--seed N] [--node-ttl S]
"""
import asyncio
import os
import random
import signal
import subprocess
import time

from cluster import Client, local_cluster, metric, run, test_args, wait_who

NODES = 3
NODE_TTL = 3  # seconds: short for speed; a live node must miss about 3 heartbeats to be reaped
TTL_SLACK = 1.0  # a loaded machine's timers and Redis round trips on top of the TTL
OUTAGE_SECONDS = 2  # Redis stays down this long: the nodes' retries back off to 800 ms meanwhile
MAX_PENDING_BYTES = 1 << 16  # --cluster-max-pending-bytes: its least value, reached in a few sends
PAUSE_MESSAGE_BYTES = 8 << 10


def msg(to, text, cid):
    return {"type": "msg", "to": to, "text": text, "cid": cid}


async def chat(sender, recipient, text, cid):
    """sender -> recipient, delivered live and acked as such."""
    await sender.send(msg(recipient.id, text, cid))
    await recipient.expect("msg", text=text, **{"from": sender.id})
    await sender.expect("ack", cid=cid, status="delivered")


async def quiet_then_close(*clients):
    """Nothing more came to any of them (checked before any closes: a close makes `left`)."""
    for c in clients:
        await c.quiet()
    for c in clients:
        await c.close()


async def timed(coroutine, started):
    await coroutine
    return time.monotonic() - started


async def kill9_of_a_node(cluster, rng, ttl):
    victim_node, *others = rng.sample(cluster.live(), NODES)
    victim = await Client("v", "victim", victim_node).open()
    partner = await Client("p", "partner", rng.choice(others)).open()
    watcher = await Client("w", "watcher", rng.choice(others)).open()
    await wait_who(cluster.live(), {"victim", "partner", "watcher"})
    await chat(victim, partner, "before the crash", "k1")
    await watcher.send({"type": "watch", "ids": ["victim"]})
    await watcher.expect("presence", id="victim", online=True)

    started = time.monotonic()
    victim_node.kill9()
    left, offline = await asyncio.gather(
        timed(partner.expect("left", id="victim", timeout=ttl + 5), started),
        timed(watcher.expect("presence", id="victim", online=False, timeout=ttl + 5), started))
    print(f"  kill -9 of {victim_node.name} (--node-ttl {ttl}): partner got left after {left:.2f} s, "
          f"watcher presence offline after {offline:.2f} s")
    assert max(left, offline) <= ttl + TTL_SLACK, f"noticed after {max(left, offline):.2f} s, TTL {ttl}"
    cluster.wait_nodes(NODES - 1)
    await wait_who(cluster.live(), {"partner", "watcher"})

    victim = await Client("v2", "victim", rng.choice(others)).open()  # what its client does next
    await watcher.expect("presence", id="victim", online=True)
    await chat(victim, partner, "after the crash", "k2")
    await chat(partner, victim, "welcome back", "k3")
    print(f"  the victim reconnected to {victim.node.name} and chats again")
    await quiet_then_close(victim, partner, watcher)


async def redis_killed_and_restarted(cluster, rng, _ttl):
    x, y, z = rng.sample(cluster.live(), NODES)
    a = await Client("a", "alice", x).open()
    b = await Client("b", "bob", x).open()     # on alice's node
    c = await Client("c", "carol", y).open()   # on another
    e = await Client("e", "erin", z).open()    # closes while Redis is down
    await wait_who(cluster.live(), {"alice", "bob", "carol", "erin"})
    await chat(a, c, "before", "r1")
    await chat(e, a, "hi alice", "r2")  # partners: alice is told when erin leaves

    started = time.monotonic()
    cluster.services.kill_redis()
    down = cluster.wait_health(lambda h: h.get("redis") == "unreachable", "redis unreachable")
    assert all(n.health()["status"] == "ok" for n in cluster.live()), "a node without Redis must stay up"
    await a.send(msg("carol", "while Redis is down", "r3"))
    error = await a.expect("error", code="unavailable", cid="r3")
    await chat(a, b, "same node, Redis down", "r4")
    print(f"  Redis kill -9: every node's /healthz said redis unreachable after {down:.2f} s; "
          f"cross-node message: {error['code']}, same-node message: delivered")
    d = await Client("d", "dave", y).open()  # joins while Redis is down
    await e.close()
    await asyncio.sleep(OUTAGE_SECONDS)  # the nodes retry, backing off

    cluster.services.start_redis()
    restarted = time.monotonic()
    back = cluster.wait_nodes(NODES)
    await wait_who(cluster.live(), {"alice", "bob", "carol", "dave"})
    print(f"  Redis restarted on the same port: redis ok and nodes == {NODES} everywhere after "
          f"{back:.2f} s, `who` complete on every node after {time.monotonic() - restarted:.2f} s "
          f"(outage {restarted - started:.2f} s)")
    await a.expect("left", id="erin")  # erin closed during the outage
    await chat(a, c, "after", "r5")
    await chat(c, a, "after, back", "r6")
    await chat(d, a, "I joined while Redis was down", "r7")
    reconnects = [metric(n.metrics(), "parley_cluster_redis_reconnects_total") for n in cluster.live()]
    assert all(r >= 1 for r in reconnects), f"parley_cluster_redis_reconnects_total: {reconnects}"
    print("  after the restart: erin's partner got left, dave (joined during the outage) is seen, "
          "messages cross nodes both ways")

    # Redis drops only the subscribers' connections (as its pubsub output-buffer limit does to a
    # slow subscriber): each node makes both connections again and stays up.
    live = cluster.live()
    killed = subprocess.run(["redis-cli", "-p", str(cluster.services.state["redis_port"]), "CLIENT",
                             "KILL", "TYPE", "pubsub"], capture_output=True, text=True, timeout=5)
    assert killed.stdout.strip() == str(NODES), f"CLIENT KILL TYPE pubsub: {killed.stdout} {killed.stderr}"
    await asyncio.sleep(0.5)
    assert all(n.alive() for n in live), [n.proc.returncode for n in live]
    cluster.wait_nodes(NODES)
    await wait_who(cluster.live(), {"alice", "bob", "carol", "dave"})
    await chat(c, a, "after the subscribers were dropped", "r8")
    await chat(a, d, "and back", "r9")
    print("  Redis dropped every subscriber connection: the nodes reconnected, messages cross nodes")
    await quiet_then_close(a, b, c, d)


async def redis_paused_backlog(cluster, rng, ttl):
    """Redis stopped (SIGSTOP) for well under the TTL: the connections stay up, but what is sent to
    other nodes waits unanswered. Past --cluster-max-pending-bytes, a message to an id held only
    elsewhere gets `unavailable`; what was acked before arrives, in order, once Redis runs again."""
    x, y = rng.sample(cluster.live(), 2)
    a = await Client("a", "pat", x).open()
    a2 = await Client("a2", "pam", x).open()
    b = await Client("b", "bea", y).open()
    await wait_who(cluster.live(), {"pat", "pam", "bea"})
    text = "x" * PAUSE_MESSAGE_BYTES
    acked, refused = [], None
    pid = cluster.services.state["redis_pid"]
    os.kill(pid, signal.SIGSTOP)
    paused = time.monotonic()
    try:
        for i in range(2 * MAX_PENDING_BYTES // PAUSE_MESSAGE_BYTES):
            await a.send(msg("bea", f"{i}:{text}", f"p{i}"))
            f = await a.recv()
            if f["type"] == "error":
                assert f["code"] == "unavailable" and f["cid"] == f"p{i}", f
                refused = i
                break
            assert f["type"] == "ack" and f["status"] == "delivered", f
            acked.append(i)
        await chat(a, a2, "same node, Redis paused", "p-local")
    finally:
        os.kill(pid, signal.SIGCONT)
    held = time.monotonic() - paused
    assert refused is not None, f"no unavailable after {len(acked)} x {PAUSE_MESSAGE_BYTES} B queued"
    for i in acked:
        f = await b.expect("msg", **{"from": "pat"})
        assert f["text"].split(":")[0] == str(i), f"message {i} expected, got {f['text'][:20]}"
    await chat(a, b, "after the pause", "p-after")
    print(f"  Redis paused {held:.2f} s with --cluster-max-pending-bytes {MAX_PENDING_BYTES}: "
          f"{len(acked)} messages of {PAUSE_MESSAGE_BYTES} B queued and acked, the next refused "
          f"unavailable, a same-node one delivered; the queued ones arrived in order after it")
    await quiet_then_close(a, a2, b)


async def redis_paused_past_the_ttl(cluster, rng, ttl):
    """Redis stopped (SIGSTOP) for longer than the TTL: no heartbeat lands meanwhile, but no node
    died. When Redis runs again the queued heartbeats must not reap each other's nodes: partners
    get no `left`, every node still counts all, and messages cross nodes again."""
    x, y = rng.sample(cluster.live(), 2)
    a = await Client("a", "pia", x).open()
    b = await Client("b", "ben", y).open()
    await wait_who(cluster.live(), {"pia", "ben"})
    await chat(a, b, "before", "q1")
    pid = cluster.services.state["redis_pid"]
    os.kill(pid, signal.SIGSTOP)
    try:
        await asyncio.sleep(ttl + 2)
    finally:
        os.kill(pid, signal.SIGCONT)
    await a.quiet(ttl + 1)  # a reap would show here as `left ben`
    nodes = cluster.wait_nodes(NODES)
    await chat(a, b, "after", "q2")
    print(f"  Redis paused {ttl + 2} s (TTL {ttl}): no node reaped, no `left`, nodes == {NODES} "
          f"after {nodes:.2f} s")
    await quiet_then_close(a, b)


async def sigterm_of_a_node(cluster, rng, ttl):
    victim_node, *others = rng.sample(cluster.live(), NODES)
    t = await Client("t", "terminated", victim_node).open()
    p = await Client("p", "partner2", rng.choice(others)).open()
    w = await Client("w", "watcher2", rng.choice(others)).open()
    await wait_who(cluster.live(), {"terminated", "partner2", "watcher2"})
    await chat(p, t, "hello", "s1")
    await w.send({"type": "watch", "ids": ["terminated"]})
    await w.expect("presence", id="terminated", online=True)
    started = time.monotonic()
    status, left, offline, _ = await asyncio.gather(
        victim_node.terminate(),
        timed(p.expect("left", id="terminated", timeout=ttl + 5), started),
        timed(w.expect("presence", id="terminated", online=False, timeout=ttl + 5), started),
        t.ws.wait_closed())  # its client answers the server's close frame meanwhile
    nodes = cluster.wait_nodes(NODES - 1)
    print(f"  SIGTERM of {victim_node.name}: left after {left:.2f} s, presence offline after "
          f"{offline:.2f} s, nodes == {NODES - 1} after {time.monotonic() - started:.2f} s (TTL {ttl})")
    assert status == 0, f"exit status {status}"
    assert max(left, offline) < ttl / 2, f"a stopped node's ids went offline after {max(left, offline):.2f} s"
    assert nodes < ttl / 2, "the others took the TTL to drop a stopped node"
    await quiet_then_close(p, w)


async def main(args):
    rng = random.Random(args.seed)
    flags = ("--store", "none", "--cluster-max-pending-bytes", str(MAX_PENDING_BYTES))
    with local_cluster(args.parley, NODES, node_ttl=args.node_ttl, node_flags=flags) as cluster:
        for check in (kill9_of_a_node, redis_killed_and_restarted, redis_paused_backlog,
                      redis_paused_past_the_ttl, sigterm_of_a_node):
            if args.only and args.only != check.__name__:
                continue
            if len(cluster.live()) < NODES:  # a new node joins the running cluster
                cluster.add_node()
                cluster.wait_nodes(NODES)
            await check(cluster, rng, args.node_ttl)


if __name__ == "__main__":
    run("cluster.failures", main, test_args(__doc__, node_ttl=NODE_TTL))
