#!/usr/bin/env python3
"""A deliberately faulty chat relay for testing parley-bench (never for measuring).

Speaks just enough of ../../shared/protocol.md (welcome, msg, ack, ping/pong, close) with
the standard library only, and corrupts the relayed message stream on request:
  --drop N      drop every Nth relayed message
  --dup N       deliver every Nth relayed message twice
  --reorder N   hold every Nth relayed message back and deliver it after the next one
  --refuse N    answer every Nth message with error "unavailable" (its cid echoed) and relay
                nothing, as a server whose store cannot write does (protocol-v2.md)
With none of them it is an honest relay. With --store-metrics it answers GET /metrics with
made-up store counters in Prometheus text: every relayed message committed, four per commit,
one fsync per commit. Prints "listening on http://127.0.0.1:PORT".
"""
import argparse
import asyncio
import base64
import hashlib
import itertools
import json
import struct
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC11B85"


def frame(opcode, payload):
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


async def read_frame(reader):
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", await reader.readexactly(2))
    elif n == 127:
        (n,) = struct.unpack("!Q", await reader.readexactly(8))
    key = await reader.readexactly(4) if b1 & 0x80 else b"\0\0\0\0"
    data = bytearray(await reader.readexactly(n))
    for i in range(n):
        data[i] ^= key[i & 3]
    return b0 & 0x0F, bytes(data)


class Relay:
    def __init__(self, args):
        self.args = args
        self.conns = {}  # id -> writer
        self.held = {}  # recipient id -> frame held back (reorder)
        self.count = 0
        self.received = 0  # msg frames received (for --refuse)
        self.committed = 0  # messages relayed (for the made-up store counters)
        self.mids = itertools.count(1)

    def metrics(self):
        commits = self.committed // 4
        return ("# TYPE parley_store_commits_total counter\nparley_store_commits_total %d\n"
                "# TYPE parley_store_committed_messages_total counter\n"
                "parley_store_committed_messages_total %d\n"
                "# TYPE parley_store_syncs_total counter\nparley_store_syncs_total{file=\"wal\"} %d\n"
                % (commits, commits * 4, commits)).encode()

    def deliver(self, to, data):
        w = self.conns.get(to)
        if w is None:
            return False
        self.count += 1
        a, n = self.args, self.count
        if a.drop and n % a.drop == 0:
            return True
        if a.reorder and n % a.reorder == 0 and to not in self.held:
            self.held[to] = data
            return True
        w.write(data)
        if a.dup and n % a.dup == 0:
            w.write(data)
        if to in self.held:
            w.write(self.held.pop(to))
        return True

    async def session(self, reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            line = head.split(b"\r\n", 1)[0].decode()
            path = line.split(" ")[1]
            if path == "/metrics" and self.args.store_metrics:
                body = self.metrics()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\n"
                             b"content-length: %d\r\n\r\n" % len(body) + body)
                return
            key = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n") if l.lower().startswith(b"sec-websocket-key:")]
            if not path.startswith("/ws/") or len(path) == 4 or not key:
                writer.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                return
            cid = path[4:]
            accept = base64.b64encode(hashlib.sha1(key[0] + GUID).digest())
            writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            self.conns[cid] = writer
            welcome = {"type": "welcome", "id": cid, "server_time": int(time.time() * 1000)}
            writer.write(frame(1, json.dumps(welcome).encode()))
            while True:  # ends with the connection
                op, data = await read_frame(reader)
                if op == 8:
                    writer.write(frame(8, data[:2]))
                    return
                if op == 9:
                    writer.write(frame(10, data))
                if op != 1:
                    continue
                m = json.loads(data)
                if m.get("type") == "ping":
                    writer.write(frame(1, json.dumps({"type": "pong", "server_time": 0}).encode()))
                if m.get("type") != "msg":
                    continue
                self.received += 1
                if self.args.refuse and self.received % self.args.refuse == 0:
                    if "cid" in m:
                        err = {"type": "error", "code": "unavailable", "cid": m["cid"],
                               "message": "the store is unavailable; retry with the same cid"}
                        writer.write(frame(1, json.dumps(err).encode()))
                    continue
                self.committed += 1
                mid = str(next(self.mids))
                out = {"type": "msg", "from": cid, "to": m["to"], "text": m["text"], "mid": mid,
                       "ts": int(time.time() * 1000)}
                ok = self.deliver(m["to"], frame(1, json.dumps(out, separators=(",", ":")).encode()))
                if "cid" in m:
                    reply = ({"type": "ack", "cid": m["cid"], "mid": mid, "status": "delivered"} if ok else
                             {"type": "error", "code": "offline", "cid": m["cid"], "to": m["to"],
                              "message": "Client #%s is not online" % m["to"]})
                    writer.write(frame(1, json.dumps(reply).encode()))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if self.conns.get(locals().get("cid")) is writer:
                del self.conns[cid]
            writer.close()


async def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--drop", type=int, default=0)
    p.add_argument("--dup", type=int, default=0)
    p.add_argument("--reorder", type=int, default=0)
    p.add_argument("--refuse", type=int, default=0)
    p.add_argument("--store-metrics", action="store_true")
    args = p.parse_args()
    relay = Relay(args)
    server = await asyncio.start_server(relay.session, "127.0.0.1", args.port)
    print("listening on http://127.0.0.1:%d" % server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
