#!/usr/bin/env python3
"""The token snippets of docs/integration.md make tokens a real Parley accepts.

Takes the Python and Node blocks marked `<!-- snippet: ... -->` from the doc as they are written,
starts the parley binary (argv[1], or PARLEY_BINARY) on 127.0.0.1 port 0 with --auth-secret,
and for each snippet: its token for an id is upgraded (101, then `welcome`) on /ws/{id}?token=
and in the subprotocol token.<JWT>; the same token on another id gets 401, and so does a token
made with another secret. Node is PARLEY_NODE or `node` from PATH. Every wait is bounded.
"""
import base64
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "integration.md")
SECRET = "snippet-secret-" + base64.b64encode(os.urandom(12)).decode()


def snippet(doc, name, language):
    match = re.search(r"<!-- snippet: " + re.escape(name) + r"\b[^>]*-->\n```" + language + r"\n(.*?)```",
                      doc, re.S)
    if not match:
        sys.exit(f"FAIL: no `{language}` block marked snippet: {name} in {DOC}")
    return match.group(1)


def python_token(code, secret, client_id):
    namespace = {}
    exec(compile(code, "docs/integration.md:python-token", "exec"), namespace)
    return namespace["parley_token"](secret, client_id)


def node_token(code, secret, client_id):
    node = os.environ.get("PARLEY_NODE", "node")
    with tempfile.NamedTemporaryFile("w", suffix=".cjs", delete=False) as script:
        script.write(code + "\nprocess.stdout.write(parleyToken(process.argv[2], process.argv[3]));\n")
    try:
        return subprocess.run([node, script.name, secret, client_id], check=True, capture_output=True,
                              text=True, timeout=30).stdout
    finally:
        os.unlink(script.name)


def start_parley(binary):
    process = subprocess.Popen([binary, "--host", "127.0.0.1", "--port", "0", "--threads", "1",
                                "--store", "none", "--auth-secret", SECRET], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if found:
            return process, int(found.group(1))
    process.kill()
    sys.exit("FAIL: parley did not start")


def upgrade(port, path, extra_headers=""):
    """Sends a WebSocket upgrade; returns (status, the first frame's text when upgraded)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      f"Sec-WebSocket-Version: 13\r\n{extra_headers}\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else 0
        if status != 101:
            return status, None
        while len(rest) < 2 or len(rest) < 2 + (rest[1] & 0x7F) + (2 if rest[1] & 0x7F == 126 else 0):
            chunk = sock.recv(4096)
            if not chunk:
                break
            rest += chunk
        length, start = rest[1] & 0x7F, 2
        if length == 126:
            length, start = int.from_bytes(rest[2:4], "big"), 4
        while len(rest) < start + length:
            chunk = sock.recv(4096)
            if not chunk:
                break
            rest += chunk
        return status, rest[start:start + length].decode("utf-8", "replace")


def main():
    binary = os.environ.get("PARLEY_BINARY") or (sys.argv[1] if len(sys.argv) > 1 else None)
    if not binary:
        sys.exit("usage: integration_snippets_test.py PARLEY_BINARY")
    with open(DOC, encoding="utf-8") as f:
        doc = f.read()
    minters = {
        "python": lambda secret, cid: python_token(snippet(doc, "python-token", "python"), secret, cid),
        "node": lambda secret, cid: node_token(snippet(doc, "node-token", "js"), secret, cid),
    }
    process, port = start_parley(binary)
    failures = []

    def expect(what, got, wanted):
        print(f"{'ok  ' if got == wanted else 'FAIL'} {what}: {got}")
        if got != wanted:
            failures.append(what)

    try:
        for language, mint in minters.items():
            client_id = f"user-{language}.42"
            token = mint(SECRET, client_id).strip()
            status, first = upgrade(port, f"/ws/{client_id}?token={token}")
            expect(f"{language}: ?token= upgraded", status, 101)
            expect(f"{language}: welcome first", bool(first and '"welcome"' in first), True)
            status, _ = upgrade(port, f"/ws/{client_id}-b",
                                f"Sec-WebSocket-Protocol: parley, token.{mint(SECRET, client_id + '-b').strip()}\r\n")
            expect(f"{language}: subprotocol token upgraded", status, 101)
            expect(f"{language}: its token on another id", upgrade(port, f"/ws/someone-else?token={token}")[0], 401)
            other = mint("another-secret", client_id).strip()
            expect(f"{language}: another secret's token", upgrade(port, f"/ws/{client_id}?token={other}")[0], 401)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
    if failures:
        sys.exit(f"{len(failures)} failed: {', '.join(failures)}")
    print("docs/integration.md: the Python and Node token snippets make tokens Parley accepts")


if __name__ == "__main__":
    main()
