"""A local Parley cluster for the tests beside this file: its own Redis (tests/services) and N
real nodes, each on 127.0.0.1 port 0 (the port read from its log line), with WebSocket clients
that keep a transcript of what they receive.

    with local_cluster(binary, nodes=3, node_ttl=2) as c:   # Redis + nodes up, all stopped after
        c.nodes[i].url("alice"), c.nodes[i].health(), c.nodes[i].kill9(), .stop(), .start()
        c.wait_nodes(3)              # every live node's /healthz says nodes == 3 and redis ok
        c.services.kill_redis(), c.services.start_redis()   # the same port again
    with single_server(binary) as s:   # one plain server (no cluster): what a single server gives

Everything started here is stopped by PID in a finally block, and each child also gets SIGKILL
if this process dies first (PR_SET_PDEATHSIG), so a test killed by ctest leaves nothing behind.
Every wait is bounded.
"""
import argparse
import asyncio
import contextlib
import ctypes
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "services"))
from services import Services  # noqa: E402 (after the path it lives on)

START_SECONDS = 20  # a node answers /healthz in tens of ms; a sanitized one in a few seconds
JOIN_SECONDS = 15   # nodes meet through Redis within a heartbeat (1 s) of starting
STOP_SECONDS = 10   # a SIGTERM'd node closes its connections and says goodbye in well under 1 s
REPLY_SECONDS = 5   # any frame a test waits for


