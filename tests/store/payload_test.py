#!/usr/bin/python3
"""Awkward payloads through the store and back (protocol-v2 "history", "conversations"): texts
with quotes, backslashes, braces, commas, the word NULL, and multi-byte UTF-8; a file holding
every byte value (zero included) with a quoted name and mime; a message with no cid. Each must
come back from history byte for byte, and the conversation list must show the last one.
Run with --store sqlite and --store postgres (the PostgreSQL store sends them as array literals).

Usage: payload_test.py --parley PATH [--store sqlite|postgres]
"""
import argparse
import asyncio
import json
import os
import struct
import tempfile

from store_client import REPLY_SECONDS, Server, add_server_args, connect, report, run_test

TEXTS = ['say "hi"', "back\\slash \\\" both", "{a,b}", "NULL", "", " ", "é ü 中文 🙂", "a\nb\tc",
         "\\x41", "'single'", "{\"NULL\",NULL}"]
FILE = bytes(range(256)) * 3
NAME, MIME = 'my "file",{1}.bin', "application/x-\\odd"


def file_frame(to, cid, name, mime, payload):
    header = json.dumps({"to": to, "cid": cid, "name": name, "mime": mime}).encode()
    return struct.pack(">H", len(header)) + header + payload


def parse_file(frame):
    (n,) = struct.unpack(">H", frame[:2])
    return json.loads(frame[2:2 + n]), frame[2 + n:]


async def acked(ws, cid):
    while True:
        raw = await asyncio.wait_for(ws.recv(), REPLY_SECONDS)
        f = json.loads(raw) if isinstance(raw, str) else {}
        if f.get("cid") == cid:
            return f


async def main(args):
    problems = []
    with tempfile.TemporaryDirectory(prefix="parley-payload-") as tmp:
        server = Server(args, os.path.join(tmp, "data"), os.path.join(tmp, "server.log"))
        try:
            port = server.start()
            ws = await connect(port, "alice")
            for i, text in enumerate(TEXTS):
                await ws.send(json.dumps({"type": "msg", "to": "bob", "text": text, "cid": f"t{i}"}))
                if (await acked(ws, f"t{i}")).get("type") != "ack":
                    problems.append(f"text {text!r} not acked")
            await ws.send(file_frame("bob", "f", NAME, MIME, FILE))
            if (await acked(ws, "f")).get("type") != "ack":
                problems.append("the file was not acked")
            await ws.send(json.dumps({"type": "msg", "to": "bob", "text": "no cid"}))
            await ws.send(json.dumps({"type": "history", "with": "bob", "limit": 100, "cid": "h"}))
            texts, files = [], []
            while True:
                raw = await asyncio.wait_for(ws.recv(), REPLY_SECONDS)
                if isinstance(raw, bytes):
                    files.append(parse_file(raw))
                    continue
                f = json.loads(raw)
                if f.get("type") == "msg":
                    texts.append(f["text"])
                elif f.get("cid") == "h":
                    break
            if texts[:len(TEXTS)] != TEXTS or texts[len(TEXTS):] != ["no cid"]:
                problems.append(f"history texts: {texts}")
            if len(files) != 1 or files[0][1] != FILE or (files[0][0].get("name"), files[0][0].get("mime")) != (NAME, MIME):
                problems.append(f"history file: {[(h, len(p)) for h, p in files]}")
            await ws.send(json.dumps({"type": "conversations", "limit": 10, "cid": "c"}))
            listed = await acked(ws, "c")
            items = listed.get("items") or []
            if not items or items[0].get("last", {}).get("text") != "no cid":
                problems.append(f"conversations: {listed}")
            await ws.close()
        except Exception:
            print(f"server log: {server.log_tail()}")
            raise
        finally:
            server.stop()
    return report("payload", {"texts": len(TEXTS), "file_bytes": len(FILE)}, problems, store=args.store)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_server_args(parser)
    run_test("payload", main, parser.parse_args())
