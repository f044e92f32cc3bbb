#!/usr/bin/env python3
"""schema_check.py — validates profiles against profiles/profile.schema.json:
the ready profiles in profiles/, the golden fixture profile, and a profile
made by `doppel profile` and by `doppel merge` just now. Exit 77 (skip)
when Python's jsonschema module is missing (Debian: python3-jsonschema).
usage: schema_check.py DOPPEL_BINARY SOURCE_DIR"""
import json, os, subprocess, sys, tempfile
try:
    import jsonschema
except ImportError:
    print("schema_check: skipped: python3-jsonschema is not installed")
    sys.exit(77)
doppel, src = sys.argv[1], sys.argv[2]
schema = json.load(open(os.path.join(src, "profiles", "profile.schema.json")))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
files = [os.path.join(src, "profiles", f) for f in sorted(os.listdir(os.path.join(src, "profiles")))
         if f.endswith(".json") and f != "profile.schema.json"]
files.append(os.path.join(src, "fixtures", "golden", "shop.profile.json"))
with tempfile.TemporaryDirectory() as d:
    fx = os.path.join(src, "fixtures", "profile")
    for name in ("shop", "warnings", "clean"):
        out = os.path.join(d, name + ".json")
        subprocess.run([doppel, "profile", os.path.join(fx, name + ".jsonl"), "-o", out, "-q",
                        "--state-out", os.path.join(d, name + ".state")], check=True)
        files.append(out)
    merged = os.path.join(d, "merged.json")
    subprocess.run([doppel, "merge", os.path.join(d, "shop.state"), os.path.join(d, "clean.state"), "-o", merged, "-q"],
                   check=False)
    # shop and clean are both generic, so they merge
    if os.path.exists(merged):
        files.append(merged)
    bad = 0
    for f in files:
        doc = json.load(open(f))
        errors = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
        for e in errors[:5]:
            print("schema_check: %s: %s: %s" % (os.path.basename(f), "/".join(map(str, e.path)), e.message))
        bad += bool(errors)
    # the schema rejects what it should
    broken = {"format": "doppel-profile/1", "events": {"list": [{"share": 0.5}]}}
    if not list(v.iter_errors(broken)):
        print("schema_check: a profile without event names passed"); bad += 1
print("schema_check: %d profiles checked, %d invalid" % (len(files), bad))
sys.exit(1 if bad else 0)
