#!/usr/bin/python3
"""doppel_dask.py — runs the doppel binary per partition on a Dask distributed
cluster, so that exports too big for one machine need no other tool.

One input file is one partition and one Dask task; a task runs `doppel VERB`
on its partition with subprocess, on whichever worker Dask picks, and writes
`part-NNNNN.EXT` into the output directory. Verbs:

  profile       `doppel profile --state-out` per partition, then one
                `doppel merge` of the states into profile.json
  pseudonymize  `doppel pseudonymize` per partition (stateless per record)
  sample        `doppel sample --users RATE` per partition (a keyed,
                user-consistent decision per record; --users-n and
                --events-n need the whole input at once and are refused)
  synth         `doppel synth --shard i/N` for i = 0..N-1

Because every doppel decision used here is per record (or per shard of
users), the part files in index order equal the single-machine output over
the inputs in the same order. Every task writes into its own attempt
directory under OUT/.doppel-tmp and renames the finished file into place, so
no partial part file is ever visible; failed tasks are retried by Dask
(`--retries`, default 2) and a worker that dies mid-task has its task
rescheduled by the scheduler; manifest.json (files, records, bytes, sha256,
totals, the options and the key id — never the key) is written last and
atomically: a directory with a manifest is a complete run.

Requirements: the client and every worker see the inputs, the output
directory, the key and policy files at the same paths (a shared file system),
and every worker has the doppel binary (`--doppel PATH`). Standard library
plus dask.distributed; a LocalCluster on loopback is started when no
`--scheduler` is given. Exit codes as doppel's: 0 ok, 1 a partition failed
(data or I/O error, after retries) or the cluster failed, 2 usage or
configuration error. Importable: main(argv) returns the exit code and run()
returns the manifest.
"""

import argparse
import datetime
import glob
import gzip
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

PROG = "doppel-dask"
MANIFEST = "manifest.json"
MANIFEST_FORMAT = "doppel-dask-manifest/1"
TMP_DIR = ".doppel-tmp"  # attempt directories live here, removed at the end of a run
OUT_TOKEN = "\x00OUT\x00"  # stands for the attempt's output path in a task's argv
PART_RE = re.compile(r"^part-\d{5,}\.(jsonl|csv|sql|state)$")
STDERR_KEEP = 4000  # characters of doppel's stderr kept in an error message


