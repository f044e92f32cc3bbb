#!/usr/bin/env python3
"""Reference user-consistent sampler in the Python standard library: keeps
the records of users whose keyed hash (HMAC-SHA256 under a subkey, first 8
bytes as an integer) is below RATE * 2^64, writing kept lines unchanged —
the job of `doppel sample --users RATE --raw`. Baseline for
bench/bench_sample.sh only. Usage: py_sample.py RATE < in.jsonl"""
import hashlib
import hmac
import json
import sys

KEY = bytes(range(32))
SUB = hmac.new(KEY, b"pseudonym:sample", hashlib.sha256).digest()


def main():
    limit = int(float(sys.argv[1]) * 2**64)
    keep = {}
    out = sys.stdout
    for line in sys.stdin:
        rec = json.loads(line)
        uid = rec.get("user_id") or rec.get("device_id")
        if not isinstance(uid, str) or not uid:
            continue
        k = keep.get(uid)
        if k is None:
            data = uid.encode()
            d = hmac.new(SUB, len(data).to_bytes(4, "big") + data, hashlib.sha256).digest()
            k = keep[uid] = int.from_bytes(d[:8], "big") < limit
        if k:
            out.write(line)


if __name__ == "__main__":
    main()
