"""Shared parts of the durable-store tests (protocol-v2.md): the server under test, a sender that
retries with the same cid until acked, and the check of history against what was acked.

The server is Parley (--parley PATH, port 0, port read from its log) or the reference peer
(--peer node-ws, on a free port). Parley keeps its store in SQLite (a data dir), or with
--store postgres in a namespace (schema) of its own per data dir on the PostgreSQL of tests/services
(PARLEY_SERVICES_FILE, the ctest fixture parley_services). Every wait here is bounded.
"""
import hashlib
import asyncio
import http.client
import itertools
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time

import websockets

# The reference peers ship in the shared/ folder beside the repository.
PEERS_RUN = os.environ.get("PARLEY_PEERS_RUN") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "peers", "run"))
START_SECONDS = 30  # the peer installs its packages on its first run
REPLY_SECONDS = 10  # a welcome, an inbox or a history page


def add_server_args(parser):
    """--parley PATH or --peer node-ws, the server every test here runs; --seed and --timeout."""
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--parley", metavar="PATH", help="the parley binary (started with --store sqlite)")
    group.add_argument("--peer", choices=["node-ws"], help="the reference peer, with --store file")
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite",
                        help="Parley's store (postgres: needs PARLEY_SERVICES_FILE)")
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30), help="repeats a run")
    parser.add_argument("--timeout", type=float, default=100, help="the whole test, seconds")


def run_test(name, main, args):
    """Runs main(args) within --timeout and exits with its status; any exception is a FAIL."""
    try:
        sys.exit(asyncio.run(asyncio.wait_for(main(args), args.timeout)))
    except Exception as e:  # noqa: BLE001 (any failure is the test's verdict)
        print(f"FAIL {name}: seed={args.seed} {type(e).__name__}: {e}")
        sys.exit(1)


def postgres_database(data_dir):
    """The URL of a namespace (schema) of its own for data_dir (made on first use) on tests/services'
    PostgreSQL, which PARLEY_SERVICES_FILE describes."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "services"))
    from services import Services  # noqa: E402 (found beside this folder)
    services = Services.from_env()
    if services is None:
        raise RuntimeError("--store postgres needs PARLEY_SERVICES_FILE (tests/services/services.py up DIR)")
    name = "t_" + hashlib.sha1(os.path.abspath(data_dir).encode()).hexdigest()[:16]
    return services.database_url(name)


class Server:
    """One server process on one data dir, in its own process group (killed as a whole)."""

    def __init__(self, args, data_dir, log_path):
        # PARLEY_BINARY overrides --parley, as for the integration tests: the sanitizer runs of
        # scripts/test.sh point every suite at a sanitized server that way.
        parley = os.environ.get("PARLEY_BINARY") if args.parley else None
        self.parley, self.data_dir, self.log_path = parley or args.parley, data_dir, log_path
        self.store = ["--store", "sqlite", "--data-dir", data_dir]
        if getattr(args, "store", "sqlite") == "postgres":
            self.store = ["--store", "postgres", "--postgres-url", postgres_database(data_dir)]
        self.proc = None
        self.log_start = 0

    def command(self, port):
        if self.parley:
            return [self.parley, "--host", "127.0.0.1", "--port", "0", *self.store, "--threads", "2",
                    "--log-level", "warn"]
        return [PEERS_RUN, "node-ws", str(port), "--store", "file", "--data-dir", self.data_dir]

    def start(self, wrapper=()):
        """Starts the server (under wrapper, e.g. strace) and returns its port once it answers HTTP."""
        port = 0 if self.parley else free_port()
        log = open(self.log_path, "ab")
        self.log_start = log.tell()  # this life's lines come after it
        self.proc = subprocess.Popen([*wrapper, *self.command(port)], stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log_tail()}")
            port = port or self.logged_port()
            if port and http_get(port, "/healthz", timeout=1)[0]:
                return port
            time.sleep(0.05)
        raise RuntimeError(f"server did not answer within {START_SECONDS} s: {self.log_tail()}")

    def logged_port(self):
        with open(self.log_path, "rb") as f:
            f.seek(self.log_start)
            found = re.findall(rb"listening on http://127\.0\.0\.1:(\d+)", f.read())
        return int(found[-1]) if found else 0

    def log_tail(self):
        with open(self.log_path, "rb") as f:
            return f.read()[-2000:].decode(errors="replace")

    def kill9(self):
        """kill -9 of the whole process group, as a crash."""
        self.signal(signal.SIGKILL)

    def stop(self):
        """SIGTERM, then SIGKILL after 5 s; safe to call when not running."""
        if self.signal(signal.SIGTERM):
            try:
                self.proc.wait(5)
                return
            except subprocess.TimeoutExpired:
                pass
        self.signal(signal.SIGKILL)

    def signal(self, sig):
        if not self.proc or self.proc.poll() is not None:
            return False
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            return False
        if sig == signal.SIGKILL:
            self.proc.wait(5)
        return True


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path, timeout=5):
    """(status, body) of a GET, or (None, reason) when nothing answers."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("GET", path)
        resp = conn.getresponse()
        status, body = resp.status, resp.read().decode(errors="replace")
        conn.close()
        return status, body
    except OSError as e:
        return None, str(e)