class DriverError(Exception):
    """A failure the CLI reports as `doppel-dask: error: MESSAGE` and exits with code."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------------------
# Worker side: these functions run inside Dask workers. They use only the
# standard library and are shipped by value (cloudpickle), so workers need
# neither this file nor anything but Python, distributed and doppel.


def _worker_address():
    try:
        from distributed import get_worker
        return get_worker().address
    except Exception:  # run outside a worker (tests, merge on the client)
        return None


def _deathsig_prefix():
    """['setpriv', '--pdeathsig', 'KILL', '--'] when setpriv supports it, else [].

    With it, a doppel child is killed when the worker process that started it
    dies, instead of running on as an orphan."""
    setpriv = shutil.which("setpriv")
    if not setpriv:
        return []
    try:
        r = subprocess.run([setpriv, "--pdeathsig", "KILL", "--", "true"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return []
    return [setpriv, "--pdeathsig", "KILL", "--"] if r.returncode == 0 else []


def _scan_output(path, fmt):
    """One pass over a finished output: (records, bytes, sha256 hex).

    records: JSON Lines: lines; CSV: rows (newlines outside quotes) minus the
    header; SQL: rows of the COPY blocks; anything else: None. Reads into one
    preallocated buffer: Dask starts workers with MALLOC_TRIM_THRESHOLD_ set,
    which makes a fresh 1 MiB bytes object per read cost page faults (a
    tenfold slowdown measured on this machine)."""
    h = hashlib.sha256()
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    size = lines = rows = copy_rows = 0
    last = 10  # the last byte seen
    in_quotes = False  # CSV: inside a quoted field
    tail = False  # CSV: bytes after the last record end
    in_copy = False  # SQL: inside a COPY block
    pending = b""  # SQL: the start of a line that continues in the next chunk
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(view[:n])
            size += n
            last = buf[n - 1]
            if fmt == "jsonl":
                lines += buf.count(b"\n", 0, n)
            elif fmt == "csv":
                pos = 0
                while pos < n:
                    nl = buf.find(b"\n", pos, n)
                    end = n if nl < 0 else nl
                    if buf.count(b'"', pos, end) & 1:
                        in_quotes = not in_quotes
                    if end > pos:
                        tail = True
                    if nl < 0:
                        break
                    if not in_quotes:
                        rows += 1
                        tail = False
                    else:
                        tail = True
                    pos = nl + 1
            elif fmt == "sql":
                pos = 0
                while pos < n:
                    nl = buf.find(b"\n", pos, n)
                    if nl < 0:
                        pending += bytes(view[pos:n])
                        break
                    line = pending + bytes(view[pos:nl]) if pending or not in_copy else None
                    pending = b""
                    if in_copy:
                        if (line == b"\\." if line is not None
                                else nl - pos == 2 and buf[pos] == 92 and buf[pos + 1] == 46):
                            in_copy = False
                        else:
                            copy_rows += 1
                    elif line.startswith(b"COPY ") and line.rstrip().endswith(b"FROM stdin;"):
                        in_copy = True
                    pos = nl + 1
    if fmt == "jsonl":
        return lines + (1 if size and last != 10 else 0), size, h.hexdigest()
    if fmt == "csv":
        return max(rows + (1 if tail else 0) - 1, 0), size, h.hexdigest()
    if fmt == "sql":
        return copy_rows, size, h.hexdigest()
    return None, size, h.hexdigest()


def _fsync_path(path, directory=False):
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def run_task(task):
    """Runs one doppel command for one partition (or the merge) and publishes
    its output atomically. A pure function of its inputs: running it twice
    gives the same file.

    task: {"label": partition name for messages, "argv": doppel argv with
    OUT_TOKEN for the output path, "dir": output directory, "name": file name
    relative to it, "fmt": jsonl|csv|sql|state|json, "tmp": attempt root}.
    Returns {"name", "records", "bytes", "sha256", "stderr_head", "worker",
    "doppel_s", "scan_s"}, or
    {"error", "exit": 2} for a usage or configuration error (not retried:
    it would fail the same way). Raises RuntimeError for anything else, which
    Dask retries."""
    final = os.path.join(task["dir"], task["name"])
    os.makedirs(task["tmp"], mode=0o700, exist_ok=True)
    attempt = os.path.join(task["tmp"], "%s.%s" % (os.path.basename(task["name"]), uuid.uuid4().hex))
    os.mkdir(attempt, 0o700)
    out = os.path.join(attempt, os.path.basename(task["name"]))
    argv = [out if a == OUT_TOKEN else a for a in task["argv"]]
    t0 = time.monotonic()
    try:
        try:
            proc = subprocess.run(_deathsig_prefix() + argv, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except FileNotFoundError:
            return {"error": "%s: doppel binary '%s' not found on worker %s"
                             % (task["label"], argv[0], _worker_address() or "(local)"), "exit": 2}
        except PermissionError:
            return {"error": "%s: doppel binary '%s' is not executable on worker %s"
                             % (task["label"], argv[0], _worker_address() or "(local)"), "exit": 2}
        err = proc.stderr.decode("utf-8", "replace")
        if proc.returncode != 0:
            if len(err) > STDERR_KEEP:
                err = "...\n" + err[-STDERR_KEEP:]
            how = ("killed by signal %d" % -proc.returncode if proc.returncode < 0
                   else "exited with status %d" % proc.returncode)
            msg = "%s: doppel %s on worker %s:\n%s" % (task["label"], how,
                                                       _worker_address() or "(local)", err.rstrip())
            if proc.returncode == 2:
                return {"error": msg, "exit": 2}
            raise RuntimeError(msg)
        if not os.path.isfile(out):
            raise RuntimeError("%s: doppel exited with status 0 but wrote no output" % task["label"])
        t1 = time.monotonic()
        records, size, digest = _scan_output(out, task["fmt"])
        _fsync_path(out)
        # states hold raw values: their directory is private, like the files
        os.makedirs(os.path.dirname(final), mode=0o700 if task["fmt"] == "state" else 0o777, exist_ok=True)
        os.replace(out, final)  # atomic within one file system; raises if the run was abandoned
        _fsync_path(os.path.dirname(final), directory=True)
        return {"name": task["name"], "records": records, "bytes": size, "sha256": digest,
                "stderr_head": "\n".join(err.splitlines()[:3]), "worker": _worker_address(),
                "doppel_s": round(t1 - t0, 3), "scan_s": round(time.monotonic() - t1, 3)}
    finally:
        shutil.rmtree(attempt, ignore_errors=True)


def probe_binary(doppel):
    """On a worker: (True, version line) when `doppel --version` runs, else (False, why)."""
    try:
        r = subprocess.run([doppel, "--version"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    except FileNotFoundError:
        return False, "not found"
    except PermissionError:
        return False, "not executable"
    except (OSError, subprocess.SubprocessError) as e:
        return False, str(e)
    text = r.stdout.decode("utf-8", "replace").strip()
    if r.returncode != 0:
        return False, "'--version' exited with status %d: %s" % (r.returncode, text)
    return True, text.splitlines()[0] if text else "doppel"


# ---------------------------------------------------------------------------
# Client side: options, inputs, tasks, manifest.

SUMMARY_RES = {
    "pseudonymize": re.compile(r"^doppel pseudonymize: ([\d,]+) records in, ([\d,]+) out, ([\d,]+) malformed skipped"),
    "sample": re.compile(r"^doppel sample: ([\d,]+) records in, ([\d,]+) out, ([\d,]+) malformed skipped"),
    "profile": re.compile(r"^doppel profile: ([\d,]+) records in, ([\d,]+) profiled, ([\d,]+) malformed skipped"),
    "synth": re.compile(r"^doppel synth: ([\d,]+) users, ([\d,]+) sessions, ([\d,]+) events"),
}
SUMMARY_FIELDS = {
    "pseudonymize": ("records_in", "records_out", "malformed_skipped"),
    "sample": ("records_in", "records_out", "malformed_skipped"),
    "profile": ("records_in", "profiled", "malformed_skipped"),
    "synth": ("users", "sessions", "events"),
}
KEY_ID_RE = re.compile(r"key id ([0-9a-f]{16})")


def parse_summary(verb, text):
    """The counts of doppel's first summary line, as a dict (empty when absent)."""
    m = SUMMARY_RES[verb].search(text.splitlines()[0] if text else "")
    if not m:
        return {}
    return {k: int(v.replace(",", "")) for k, v in zip(SUMMARY_FIELDS[verb], m.groups())}


