#!/usr/bin/env python3
"""Reference profiler in pandas: the summary a data person writes first with
pandas on an event export, for bench/bench_profile.sh only.

  read_json(lines=True)          parse every record into a DataFrame
  json_normalize(properties)     flatten the properties column into columns
  describe()                     count/mean/std/min/quartiles/max of every
                                 numeric column, count/unique/top/freq of the rest
  value_counts()                 of the event name, the user id and a few
                                 categorical property columns
  nunique()                      distinct users

It is far less than `doppel profile` computes (no sessions, transitions,
retention, per-user distributions, PII classification or privacy rules), so
it flatters pandas. Reads JSON Lines from stdin (or the file named by the
first argument) and prints a short summary (records, users, event names).
Needs Debian's python3-pandas (apt-get install python3-pandas)."""
import sys

import pandas as pd

# categorical property columns of the rails-commits events counted by value;
# columns missing from the input are skipped, so any JSON Lines input works
PROPERTY_COUNTS = ["parent_count", "author_tz_raw", "files_changed", "committer_name"]


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else sys.stdin
    df = pd.read_json(src, lines=True, dtype=False, convert_dates=["time"])
    props = pd.json_normalize(df["properties"].tolist()) if "properties" in df else pd.DataFrame()
    df = df.drop(columns=["properties"], errors="ignore")
    # describe() cannot hash lists (components): summarize them by length
    for c in props.columns:
        if props[c].map(lambda v: isinstance(v, list)).any():
            props[c] = props[c].map(lambda v: len(v) if isinstance(v, list) else v)
    summary = [
        df.describe(include="all"),
        props.describe(),
        props.describe(include="object"),
        df["event"].value_counts(),
        df["user_id"].value_counts(),
    ]
    for c in PROPERTY_COUNTS:
        if c in props:
            summary.append(props[c].value_counts())
    users = df["user_id"].nunique()
    events = df["event"].nunique()
    print(f"records {len(df)}, users {users}, event names {events}, property columns {len(props.columns)}, "
          f"{sum(len(s) for s in summary)} summary rows")


if __name__ == "__main__":
    main()
