#!/usr/bin/python3
"""test_doppel_dask.py — tests of the Dask driver (doppel_dask.py) on a
LocalCluster of 2 worker processes on loopback: the merged profile of
partitions equals the single-machine profile of their concatenation
(nasa-http exactly; rails-commits exactly but for the heavy-hitter fields,
which must agree within the Misra-Gries bound); pseudonymized and sampled
partitions (JSON Lines and CSV) concatenated equal the single-machine output
byte for byte; synth shards concatenated equal the unsharded output; every
manifest lists every partition with its true line count, size and sha256 and
never the key; a task that fails once, or whose worker is killed mid-task,
is retried and leaves no partial file; a partition that always fails exits
1 naming it, with no manifest; refused options and configuration errors
exit 2 with a reason.

usage: /usr/bin/python3 test_doppel_dask.py DOPPEL_BINARY SOURCE_DIR [unittest args]
Exit 77 (skipped) when Dask distributed is not installed. Tests that need
the real datasets (SOURCE_DIR/../shared/data) skip when they are absent.
"""

import csv
import gzip
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DOPPEL = None   # set from argv
SRC = None
DATA = None
CLUSTER = None  # the shared LocalCluster
ADDR = None
NOW = "2026-12-01T00:00:00Z"

# heavy-hitter capacities of the profiler (src/profile/profiler.c: property
# values 1024, property patterns 256, identifier patterns 1024): a
# Misra-Gries table of capacity c over n items undercounts each item by at
# most n / (c + 1), so two runs (single, merged) differ by at most that
VALUES_CAP = 1024
PATTERNS_CAP = 256
ID_PATTERNS_CAP = 1024