def expand_inputs(patterns):
    """Files and globs → absolute paths, in the order given (each glob sorted).
    A pattern that matches nothing is an error: it is most likely a typo."""
    out = []
    for p in patterns:
        if p == "-":
            raise DriverError("stdin ('-') cannot be partitioned: give files or globs", 2)
        if glob.has_magic(p):
            hits = sorted(h for h in glob.glob(p, recursive=True) if os.path.isfile(h))
            if not hits:
                raise DriverError("no input files matched '%s'" % p, 2)
            out.extend(os.path.abspath(h) for h in hits)
        elif os.path.isfile(p):
            out.append(os.path.abspath(p))
        elif os.path.exists(p):
            raise DriverError("input '%s' is not a regular file" % p, 2)
        else:
            raise DriverError("input '%s' does not exist" % p, 2)
    if not out:
        raise DriverError("no inputs given", 2)
    return out


def input_format(path, forced):
    """The format doppel will read (and pseudonymize/sample will write) for an input:
    --format, else the extension (.gz stripped), else the first non-blank byte."""
    if forced and forced != "auto":
        return forced
    name = path[:-3] if path.endswith(".gz") else path
    ext = os.path.splitext(name)[1].lower()
    if ext in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if ext == ".csv":
        return "csv"
    try:
        with open(path, "rb") as f:
            head = f.read(2)
        opener = gzip.open if head == b"\x1f\x8b" else open
        with opener(path, "rb") as f:
            data = f.read(65536)
    except OSError as e:
        raise DriverError("cannot read input '%s': %s" % (path, e.strerror or e), 1)
    data = data.lstrip(b"\xef\xbb\xbf").lstrip()
    return "jsonl" if data.startswith(b"{") else "csv"


def prepare_out_dir(out, overwrite):
    """Creates OUT, or checks that it is empty; with --overwrite removes this
    driver's files from an earlier run (the manifest first) and keeps the rest.
    Returns (absolute path, whether this call created it)."""
    out = os.path.abspath(out)
    if os.path.exists(out) and not os.path.isdir(out):
        raise DriverError("--out '%s' exists and is not a directory" % out, 2)
    created = not os.path.exists(out)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise DriverError("cannot create --out '%s': %s" % (out, e.strerror or e), 1)
    entries = os.listdir(out)
    ours = [e for e in entries if e in (MANIFEST, "profile.json", "states", TMP_DIR) or PART_RE.match(e)]
    if entries and not overwrite:
        raise DriverError("--out '%s' is not empty (%d entries); give an empty or new directory, "
                          "or --overwrite to replace an earlier run's files" % (out, len(entries)), 2)
    if MANIFEST in ours:  # first, so that a half-replaced directory never looks complete
        os.unlink(os.path.join(out, MANIFEST))
    for e in ours:
        p = os.path.join(out, e)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        elif os.path.lexists(p):
            os.unlink(p)
    return out, created


def _fmt_int(n):
    return "{:,}".format(n) if isinstance(n, int) else "?"


