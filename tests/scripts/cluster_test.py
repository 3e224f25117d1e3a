#!/usr/bin/python3
"""scripts/cluster.sh end to end: a real HAProxy in front of real nodes, PROXY v2 between them.

Runs scripts/cluster.sh (with the parley binary of argv[1], or PARLEY_BINARY, so it does not
build) on a free front port, with --admin-token for the nodes, and checks:
  - it prints the chat URL (the pages and their client library come through it) and each
    node's /healthz, which answer 200 directly (127.0.0.1 is
    not a trusted proxy: no PROXY header is needed), and HAProxy's page lists every node UP, so
    its health checks (PROXY v2 LOCAL from 127.0.0.2) pass;
  - two WebSocket clients through the front port, on two nodes, chat (through Redis);
  - each node's admin API names a client by its own address and port, carried by PROXY v2
    (not HAProxy's 127.0.0.2), so limits and logs see the client;
  - SIGINT stops it within 20 s with status 130: every PID it printed is gone (Redis and
    PostgreSQL too), the ports are closed and its temporary folder is removed.
Every wait is bounded.
"""
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import websockets

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TOKEN = "cluster-test-admin"
START_TIMEOUT_S = 90  # apt check, three nodes, HAProxy's checks; a few seconds when idle
STOP_TIMEOUT_S = 20   # the script gives each process 10 s after SIGTERM


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, token=None):
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read().decode()


def start_cluster(binary, port):
    env = dict(os.environ, PARLEY_BINARY=binary)
    script = subprocess.Popen(
        [os.path.join(REPO, "scripts", "cluster.sh"), "--port", str(port), "--", "--admin-token", TOKEN],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
    lines = []
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = script.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if "Ctrl-C stops it all." in line:
            return script, "\n".join(lines)
    script.kill()
    sys.exit("FAIL: cluster.sh did not come up:\n" + "\n".join(lines))


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def peers_by_node(node_ports, client_id):
    """{node port: [peer, ...]} from each node's admin API."""
    found = {}
    for node in node_ports:
        status, body = get(f"http://127.0.0.1:{node}/admin/api/connections?id={client_id}", TOKEN)
        check(status == 200, f"admin API of {node}: {status}")
        peers = [c["peer"] for c in json.loads(body)["connections"]]
        if peers:
            found[node] = peers
    return found


def node_of(node_ports, client_id, socket_name):
    """The node holding the connection whose local address is socket_name, checking its peer."""
    host, port = socket_name[0], socket_name[1]
    for node, peers in peers_by_node(node_ports, client_id).items():
        if f"{host}:{port}" in peers:
            return node
    raise AssertionError(f"no node names {client_id}'s connection as {host}:{port} (the PROXY v2 "
                         f"address): {peers_by_node(node_ports, client_id)}")


async def welcome(ws):
    frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
    check(frame["type"] == "welcome", f"not a welcome: {frame}")


async def chat(front, node_ports):
    """a and b connect through HAProxy, which puts them on different nodes (leastconn), and chat
    across them (the cluster forwards through Redis)."""
    url = f"ws://127.0.0.1:{front}/ws/"
    a, b = f"alice{os.getpid()}", f"bob{os.getpid()}"
    async with websockets.connect(url + b, open_timeout=5) as to_b, \
            websockets.connect(url + a, open_timeout=5) as from_a:
        await welcome(to_b)
        await welcome(from_a)
        b_node = node_of(node_ports, b, to_b.transport.get_extra_info("sockname"))
        a_node = node_of(node_ports, a, from_a.transport.get_extra_info("sockname"))
        check(a_node != b_node, f"leastconn put both clients on node {a_node}")
        await from_a.send(json.dumps({"type": "msg", "to": b, "text": "through HAProxy", "cid": "c1"}))
        deadline = time.monotonic() + 5
        while True:
            frame = json.loads(await asyncio.wait_for(to_b.recv(), max(0.1, deadline - time.monotonic())))
            if frame["type"] == "msg":
                break
        check(frame["text"] == "through HAProxy" and frame["from"] == a, f"got {frame}")


def port_closed(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def stop_after_failure(script, pids):
    """SIGTERM to cluster.sh (which stops what it started); SIGKILL to it and to each PID it
    printed when that takes longer than STOP_TIMEOUT_S (its children run in sessions of their own)."""
    script.send_signal(signal.SIGTERM)
    try:
        script.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        for pid in [script.pid] + pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def main():
    binary = os.environ.get("PARLEY_BINARY") or (sys.argv[1] if len(sys.argv) > 1 else "")
    if not binary:
        sys.exit("usage: cluster_test.py PARLEY_BINARY")
    front = free_port()
    script, out = start_cluster(os.path.abspath(binary), front)
    printed = [int(pid) for pid in re.findall(r"\(pids? (\d+(?:, \d+)*)", out) for pid in pid.split(", ")]
    try:
        print(out)
        check(f"chat:    http://127.0.0.1:{front}/" in out, "no chat URL")
        nodes = [(int(port), int(pid)) for port, pid in
                 re.findall(r"node\d:\s+http://127\.0\.0\.1:(\d+)/healthz\s+\(pid (\d+)", out)]
        check(len(nodes) == 3, f"three nodes expected: {nodes}")
        check(len(printed) == 6, f"three nodes, HAProxy, Redis and PostgreSQL: {printed}")
        work = re.search(r"log: (/tmp/parley-cluster\.[^/]+)/", out).group(1)
        node_ports = [port for port, _ in nodes]
        for port in node_ports:
            check(get(f"http://127.0.0.1:{port}/healthz")[0] == 200, f"node {port} /healthz")
        stats = get(f"http://127.0.0.1:{front}/haproxy-stats;csv")[1]
        check(len(re.findall(r"^nodes,node\d,.*,UP,", stats, re.M)) == 3, "HAProxy: not every node UP")
        check(get(f"http://127.0.0.1:{front}/healthz")[0] == 200, "front /healthz")
        status, page = get(f"http://127.0.0.1:{front}/static/lib/parley-client.js")
        check(status == 200 and "export" in page, "the page's client library through HAProxy")
        asyncio.run(chat(front, node_ports))
    except BaseException:
        stop_after_failure(script, printed)
        raise
    script.send_signal(signal.SIGINT)
    try:
        status = script.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        stop_after_failure(script, printed)
        sys.exit("FAIL: cluster.sh still running 20 s after SIGINT")
    check(status == 130, f"cluster.sh exited {status} after SIGINT, not 130")
    left = [pid for pid in printed if alive(pid)]
    check(not left, f"still running after cluster.sh stopped: {left}")
    check(all(port_closed(p) for p in node_ports + [front]), "a port still accepts connections")
    check(not os.path.exists(work), f"{work} was not removed")
    print("PASS: cluster.sh up, chat through HAProxy, PROXY v2 addresses, clean stop on SIGINT")


if __name__ == "__main__":
    main()
