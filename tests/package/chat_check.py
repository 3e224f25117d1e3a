"""Chats with an installed Parley (run inside the fresh root by in_root.sh): starts the binary on
port 0 with its store in a temporary folder, then checks the welcome, a message to an offline id
acked "stored", the page from /usr/share/parley/web, /healthz 200, and a clean stop on SIGTERM.
Every wait is bounded. Prints PASS or FAIL lines; exits non-zero on the first failure."""
import asyncio
import http.client
import json
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

import websockets

WAIT = 10  # seconds for any one step


def start(binary, data_dir):
    proc = subprocess.Popen(
        [binary, "--port", "0", "--data-dir", data_dir, "--log-level", "info"],
        stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + WAIT
    log = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        log.append(line)
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+) \(static files: (\S+)", line)
        if found:
            # Keep reading its log, so that a full pipe never blocks the server.
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, int(found.group(1)), found.group(2)
    proc.kill()
    sys.exit("FAIL: no 'listening on' line from parley:\n" + "".join(log))


def http_get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, response.read().decode("utf-8", "replace")


async def chat(port):
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/alice", open_timeout=WAIT) as ws:
        welcome = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert welcome["type"] == "welcome" and welcome["id"] == "alice", welcome
        assert "epoch" in welcome, f"no epoch: the store is off? {welcome}"
        print("PASS welcome", json.dumps(welcome))
        await ws.send(json.dumps({"type": "msg", "to": "bob", "text": "hello", "cid": "c1"}))
        ack = {}
        while ack.get("type") not in ("ack", "error"):  # the inbox frame comes first
            ack = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert ack["type"] == "ack" and ack["cid"] == "c1" and ack["status"] == "stored", ack
        print("PASS message to offline bob acked", json.dumps(ack))


def main(binary, expected_pages):
    with tempfile.TemporaryDirectory() as data_dir:
        proc, port, pages = start(binary, data_dir)
        try:
            assert pages == expected_pages, f"pages from {pages}, not {expected_pages}"
            print("PASS listening on port", port, "with pages from", pages)
            asyncio.run(chat(port))
            status, body = http_get(port, "/healthz")
            assert status == 200 and json.loads(body)["store"] == "ok", (status, body)
            print("PASS /healthz", status, body.strip())
            status, body = http_get(port, "/")
            assert status == 200 and "<html" in body.lower(), status
            print("PASS / serves the installed page")
            status, body = http_get(port, "/static/lib/parley-client.js")
            assert status == 200 and "export class ParleyClient" in body, status
            status, body = http_get(port, "/static/js/chat.js")
            assert status == 200 and "'../lib/parley-client.js'" in body, status
            print("PASS the chat page and the client library it imports are served")
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=WAIT)
            assert code == 0, f"exit status {code} after SIGTERM"
            print("PASS stopped by SIGTERM with status 0")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    try:
        main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "/usr/share/parley/web")
    except AssertionError as e:
        sys.exit(f"FAIL: {e}")
