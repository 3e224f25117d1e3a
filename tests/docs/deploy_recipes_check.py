#!/usr/bin/env python3
"""Runs the reverse-proxy recipes of docs/deploy.md, as written, in front of a real Parley.

By hand, not in ctest: nginx, Caddy and HAProxy are not build dependencies (and installing
them from packages starts services on every address). Usage:

    tests/docs/deploy_recipes_check.py PARLEY_BINARY [--nginx BIN] [--caddy BIN] [--haproxy BIN]

A proxy not given is looked up in PATH; one not found is skipped (and said so). Each recipe is
taken from its `<!-- recipe: NAME -->` block, with only these changed: its listening ports
(free ports on 127.0.0.1), its certificate paths (a self-signed one for chat.example.com made
with openssl) and Parley's port. Through each proxy, over TLS with the public Host and Origin:
the page is served, a WebSocket is upgraded and welcomed and answers a ping, and a foreign origin
gets 403. Every wait is bounded; every process started here is stopped here.
"""
import argparse
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

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "deploy.md")
HOST = "chat.example.com"


def recipe(doc, name):
    match = re.search(r"<!-- recipe: " + name + r" -->\n```\w*\n(.*?)```", doc, re.S)
    if not match:
        sys.exit(f"no recipe {name} in {DOC}")
    return match.group(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, process, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def tls_socket(port):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the self-signed test certificate
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    return context.wrap_socket(raw, server_hostname=HOST)


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else 0
    return status, rest


def read_frame(sock, buffered):
    data = buffered
    def need(n):
        nonlocal data
        while len(data) < n:
            chunk = sock.recv(4096)
            if not chunk:
                raise EOFError("closed")
            data += chunk
    need(2)
    length, start = data[1] & 0x7F, 2
    if length == 126:
        need(4)
        length, start = int.from_bytes(data[2:4], "big"), 4
    need(start + length)
    return data[0] & 0x0F, data[start:start + length].decode("utf-8", "replace"), data[start + length:]


def masked_text(text):
    payload = text.encode()
    mask = os.urandom(4)
    return (bytes([0x81, 0x80 | len(payload)]) + mask +
            bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def check_through(port, name):
    failures = []
    def expect(what, ok, seen):
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: {what} ({seen})")
        if not ok:
            failures.append(f"{name}: {what}")

    with tls_socket(port) as s:
        s.sendall(f"GET / HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
        status, _ = read_head(s)
        expect("the page", status == 200, status)
    upgrade = ("GET /ws/{id} HTTP/1.1\r\nHost: " + HOST + "\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n")
    with tls_socket(port) as s:
        s.sendall(upgrade.format(id="via-" + name, origin="https://" + HOST).encode())
        status, rest = read_head(s)
        expect("upgrade with the public Host and Origin", status == 101, status)
        if status == 101:
            _, welcome, rest = read_frame(s, rest)
            expect("welcome", '"welcome"' in welcome, welcome[:60])
            s.sendall(masked_text(json.dumps({"type": "ping", "cid": "p1"})))
            _, pong, rest = read_frame(s, rest)
            expect("pong through the tunnel", '"pong"' in pong, pong[:60])
    with tls_socket(port) as s:
        s.sendall(upgrade.format(id="evil-" + name, origin="https://evil.example").encode())
        status, _ = read_head(s)
        expect("a foreign origin refused", status == 403, status)
    return failures


def run_nginx(binary, text, tmp, parley_port, cert, key):
    port, http_port = free_port(), free_port()
    site = (text.replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
            .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
            .replace(f"/etc/letsencrypt/live/{HOST}/fullchain.pem", cert)
            .replace(f"/etc/letsencrypt/live/{HOST}/privkey.pem", key)
            .replace("127.0.0.1:8000", f"127.0.0.1:{parley_port}"))
    with open(os.path.join(tmp, "parley.conf"), "w") as f:
        f.write(site)
    user = "user root;\n" if os.geteuid() == 0 else ""
    with open(os.path.join(tmp, "nginx.conf"), "w") as f:
        f.write(f"{user}daemon off;\npid {tmp}/nginx.pid;\nerror_log {tmp}/nginx-error.log;\n"
                f"events {{}}\nhttp {{\n  access_log {tmp}/nginx-access.log;\n"
                + "".join(f"  {k}_temp_path {tmp}/{k};\n"
                          for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
                + f"  include {tmp}/parley.conf;\n}}\n")
    return subprocess.Popen([binary, "-p", tmp, "-c", f"{tmp}/nginx.conf"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), port


def run_caddy(binary, text, tmp, parley_port, cert, key):
    port, http_port = free_port(), free_port()
    site = (text.replace(f"{HOST} {{", f"{HOST}:{port} {{\n\tbind 127.0.0.1\n\ttls {cert} {key}", 1)
            .replace("127.0.0.1:8000", f"127.0.0.1:{parley_port}"))
    config = (f"{{\n\tadmin off\n\tauto_https disable_redirects\n\thttp_port {http_port}\n"
              f"\thttps_port {port}\n\tstorage file_system {tmp}/caddy\n}}\n\n" + site)
    path = os.path.join(tmp, "Caddyfile")
    with open(path, "w") as f:
        f.write(config)
    env = dict(os.environ, HOME=tmp, XDG_DATA_HOME=tmp, XDG_CONFIG_HOME=tmp)
    return subprocess.Popen([binary, "run", "--config", path, "--adapter", "caddyfile"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), port


def run_haproxy(binary, text, tmp, parley_port, cert, key):
    port, http_port = free_port(), free_port()
    pem = os.path.join(tmp, "haproxy.pem")
    with open(pem, "w") as out:
        out.write(open(cert).read() + open(key).read())
    config = (text.replace("    log /dev/log local0\n", "")
              .replace("bind :443", f"bind 127.0.0.1:{port}")
              .replace("bind :80", f"bind 127.0.0.1:{http_port}")
              .replace(f"/etc/haproxy/certs/{HOST}.pem", pem)
              .replace("127.0.0.1:8000", f"127.0.0.1:{parley_port}"))
    path = os.path.join(tmp, "haproxy.cfg")
    with open(path, "w") as f:
        f.write(config)
    return subprocess.Popen([binary, "-f", path, "-db"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL), port


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("parley")
    for name in ("nginx", "caddy", "haproxy"):
        parser.add_argument("--" + name)
    args = parser.parse_args()
    doc = open(DOC, encoding="utf-8").read()
    work = tempfile.mkdtemp(prefix="parley-deploy-")
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", key, "-out", cert, "-subj", f"/CN={HOST}",
                    "-addext", f"subjectAltName=DNS:{HOST}"], check=True, capture_output=True, timeout=60)
    parley = subprocess.Popen([args.parley, "--host", "127.0.0.1", "--port", "0", "--threads", "1"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    failures, checked = [], 0
    try:
        line = parley.stderr.readline()
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not found:
            sys.exit(f"parley did not start: {line}")
        parley_port = int(found.group(1))
        for name, run in (("nginx", run_nginx), ("caddy", run_caddy), ("haproxy", run_haproxy)):
            binary = getattr(args, name) or shutil.which(name)
            if not binary:
                print(f"  skip {name}: not found (--{name} BIN)")
                continue
            tmp = tempfile.mkdtemp(prefix=name + "-", dir=work)
            process, port = run(binary, recipe(doc, name), tmp, parley_port, cert, key)
            try:
                if not wait_port(port, process):
                    failures.append(f"{name}: did not start")
                    print(f"  FAIL {name}: did not start (its files are in {tmp})")
                    continue
                checked += 1
                failures += check_through(port, name)
            finally:
                stop(process)
    finally:
        stop(parley)
        if not failures:
            shutil.rmtree(work, ignore_errors=True)
    if failures:
        sys.exit(f"{len(failures)} failed: {'; '.join(failures)} (files in {work})")
    print(f"{checked} recipes checked, all passed")


if __name__ == "__main__":
    main()