def sh(*argv, **kw):
    return subprocess.run(list(argv), check=True, **kw)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def records_of(path):
    """Records of an output, counted independently of the driver."""
    if path.endswith(".csv"):
        with open(path, newline="", encoding="utf-8") as f:
            return max(sum(1 for _ in csv.reader(f)) - 1, 0)
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def split_lines(src, n, dest_dir, stem):
    """Splits a (gzip) JSON Lines file into n files of consecutive line ranges."""
    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rb") as f:
        lines = f.readlines()
    paths = []
    for i in range(n):
        p = os.path.join(dest_dir, "%s-%02d.jsonl" % (stem, i))
        with open(p, "wb") as g:
            g.writelines(lines[i * len(lines) // n:(i + 1) * len(lines) // n])
        paths.append(p)
    return paths


def driver(*argv):
    """Runs the driver in this process against the shared cluster; returns its exit code."""
    import doppel_dask
    return doppel_dask.main(list(argv) + ["--scheduler", ADDR, "--doppel", DOPPEL, "-q"])


def driver_cli(*argv, scheduler=True, doppel=None):
    """Runs the driver as a program; returns the CompletedProcess (text)."""
    cmd = ["/usr/bin/python3", os.path.join(HERE, "doppel_dask.py")] + list(argv)
    if scheduler:
        cmd += ["--scheduler", ADDR]
    cmd += ["--doppel", doppel or DOPPEL]
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)


def compare_profiles(a, b, path=""):
    """Differences between two profile documents: exact everywhere, except
    top values and string patterns (within the heavy-hitter bound) and the
    counts of suppressed values/patterns (which depend on evictions)."""
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        if "top" in a and "n" in a and isinstance(a.get("top"), list):
            return compare_top(a, b, path)
        if set(a) != set(b):
            return ["%s: keys %s vs %s" % (path, sorted(set(a) - set(b)), sorted(set(b) - set(a)))]
        for k in a:
            if path == ".privacy.suppressed" and k in ("values", "patterns"):
                if abs(a[k] - b[k]) > 0.02 * max(a[k], b[k]) + 10:
                    out.append("%s.%s: %s vs %s" % (path, k, a[k], b[k]))
            elif k == "patterns" and isinstance(a[k], list):
                out += compare_shares(a[k], b[k], "%s.%s" % (path, k))
            else:
                out += compare_profiles(a[k], b[k], "%s.%s" % (path, k))
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return ["%s: %d vs %d items" % (path, len(a), len(b))]
        for i, (x, y) in enumerate(zip(a, b)):
            out += compare_profiles(x, y, "%s[%d]" % (path, i))
        return out
    return [] if a == b else ["%s: %r vs %r" % (path, a, b)]


def compare_top(a, b, path):
    out = []
    for k in set(a) | set(b):
        if k not in ("top", "other") and a.get(k) != b.get(k):
            out.append("%s.%s: %r vs %r" % (path, k, a.get(k), b.get(k)))
    n = a["n"]
    tol = n / (VALUES_CAP + 1) + 1
    ca = {json.dumps(e["value"]): e["count"] for e in a["top"]}
    cb = {json.dumps(e["value"]): e["count"] for e in b["top"]}
    for name, mine, theirs in (("single", ca, cb), ("merged", cb, ca)):
        floor = min(theirs.values()) if theirs else 0
        for v, c in mine.items():
            if v in theirs:
                if abs(c - theirs[v]) > tol:
                    out.append("%s.top %s: count %d vs %d (bound %.1f)" % (path, v, c, theirs[v], tol))
            elif c > floor + tol:
                out.append("%s.top %s: count %d only in the %s profile (bound %.1f)" % (path, v, c, name, tol))
    union = len(set(ca) | set(cb))
    if abs(a.get("other", 0) - b.get("other", 0)) > union * tol / max(n, 1) + 1e-6:
        out.append("%s.other: %r vs %r" % (path, a.get("other"), b.get("other")))
    return out


def compare_shares(a, b, path):
    out = []
    tol = 1.0 / ((ID_PATTERNS_CAP if path.startswith(".identifiers") else PATTERNS_CAP) + 1) + 1e-6
    sa = {e["pattern"]: e["share"] for e in a}
    sb = {e["pattern"]: e["share"] for e in b}
    for name, mine, theirs in (("single", sa, sb), ("merged", sb, sa)):
        floor = min(theirs.values()) if theirs else 0
        for p, s in mine.items():
            if p in theirs:
                if abs(s - theirs[p]) > tol:
                    out.append("%s %r: share %g vs %g" % (path, p, s, theirs[p]))
            elif s > floor + tol:
                out.append("%s %r: share %g only in the %s profile" % (path, p, s, name))
    return out


class DriverTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="doppel-dask-test-")
        cls.key = os.path.join(cls.tmp, "test.key")
        sh(DOPPEL, "keygen", "-o", cls.key, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(cls.key) as f:
            cls.key_hex = f.read().strip()
        cls.parts = {}
        for name in ("rails-commits", "nasa-http"):
            src = os.path.join(DATA, name, "events.jsonl.gz")
            if os.path.isfile(src):
                cls.parts[name] = split_lines(src, 4, cls.tmp, name)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def need(self, name):
        if name not in self.parts:
            self.skipTest("%s/%s is absent" % (DATA, name))
        return self.parts[name]

    def out(self, name):
        return os.path.join(self.tmp, name)

    def single(self, name, *argv):
        path = os.path.join(self.tmp, name)
        sh(DOPPEL, *argv, "-o", path, "-q", stderr=subprocess.DEVNULL)
        return path

    def concat(self, files, csv_headers=False):
        data = b""
        for i, p in enumerate(files):
            with open(p, "rb") as f:
                body = f.read()
            if csv_headers and i > 0:
                body = body.split(b"\n", 1)[1] if b"\n" in body else b""
            data += body
        return data

    def check_manifest(self, out, verb, n, inputs=None, extra=()):
        """The manifest lists every partition with its true records, bytes and
        sha256; nothing else (no temporary, no partial file) is in the directory."""
        with open(os.path.join(out, "manifest.json")) as f:
            text = f.read()
        m = json.loads(text)
        self.assertEqual(m["format"], "doppel-dask-manifest/1")
        self.assertEqual(m["verb"], verb)
        self.assertEqual(len(m["partitions"]), n)
        self.assertNotIn(self.key_hex, text)  # never the key
        files = []
        records = size = 0
        for i, e in enumerate(m["partitions"]):
            self.assertEqual(e["index"], i)
            if inputs is not None:
                self.assertEqual(e["input"], os.path.abspath(inputs[i]))
            if verb == "profile":
                continue
            p = os.path.join(out, e["output"])
            files.append(p)
            self.assertEqual(e["sha256"], sha256(p), e["output"])
            self.assertEqual(e["bytes"], os.path.getsize(p), e["output"])
            self.assertEqual(e["records"], records_of(p), e["output"])
            records += e["records"]
            size += e["bytes"]
        if verb != "profile":
            self.assertEqual(m["totals"]["records"], records)
            self.assertEqual(m["totals"]["bytes"], size)
            self.assertEqual(m["totals"]["partitions"], n)
        listed = sorted(["manifest.json"] + [os.path.basename(p) for p in files] + list(extra))
        self.assertEqual(sorted(os.listdir(out)), listed)
        return m, files

    # ---- profile: partial states per partition, one merge

    def test_profile_nasa_equals_single_run(self):
        parts = self.need("nasa-http")
        out = self.out("profile-nasa")
        self.assertEqual(driver("profile", *parts, "--out", out, "--now", NOW, "--keep-states"), 0)
        m, _ = self.check_manifest(out, "profile", 4, parts, extra=("profile.json", "states"))
        single = self.single("nasa.single.json", "profile", *parts, "--now", NOW)
        a, b = json.loads(read(single)), json.loads(read(os.path.join(out, "profile.json")))
        for d in (a, b):
            del d["source"]["files"], d["source"]["bytes"]
        self.assertEqual(a, b)  # under the sketches' capacity the merge is exact
        self.assertEqual(m["outputs"]["profile"]["sha256"], sha256(os.path.join(out, "profile.json")))
        self.assertEqual(m["totals"]["records_in"], sum(records_of(p) for p in parts))
        for e in m["partitions"]:  # kept states: listed, private
            st = os.path.join(out, e["state"])
            self.assertEqual(e["state_sha256"], sha256(st))
            self.assertEqual(os.stat(st).st_mode & 0o777, 0o600)
        # the merged profile's privacy ledger as the policy of a distributed pseudonymize
        policy = os.path.join(out, "profile.json")
        pout = self.out("pseudo-nasa-policy")
        self.assertEqual(driver("pseudonymize", *parts, "--key", self.key, "--policy", policy, "--out", pout), 0)
        m, files = self.check_manifest(pout, "pseudonymize", 4, parts)
        self.assertEqual(m["options"]["policy_sha256"], sha256(policy))
        single = self.single("nasa.policy.jsonl", "pseudonymize", *parts, "--key", self.key, "--policy", policy)
        self.assertEqual(self.concat(files), read(single))

    def test_profile_rails_within_sketch_error(self):
        parts = self.need("rails-commits")
        out = self.out("profile-rails")
        self.assertEqual(driver("profile", *parts, "--out", out, "--now", NOW), 0)
        m, _ = self.check_manifest(out, "profile", 4, parts, extra=("profile.json",))  # states removed
        single = self.single("rails.single.json", "profile", *parts, "--now", NOW)
        a, b = json.loads(read(single)), json.loads(read(os.path.join(out, "profile.json")))
        for d in (a, b):
            del d["source"]["files"], d["source"]["bytes"]
        self.assertEqual(a["source"], b["source"])
        self.assertEqual(a["population"], b["population"])
        self.assertEqual(a["events"], b["events"])
        self.assertEqual(a["sessions"], b["sessions"])
        self.assertEqual(a["time"], b["time"])
        diffs = compare_profiles(a, b)
        self.assertEqual(diffs, [], "\n".join(diffs[:20]))
        self.assertEqual(m["totals"]["records_in"], 99429)

    # ---- pseudonymize and sample: per-record decisions, so the parts are the single run

    def test_pseudonymize_rails_equals_single_run(self):
        parts = self.need("rails-commits")
        out = self.out("pseudo-rails")
        self.assertEqual(driver("pseudonymize", *parts, "--key", self.key, "--out", out), 0)
        m, files = self.check_manifest(out, "pseudonymize", 4, parts)
        single = self.single("rails.pseudo.jsonl", "pseudonymize", *parts, "--key", self.key)
        self.assertEqual(self.concat(files), read(single))
        self.assertRegex(m["key_id"], "^[0-9a-f]{16}$")
        self.assertEqual(m["totals"]["records"], 99429)

    def test_sample_equals_single_run(self):
        for name in ("rails-commits", "nasa-http"):
            parts = self.need(name)
            for extra in ([], ["--raw", "--from", "1995-08-01T12:00:00Z" if name == "nasa-http" else "2015-01-01"]):
                out = self.out("sample-%s-%d" % (name, len(extra)))
                self.assertEqual(driver("sample", *parts, "--key", self.key, "--users", "10%", "--out", out,
                                        *extra), 0)
                m, files = self.check_manifest(out, "sample", 4, parts)
                single = self.single("%s.sample%d.jsonl" % (name, len(extra)), "sample", *parts, "--key",
                                     self.key, "--users", "10%", *extra)
                got = self.concat(files)
                self.assertEqual(got, read(single), name)
                self.assertGreater(len(got), 1000)
                self.assertEqual(m["totals"]["records_in"], sum(records_of(p) for p in parts))

    def test_csv_partitions_and_overwrite(self):
        # CSV inputs: three synthetic CSV files (one header each)
        csvs = []
        for i in range(3):
            p = os.path.join(self.tmp, "shop-%d.csv" % i)
            sh(DOPPEL, "synth", os.path.join(SRC, "profiles", "ecommerce.json"), "--users", "300", "--seed", "5",
               "--format", "csv", "--shard", "%d/3" % i, "-o", p, "-q")
            csvs.append(p)
        out = self.out("pseudo-csv")
        self.assertEqual(driver("pseudonymize", os.path.join(self.tmp, "shop-*.csv"), "--key", self.key,
                                "--out", out), 0)
        m, files = self.check_manifest(out, "pseudonymize", 3, csvs)
        self.assertEqual([os.path.basename(f) for f in files], ["part-00000.csv", "part-00001.csv", "part-00002.csv"])
        single = self.single("shop.pseudo.csv", "pseudonymize", *csvs, "--key", self.key)
        self.assertEqual(self.concat(files, csv_headers=True), read(single))
        self.assertIn("header line", m["concatenation"])
        # a second run into the same directory: refused, then replaced with --overwrite
        r = driver_cli("pseudonymize", *csvs, "--key", self.key, "--out", out)
        self.assertEqual(r.returncode, 2)
        self.assertIn("is not empty", r.stderr)
        self.assertEqual(driver("pseudonymize", csvs[0], "--key", self.key, "--out", out, "--overwrite"), 0)
        self.check_manifest(out, "pseudonymize", 1, csvs[:1])

    # ---- synth: shards

    def test_synth_shards_equal_unsharded(self):
        prof = os.path.join(SRC, "profiles", "ecommerce.json")
        for fmt, extra in (("jsonl", ["--users", "3000"]), ("csv", ["--users", "1000"]),
                           ("jsonl", ["--events", "20000", "--dialect", "amplitude"])):
            out = self.out("synth-%s-%s" % (fmt, extra[0].strip("-")))
            self.assertEqual(driver("synth", prof, "--shards", "5", "--seed", "11", "--format", fmt,
                                    "--out", out, *extra), 0)
            m, files = self.check_manifest(out, "synth", 5)
            single = self.single("synth.single.%s" % fmt, "synth", prof, "--seed", "11", "--format", fmt, *extra)
            self.assertEqual(self.concat(files, csv_headers=fmt == "csv"), read(single), extra)
            self.assertEqual([e["shard"] for e in m["partitions"]], ["%d/5" % i for i in range(5)])

    def test_synth_time_order_and_default_local_cluster(self):
        # no --scheduler: the driver starts its own LocalCluster (2 workers on loopback)
        prof = os.path.join(SRC, "profiles", "nasa-http.json")
        out = self.out("synth-time")
        r = driver_cli("synth", prof, "--shards", "3", "--users", "600", "--seed", "2", "--order", "time",
                       "--out", out, "--workers", "2", scheduler=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("on 2 workers (local cluster)", r.stderr)
        m, files = self.check_manifest(out, "synth", 3)
        single = self.single("synth.time.jsonl", "synth", prof, "--users", "600", "--seed", "2", "--order", "time")
        got = self.concat(files).splitlines()
        self.assertEqual(sorted(got), sorted(read(single).splitlines()))  # as a multiset
        self.assertIn("multiset", m["concatenation"])

    # ---- failures

    def wrapper(self, name, body):
        p = os.path.join(self.tmp, name)
        with open(p, "w") as f:
            f.write("#!/bin/sh\n# test wrapper around doppel: %s\n" % name)
            f.write('[ "$1" = --version ] && exec "%s" "$@"\n' % DOPPEL)
            # called as doppel VERB IN -o OUT ...: $2 is the partition, OUT follows -o
            f.write('in=$2; out=""; prev=""; for a in "$@"; do [ "$prev" = -o ] && out=$a; prev=$a; done\n')
            f.write("marks=%s\n" % os.path.join(self.tmp, name + ".marks"))
            f.write('mkdir -p "$marks"; m="$marks/$(basename "$in")"\n')
            f.write('echo x >> "$m.calls"\n')
            f.write(body)
            f.write('exec "%s" "$@"\n' % DOPPEL)
        os.chmod(p, 0o755)
        return p, os.path.join(self.tmp, name + ".marks")

    def test_retry_after_a_failed_attempt(self):
        parts = self.need("nasa-http")
        flaky, marks = self.wrapper("flaky.sh", (
            'if [ ! -e "$m.seen" ]; then : > "$m.seen"; printf \'{"partial":\' > "$out"; '
            'echo "flaky: simulated failure" >&2; exit 1; fi\n'))
        out = self.out("retry")
        import doppel_dask
        rc = doppel_dask.main(["pseudonymize", *parts, "--key", self.key, "--out", out, "--scheduler", ADDR,
                               "--doppel", flaky, "-q"])
        self.assertEqual(rc, 0)
        _, files = self.check_manifest(out, "pseudonymize", 4, parts)  # no partial or temporary file
        single = self.single("nasa.pseudo.jsonl", "pseudonymize", *parts, "--key", self.key)
        self.assertEqual(self.concat(files), read(single))
        for p in parts:  # each partition failed once, then succeeded
            with open(os.path.join(marks, os.path.basename(p) + ".calls")) as f:
                self.assertGreaterEqual(len(f.read().split()), 2)

    def test_worker_killed_mid_partition(self):
        parts = self.need("nasa-http")
        killer, marks = self.wrapper("killer.sh", (
            'case "$in" in *-01.jsonl) if [ ! -e "$m.seen" ]; then : > "$m.seen"; '
            'printf \'{"partial":\' > "$out"; kill -9 $PPID; sleep 60; exit 1; fi;; esac\n'))
        out = self.out("killed")
        import doppel_dask
        from distributed import Client
        rc = doppel_dask.main(["sample", *parts, "--key", self.key, "--users", "20%", "--out", out,
                               "--scheduler", ADDR, "--doppel", killer, "-q"])
        self.assertEqual(rc, 0)
        _, files = self.check_manifest(out, "sample", 4, parts)
        single = self.single("nasa.sample20.jsonl", "sample", *parts, "--key", self.key, "--users", "20%")
        self.assertEqual(self.concat(files), read(single))
        self.assertTrue(os.path.exists(os.path.join(marks, "nasa-http-01.jsonl.seen")))  # a worker did die
        with Client(ADDR) as c:  # the nanny restarts it: leave 2 workers for the other tests
            c.wait_for_workers(2, timeout=120)

    def test_partition_that_always_fails(self):
        parts = self.need("nasa-http")
        broken, marks = self.wrapper("broken.sh", (
            'case "$in" in *-02.jsonl) echo "doppel pseudonymize: error: $in: simulated I/O error" >&2; '
            'exit 1;; esac\n'))
        out = self.out("fails")
        r = driver_cli("pseudonymize", *parts, "--key", self.key, "--out", out, doppel=broken)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("error: partition 2 (%s)" % parts[2], r.stderr)
        self.assertIn("simulated I/O error", r.stderr)  # doppel's stderr
        self.assertIn("failed after 2 retries", r.stderr)
        self.assertNotIn(self.key_hex, r.stderr)
        self.assertFalse(os.path.exists(out))  # no manifest, no part file: the directory it made is gone
        with open(os.path.join(marks, os.path.basename(parts[2]) + ".calls")) as f:
            self.assertEqual(len(f.read().split()), 3)  # the first attempt and 2 retries

    def test_usage_and_configuration_errors(self):
        parts = self.need("nasa-http")
        out = self.out("usage")
        r = driver_cli("sample", *parts, "--key", self.key, "--users-n", "100", "--out", out)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--users-n is not supported", r.stderr)
        r = driver_cli("sample", os.path.join(self.tmp, "nothing-*.jsonl"), "--key", self.key, "--users", "1%",
                       "--out", out)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no input files matched", r.stderr)
        r = driver_cli("pseudonymize", *parts, "--key", self.key, "--out", out,
                       doppel=os.path.join(self.tmp, "no-such-doppel"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("does not run on 2 of 2 workers", r.stderr)
        loose = os.path.join(self.tmp, "loose.key")
        shutil.copy(self.key, loose)
        os.chmod(loose, 0o644)
        r = driver_cli("pseudonymize", *parts, "--key", loose, "--out", out)
        self.assertEqual(r.returncode, 2)
        self.assertIn("readable by group or others", r.stderr)  # doppel's reason, not retried
        self.assertNotIn(self.key_hex, r.stderr)
        self.assertFalse(os.path.exists(out))


def main():
    global DOPPEL, SRC, DATA, CLUSTER, ADDR
    if len(sys.argv) < 3:
        print("usage: test_doppel_dask.py DOPPEL_BINARY SOURCE_DIR [unittest args]", file=sys.stderr)
        return 2
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("test_doppel_dask: skipped: Dask distributed is not installed for %s "
              "(Debian: apt-get install python3-dask python3-distributed)" % sys.executable)
        return 77
    DOPPEL, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    DATA = os.path.normpath(os.path.join(SRC, "..", "shared", "data"))
    if not os.path.isdir(DATA):
        print("test_doppel_dask: %s is absent: the tests on real data skip" % DATA)
    sys.path.insert(0, HERE)
    from distributed import LocalCluster
    CLUSTER = LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                           dashboard_address=None, silence_logs=logging.ERROR)
    ADDR = CLUSTER.scheduler_address
    try:
        prog = unittest.main(argv=[sys.argv[0]] + sys.argv[3:], exit=False, verbosity=2)
    finally:
        CLUSTER.close()
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