async def healthz_until(port, want, seconds):
    """Polls /healthz until it answers `want`; returns the last (status, body)."""
    deadline = time.monotonic() + seconds
    while True:
        status, body = await asyncio.to_thread(http_get, port, "/healthz")
        if status == want or time.monotonic() > deadline:
            return status, body
        await asyncio.sleep(0.1)


async def connect(port, client_id):
    """An open connection past its welcome; raises when the server has no store (no epoch)."""
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws/{client_id}", open_timeout=REPLY_SECONDS,
                                  close_timeout=1, ping_interval=None, compression=None, max_queue=None)
    welcome = json.loads(await asyncio.wait_for(ws.recv(), REPLY_SECONDS))
    if welcome.get("type") != "welcome" or "epoch" not in welcome:
        await ws.close()
        raise RuntimeError(f"no store on this server (welcome without epoch): {welcome}")
    return ws


async def listen(port, client_id):
    """Keeps client_id online until cancelled or the server goes away."""
    try:
        ws = await connect(port, client_id)
        async for _ in ws:
            pass
    except (OSError, asyncio.TimeoutError, websockets.WebSocketException):
        pass


class Message:
    def __init__(self, cid, to, text):
        self.cid, self.to, self.text = cid, to, text
        self.key = None  # order the store must keep: stamped at the first send not refused
        self.acks = []  # every ack received (the first, then duplicates)
        self.last_refused = False  # the last answer was `unavailable`
        self.prev_refused = False  # the attempt before the one in flight was refused


