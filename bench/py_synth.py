#!/usr/bin/env python3
"""Reference synthetic-event generator in the Python standard library, for
bench/bench_synth.sh only: the schema of `doppel synth profiles/ecommerce.json`
(same fields, types, event names, value mixes, ISO times in whole seconds,
UUIDv4 ids), generated the way one would write it by hand — users with a
60% chance of a user_id, a device_id and a constant plan, platform and
country; sessions that start at a random time in a 28-day window and walk
the profile's next-event table until "$end"; log-normal gaps and prices.
It does not model retention, hour-of-week, engagement or constancy
calibration, so it does less work per event than doppel.

Usage: py_synth.py EVENTS [jsonl|csv] [SEED] > out     (exactly EVENTS lines,
plus the header for CSV)"""
import csv
import json
import math
import random
import sys
import time
import uuid

START = 1735689600  # 2025-01-01T00:00:00Z
DAYS = 28

NEXT = {  # the profile's next-event table
    "session_start": {"product_viewed": 0.55, "search": 0.25, "home_viewed": 0.15, "$end": 0.05},
    "home_viewed": {"product_viewed": 0.5, "search": 0.3, "$end": 0.2},
    "search": {"product_viewed": 0.7, "search": 0.15, "$end": 0.15},
    "product_viewed": {"product_viewed": 0.35, "add_to_cart": 0.18, "search": 0.15, "home_viewed": 0.05, "$end": 0.27},
    "add_to_cart": {"checkout_started": 0.45, "product_viewed": 0.35, "$end": 0.2},
    "checkout_started": {"order_completed": 0.6, "$end": 0.4},
    "order_completed": {"$end": 0.85, "product_viewed": 0.15},
}
NEXT = {k: (list(v), list(v.values())) for k, v in NEXT.items()}
PLATFORMS = (["web", "ios", "android"], [0.55, 0.3, 0.15])
COUNTRIES = (["US", "GB", "DE", "FR", "CA", "IN", "BR", "NL", "ES", "IT"],
             [0.42, 0.12, 0.1, 0.08, 0.07, 0.06, 0.05, 0.04, 0.03, 0.03])
CATEGORIES = (["shoes", "shirts", "bags", "accessories"], [0.3, 0.25, 0.2, 0.25])
QUANTITIES = ([1, 2, 3], [0.8, 0.15, 0.05])
CURRENCIES = (["USD", "EUR", "GBP"], [0.6, 0.25, 0.15])
PLANS = (["guest", "member", "vip"], [0.4, 0.5, 0.1])
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
COLUMNS = ["user_id", "device_id", "event", "time", "session_id", "insert_id", "properties.platform",
           "properties.country", "properties.query_length", "properties.product_id", "properties.category",
           "properties.price", "properties.quantity", "properties.revenue", "properties.currency",
           "properties.coupon_used", "user_properties.plan"]


def main():
    n = int(sys.argv[1])
    fmt = sys.argv[2] if len(sys.argv) > 2 else "jsonl"
    rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
    pick = lambda t: rnd.choices(t[0], t[1])[0]
    new_uuid = lambda: str(uuid.UUID(int=rnd.getrandbits(128), version=4))
    out = sys.stdout
    writer = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
    if writer:
        writer.writerow(COLUMNS)
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    made = 0
    session = 100000000
    lines = []
    while made < n:
        # a user: ids and the values that stay constant for them
        uid = new_uuid() if rnd.random() < 0.6 else None
        did = new_uuid()
        plan, platform, country = pick(PLANS), pick(PLATFORMS), pick(COUNTRIES)
        sessions = 1 + int(rnd.expovariate(1 / 1.5))
        for _ in range(sessions):
            session += 1
            t = START + rnd.randrange(DAYS * 86400)
            ev = "session_start"
            while made < n:
                props = {"platform": platform, "country": country}
                if ev == "search":
                    props["query_length"] = 1 + int(rnd.expovariate(1 / 2))
                elif ev == "product_viewed":
                    props["product_id"] = "".join(rnd.choices(ALNUM, k=8))
                    props["category"] = pick(CATEGORIES)
                    props["price"] = round(rnd.lognormvariate(math.log(39.9), 0.7), 2)
                elif ev == "add_to_cart":
                    props["quantity"] = pick(QUANTITIES)
                elif ev == "order_completed":
                    props["revenue"] = round(rnd.lognormvariate(math.log(72), 0.8), 2)
                    props["currency"] = pick(CURRENCIES)
                    props["coupon_used"] = rnd.random() < 0.2
                ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
                if writer:
                    p = props.get
                    cp = p("coupon_used")
                    lines.append([uid or "", did, ev, ts, session, new_uuid(), platform, country,
                                  p("query_length", ""), p("product_id", ""), p("category", ""), p("price", ""),
                                  p("quantity", ""), p("revenue", ""), p("currency", ""),
                                  "" if cp is None else ("true" if cp else "false"), plan])
                else:
                    rec = {"user_id": uid} if uid else {}
                    rec.update(device_id=did, event=ev, time=ts, insert_id=new_uuid(), properties=props,
                               user_properties={"plan": plan})
                    lines.append(dumps(rec))
                made += 1
                if len(lines) == 4096:
                    writer.writerows(lines) if writer else out.write("\n".join(lines) + "\n")
                    lines.clear()
                ev = pick(NEXT[ev])
                if ev == "$end":
                    break
                t += max(1, round(rnd.lognormvariate(math.log(25), 1.1)))
            if made == n:
                break
    if lines:
        writer.writerows(lines) if writer else out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
