#!/usr/bin/env python3
"""Reference pseudonymizer in the Python standard library, doing the job
`doppel pseudonymize` does on the generic event shape: HMAC-SHA256 (under a
per-domain key) of the user id and of every property whose name says e-mail,
phone or name, and e-mails inside free text replaced; everything else
re-serialized. Used only as a baseline by bench/bench_pseudonymize.sh."""
import hashlib
import hmac
import json
import re
import sys

KEY = bytes(range(32))
SUB = {d: hmac.new(KEY, b"pseudonym:" + d.encode(), hashlib.sha256).digest()
       for d in ("id", "email", "name", "phone")}
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
CACHE = {}


def pseudo(domain, value):
    k = (domain, value)
    r = CACHE.get(k)
    if r is None:
        data = value.encode()
        digest = hmac.new(SUB[domain], len(data).to_bytes(4, "big") + data,
                          hashlib.sha256).hexdigest()[:32]
        r = digest + "@email.invalid" if domain == "email" else digest
        if len(CACHE) > 65536:
            CACHE.clear()
        CACHE[k] = r
    return r


def treat(obj):
    for k, v in list(obj.items()):
        if isinstance(v, dict):
            treat(v)
        elif isinstance(v, str):
            lk = k.lower()
            if "email" in lk:
                obj[k] = pseudo("email", v.lower())
            elif "name" in lk:
                obj[k] = pseudo("name", v)
            elif "phone" in lk:
                obj[k] = pseudo("phone", v)
            elif "@" in v:
                obj[k] = EMAIL.sub(lambda m: pseudo("email", m.group(0).lower()), v)


def main():
    out = sys.stdout
    for line in sys.stdin:
        rec = json.loads(line)
        uid = rec.get("user_id")
        if isinstance(uid, str):
            rec["user_id"] = pseudo("email" if "@" in uid else "id", uid)
        props = rec.get("properties")
        if isinstance(props, dict):
            treat(props)
        out.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    main()