class Plan:
    """What a run does: the verb, the per-partition tasks and the manifest options."""

    def __init__(self, verb):
        self.verb = verb
        self.tasks = []          # run_task dicts, one per partition, in index order
        self.entries = []        # manifest entries, one per partition (filled in as results arrive)
        self.options = {}        # manifest "options"
        self.concatenation = ""  # how the part files relate to the single-machine output
        self.merge = None        # profile: the merge task


def _passthrough(args, spec):
    """doppel argv fragment and manifest options (named as the flags) for the
    options in spec: [(flag, attribute, kind)] with kind 'value', 'flag' or 'multi'."""
    argv, opts = [], {}
    for flag, attr, kind in spec:
        v = getattr(args, attr, None)
        if v is None or v is False or v == []:
            continue
        name = flag.lstrip("-")
        if kind == "flag":
            argv.append(flag)
            opts[name] = True
        elif kind == "multi":
            for x in v:
                argv += [flag, x]
            opts[name] = list(v)
        else:
            argv += [flag, str(v)]
            opts[name] = v
    return argv, opts


READ_SPEC = [("--dialect", "dialect", "value"), ("--format", "format", "value"),
             ("--max-record", "max_record", "value"), ("--strict", "strict", "flag")]
PSEUDO_SPEC = [("--policy", "policy", "value")] + READ_SPEC
SAMPLE_SPEC = [("--users", "users", "value"), ("--from", "from_", "value"), ("--to", "to", "value"),
               ("--where", "where", "multi"), ("--policy", "policy", "value"),
               ("--raw", "raw", "flag")] + READ_SPEC
PROFILE_SPEC = [("--k", "k", "value"), ("--session-gap", "session_gap", "value"),
                ("--max-users", "max_users", "value"), ("--now", "now", "value")] + READ_SPEC
SYNTH_SPEC = [("--users", "users", "value"), ("--events", "events", "value"), ("--seed", "seed", "value"),
              ("--start", "start", "value"), ("--days", "days", "value"), ("--format", "format", "value"),
              ("--order", "order", "value"), ("--dialect", "dialect", "value"), ("--table", "table", "value")]


def _key_path(args, required):
    key = args.key or os.environ.get("DOPPEL_KEY_FILE")
    if not key:
        if required:
            raise DriverError("a key is needed: --key KEY (or $DOPPEL_KEY_FILE); make one with 'doppel keygen -o KEY'", 2)
        return None
    return os.path.abspath(key)


def _abs_option(args, attr):
    v = getattr(args, attr, None)
    if v:
        setattr(args, attr, os.path.abspath(v))