def _die_with_parent():
    """Runs in the child before exec: SIGKILL it when this test process dies (even by SIGKILL)."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


def parley_binary(args_binary):
    """PARLEY_BINARY overrides --parley, as for the integration tests (the sanitizer runs)."""
    return os.environ.get("PARLEY_BINARY") or args_binary


class Node:
    """One parley process. `cluster_flags` empty: a plain single server."""

    def __init__(self, binary, name, log_dir, cluster_flags=(), node_flags=("--store", "none")):
        self.binary, self.name, self.cluster_flags = binary, name, list(cluster_flags)
        self.node_flags = list(node_flags)
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.proc, self.port, self.log_start = None, 0, 0

    def start(self):
        log = open(self.log_path, "ab")
        self.log_start = log.tell()
        self.proc = subprocess.Popen(
            [self.binary, "--host", "127.0.0.1", "--port", "0", "--threads", "2", *self.node_flags,
             "--log-level", "info", *self.cluster_flags],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        log.close()
        deadline = time.monotonic() + START_SECONDS
        self.port = 0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.log_tail()}")
            self.port = self.port or self._logged_port()
            if self.port and self.health() is not None:
                return self
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer within {START_SECONDS} s: {self.log_tail()}")

    def _logged_port(self):
        with open(self.log_path, "rb") as f:
            f.seek(self.log_start)
            found = re.findall(rb"listening on http://127\.0\.0\.1:(\d+)", f.read())
        return int(found[-1]) if found else 0

    def log_tail(self, size=3000):
        with open(self.log_path, "rb") as f:
            return f.read()[-size:].decode(errors="replace")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def url(self, client_id):
        return f"ws://127.0.0.1:{self.port}/ws/{client_id}"

    def health(self):
        """/healthz as a dict, or None when the node does not answer."""
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/healthz")
            body = conn.getresponse().read()
            conn.close()
            return json.loads(body)
        except (OSError, ValueError, http.client.HTTPException):
            return None

    def metrics(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
        conn.close()
        return text

    def kill9(self):
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(STOP_SECONDS)

    async def terminate(self):
        """SIGTERM, and the exit status once it has ended, without blocking the event loop (its
        clients must answer the server's close frames meanwhile)."""
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.get_running_loop().run_in_executor(None, self.proc.wait, STOP_SECONDS)

    def stop(self):
        """SIGTERM (a clean stop), SIGKILL if it has not ended within STOP_SECONDS."""
        if not self.alive():
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise RuntimeError(f"{self.name} ignored SIGTERM for {STOP_SECONDS} s")


class Cluster:
    """Redis and N nodes named n0..n{N-1}, all with the same --node-ttl."""

    def __init__(self, binary, count, node_ttl, directory, node_flags=("--store", "none")):
        self.binary, self.node_ttl, self.dir = binary, node_ttl, directory
        self.node_flags = node_flags
        # Redis alone: the services' PostgreSQL is not needed by the routing half.
        self.services = Services(os.path.join(directory, "services"), {})
        os.makedirs(self.services.dir)
        self.services.state["dir"] = self.services.dir
        self.nodes = [self._node(f"n{i}") for i in range(count)]

    def _node(self, name):
        return Node(self.binary, name, self.dir, [
            "--cluster-redis", "{redis}", "--node-id", name, "--node-ttl", str(self.node_ttl)],
            self.node_flags)

    def start(self):
        self.services.start_redis()
        for node in self.nodes:
            node.cluster_flags[1] = self.services.redis_url
            node.start()
        self.wait_nodes(len(self.nodes))
        return self

    def add_node(self):
        node = self._node(f"n{len(self.nodes)}")
        node.cluster_flags[1] = self.services.redis_url
        self.nodes.append(node)
        return node.start()

    def live(self):
        return [n for n in self.nodes if n.alive()]

    def wait_nodes(self, count, timeout=JOIN_SECONDS):
        """Until every live node's /healthz has redis ok and nodes == count; returns the seconds."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            healths = [n.health() for n in self.live()]
            if all(h and h.get("redis") == "ok" and h.get("nodes") == count for h in healths):
                return time.monotonic() - started
            time.sleep(0.05)
        raise AssertionError(f"nodes != {count} after {timeout} s: {[n.health() for n in self.live()]}")

    def wait_health(self, predicate, what, timeout=JOIN_SECONDS):
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if all(predicate(n.health() or {}) for n in self.live()):
                return time.monotonic() - started
            time.sleep(0.05)
        raise AssertionError(f"{what} not seen within {timeout} s: {[n.health() for n in self.live()]}")

    def close(self):
        errors = []
        for node in self.nodes:
            try:
                node.stop()
            except Exception as e:  # noqa: BLE001 (stop the others all the same)
                errors.append(e)
        self.services.down(remove=False)
        if errors:
            raise errors[0]


@contextlib.contextmanager
def _temp_dir(prefix):
    directory = tempfile.mkdtemp(prefix=prefix)
    try:
        yield directory
    except BaseException:
        print(f"logs kept in {directory}")
        raise
    else:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def local_cluster(binary, count=3, node_ttl=2, node_flags=("--store", "none")):
    with _temp_dir("parley-cluster-") as directory:
        cluster = Cluster(binary, count, node_ttl, directory, node_flags)
        try:
            yield cluster.start()
        except BaseException:
            for node in cluster.nodes:
                if node.proc is not None:
                    print(f"--- {node.name} log (tail) ---\n{node.log_tail()}")
            raise
        finally:
            cluster.close()


@contextlib.contextmanager
def single_server(binary):
    with _temp_dir("parley-single-") as directory:
        node = Node(binary, "single", directory)
        try:
            yield node.start()
        finally:
            node.stop()


# --- clients -----------------------------------------------------------------------------------

def normalize(frame):
    """A frame without what differs between runs (mid, ts, server_time, `who` order)."""
    if isinstance(frame, tuple):  # binary: ("binary", header, payload)
        header = {k: v for k, v in frame[1].items() if k not in ("mid", "ts")}
        return ("binary", header, len(frame[2]), hash(frame[2]))
    out = {k: v for k, v in frame.items() if k not in ("mid", "ts", "server_time")}
    if out.get("type") == "who" and "online" in out:
        out["online"] = sorted(out["online"])
    return out


def decode(raw):
    if isinstance(raw, bytes):
        size = int.from_bytes(raw[:2], "big")
        return ("binary", json.loads(raw[2:2 + size]), raw[2 + size:])
    return json.loads(raw)


def binary_frame(header, payload):
    head = json.dumps(header).encode()
    return len(head).to_bytes(2, "big") + head + payload


class Client:
    """One WebSocket connection; every frame it receives goes into its transcript, in order."""

    def __init__(self, name, client_id, node):
        self.name, self.id, self.node = name, client_id, node
        self.transcript = []
        self.ws = None

    async def open(self):
        self.ws = await websockets.connect(self.node.url(self.id), max_size=None, open_timeout=REPLY_SECONDS)
        welcome = await self.recv()
        assert welcome.get("type") == "welcome", f"{self.name}: first frame {welcome}"
        return self

    async def send(self, obj):
        await self.ws.send(obj if isinstance(obj, bytes) else json.dumps(obj))

    async def recv(self, timeout=REPLY_SECONDS):
        try:
            frame = decode(await asyncio.wait_for(self.ws.recv(), timeout))
        except asyncio.TimeoutError:
            raise AssertionError(f"{self.name} ({self.id} on {self.node.name}): nothing within {timeout} s") from None
        self.transcript.append(normalize(frame))
        return frame

    async def expect(self, kind, timeout=REPLY_SECONDS, **fields):
        """The next frame: of `kind` (a type, or "binary") with these fields, else a failure."""
        frame = await self.recv(timeout)
        got = frame[0] if isinstance(frame, tuple) else frame.get("type")
        body = frame[1] if isinstance(frame, tuple) else frame
        wrong = {k: body.get(k) for k, v in fields.items() if body.get(k) != v}
        assert got == kind and not wrong, f"{self.name} ({self.id} on {self.node.name}): expected {kind} {fields}, got {frame}"
        return frame

    async def quiet(self, seconds=0.3):
        """Nothing arrives for `seconds` (anything that does is a failure, and in the transcript)."""
        with contextlib.suppress(asyncio.TimeoutError):
            frame = decode(await asyncio.wait_for(self.ws.recv(), seconds))
            self.transcript.append(normalize(frame))
            raise AssertionError(f"{self.name} ({self.id} on {self.node.name}): unexpected {frame}")

    async def close(self):
        await self.ws.close()


class Placement:
    """Where each client goes: a random node (seeded), or one of the others than some."""

    def __init__(self, nodes, rng):
        self.nodes, self.rng = nodes, rng

    def any(self):
        return self.rng.choice(self.nodes)

    def other_than(self, *taken):
        left = [n for n in self.nodes if n not in taken]
        return self.rng.choice(left or self.nodes)


def test_args(description, node_ttl=None):
    parser = argparse.ArgumentParser(description=description)
    if node_ttl is not None:
        parser.add_argument("--node-ttl", type=float, default=node_ttl, help="the nodes' --node-ttl")
    parser.add_argument("--parley", required=True, help="the parley binary (PARLEY_BINARY overrides it)")
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30), help="repeats a run")
    parser.add_argument("--timeout", type=float, default=100, help="the whole test, seconds")
    parser.add_argument("--only", help="run only the check of this name")
    args = parser.parse_args()
    args.parley = parley_binary(args.parley)
    return args


def run(name, main, args):
    """Runs main(args) within --timeout; prints PASS or FAIL with the seed, exits 0 or 1. SIGTERM
    (ctest's timeout) unwinds through the finally blocks that stop what was started."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(f"FAIL {name}: seed={args.seed} terminated"))
    print(f"{name}: seed={args.seed}", flush=True)
    try:
        asyncio.run(asyncio.wait_for(main(args), args.timeout))
    except Exception as e:  # noqa: BLE001 (any failure is the test's verdict)
        print(f"FAIL {name}: seed={args.seed} {type(e).__name__}: {e}", flush=True)
        sys.exit(1)
    print(f"PASS {name}: seed={args.seed}", flush=True)


async def wait_who(nodes, ids, timeout=JOIN_SECONDS):
    """Until `who` on each of `nodes` lists exactly `ids` (with a probe connection per node, left
    out of the comparison); returns the seconds it took."""
    started = time.monotonic()
    probes = [await Client(f"probe-{n.name}", f"zz-probe-{n.name}", n).open() for n in nodes]
    names = {p.id for p in probes}
    try:
        for probe in probes:
            while True:
                await probe.send({"type": "who"})
                who = await probe.recv()
                while who.get("type") != "who":  # with a store, the inbox comes first
                    who = await probe.recv()
                seen = set(who["online"]) - names
                if seen == set(ids) and who["total"] == len(who["online"]):
                    break
                assert time.monotonic() - started < timeout, f"{probe.node.name} sees {sorted(seen)}, not {sorted(ids)}"
                await asyncio.sleep(0.02)
    finally:
        for p in probes:
            await p.close()
    return time.monotonic() - started


def metric(text, name):
    """The value of an unlabelled sample in /metrics text."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")