class Sender:
    """One id on one connection: sends messages to its recipients with unique cids, pipelined,
    and resends every unacked one with the same cid, in first-send order, before anything new."""

    def __init__(self, client_id, recipients, rng, pad=24):
        self.id, self.recipients, self.rng, self.pad = client_id, recipients, rng, pad
        self.messages = []
        self.problems = []
        self.refusals = 0
        self.retries = 0
        self.held = False  # a refusal stops new messages until the next run
        self._keys = itertools.count()
        self._inflight = {}  # cid -> Message
        self._changed = asyncio.Event()
        self._ws = self._reader = None

    async def open(self, port):
        self._ws = await connect(port, self.id)
        self._inflight.clear()
        self._reader = asyncio.create_task(self._read(self._ws))

    async def close(self):
        if self._reader:
            self._reader.cancel()
        if self._ws:
            await self._ws.close()
        self._ws = self._reader = None

    def unacked(self):
        return [m for m in self.messages if not m.acks]

    async def run(self, stop, window=16, burst=4, pause=0.02, budget=None, resend_acked=False):
        """Retries the unacked, then sends new messages (burst at a time, pause between bursts)
        until stop is set, budget is spent or a refusal holds it; then waits for every reply.
        A closed connection ends it quietly: what is in flight stays unacked."""
        self.held = False
        try:
            for m in self.unacked():
                self.retries += 1
                await self._send(m, window)
            acked = [m for m in self.messages if m.acks]
            if resend_acked and acked:  # must be acked as a duplicate of the stored one
                await self._send(self.rng.choice(acked), window)
            sent = 0
            while not stop.is_set() and not self.held and (budget is None or sent < budget):
                for _ in range(burst if budget is None else min(burst, budget - sent)):
                    await self._send(self._new(), window)
                    sent += 1
                if pause:
                    await asyncio.sleep(pause)
            await self._wait(lambda: not self._inflight)
        except websockets.ConnectionClosed:
            pass

    def _new(self):
        cid = f"{self.id}.{len(self.messages)}"
        m = Message(cid, self.rng.choice(self.recipients), f"{cid} " + "x" * self.pad)
        self.messages.append(m)
        return m

    async def _send(self, m, window):
        await self._wait(lambda: len(self._inflight) < window)
        if m.key is None:
            m.key = next(self._keys)
        m.prev_refused, m.last_refused = m.last_refused, False
        self._inflight[m.cid] = m
        await self._ws.send(json.dumps({"type": "msg", "to": m.to, "text": m.text, "cid": m.cid}))

    async def _wait(self, ready):
        while not ready():
            if self._reader.done():
                raise websockets.ConnectionClosed(None, None)
            self._changed.clear()
            await self._changed.wait()

    async def _read(self, ws):
        try:
            async for raw in ws:
                frame = json.loads(raw) if isinstance(raw, str) else {}
                if frame.get("type") in ("ack", "error"):
                    self._answer(frame)
        except (websockets.ConnectionClosed, OSError):
            pass
        finally:
            self._changed.set()

    def _answer(self, f):
        m = self._inflight.pop(f.get("cid"), None)
        if m is None:
            self.problems.append(f"{self.id}: a reply to nothing in flight: {f}")
        elif f["type"] == "ack":
            if f.get("duplicate") and m.prev_refused:
                self.problems.append(f"{self.id}: {m.cid} was refused, yet its retry is a duplicate: {f}")
            if m.acks and not f.get("duplicate"):
                self.problems.append(f"{self.id}: {m.cid} acked again without duplicate: {f}")
            m.acks.append(f)
        elif f.get("code") == "unavailable" and not m.acks:
            m.last_refused, m.key, self.held = True, None, True
            self.refusals += 1
        else:
            self.problems.append(f"{self.id}: unexpected answer to {m.cid}: {f}")
        self._changed.set()


ONLINE = ["r0", "r1", "r2"]  # tests keep these connected (listen) while senders send
OFFLINE = ["r3", "r4", "r5"]  # never connected: their messages wait in the inbox


def make_senders(count, rng, pad=24):
    """Each sender writes to an online id, an offline id and (every other one) the next sender."""
    senders = []
    for i in range(count):
        to = [ONLINE[i % 3], OFFLINE[i % 3]] + ([f"s{(i + 1) % count}"] if i % 2 == 0 else [])
        senders.append(Sender(f"s{i}", to, random.Random(rng.random()), pad))
    return senders


async def open_all(senders, port, seconds=20):
    """Opens every sender's connection; raises the first failure (after all have settled)."""
    results = await asyncio.wait_for(asyncio.gather(*(s.open(port) for s in senders), return_exceptions=True),
                                     seconds)
    for r in results:
        if isinstance(r, BaseException):
            raise r