def build_plan(args, out):
    """The tasks of a run, from the parsed options. Raises DriverError (2) on refused options."""
    verb = args.verb
    plan = Plan(verb)
    tmp = os.path.join(out, TMP_DIR)
    doppel = args.doppel
    if verb in ("pseudonymize", "sample", "profile"):
        inputs = expand_inputs(args.inputs)
        _abs_option(args, "policy")
        if verb == "sample":
            for flag, attr in (("--users-n", "users_n"), ("--events-n", "events_n"),
                               ("--stratify", "stratify"), ("--per-stratum", "per_stratum")):
                if getattr(args, attr) is not None:
                    raise DriverError(
                        "%s is not supported: it needs the whole input at once (the N smallest user hashes, "
                        "or one reservoir over all events), so per-partition results would not equal a "
                        "single-machine run; use --users RATE, or run 'doppel sample %s' on one machine"
                        % (flag, flag), 2)
            if args.users is None:
                raise DriverError("sample needs --users RATE (for example --users 10%)", 2)
        if verb == "profile" and not args.now:
            # one reference time for every partition, as a single run has
            args.now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        spec = {"pseudonymize": PSEUDO_SPEC, "sample": SAMPLE_SPEC, "profile": PROFILE_SPEC}[verb]
        extra, plan.options = _passthrough(args, spec)
        if getattr(args, "policy", None):
            try:
                with open(args.policy, "rb") as f:
                    plan.options["policy_sha256"] = hashlib.sha256(f.read()).hexdigest()
            except OSError as e:
                raise DriverError("cannot read --policy '%s': %s" % (args.policy, e.strerror or e), 2)
        key = _key_path(args, required=verb != "profile")
        if key:
            extra += ["--key", key]
        width = max(5, len(str(len(inputs) - 1)))
        for i, path in enumerate(inputs):
            label = "partition %d (%s)" % (i, path)
            if verb == "profile":
                name = os.path.join("states" if args.keep_states else os.path.join(TMP_DIR, "states"),
                                    "part-%0*d.state" % (width, i))
                argv = [doppel, "profile", path, "--state-out", OUT_TOKEN] + extra
                fmt = "state"
            else:
                fmt = input_format(path, args.format)
                name = "part-%0*d.%s" % (width, i, fmt)
                argv = [doppel, verb, path, "-o", OUT_TOKEN] + extra
            plan.tasks.append({"label": label, "argv": argv, "dir": out, "name": name, "fmt": fmt, "tmp": tmp})
            plan.entries.append({"index": i, "input": path, "input_bytes": os.path.getsize(path)})
        if verb == "profile":
            states = [os.path.join(out, t["name"]) for t in plan.tasks]
            plan.merge = {"label": "merge of %d states" % len(states),
                          "argv": [doppel, "merge"] + states + ["-o", OUT_TOKEN],
                          "dir": out, "name": "profile.json", "fmt": "json", "tmp": tmp}
            plan.options["keep-states"] = bool(args.keep_states)
            plan.concatenation = ("profile.json is the merge of the partitions' states: it equals profiling "
                                  "the inputs in one run (counts exactly, top values and patterns within their "
                                  "heavy-hitter error) when the partitions are split by time or by user, except "
                                  "source.files and source.bytes, which describe the inputs")
        else:
            kinds = {t["fmt"] for t in plan.tasks}
            plan.concatenation = ("the part files concatenated in index order are the single-machine output "
                                  "over the inputs in the same order, byte for byte"
                                  + (" (CSV: after dropping the header line of every part but the first)"
                                     if "csv" in kinds else ""))
    elif verb == "synth":
        profile = os.path.abspath(args.profile)
        if not os.path.isfile(profile):
            raise DriverError("profile '%s' does not exist" % args.profile, 2)
        if args.shards < 1:
            raise DriverError("--shards must be at least 1", 2)
        extra, plan.options = _passthrough(args, SYNTH_SPEC)
        plan.options["shards"] = args.shards
        fmt = args.format or "jsonl"
        width = max(5, len(str(args.shards - 1)))
        for i in range(args.shards):
            name = "part-%0*d.%s" % (width, i, fmt)
            argv = [doppel, "synth", profile, "--shard", "%d/%d" % (i, args.shards), "-o", OUT_TOKEN] + extra
            plan.tasks.append({"label": "shard %d/%d" % (i, args.shards), "argv": argv, "dir": out,
                               "name": name, "fmt": fmt, "tmp": tmp})
            plan.entries.append({"index": i, "shard": "%d/%d" % (i, args.shards)})
        plan.options["profile"] = profile
        with open(profile, "rb") as f:
            plan.options["profile_sha256"] = hashlib.sha256(f.read()).hexdigest()
        if args.order == "time":
            plan.concatenation = ("each part is in time order; together the parts hold exactly the events of "
                                  "the unsharded output (as a multiset)")
        elif fmt == "sql":
            plan.concatenation = ("each part is a complete SQL script (CREATE TABLE and COPY); the COPY rows of "
                                  "the parts in index order are the unsharded output's rows")
        else:
            plan.concatenation = ("the part files concatenated in index order are the unsharded output, byte for "
                                  "byte" + (" (CSV: after dropping the header line of every part but the first)"
                                            if fmt == "csv" else ""))
    else:
        raise DriverError("unknown verb '%s'" % verb, 2)
    return plan


def _atomic_json(path, doc):
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=2, sort_keys=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_path(d, directory=True)


def connect(args):
    """(client, cluster or None, seconds): a Client to --scheduler, else to a new LocalCluster."""
    from distributed import Client, LocalCluster
    t0 = time.monotonic()
    cluster = None
    try:
        if args.scheduler:
            client = Client(args.scheduler, timeout=args.connect_timeout)
        else:
            # Dask's own warnings (a failed attempt, a restarted worker) are not
            # repeated: the driver reports what finally failed
            cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
    except (OSError, TimeoutError) as e:
        if cluster is not None:
            cluster.close()
        where = "the Dask scheduler at %s" % args.scheduler if args.scheduler else "a local Dask cluster"
        raise DriverError("cannot connect to %s: %s" % (where, e), 1)
    return client, cluster, time.monotonic() - t0


def _ship_by_value():
    """Workers need not have this module: pickle its functions by value."""
    mod = sys.modules.get(__name__)
    if __name__ != "__main__" and mod is not None:
        import cloudpickle
        cloudpickle.register_pickle_by_value(mod)


def check_workers(client, args):
    """Waits for at least one worker and checks the doppel binary on each. Returns the version line."""
    try:
        client.wait_for_workers(1, timeout=args.wait_workers)
    except Exception:
        raise DriverError("no Dask worker joined the scheduler at %s within %s s"
                          % (args.scheduler or "(local)", args.wait_workers), 1)
    res = client.run(probe_binary, args.doppel)
    bad = sorted((w, why) for w, (ok, why) in res.items() if not ok)
    if bad:
        raise DriverError("the doppel binary '%s' does not run on %d of %d workers: %s; install doppel at the "
                          "same path on every worker or pass --doppel PATH"
                          % (args.doppel, len(bad), len(res), "; ".join("%s: %s" % b for b in bad)), 2)
    versions = sorted({why for ok, why in res.values()})
    return versions[0] if len(versions) == 1 else versions


