#!/usr/bin/python3
"""A real HAProxy (Debian's) in front of a TLS node, with `ssl send-proxy-v2`: HAProxy sends the
PROXY v2 header first, in clear, then its TLS handshake. Checks that HAProxy's health checks
(LOCAL headers over TLS) pass, that a WebSocket through it is welcomed, and that the node's admin
API names the client by its own address and port, not HAProxy's 127.0.0.2. The plain-TCP case,
with three nodes: tests/scripts/cluster_test.py.
  usage: haproxy_tls_test.py PARLEY_BINARY   (or PARLEY_BINARY in the environment)
Every wait is bounded; every process started here is stopped here, by PID.
"""
import asyncio
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets

TOKEN = "haproxy-tls-test"
WAIT_S = 20  # start-up of the node and HAProxy's first checks; under a second when idle


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, predicate):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"no {what} within {WAIT_S} s")


def https_get(port, target):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(f"https://127.0.0.1:{port}{target}",
                                     headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(request, timeout=5, context=context) as response:
        return response.read().decode()


def haproxy_config(front, node):
    return f"""defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout tunnel 1h
frontend chat
  bind 127.0.0.1:{front}
  stats enable
  stats uri /haproxy-stats
  default_backend nodes
backend nodes
  option httpchk GET /healthz
  source 127.0.0.2
  server node1 127.0.0.1:{node} ssl verify none send-proxy-v2 check inter 500ms rise 1
"""


def all_up(front):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{front}/haproxy-stats;csv", timeout=2) as r:
            return re.search(r"^nodes,node1,.*,UP,", r.read().decode(), re.M)
    except OSError:
        return None


async def client_through(front, node):
    async with websockets.connect(f"ws://127.0.0.1:{front}/ws/tlsbehind", open_timeout=5) as ws:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame["type"] == "welcome", frame
        host, port = ws.transport.get_extra_info("sockname")[:2]
        listed = json.loads(https_get(node, "/admin/api/connections?id=tlsbehind"))
        peers = [c["peer"] for c in listed["connections"]]
        assert peers == [f"{host}:{port}"], f"the node names {peers}, the client is {host}:{port}"


def main():
    binary = os.environ.get("PARLEY_BINARY") or (sys.argv[1] if len(sys.argv) > 1 else "")
    if not binary:
        sys.exit("usage: haproxy_tls_test.py PARLEY_BINARY")
    work = tempfile.mkdtemp(prefix="parley-haproxy-tls-")
    processes = []
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", f"{work}/key.pem",
                        "-out", f"{work}/cert.pem"], check=True, capture_output=True, timeout=30)
        log = open(f"{work}/parley.log", "w+")
        processes.append(subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", "0", "--store", "none", "--tls-cert", f"{work}/cert.pem",
             "--tls-key", f"{work}/key.pem", "--trusted-proxies", "127.0.0.2/32", "--admin-token", TOKEN],
            stdout=log, stderr=subprocess.STDOUT))
        node = int(wait_for("listening line", lambda: (re.findall(
            r"listening on https://127\.0\.0\.1:(\d+)", open(f"{work}/parley.log").read()) or [None])[0]))
        front = free_port()
        with open(f"{work}/haproxy.cfg", "w") as f:
            f.write(haproxy_config(front, node))
        processes.append(subprocess.Popen(["haproxy", "-db", "-f", f"{work}/haproxy.cfg"],
                                          stdout=subprocess.DEVNULL, stderr=open(f"{work}/haproxy.log", "w")))
        wait_for("node UP in HAProxy (its LOCAL checks over TLS)", lambda: all_up(front))
        asyncio.run(client_through(front, node))
        refused = re.findall(r".*refused.*PROXY.*", open(f"{work}/parley.log").read())
        assert not refused, f"the node refused HAProxy's headers: {refused}"
        print("PASS: PROXY v2 then TLS from HAProxy: checks pass, the client's address is the peer")
    except BaseException:
        for name in ("parley.log", "haproxy.log"):
            path = os.path.join(work, name)
            if os.path.exists(path):
                print(f"--- {name}\n" + open(path).read()[-3000:], file=sys.stderr)
        raise
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
