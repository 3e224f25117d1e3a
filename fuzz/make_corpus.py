#!/usr/bin/env python3
"""Writes the seed corpus in fuzz/corpus/<target>/ (run it again after changing it; the files
are committed). Each seed is a readable starting point; libFuzzer mutates from there."""
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
MASK = b"\x37\xfa\x21\x3d"


def frame(opcode, payload=b"", fin=True, rsv=0, masked=True, form=None):
    if isinstance(payload, str):
        payload = payload.encode()
    out = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    n = len(payload)
    bit = 0x80 if masked else 0
    if form == 16 or (form is None and 126 <= n <= 0xFFFF):
        out += bytes([bit | 126]) + struct.pack(">H", n)
    elif form == 64 or (form is None and n > 0xFFFF):
        out += bytes([bit | 127]) + struct.pack(">Q", n)
    else:
        out += bytes([bit | n])
    if masked:
        out += MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))
    else:
        out += payload
    return out


def close(code=None, reason=b""):
    return frame(8, b"" if code is None else struct.pack(">H", code) + reason)


def binary_message(header, payload=b""):
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack(">H", len(h)) + h + payload


def req(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def write(target, seeds):
    folder = os.path.join(HERE, "corpus", target)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for name, data in seeds.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


# ws_reader: [limits byte][chunking byte][stream]
LIMITS = b"\xff\x3f"  # text 63, message 63 + 900 + 7, chunking on
ws = {
    "text": frame(1, "hello"),
    "binary": frame(2, b"\x00\x01\x02\xff"),
    "ping": frame(9, "p"),
    "pong": frame(10, ""),
    "close_1000_reason": close(1000, b"bye"),
    "close_empty": close(),
    "close_1_byte": frame(8, b"\x03"),
    "close_bad_code": close(1005),
    "close_bad_utf8": close(1000, b"\xc0\xaf"),
    "fragments_with_ping": frame(1, "ab", fin=False) + frame(9, "x") + frame(0, "cd", fin=False) + frame(0, "ef"),
    "fragments_utf8_split": frame(1, b"\xf0\x9f", fin=False) + frame(0, b"\x98\x80"),
    "len16": frame(1, "a" * 200),
    "len16_nonminimal": frame(1, "abc", form=16),
    "len64": frame(2, b"b" * 300, form=64),
    "len64_msb": bytes([0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0]) + MASK,
    "text_too_large": frame(1, "t" * 100),
    "invalid_utf8": frame(1, b"\xed\xa0\x80"),
    "reserved_opcode": frame(3, "x"),
    "rsv1": frame(1, "x", rsv=4),
    "unmasked": frame(1, "x", masked=False),
    "orphan_continuation": frame(0, "x"),
    "nested_text": frame(1, "a", fin=False) + frame(1, "b"),
    "fragmented_ping": frame(9, "a", fin=False),
    "big_ping": frame(9, "a" * 126),
    "many": frame(1, "x") * 10 + close(1001),
}
write("ws_reader", {k: LIMITS + v for k, v in ws.items()})

# request_parser: [mode byte: 0 text, 1 binary][frame]
text_requests = {
    "msg": req({"type": "msg", "to": "6001", "text": "hello", "cid": "c1"}),
    "msg_unicode": req({"type": "msg", "to": "6001", "text": "h\u00e9 \U0001F600"}),
    "msg_escapes": '{"type":"msg","to":"6001","text":"\\ud83d\\ude00 \\u0000 \\n"}',
    "msg_lone_surrogate": '{"type":"msg","to":"6001","text":"\\ud800"}',
    "who": req({"type": "who", "cid": "w"}),
    "watch": req({"type": "watch", "ids": ["6001", "6002", "6001"]}),
    "watch_too_many": req({"type": "watch", "ids": [str(i) for i in range(20)]}),
    "typing": req({"type": "typing", "to": "6001"}),
    "ping": req({"type": "ping", "cid": None}),
    "unknown_type": req({"type": "nope"}),
    "missing_type": req({"cid": "x"}),
    "cid_too_long": req({"type": "ping", "cid": "x" * 65}),
    "not_object": "[1,2,3]",
    "not_json": "{\"type\":",
    "nan": '{"type":"ping","n":NaN}',
    "big_number": '{"type":"ping","n":1e999}',
    "deep": "[" * 40 + "]" * 40,
    "deep_object": '{"a":' * 33 + "1" + "}" * 33,
    "dup_keys": '{"type":"who","type":"ping"}',
    # Over the parser's 4 KiB initial buffer, so its upstream allocations are exercised.
    "msg_large": req({"type": "msg", "to": "6001", "text": "x" * 5000, "cid": "big"}),
    # protocol-v2 (parsed with store_requests; unknown types without): read, history,
    # conversations, and the edges of their fields (protocol-v2.md, Details).
    "v2_read": req({"type": "read", "with": "1001", "seq": 40, "cid": "r1"}),
    "v2_read_seq_zero": req({"type": "read", "with": "1001", "seq": 0}),
    "v2_read_seq_negative": req({"type": "read", "with": "1001", "seq": -1}),
    "v2_read_seq_fraction": '{"type":"read","with":"1001","seq":1.5}',
    "v2_read_seq_whole_float": '{"type":"read","with":"1001","seq":5.0}',
    "v2_read_seq_huge": '{"type":"read","with":"1001","seq":1e300}',
    "v2_read_seq_max_safe": '{"type":"read","with":"1001","seq":9007199254740991}',
    "v2_read_seq_past_safe": '{"type":"read","with":"1001","seq":9007199254740992}',
    "v2_read_seq_string": req({"type": "read", "with": "1001", "seq": "40"}),
    "v2_read_seq_null": req({"type": "read", "with": "1001", "seq": None}),
    "v2_read_no_with": req({"type": "read", "seq": 1}),
    "v2_read_bad_with": req({"type": "read", "with": "no/such id", "seq": 1}),
    "v2_history": req({"type": "history", "with": "1001", "before": 58, "limit": 50, "cid": "h1"}),
    "v2_history_after": req({"type": "history", "with": "1001", "after": 41, "limit": 200}),
    "v2_history_after_zero": req({"type": "history", "with": "1001", "after": 0}),
    "v2_history_newest": req({"type": "history", "with": "1001"}),
    "v2_history_before_and_after": req({"type": "history", "with": "1001", "before": 9, "after": 2}),
    "v2_history_null_before": req({"type": "history", "with": "1001", "before": None, "after": 3}),
    "v2_history_limit_0": req({"type": "history", "with": "1001", "limit": 0}),
    "v2_history_limit_201": req({"type": "history", "with": "1001", "limit": 201}),
    "v2_history_limit_whole_float": '{"type":"history","with":"1001","limit":5.0}',
    "v2_history_limit_fraction": '{"type":"history","with":"1001","limit":1.5}',
    "v2_history_before_negative": req({"type": "history", "with": "1001", "before": -1}),
    "v2_history_after_huge": '{"type":"history","with":"1001","after":1e300}',
    "v2_history_with_too_long": req({"type": "history", "with": "w" * 65}),
    "v2_history_with_number": req({"type": "history", "with": 1001}),
    "v2_conversations": '{"type":"conversations","limit":50,"before_ts":1767225600000.5,"cid":"k1"}',
    "v2_conversations_empty": req({"type": "conversations"}),
    "v2_conversations_limit_0": req({"type": "conversations", "limit": 0}),
    "v2_conversations_limit_201": req({"type": "conversations", "limit": 201}),
    "v2_conversations_before_ts_string": req({"type": "conversations", "before_ts": "1767225600000"}),
    "v2_conversations_before_ts_null": req({"type": "conversations", "before_ts": None}),
    "v2_conversations_before_ts_huge": '{"type":"conversations","before_ts":1e300}',
    # Boost.JSON 1.81 reads 0e320 as NaN (found by this target): the parser takes it as 0.
    "v2_read_seq_zero_huge_exponent": '{"type":"read","with":"1001","seq":0e320}',
    "v2_conversations_before_ts_zero_huge_exponent": '{"type":"conversations","before_ts":-0.0e400}',
    "v2_dup_keys": '{"type":"history","with":"a","limit":0,"limit":7,"before":1,"before":null,"after":2}',
}
binary_requests = {
    "file": binary_message({"to": "6001", "name": "cat.png", "mime": "image/png", "cid": "c2"}, b"\x89PNG"),
    "file_minimal": binary_message({"to": "6001"}),
    "file_name_too_long": binary_message({"to": "6001", "name": "n" * 256}),
    "file_bad_utf8_header": b"\x00\x04\"\xc0\xaf\"",
    "file_bom": b"\x00\x0b\xef\xbb\xbf{\"to\":\"a\"}",
    "header_past_end": b"\x00\xff{}",
    "short": b"\x00",
}
parser_seeds = {"text_" + k: b"\x00" + v.encode() for k, v in text_requests.items()}
parser_seeds.update({"bin_" + k: b"\x01" + v for k, v in binary_requests.items()})
write("request_parser", parser_seeds)

# static_files: URL paths below /static/
paths = [
    "index.html", "/index.html", "css/site.css", "css/../index.html", "css//site.css",
    ".hidden", "link-in", "link-out", "dir-out/secret.txt", "dir-out/www/index.html",
    "../secret.txt", "..%2fsecret.txt", "%2e%2e/secret.txt", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "../www-private/key", "css/%2e%2e/%2e%2e/secret.txt", "index.html%00.png", "..\\secret.txt",
    "%", "%zz", "%c0%ae%c0%ae/secret.txt", "/../../../../etc/passwd", "css/", "",
]
write("static_files", {f"path{i:02d}": p.encode() for i, p in enumerate(paths)})

# session: [chunking byte][client stream]
session = {
    "chat": frame(1, req({"type": "msg", "to": "6001", "text": "hi", "cid": "c1"}))
    + frame(1, req({"type": "who"})) + frame(1, req({"type": "watch", "ids": ["6001", "x"]}))
    + frame(1, req({"type": "typing", "to": "6001"})) + frame(1, req({"type": "ping", "cid": "p"}))
    + close(1000),
    "file": frame(2, binary_message({"to": "6001", "name": "a.txt", "mime": "text/plain", "cid": "f"}, b"data")) + close(1001),
    "to_self": frame(1, req({"type": "msg", "to": "1001", "text": "me"})) + close(),
    "offline": frame(1, req({"type": "msg", "to": "9999", "text": "x", "cid": "o"})),
    "fragmented": frame(1, '{"type":"msg",', fin=False) + frame(9, "ping") + frame(0, '"to":"6001","text":"y"}'),
    "errors": frame(1, "not json") + frame(1, req({"type": "zzz"})) + frame(1, req({"type": "msg"})),
    "too_large": frame(1, req({"type": "msg", "to": "6001", "text": "x" * 6500})),
    "protocol_error": frame(1, req({"type": "who"})) + frame(5, ""),
    "bad_utf8": frame(1, b'{"type":"who","x":"\xff"}'),
    "large": frame(1, req({"type": "msg", "to": "6001", "text": "y" * 4500})),
}
write("session", {k: b"\x05" + v for k, v in session.items()})

# proxy_header: what a trusted proxy sends (PROXY v2, HAProxy's proxy-protocol.txt 2.2)
SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def proxy(command, family, rest):
    return SIG + bytes([command, family]) + len(rest).to_bytes(2, "big") + rest


V4 = bytes([203, 0, 113, 7, 127, 0, 0, 1]) + (51000).to_bytes(2, "big") + (8000).to_bytes(2, "big")
V6 = bytes(15) + b"\x01" + bytes(15) + b"\x01" + (1234).to_bytes(2, "big") + (8000).to_bytes(2, "big")
GET = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
write("proxy_header", {
    "v4": proxy(0x21, 0x11, V4) + GET,
    "v6": proxy(0x21, 0x21, V6),
    "local": proxy(0x20, 0x00, b""),
    "tlvs": proxy(0x21, 0x11, V4 + b"\x01\x00\x02h2\x05\x00\x03abc"),
    "unix": proxy(0x21, 0x31, bytes(216)),
    "udp": proxy(0x21, 0x12, V4),
    "short": proxy(0x21, 0x21, V4),
    "v1": b"PROXY TCP4 203.0.113.7 127.0.0.1 51000 8000\r\n",
    "long": SIG + b"\x21\x11\xff\xff",
})