def _gather(client, tasks, keys, retries):
    """Submits the tasks and returns their results in order. On the first task
    that fails after its retries: cancels the rest and raises DriverError."""
    from distributed import as_completed
    futures = [client.submit(run_task, t, key=k, retries=retries, pure=False) for t, k in zip(tasks, keys)]
    index = {f.key: i for i, f in enumerate(futures)}
    results = [None] * len(tasks)
    try:
        for fut in as_completed(futures):
            i = index[fut.key]
            if fut.status == "error":
                exc = fut.exception()
                msg = str(exc) if isinstance(exc, RuntimeError) and str(exc).startswith(tasks[i]["label"]) \
                    else "%s: %s: %s" % (tasks[i]["label"], type(exc).__name__, exc)
                raise DriverError("%s\n(failed after %d retries)" % (msg, retries), 1)
            if fut.status == "cancelled":
                raise DriverError("%s: the task was cancelled (did the cluster shut down?)" % tasks[i]["label"], 1)
            r = fut.result()
            if "error" in r:
                raise DriverError(r["error"], r.get("exit", 1))
            results[i] = r
    except BaseException:
        client.cancel(futures)
        raise
    return results


def run(args, client=None, log=None):
    """Runs one verb as parsed by make_parser(); returns the manifest (a dict).
    With client=None connects as --scheduler says (or starts a LocalCluster)
    and closes what it opened. log: a function taking a line, or None."""
    log = log or (lambda line: None)
    t_start = time.monotonic()
    if os.sep in args.doppel:  # ./build/doppel: the same file for workers started elsewhere
        args.doppel = os.path.abspath(args.doppel)
    plan = build_plan(args, os.path.abspath(args.out))  # refused options leave no directory behind
    out, created = prepare_out_dir(args.out, args.overwrite)
    own = None
    startup = 0.0
    try:
        _ship_by_value()
        if client is None:
            client, cluster, startup = connect(args)
            own = (client, cluster)
        version = check_workers(client, args)
        n_workers = len(client.scheduler_info().get("workers", {}))
        log("%s %s: %d partitions on %d workers (%s)" % (PROG, plan.verb, len(plan.tasks), n_workers,
                                                          args.scheduler or "local cluster"))
        run_id = uuid.uuid4().hex[:12]
        t_work = time.monotonic()
        keys = ["doppel-%s-%s-%s" % (plan.verb, os.path.splitext(os.path.basename(t["name"]))[0], run_id)
                for t in plan.tasks]
        results = _gather(client, plan.tasks, keys, args.retries)
        outputs = {}
        if plan.merge:
            merged = _gather(client, [plan.merge], ["doppel-merge-%s" % run_id], args.retries)[0]
            outputs["profile"] = {"file": "profile.json", "bytes": merged["bytes"], "sha256": merged["sha256"],
                                  "worker": merged.get("worker"), "seconds": merged.get("doppel_s")}
            summary = parse_summary("profile", merged["stderr_head"].replace("doppel merge:", "doppel profile:", 1))
            outputs["profile"].update(summary)
            with open(os.path.join(out, "profile.json"), "rb") as f:
                key_id = json.load(f).get("source", {}).get("key_id")
        else:
            key_ids = {m.group(1) for r in results for m in [KEY_ID_RE.search(r["stderr_head"])] if m}
            if len(key_ids) > 1:
                raise DriverError("the partitions report different key ids (%s): the workers read different "
                                  "key files at '%s'; every worker must see the same key file"
                                  % (", ".join(sorted(key_ids)), args.key or os.environ.get("DOPPEL_KEY_FILE")), 2)
            key_id = key_ids.pop() if key_ids else None
        work_s = time.monotonic() - t_work
        totals = {"partitions": len(results), "records": 0, "bytes": 0}
        for entry, r in zip(plan.entries, results):
            summary = parse_summary(plan.verb, r["stderr_head"])
            if plan.verb == "profile":
                if args.keep_states:
                    entry.update({"state": r["name"], "state_bytes": r["bytes"], "state_sha256": r["sha256"]})
                entry.update(summary)
                for k in ("records_in", "profiled", "malformed_skipped"):
                    if k in summary:
                        totals[k] = totals.get(k, 0) + summary[k]
            else:
                entry.update({"output": r["name"], "records": r["records"], "bytes": r["bytes"],
                              "sha256": r["sha256"]})
                for k, v in summary.items():
                    if plan.verb != "synth" or k != "events":
                        entry[k] = v
                totals["records"] += r["records"] or 0
                totals["bytes"] += r["bytes"]
                for k in ("records_in", "malformed_skipped", "users", "sessions"):
                    if k in summary:
                        totals[k] = totals.get(k, 0) + summary[k]
            entry["worker"] = r.get("worker")
            entry["seconds"] = {"doppel": r.get("doppel_s"), "hash_and_count": r.get("scan_s")}
        if plan.verb == "profile":
            del totals["records"], totals["bytes"]
        manifest = {
            "format": MANIFEST_FORMAT,
            "verb": plan.verb,
            "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "doppel": {"path": args.doppel, "version": version},
            "options": plan.options,
            "key_id": key_id,
            "cluster": {"scheduler": args.scheduler or "local", "workers": n_workers, "retries": args.retries},
            "concatenation": plan.concatenation,
            "partitions": plan.entries,
            "outputs": outputs,
            "totals": totals,
            "elapsed_s": round(work_s, 3),
        }
        if not outputs:
            del manifest["outputs"]
        _atomic_json(os.path.join(out, MANIFEST), manifest)  # last: a manifest means a complete run
        shutil.rmtree(os.path.join(out, TMP_DIR), ignore_errors=True)
        total_s = time.monotonic() - t_start
        if plan.verb == "profile":
            log("%s profile: %s records in, %s profiled from %d partitions; profile: %s; manifest: %s"
                % (PROG, _fmt_int(totals.get("records_in")), _fmt_int(totals.get("profiled")), len(results),
                   os.path.join(out, "profile.json"), os.path.join(out, MANIFEST)))
        else:
            log("%s %s: %d partitions, %s records%s, %s bytes written; manifest: %s"
                % (PROG, plan.verb, len(results), _fmt_int(totals["records"]),
                   (" (%s in)" % _fmt_int(totals["records_in"])) if "records_in" in totals else "",
                   _fmt_int(totals["bytes"]), os.path.join(out, MANIFEST)))
        if plan.verb == "profile" and args.keep_states:
            log("  states kept in %s (mode 0600: they hold raw values and per-user records; share only the profile)"
                % os.path.join(out, "states"))
        log("  %.2f s of work on %d workers (%.2f s in all, %.2f s to connect to the cluster)%s"
            % (work_s, n_workers, total_s, startup, "; key id %s" % key_id if key_id else ""))
        return manifest
    except BaseException:
        # nothing of a failed run stays: attempt directories (a task still running
        # elsewhere then fails its rename), and the part files already published
        # (prepare_out_dir made sure that none of these names held anything else)
        shutil.rmtree(os.path.join(out, TMP_DIR), ignore_errors=True)
        for t in plan.tasks + ([plan.merge] if plan.merge else []):
            try:
                os.unlink(os.path.join(out, t["name"]))
            except OSError:
                pass
        if plan.verb == "profile" and args.keep_states:
            shutil.rmtree(os.path.join(out, "states"), ignore_errors=True)
        if created:
            try:
                os.rmdir(out)  # only when empty
            except OSError:
                pass
        raise
    finally:
        if own:
            own[0].close()
            if own[1] is not None:
                own[1].close()


