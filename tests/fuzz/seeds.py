#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Seed corpus for tests/fuzz/fuzz_records.c from real recordings: each
golden JSON Lines recording (tests/unit/golden/*.jsonl, `tcptimeline --json`
of a demo scenario) re-encoded as the fuzzer's 32-byte steps.

    tests/fuzz/seeds.py OUTDIR
"""
import glob
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(os.path.dirname(HERE), "unit", "golden")

STATES = ["", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
          "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
          "NEW_SYN_RECV"]
TYPES = {"state": 1, "data": 2, "retransmit": 3, "keepalive_probe": 4,
         "keepalive_ack": 5, "rst": 6, "error": 7, "close": 8}
OP_RECORD, OP_EXISTING, OP_LOST = 0, 2, 3


def state(name):
    return STATES.index(name) if name in STATES else 0


def step(ev, socks, last_ts):
    conn = ev.get("conn")
    if conn not in socks:
        socks[conn] = len(socks) % 3
    client = 1 if (ev.get("lport") or 0) >= 10000 else 0
    b1 = socks[conn] | (1 << 2) | (client << 4)
    if ev.get("family") == 6:
        b1 |= 0x20
    kind = ev["event"]
    op = {"existing": OP_EXISTING, "lost": OP_LOST}.get(kind, OP_RECORD)
    delta = max(-32768, min(32767, (ev["ts_ns"] - last_ts) // 1000)) if last_ts else 0
    flags = 0
    if ev.get("pid"):
        flags |= 1
    if ev.get("by_pid"):
        flags |= 2
    if ev.get("cause") in ("killed", "process_exit"):
        flags |= 4
    payload = bytearray(20)
    if kind == "data":
        struct.pack_into("<QIB", payload, 0, ev["bytes"], ev["segments"],
                         1 if ev["dir"] == "out" else 0)
    elif kind in ("keepalive_probe", "keepalive_ack", "rst"):
        payload[8 if kind == "keepalive_ack" else 4] = \
            1 if ev.get("dir") == "out" else 0
    elif kind == "error":
        struct.pack_into("<I", payload, 0, ev.get("errno") or 0)
    elif kind == "lost":
        payload[0] = min(255, ev.get("count") or 1)
    old = state(ev.get("old") or "")
    new = state(ev.get("new") or ev.get("state") or "")
    head = struct.pack("<BBBBBhBBBBB", op, b1, TYPES.get(kind, 0), old, new, delta,
                       flags, 0, 0, 0, 0)
    return head + bytes(payload)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(GOLDEN, "*.jsonl"))):
        socks, last, data = {}, 0, b""
        with open(path) as f:
            for line in f:
                ev = json.loads(line)
                data += step(ev, socks, last)
                last = ev["ts_ns"]
        name = os.path.basename(path)[:-len(".jsonl")]
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
