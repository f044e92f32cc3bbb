#!/bin/sh
# report_chromium.sh DOPPEL SOURCE_DIR [SHARED_DATA] — opens doppel's HTML
# reports in headless Chromium (Debian's chromium package): each renders to
# a PNG without any console message (the page has no scripts, and its
# Content-Security-Policy would log any resource it tried to load), the
# PNG is real and non-trivial, and the rendered DOM holds every section and
# no <script> element; with python3-html5lib installed, the HTML also
# parses without an HTML5 parse error. Reports: a `doppel profile` of
# fixtures/events/report.jsonl, the hostile and minimal hand-written
# profiles, the rails-commits data when SHARED_DATA has it, and the
# `doppel compare --html` scorecard of two fixture datasets (same page
# builder).
# Exits 77 (ctest SKIP_RETURN_CODE) when chromium is not installed.
set -eu
doppel="$1"
src="$2"
data="${3:-$src/../shared/data}"
chrome="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$chrome" ]; then
  echo "report_chromium: skipped: chromium is not installed (apt-get install chromium; setup.sh test does)"
  exit 77
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp"

fail() {
  echo "report_chromium: FAIL: $*"
  exit 1
}

# run_chrome NAME HTML: one headless run writes $tmp/NAME.png (screenshot),
# $tmp/NAME.dom (the rendered DOM) and $tmp/NAME.log (Chromium's log)
run_chrome() {
  timeout 180 "$chrome" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-extensions \
    --hide-scrollbars --user-data-dir="$tmp/profile-$1" --enable-logging=stderr --v=0 \
    --window-size=1280,4000 --screenshot="$tmp/$1.png" --dump-dom "file://$2" >"$tmp/$1.dom" 2>"$tmp/$1.log" ||
    { tail -n 20 "$tmp/$1.log"; fail "$1: chromium exited with an error"; }
}

"$doppel" profile "$src/fixtures/events/report.jsonl" -o "$tmp/fixture.json" --now 2026-12-01 -q
cases="fixture:$tmp/fixture.json hostile:$src/fixtures/profiles/hostile.json minimal:$src/fixtures/profiles/minimal.json"
if [ -r "$data/rails-commits/events.jsonl.gz" ]; then
  "$doppel" profile "$data/rails-commits/events.jsonl.gz" -o "$tmp/rails.json" --now 2026-12-01 -q
  cases="$cases rails:$tmp/rails.json"
else
  echo "report_chromium: no shared data at $data: rails-commits case skipped"
fi

cases="$cases compare:-"

for c in $cases; do
  name="${c%%:*}"
  profile="${c#*:}"
  html="$tmp/$name.html"
  if [ "$name" = compare ]; then
    "$doppel" compare "$src/fixtures/compare/base.jsonl" "$src/fixtures/compare/leak.jsonl" --html "$html" -q
    sections="overview dimensions differences privacy"
  else
    "$doppel" report "$profile" -o "$html" -q
    sections="overview privacy suppressed warnings events properties retention activity sessions paths"
  fi

  # HTML5 parse errors, when Debian's python3-html5lib is there (optional)
  if /usr/bin/python3 -c "import html5lib" 2>/dev/null; then
    /usr/bin/python3 -c "
import sys, html5lib
p = html5lib.HTMLParser(strict=False)
p.parse(open(sys.argv[1], 'rb').read())
for e in p.errors[:5]: print('html5 parse error:', e)
sys.exit(1 if p.errors else 0)" "$html" || fail "$name: the HTML has HTML5 parse errors"
  fi
  run_chrome "$name" "$html"
  png="$tmp/$name.png"
  [ -s "$png" ] || fail "$name: no screenshot written"
  sig="$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')"
  [ "$sig" = "89504e470d0a1a0a" ] || fail "$name: the screenshot is not a PNG ($sig)"
  dims="$(od -An -tu1 -j16 -N8 "$png" | tr -s ' ' | sed 's/^ //')"
  set -- $dims
  width=$(( ($1 << 24) | ($2 << 16) | ($3 << 8) | $4 ))
  height=$(( ($5 << 24) | ($6 << 16) | ($7 << 8) | $8 ))
  [ "$width" -eq 1280 ] && [ "$height" -eq 4000 ] || fail "$name: screenshot is ${width}x${height}, expected 1280x4000"
  size=$(wc -c <"$png")
  [ "$size" -gt 40000 ] || fail "$name: screenshot of $size bytes looks blank"

  dom="$tmp/$name.dom"
  if grep -E ":CONSOLE|Uncaught|Refused to|Content Security Policy|net::ERR" "$tmp/$name.log" >"$tmp/console"; then
    cat "$tmp/console"
    fail "$name: the page logged console messages"
  fi
  for id in $sections; do
    grep -q "<section id=\"$id\">" "$dom" || fail "$name: the rendered DOM has no section '$id'"
  done
  if grep -qi "<script" "$dom"; then fail "$name: the rendered DOM has a <script> element"; fi
  case "$name" in
    hostile)
      grep -q "&lt;script&gt;alert(1)&lt;/script&gt;" "$dom" || fail "hostile: the script-like event name is not shown as text"
      if grep -qi "<img" "$dom"; then fail "hostile: an <img> element reached the DOM"; fi
      ;;
    fixture | rails)
      [ "$(grep -o "<svg" "$dom" | wc -l)" -ge 4 ] || fail "$name: fewer than 4 charts in the DOM"
      grep -q ">Events by hour of the week (UTC)</title>" "$dom" || fail "$name: no hour-of-week heat map"
      ;;
    compare)
      [ "$(grep -o "<span class=\"gauge g-" "$dom" | wc -l)" -ge 11 ] || fail "compare: fewer than 11 gauges in the DOM"
      grep -q "<code>user_id</code>" "$dom" || fail "compare: the privacy table has no field path"
      ;;
  esac
  echo "report_chromium: $name: ok (${size}-byte PNG, $(wc -c <"$html") bytes of HTML)"
done
echo "report_chromium: all reports render cleanly"