def make_parser():
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Run doppel per partition on a Dask distributed cluster: one task per input file "
                    "(or synth shard), outputs part-NNNNN.* plus manifest.json in --out.")
    sub = p.add_subparsers(dest="verb", metavar="VERB")
    sub.required = True

    def common(sp):
        g = sp.add_argument_group("cluster and output")
        g.add_argument("--scheduler", metavar="ADDR",
                       help="Dask scheduler address (tcp://host:8786); default: start a local cluster")
        g.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N",
                       help="worker processes of the local cluster (default: %(default)s, the CPU count)")
        g.add_argument("--doppel", default="doppel", metavar="PATH",
                       help="the doppel binary on the workers (default: doppel on their PATH)")
        g.add_argument("--out", required=True, metavar="DIR",
                       help="output directory (created; must be empty unless --overwrite)")
        g.add_argument("--overwrite", action="store_true",
                       help="replace an earlier run's files in --out (the manifest is removed first)")
        g.add_argument("--retries", type=int, default=2, metavar="N",
                       help="retries of a failed task (default 2)")
        g.add_argument("--wait-workers", type=float, default=60, metavar="S",
                       help="seconds to wait for a first worker (default 60)")
        g.add_argument("--connect-timeout", type=float, default=30, metavar="S",
                       help="seconds to wait for the scheduler (default 30)")
        g.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")

    def reading(sp):
        sp.add_argument("--dialect", help="input dialect (auto, generic, amplitude, segment, mixpanel, ga4)")
        sp.add_argument("--format", help="input format (auto, jsonl, csv)")
        sp.add_argument("--max-record", metavar="SIZE", help="longest record accepted (default 64M)")
        sp.add_argument("--strict", action="store_true", help="a malformed record fails its partition")

    sp = sub.add_parser("profile", help="profile per partition, then merge into profile.json")
    sp.add_argument("inputs", nargs="+", metavar="IN", help="input files or globs: one partition each")
    sp.add_argument("--k", help="k-anonymity threshold (default 10)")
    sp.add_argument("--session-gap", metavar="DUR", help="inactivity that ends a session (default 30m)")
    sp.add_argument("--max-users", metavar="N", help="per-user state bound per partition")
    sp.add_argument("--now", metavar="TIME", help="reference time for TIME_FUTURE (default: now, the same for all)")
    sp.add_argument("-k", "--key", metavar="KEY", help="key file (optional: keys user hashes, records the key id)")
    sp.add_argument("--keep-states", action="store_true",
                    help="keep the partial states in OUT/states (mode 0600: they hold raw values)")
    reading(sp)
    common(sp)

    sp = sub.add_parser("pseudonymize", help="pseudonymize each partition")
    sp.add_argument("inputs", nargs="+", metavar="IN", help="input files or globs: one partition each")
    sp.add_argument("-k", "--key", metavar="KEY", help="key file (default: $DOPPEL_KEY_FILE)")
    sp.add_argument("-p", "--policy", metavar="POLICY", help="policy file (or a reviewed profile)")
    reading(sp)
    common(sp)

    sp = sub.add_parser("sample", help="user-consistent keyed sample of each partition")
    sp.add_argument("inputs", nargs="+", metavar="IN", help="input files or globs: one partition each")
    sp.add_argument("-k", "--key", metavar="KEY", help="key file (default: $DOPPEL_KEY_FILE)")
    sp.add_argument("--users", metavar="RATE", help="keep this share of users: 10%% or 0.1 (required)")
    sp.add_argument("--from", dest="from_", metavar="TIME", help="keep events at or after TIME")
    sp.add_argument("--to", metavar="TIME", help="keep events before TIME")
    sp.add_argument("--where", action="append", default=[], metavar="event=NAME",
                    help="keep only this event name (repeatable)")
    sp.add_argument("-p", "--policy", metavar="POLICY", help="policy for the output")
    sp.add_argument("--raw", action="store_true", help="write records unchanged (raw personal data)")
    for flag, dest in (("--users-n", "users_n"), ("--events-n", "events_n"),
                       ("--stratify", "stratify"), ("--per-stratum", "per_stratum")):
        sp.add_argument(flag, dest=dest, help=argparse.SUPPRESS)  # refused with a reason
    reading(sp)
    common(sp)

    sp = sub.add_parser("synth", help="synthesize N shards (doppel synth --shard i/N)")
    sp.add_argument("profile", metavar="PROFILE", help="the profile to synthesize from")
    sp.add_argument("--shards", type=int, required=True, metavar="N", help="number of shards (tasks)")
    sp.add_argument("--users", metavar="N", help="users in all (default: the profile's)")
    sp.add_argument("--events", metavar="N", help="about N events in all")
    sp.add_argument("--seed", metavar="S", help="random seed (default 0)")
    sp.add_argument("--start", metavar="DATE", help="first day of the window")
    sp.add_argument("--days", metavar="D", help="window length in days")
    sp.add_argument("--format", choices=("jsonl", "csv", "sql"), help="output format (default jsonl)")
    sp.add_argument("--order", choices=("user", "time"), help="user (default) or time order within a shard")
    sp.add_argument("--dialect", help="JSON Lines layout: generic, amplitude, segment, mixpanel")
    sp.add_argument("--table", metavar="NAME", help="SQL table name")
    common(sp)
    return p


def main(argv=None):
    """The CLI. Returns the exit code (0 ok, 1 failed, 2 usage or configuration)."""
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("%s: error: Dask distributed is not installed (Debian: apt-get install python3-dask "
              "python3-distributed; run this script with /usr/bin/python3)" % PROG, file=sys.stderr)
        return 2
    try:
        run(args, log=log)
        if args.verb == "sample" and args.raw:  # as doppel sample does, also under -q
            print("%s sample: warning: --raw: the part files hold raw personal data" % PROG, file=sys.stderr)
    except DriverError as e:
        print("%s %s: error: %s" % (PROG, args.verb, e), file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print("%s %s: interrupted; nothing of this run was kept" % (PROG, args.verb), file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