async def fetch_history(port, me, peer):
    """Every message of the conversation {me, peer}, paging with after and limit 200."""
    ws = await connect(port, me)
    try:
        while json.loads(await asyncio.wait_for(ws.recv(), REPLY_SECONDS)).get("type") != "inbox":
            pass
        frames, after = [], 0
        for page in itertools.count():
            cid = f"h{page}"
            await ws.send(json.dumps({"type": "history", "with": peer, "after": after, "limit": 200, "cid": cid}))
            while True:
                f = json.loads(await asyncio.wait_for(ws.recv(), REPLY_SECONDS))
                if f.get("type") == "msg":
                    frames.append(f)
                elif f.get("type") == "history" and f.get("cid") == cid:
                    break
                elif f.get("type") == "error":
                    raise RuntimeError(f"history {me} with {peer}: {f}")
            if not f["more"] or not frames or frames[-1]["seq"] == after:
                return frames
            after = frames[-1]["seq"]
    finally:
        await ws.close()


async def verify(port, senders):
    """Checks history against what the senders sent and were acked: every message present exactly
    once, seqs 1..N without gaps, each sender's order kept, every ack naming the stored mid, seq
    and ts. Returns (counts, problems)."""
    conversations = {}  # (a, b) sorted -> [(sender id, Message)]
    for s in senders:
        for m in s.messages:
            conversations.setdefault(tuple(sorted((s.id, m.to))), []).append((s.id, m))
    counts = dict(conversations=len(conversations), messages=0, acked=0, checked=0, lost=0, duplicated=0,
                  duplicate_acks=0)
    problems = [p for s in senders for p in s.problems]
    for (a, b), sent in sorted(conversations.items()):
        stored = await fetch_history(port, a, b)
        seqs = [f["seq"] for f in stored]
        if seqs != list(range(1, len(seqs) + 1)):
            problems.append(f"{a}-{b}: seqs are not 1..{len(seqs)}: {seqs[:20]}...")
        found = {}
        for f in stored:
            found.setdefault((f["from"], f["text"].split(" ", 1)[0]), []).append(f)
        for sender, m in sent:
            counts["messages"] += 1
            copies = found.pop((sender, m.cid), [])
            if not m.acks:
                problems.append(f"{m.cid}: never acked ({len(copies)} stored)")
                continue
            counts["acked"] += 1
            counts["duplicate_acks"] += sum(1 for ack in m.acks if ack.get("duplicate"))
            if not copies:
                counts["lost"] += 1
                problems.append(f"{m.cid}: acked {m.acks[0]} but not in history")
                continue
            if len(copies) > 1:
                counts["duplicated"] += 1
                problems.append(f"{m.cid}: stored {len(copies)} times, seqs {[c['seq'] for c in copies]}")
            c = copies[0]
            if (c["to"], c["text"]) != (m.to, m.text):
                problems.append(f"{m.cid}: stored as {c}")
            for ack in m.acks:
                if (ack["mid"], ack["seq"], ack["ts"]) != (c["mid"], c["seq"], c["ts"]):
                    problems.append(f"{m.cid}: ack {ack} does not name the stored {c}")
            counts["checked"] += 1
        for key, copies in found.items():
            problems.append(f"{a}-{b}: stored but never sent: {key} x{len(copies)}")
        keys = {(sender, m.cid): m.key for sender, m in sent}
        for sender in {sender for sender, _ in sent}:
            order = [keys.get((f["from"], f["text"].split(" ", 1)[0])) for f in stored if f["from"] == sender]
            order = [k for k in order if k is not None]
            if order != sorted(order):
                problems.append(f"{a}-{b}: {sender}'s messages are stored out of the order sent")
    return counts, problems


def report(name, counts, problems, **extra):
    """Prints the summary line (and the first problems); returns the exit code."""
    fields = " ".join(f"{k}={v}" for k, v in {**extra, **counts}.items())
    for p in problems[:20]:
        print("  " + p)
    print(f"{'FAIL' if problems else 'PASS'} {name}: {fields}" + (f" problems={len(problems)}" if problems else ""))
    return 1 if problems else 0
