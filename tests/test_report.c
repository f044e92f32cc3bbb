/*
 * test_report.c — doppel report: human formatting, escaping (HTML and
 * Markdown), the page builder as another module uses it, reports of a real
 * `doppel profile` run on fixtures/events/report.jsonl (sections present,
 * well-formed, self-contained, deterministic, unknown keys ignored), a
 * hostile hand-crafted profile (script tags, quotes, ampersands, non-ASCII,
 * control and bidirectional characters, pipes and backticks), a minimal
 * hand-written profile, the Markdown golden file, error messages for
 * documents that are not profiles, the file job (gzip input, atomic output,
 * no partial file), and real-data profiles from ../shared/data when it
 * exists (skipped otherwise).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <math.h>
#include <time.h>
#include <zlib.h>

#include <doppel/doppel.h>

#include "report/html.h"
#include "report/writer.h"
#include "test_html.h"
#include "test_util.h"

/* ---- helpers ---- */

static const char *const section_ids[] = {"overview", "privacy", "suppressed", "warnings", "events",
                                          "properties", "retention", "activity", "sessions", "paths"};

static char *render(const json_t *p, doppel_report_format f, const char *name, size_t *len) {
  doppel_report_options o = {f, name, 0};
  char *out = NULL;
  doppel_diag d;
  doppel_diag_clear(&d);
  doppel_status st = doppel_report_render(p, &o, &out, len, &d);
  if (st != DOPPEL_OK) fprintf(stderr, "render failed: %s\n", d.text);
  assert_int_equal(st, DOPPEL_OK);
  assert_non_null(out);
  return out;
}

static json_t *load_json(const char *path) {
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  if (!j) fprintf(stderr, "%s:%d: %s\n", path, je.line, je.text);
  assert_non_null(j);
  return j;
}

static int icontains(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (const char *p = hay; *p; p++)
    if (!strncasecmp(p, needle, n)) return 1;
  return 0;
}

/* Markdown: outside code spans every '<' and '|' of a table row is
 * escaped; every table row has as many cells as its header; no control
 * characters. */
static void assert_md_safe(const char *md) {
  const char *line = md;
  int cols = -1, in_fence = 0;
  while (*line) {
    const char *e = strchr(line, '\n');
    size_t n = e ? (size_t)(e - line) : strlen(line);
    if (n >= 3 && !strncmp(line, "```", 3)) {
      in_fence = !in_fence;
      line += n + (e ? 1 : 0);
      continue;
    }
    int table = !in_fence && n && line[0] == '|';
    int cells = 0, code = 0;
    size_t fence = 0;
    for (size_t i = 0; i < n && !in_fence; i++) {
      unsigned char ch = (unsigned char)line[i];
      if (ch < 0x20) fail_msg("control byte in Markdown");
      if (ch == '\\' && !code) {
        i++;
        continue;
      }
      if (ch == '`') {
        size_t run = 1;
        while (i + run < n && line[i + run] == '`') run++;
        if (!code) {
          code = 1;
          fence = run;
        } else if (run == fence) {
          code = 0;
        }
        i += run - 1;
        continue;
      }
      if (ch == '|' && table) {
        if (code && i > 0 && line[i - 1] == '\\') continue;
        if (code) fail_msg("unescaped '|' in a code span: %.*s", (int)n, line);
        cells++;
      }
      if (ch == '<' && !code) fail_msg("unescaped '<' in Markdown: %.*s", (int)n, line);
    }
    if (!in_fence && code) fail_msg("unclosed code span: %.*s", (int)n, line);
    if (table) {
      if (cols < 0) cols = cells;
      else if (cells != cols) fail_msg("table row with %d pipes, header has %d: %.*s", cells, cols, (int)n, line);
    } else {
      cols = -1;
    }
    line += n + (e ? 1 : 0);
  }
}

static void assert_sections(const char *html) {
  for (size_t i = 0; i < sizeof section_ids / sizeof section_ids[0]; i++) {
    char want[64], link[64];
    snprintf(want, sizeof want, "<section id=\"%s\">", section_ids[i]);
    snprintf(link, sizeof link, "<a href=\"#%s\">", section_ids[i]);
    if (!strstr(html, want)) fail_msg("no section %s", section_ids[i]);
    if (!strstr(html, link)) fail_msg("no table-of-contents entry for %s", section_ids[i]);
  }
}

/* `doppel profile` of the report fixture, as a document. */
static json_t *fixture_profile(const char *dir) {
  char args[1024], path[512];
  snprintf(path, sizeof path, "%s/p.json", dir);
  snprintf(args, sizeof args, "profile '%s/fixtures/events/report.jsonl' -o p.json --now 2026-12-01 -q",
           DOPPEL_SOURCE_DIR);
  tu_run r = tu_cli(dir, args, NULL);
  if (r.status) fprintf(stderr, "%s\n", r.err ? r.err : "");
  assert_int_equal(r.status, 0);
  tu_run_free(&r);
  return load_json(path);
}

/* ---- formatting and escaping ---- */

static void test_formatting(void **state) {
  (void)state;
  char b[DP_FMT_MAX];
  assert_string_equal(dp_fmt_count(1234567, b, sizeof b), "1,234,567");
  assert_string_equal(dp_fmt_count(999, b, sizeof b), "999");
  assert_string_equal(dp_fmt_count(-1234.4, b, sizeof b), "-1,234");
  assert_string_equal(dp_fmt_count(0, b, sizeof b), "0");
  assert_string_equal(dp_fmt_share(0.123, b, sizeof b), "12.3%");
  assert_string_equal(dp_fmt_share(1, b, sizeof b), "100%");
  assert_string_equal(dp_fmt_share(0, b, sizeof b), "0%");
  assert_string_equal(dp_fmt_share(0.9996, b, sizeof b), ">99.9%");
  assert_string_equal(dp_fmt_share(0.0045, b, sizeof b), "0.45%");
  assert_string_equal(dp_fmt_share(0.00001, b, sizeof b), "<0.01%");
  assert_string_equal(dp_fmt_share(0.05966, b, sizeof b), "6.0%");
  assert_string_equal(dp_fmt_duration(45, b, sizeof b), "45 s");
  assert_string_equal(dp_fmt_duration(192, b, sizeof b), "3.2 min");
  assert_string_equal(dp_fmt_duration(5400, b, sizeof b), "1.5 h");
  assert_string_equal(dp_fmt_duration(1800, b, sizeof b), "30 min");
  assert_string_equal(dp_fmt_duration(0, b, sizeof b), "0 s");
  assert_string_equal(dp_fmt_duration(0.4, b, sizeof b), "0.4 s");
  assert_string_equal(dp_fmt_duration(-497.8, b, sizeof b), "-8.3 min");
  assert_string_equal(dp_fmt_duration(3 * 86400 + 3600, b, sizeof b), "3 d");
  assert_string_equal(dp_fmt_number(318.801, b, sizeof b), "318.8");
  assert_string_equal(dp_fmt_number(1.07608, b, sizeof b), "1.08");
  assert_string_equal(dp_fmt_number(0.0452, b, sizeof b), "0.0452");
  assert_string_equal(dp_fmt_number(707772.4, b, sizeof b), "707,772");
  assert_string_equal(dp_fmt_number(2.5, b, sizeof b), "2.5");
  assert_string_equal(dp_fmt_bytes(8111307, b, sizeof b), "8.1 MB");
  assert_string_equal(dp_fmt_bytes(812, b, sizeof b), "812 B");
  assert_string_equal(dp_fmt_number(NAN, b, sizeof b), DP_DASH);
  int64_t days;
  assert_int_equal(dp_date_parse("2024-03-04", &days), 0);
  assert_string_equal(dp_date_format(days + 28, b, sizeof b), "2024-04-01");
  assert_int_equal(dp_date_parse("2004-11-22", &days), 0);
  assert_string_equal(dp_date_format(days, b, sizeof b), "2004-11-22");
  assert_int_equal(dp_date_parse("1970-01-01", &days), 0);
  assert_int_equal(days, 0);
  assert_int_equal(dp_date_parse("<2024-01-02>", &days), -1);
}

static char *html_escaped(const char *s, size_t n) {
  dp_buf b;
  dp_buf_init(&b, 0);
  assert_int_equal(dp_html_escape(&b, s, n), DOPPEL_OK);
  assert_int_equal(dp_buf_terminate(&b), DOPPEL_OK);
  return b.data ? b.data : strdup("");
}

static void test_escaping(void **state) {
  (void)state;
  const char *hostile = "<script>alert('x')</script> & \"q\"";
  char *e = html_escaped(hostile, strlen(hostile));
  assert_string_equal(e, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
  free(e);
  /* control characters become control pictures, C1 / bidi / invalid bytes U+FFFD, the rest stays */
  const char in[] = "a\x01" "b\n\x7f" "caf\xc3\xa9 \xe2\x98\x95 \xc2\x85 \xe2\x80\xae \xff";
  e = html_escaped(in, sizeof in - 1);
  assert_string_equal(e, "a\xe2\x90\x81" "b\xe2\x90\x8a\xe2\x90\xa1" "caf\xc3\xa9 \xe2\x98\x95 \xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd");
  free(e);
  /* a NUL inside the span is shown, not a terminator */
  e = html_escaped("x\0y", 3);
  assert_string_equal(e, "x\xe2\x90\x80y");
  free(e);
  dp_buf b;
  dp_buf_init(&b, 0);
  assert_int_equal(dp_md_escape(&b, "a|b*c_<d>`e`\\", 13, 1), DOPPEL_OK);
  dp_buf_terminate(&b);
  assert_string_equal(b.data, "a\\|b\\*c\\_\\<d\\>\\`e\\`\\\\");
  b.len = 0;
  assert_int_equal(dp_md_escape(&b, "a|b", 3, 0), DOPPEL_OK);
  dp_buf_terminate(&b);
  assert_string_equal(b.data, "a|b");
  dp_buf_release(&b);
}

/* The page builder as `compare --html` uses it. */
static void test_page_builder(void **state) {
  (void)state;
  dp_html h;
  dp_html_init(&h, 0);
  dp_html_begin(&h, "Scorecard <real> vs synth", "a & b");
  dp_html_kicker(&h, "doppel <compare>");
  dp_html_section(&h, "Overall Score!", "Overall");
  dp_html_figures_begin(&h);
  dp_html_figure(&h, "Score", "0.91", "of 1");
  dp_html_figures_end(&h);
  dp_html_table_begin(&h, "Dimension|#Score");
  dp_html_row_begin(&h, "warning");
  dp_html_td(&h, "event <mix>");
  dp_html_td(&h, "0.97");
  dp_html_row_end(&h);
  dp_html_row_begin(&h, NULL);
  dp_html_td(&h, "short row");
  dp_html_table_end(&h); /* closes the row, fills the missing cell */
  dp_html_table_begin(&h, "Dimension|Distance vs tolerance");
  dp_html_row_begin(&h, NULL);
  dp_html_td(&h, "mix");
  dp_html_td_begin(&h);
  dp_html_gauge_spec g1 = {0.03, 0.1, 0.05, 0.02, "ok", "distance 0.03 <tolerance> \"0.05\""};
  dp_html_gauge(&h, &g1);
  dp_html_td_end(&h);
  dp_html_row_begin(&h, NULL);
  dp_html_td(&h, "clamped");
  dp_html_td_begin(&h);
  dp_html_gauge_spec g2 = {2, 0, -1, NAN, "bogus", NULL}; /* scale 1: full bar, tick at 0, no second tick */
  dp_html_gauge(&h, &g2);
  dp_html_td_end(&h);
  dp_html_table_end(&h);
  dp_html_section(&h, "charts", "Charts");
  dp_html_bar bars[2] = {{"a", 3, NULL}, {"a very long label that will be shortened on screen", 1, "1 (tip)"}};
  dp_html_bar_spec bs = {"Bars", bars, 2, 0, 0};
  dp_html_bar_chart(&h, &bs);
  double y1[3] = {0.5, 0.25, 0.125}, y2[3] = {0.4, NAN, 0.2};
  dp_html_series s[2] = {{"real", NULL, y1, 3}, {"synthetic", NULL, y2, 3}};
  dp_html_line_spec ls = {"Retention", "day", "users", s, 2, DP_HTML_PERCENT | DP_HTML_MARKERS, NULL, NULL, 1, 0};
  dp_html_grid_begin(&h);
  dp_html_line_chart(&h, &ls);
  double cells[6] = {-0.2, 0, 0.1, 0.05, -0.05, 0.2};
  const char *rl[2] = {"r1", "r2"}, *cl[3] = {"c1", NULL, "c3"};
  dp_html_heatmap_spec hs = {"Difference", cells, 2, 3, rl, cl, NULL, "real minus synthetic", DP_HTML_DIVERGING};
  dp_html_heatmap(&h, &hs);
  dp_html_grid_end(&h);
  dp_buf page;
  dp_buf_init(&page, 0);
  assert_int_equal(dp_html_end(&h, "footer <x>", &page), DOPPEL_OK);
  dp_buf_terminate(&page);
  const char *html = page.data;
  assert_well_formed(html);
  assert_self_contained(html, 0);
  assert_non_null(strstr(html, "<title>Scorecard &lt;real&gt; vs synth</title>"));
  assert_non_null(strstr(html, "<section id=\"overallscore\">"));
  assert_non_null(strstr(html, "<a href=\"#overallscore\">Overall</a>"));
  assert_non_null(strstr(html, "<a href=\"#charts\">Charts</a>"));
  assert_non_null(strstr(html, "<tr class=\"warning\"><td>event &lt;mix&gt;</td><td class=\"num\">0.97</td></tr>"));
  assert_non_null(strstr(html, "<tr><td>short row</td><td class=\"num\"></td></tr>"));
  assert_non_null(strstr(html, ">a very long label that will b\xe2\x80\xa6</text>"));           /* shortened on screen */
  assert_non_null(strstr(html, "a very long label that will be shortened on screen: 1 (tip)")); /* whole in the tooltip */
  assert_non_null(strstr(html, "<title>real, day 2: 12.5%</title>"));
  assert_non_null(strstr(html, "stroke-dasharray")); /* the second series is dashed */
  assert_non_null(strstr(html, "<title>r1 c1: -0.2</title>"));
  assert_non_null(strstr(html, "<footer>footer &lt;x&gt;</footer>"));
  assert_non_null(strstr(html, "<p class=\"kicker\">doppel &lt;compare&gt;</p>"));
  assert_non_null(strstr(html, "<td><span class=\"gauge g-ok\" role=\"img\" title=\"distance 0.03 &lt;tolerance&gt; "
                               "&quot;0.05&quot;\" aria-label=\"distance 0.03 &lt;tolerance&gt; &quot;0.05&quot;\">"
                               "<span class=\"gv\" style=\"width:30.0%\"></span><span class=\"gm\" style=\"left:50.0%\">"
                               "</span><span class=\"gm2\" style=\"left:20.0%\"></span></span></td>"));
  assert_non_null(strstr(html, "<td><span class=\"gauge g-accent\" aria-hidden=\"true\"><span class=\"gv\" "
                               "style=\"width:100.0%\"></span><span class=\"gm\" style=\"left:0.0%\"></span></span></td>"));
  assert_non_null(strstr(html, ".gauge{")); /* its style is in the sheet */
  dp_buf_release(&page);
  dp_html_release(&h);

  /* the default kicker, also after one was set and cleared */
  dp_html_init(&h, 0);
  dp_html_begin(&h, "x", NULL);
  dp_html_kicker(&h, "other");
  dp_html_kicker(&h, NULL);
  dp_buf_init(&page, 0);
  assert_int_equal(dp_html_end(&h, NULL, &page), DOPPEL_OK);
  dp_buf_terminate(&page);
  assert_non_null(strstr(page.data, "<p class=\"kicker\">doppel report</p>"));
  dp_buf_release(&page);
  dp_html_release(&h);

  /* misuse is sticky and reported by dp_html_end */
  dp_html_init(&h, 0);
  dp_html_begin(&h, "x", NULL);
  assert_int_equal(dp_html_row_begin(&h, NULL), DOPPEL_E_INTERNAL);
  assert_int_equal(dp_html_p(&h, "later calls do nothing"), DOPPEL_E_INTERNAL);
  dp_buf_init(&page, 0);
  assert_int_equal(dp_html_end(&h, NULL, &page), DOPPEL_E_INTERNAL);
  assert_int_equal(page.len, 0);
  dp_html_release(&h);
  /* the size bound */
  dp_html_init(&h, 1000);
  dp_html_begin(&h, "x", NULL);
  dp_html_section(&h, "s", "S");
  doppel_status st = DOPPEL_OK;
  for (int i = 0; i < 100 && st == DOPPEL_OK; i++) st = dp_html_p(&h, "a paragraph of some length to fill the page");
  assert_int_equal(st, DOPPEL_E_LIMIT);
  dp_html_release(&h);
}

/* ---- reports of real profiles ---- */

static void test_fixture_html(void **state) {
  (void)state;
  const char *dir0 = tu_tmpdir();
  char dir[256];
  snprintf(dir, sizeof dir, "%s", dir0);
  json_t *p = fixture_profile(dir);
  size_t n1, n2;
  clock_t t0 = clock();
  char *html = render(p, DOPPEL_REPORT_HTML, "p.json", &n1);
  double ms = (double)(clock() - t0) * 1000.0 / CLOCKS_PER_SEC;
  fprintf(stderr, "fixture report: %zu bytes of HTML in %.1f ms\n", n1, ms);
  assert_int_equal(strlen(html), n1);
  assert_well_formed(html);
  assert_self_contained(html, 0);
  assert_sections(html);
  /* overview */
  assert_non_null(strstr(html, "<title>Profile of report.jsonl</title>"));
  assert_non_null(strstr(html, "<div class=\"l\">Events</div><div class=\"v\">1,424</div>"));
  assert_non_null(strstr(html, "<div class=\"l\">Users</div><div class=\"v\">48</div>"));
  assert_non_null(strstr(html, "k = 10: nothing held by fewer than 10 distinct users is listed"));
  assert_non_null(strstr(html, "30 min of inactivity ends a session"));
  /* privacy ledger: direct identifiers highlighted, treatments readable */
  assert_non_null(strstr(html, "<tr class=\"direct\"><td><code>properties.email</code></td><td><span class=\"badge "
                               "b-direct\">direct identifier</span></td><td>e-mail</td>"));
  assert_non_null(strstr(html, "hash (domain email, e-mail shaped)"));
  assert_non_null(strstr(html, "<tr class=\"quasi\"><td><code>properties.comment</code>"));
  assert_non_null(strstr(html, "scrub (personal data inside the text is replaced)"));
  assert_non_null(strstr(html, "name matches <code>email</code>; e-mail 100% of 68 values"));
  /* held back: the k rule in plain words, the counts */
  assert_non_null(strstr(html, "at least 10 different users have it"));
  assert_non_null(strstr(html, "<td><code>event_names</code></td><td class=\"num\">1</td>"));
  /* warnings grouped by severity */
  const char *e = strstr(html, "<h3>Errors (1)</h3>"), *w = strstr(html, "<h3>Warnings (1)</h3>"),
             *i = strstr(html, "<h3>Notes (2)</h3>");
  assert_true(e && w && i && e < w && w < i);
  assert_non_null(strstr(html, "b-error\">PII_IN_KEY</span>"));
  /* catalogs */
  assert_non_null(strstr(html, "<td><code>view_item</code></td><td class=\"num\">783</td>"));
  assert_non_null(strstr(html, "<h3>checkout (92 events)</h3>"));
  assert_non_null(strstr(html, "shape only: <code>a.9@a.a</code> 100%"));
  assert_null(strstr(html, "@example.com")); /* no raw e-mail: the profile has none, the report adds none */
  /* charts: retention lines, hour-of-week heat map (7 x 24 cells with tooltips), events over time */
  assert_non_null(strstr(html, "aria-labelledby"));
  assert_non_null(strstr(html, "\">Day-N retention</title>"));
  int cells = 0;
  for (const char *q = html; (q = strstr(q, "<rect x=")); q++)
    if (strstr(q, "<title>") && !strncmp(strstr(q, "<title>") + 7, "Mon ", 4)) cells++;
  assert_true(cells >= 24);
  assert_non_null(strstr(html, "<title>Sat 12:00: 3.5%</title>"));
  assert_non_null(strstr(html, "Events per day (UTC), from 2024-03-04"));
  assert_non_null(strstr(html, "<code>app_open</code> \xe2\x86\x92 <code>view_item</code> \xe2\x86\x92 <code>add_to_cart</code>"));
  /* determinism: twice, and through a dump and reload of the profile */
  char *again = render(p, DOPPEL_REPORT_HTML, "p.json", &n2);
  assert_int_equal(n1, n2);
  assert_memory_equal(html, again, n1);
  free(again);
  char *dumped = doppel_profile_dump(p, 0);
  json_t *p2 = json_loads(dumped, 0, NULL);
  assert_non_null(p2);
  again = render(p2, DOPPEL_REPORT_HTML, "p.json", &n2);
  assert_int_equal(n1, n2);
  assert_memory_equal(html, again, n1);
  free(again);
  free(dumped);
  json_decref(p2);
  free(html);
  json_decref(p);
  tu_rmdir(dir);
}

static void test_fixture_markdown(void **state) {
  (void)state;
  const char *dir0 = tu_tmpdir();
  char dir[256];
  snprintf(dir, sizeof dir, "%s", dir0);
  json_t *p = fixture_profile(dir);
  size_t n;
  char *md = render(p, DOPPEL_REPORT_MARKDOWN, "p.json", &n);
  assert_md_safe(md);
  assert_int_equal(strncmp(md, "# Profile of report.jsonl\n", 26), 0);
  static const char *const heads[] = {"## Overview", "## Privacy ledger", "## What was held back", "## Warnings",
                                      "## Event catalog", "## Property catalog", "## Retention", "## Activity",
                                      "## Sessions", "## Transitions and paths"};
  const char *prev = md;
  for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
    char want[64];
    snprintf(want, sizeof want, "\n%s\n", heads[i]);
    const char *at = strstr(md, want);
    if (!at || at < prev) fail_msg("missing or out of order: %s", heads[i]);
    prev = at;
  }
  assert_non_null(strstr(md, "- [Privacy ledger](#privacy-ledger)\n"));
  assert_non_null(strstr(md, "| Field | Class | Kind | Evidence | Proposed treatment |\n| --- | --- | --- | --- | --- |\n"));
  assert_non_null(strstr(md, "| `properties.email` | **direct identifier** | e-mail |"));
  assert_non_null(strstr(md, "| Day | Active | Users counted |\n"));
  assert_non_null(strstr(md, "| 1 | 45.8% | 48 |\n"));
  /* the hour-of-week text grid: a header, seven weekday rows of 24 two-character cells, a legend */
  const char *grid = strstr(md, "```text\nUTC  00    03");
  assert_non_null(grid);
  static const char *const days[] = {"\nMon  ", "\nTue  ", "\nWed  ", "\nThu  ", "\nFri  ", "\nSat  ", "\nSun  "};
  for (int d = 0; d < 7; d++) {
    const char *row = strstr(grid, days[d]);
    assert_non_null(row);
    row += 6;
    size_t chars = 0;
    for (const char *q = row; *q && *q != '\n'; q++)
      if (((unsigned char)*q & 0xC0) != 0x80) chars++;
    assert_int_equal(chars, 48);
  }
  assert_non_null(strstr(grid, "peak (3.5% of events)"));
  free(md);
  json_decref(p);
  tu_rmdir(dir);
}

/* The Markdown of the committed fixture profile is pinned (the same file is
 * the golden stdout of the report-md CLI case). DOPPEL_UPDATE_GOLDEN=1
 * rewrites it after a deliberate change. */
static void test_markdown_golden(void **state) {
  (void)state;
  char ppath[512], gpath[512];
  snprintf(ppath, sizeof ppath, "%s/fixtures/profiles/report.profile.json", DOPPEL_SOURCE_DIR);
  snprintf(gpath, sizeof gpath, "%s/fixtures/golden/report.md", DOPPEL_SOURCE_DIR);
  json_t *p = load_json(ppath);
  size_t n;
  char *md = render(p, DOPPEL_REPORT_MARKDOWN, "report.profile.json", &n);
  if (getenv("DOPPEL_UPDATE_GOLDEN")) assert_int_equal(tu_write_file(gpath, md, n), 0);
  size_t gn;
  char *golden = tu_read_file(gpath, &gn);
  assert_non_null(golden);
  if (gn != n || memcmp(golden, md, n) != 0)
    fail_msg("Markdown report differs from fixtures/golden/report.md (DOPPEL_UPDATE_GOLDEN=1 rewrites it)");
  free(golden);
  free(md);
  json_decref(p);
}

/* Keys the renderer does not know change nothing. */
static void add_unknown(json_t *o, int depth) {
  if (json_is_object(o)) {
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(o, tmp, k, v) add_unknown(v, depth + 1);
    json_object_set_new(o, "zz_future_key", json_pack("{s:[i,s,{s:n}]}", "x", depth, "<b>", "y"));
  } else if (json_is_array(o)) {
    size_t i;
    json_t *v;
    json_array_foreach(o, i, v) add_unknown(v, depth + 1);
  }
}

static void test_unknown_keys(void **state) {
  (void)state;
  char ppath[512];
  snprintf(ppath, sizeof ppath, "%s/fixtures/profiles/report.profile.json", DOPPEL_SOURCE_DIR);
  json_t *p = load_json(ppath), *q = load_json(ppath);
  /* objects whose keys are data (next, types, matches, suppressed, identifiers) are left alone */
  json_t *sections[] = {json_object_get(q, "source"), json_object_get(q, "population"),
                        json_object_get(q, "sessions"), json_object_get(q, "time")};
  for (size_t i = 0; i < 4; i++) add_unknown(sections[i], 0);
  size_t j;
  json_t *e;
  json_array_foreach(json_object_get(json_object_get(q, "events"), "list"), j, e)
    json_object_set_new(e, "zz_future_key", json_string("<x>"));
  json_array_foreach(json_object_get(json_object_get(q, "privacy"), "fields"), j, e)
    json_object_set_new(e, "zz_future_key", json_true());
  json_array_foreach(json_object_get(q, "properties"), j, e) json_object_set_new(e, "zz_future_key", json_integer(1));
  json_array_foreach(json_object_get(q, "warnings"), j, e) json_object_set_new(e, "zz_future_key", json_null());
  json_object_set_new(q, "zz_future_section", json_pack("{s:[i]}", "a", 1));
  for (int f = 0; f < 2; f++) {
    size_t n1, n2;
    char *a = render(p, (doppel_report_format)f, NULL, &n1), *b = render(q, (doppel_report_format)f, NULL, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    free(a);
    free(b);
  }
  json_decref(p);
  json_decref(q);
}

static void test_hostile(void **state) {
  (void)state;
  char ppath[512];
  snprintf(ppath, sizeof ppath, "%s/fixtures/profiles/hostile.json", DOPPEL_SOURCE_DIR);
  json_t *p = load_json(ppath);
  size_t n;
  char *html = render(p, DOPPEL_REPORT_HTML, "<script>.json", &n);
  assert_well_formed(html);
  assert_self_contained(html, 1); /* a URL appears as escaped text in a value, never as an attribute */
  assert_sections(html);
  assert_false(icontains(html, "<script"));
  assert_false(icontains(html, "<svg onload"));
  assert_false(icontains(html, "<b>"));
  assert_false(icontains(html, "<img"));
  assert_non_null(strstr(html, "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>"));
  assert_non_null(strstr(html, "<code>a&quot;b&#39;c&amp;d&amp;amp;</code>"));
  assert_non_null(strstr(html, "caf\xc3\xa9 \xe2\x98\x95 \xe6\x97\xa5\xe6\x9c\xac"));
  assert_non_null(strstr(html, "ctrl\xe2\x90\x81\xe2\x90\x9f\xe2\x90\xa1\xef\xbf\xbd\xef\xbf\xbd tab\xe2\x90\x89here\xe2\x90\x8anewline"));
  assert_non_null(strstr(html, "bidi\xef\xbf\xbd" "evil\xef\xbf\xbdx"));
  assert_non_null(strstr(html, "&lt;img src=x onerror=alert(3)&gt;"));
  assert_non_null(strstr(html, "<td>&amp;lt; already escaped &amp;amp;</td>"));
  assert_non_null(strstr(html, "hash (domain &lt;script&gt;, format &quot;&gt;&lt;svg onload=alert(4)&gt;)"));
  assert_non_null(strstr(html, "(empty string)"));
  assert_non_null(strstr(html, "<code>12345678901234</code>"));
  assert_non_null(strstr(html, "<title>Profile of &lt;script&gt;alert(1)&lt;/script&gt;.jsonl and 1 more file</title>"));
  /* the scope splits at the listed event name */
  assert_non_null(strstr(html, "<code>properties.&lt;b&gt;x&lt;/b&gt;</code> on <code>&lt;script&gt;alert(1)&lt;/script&gt;</code>"));
  /* an unknown severity still shows */
  assert_non_null(strstr(html, "<h3>Other (1)</h3>"));
  free(html);
  char *md = render(p, DOPPEL_REPORT_MARKDOWN, "<script>.json", &n);
  assert_md_safe(md);
  assert_non_null(strstr(md, "| `<script>alert(1)</script>` |"));
  assert_non_null(strstr(md, "\\<script\\>document.cookie\\</script\\>"));
  assert_non_null(strstr(md, "| ``pipe\\|name `tick` **bold** _u_ [l](x) \\ # ~ $x$`` |"));
  free(md);
  json_decref(p);
}

static void test_minimal(void **state) {
  (void)state;
  json_t *p = json_loads("{\"format\": \"doppel-profile/1\", \"events\": {\"list\": "
                         "[{\"name\": \"signup\", \"share\": 0.2}, {\"name\": \"purchase\", \"share\": 0.8}]}}",
                         0, NULL);
  assert_non_null(p);
  size_t n;
  char *html = render(p, DOPPEL_REPORT_HTML, NULL, &n);
  assert_well_formed(html);
  assert_self_contained(html, 0);
  assert_sections(html);
  assert_non_null(strstr(html, "<td><code>signup</code></td><td class=\"num\">\xe2\x80\x94</td>"));
  assert_non_null(strstr(html, "This profile has no privacy ledger."));
  assert_non_null(strstr(html, "This profile has no hour-of-week activity."));
  free(html);
  char *md = render(p, DOPPEL_REPORT_MARKDOWN, NULL, &n);
  assert_md_safe(md);
  assert_non_null(strstr(md, "| `purchase` | \xe2\x80\x94 | 80.0% |"));
  free(md);
  json_decref(p);
  /* the bare minimum: only the format */
  p = json_loads("{\"format\": \"doppel-profile/1\"}", 0, NULL);
  html = render(p, DOPPEL_REPORT_HTML, NULL, &n);
  assert_well_formed(html);
  assert_sections(html);
  free(html);
  json_decref(p);
}

/* ---- not profiles ---- */

static void expect_bad(const char *json, const char *text) {
  json_t *p = json_loads(json, JSON_DECODE_ANY, NULL);
  assert_non_null(p);
  doppel_diag d;
  doppel_diag_clear(&d);
  char *out = (char *)1;
  assert_int_equal(doppel_report_render(p, NULL, &out, NULL, &d), DOPPEL_E_DATA);
  assert_null(out);
  if (strcmp(d.text, text) != 0) fail_msg("for %s\n got: %s\nwant: %s", json, d.text, text);
  assert_int_equal(doppel_report_check(p, NULL), DOPPEL_E_DATA);
  json_decref(p);
}

static void test_not_profiles(void **state) {
  (void)state;
  expect_bad("[1, 2]", "not a doppel profile: the document is an array, expected an object with \"format\": "
                       "\"doppel-profile/1\"");
  expect_bad("{}", "not a doppel profile: no \"format\" key (expected \"format\": \"doppel-profile/1\")");
  expect_bad("{\"format\": 1}", "not a doppel profile: \"format\" is a number, expected the string \"doppel-profile/1\"");
  expect_bad("{\"format\": \"doppel-policy/1\", \"rules\": []}", "this is a policy (doppel-policy/1), not a profile");
  expect_bad("{\"format\": \"doppel-profile-state/1\"}",
             "this is a partial profile state (doppel-profile-state/1), not a profile: finalize it with 'doppel "
             "merge STATE -o PROFILE.json' and report on that");
  expect_bad("{\"format\": \"doppel-profile/2\"}",
             "unsupported profile version \"doppel-profile/2\" (this doppel reads doppel-profile/1)");
  expect_bad("{\"format\": \"something\"}", "not a doppel profile: \"format\" is \"something\" (expected \"doppel-profile/1\")");
  expect_bad("{\"format\": \"doppel-profile/1\", \"events\": []}", "\"events\" must be an object, got an array");
  expect_bad("{\"format\": \"doppel-profile/1\", \"events\": {\"list\": {}}}",
             "events: \"list\" must be an array, got an object");
  expect_bad("{\"format\": \"doppel-profile/1\", \"events\": {\"list\": [{\"name\": \"a\"}, {\"share\": 1}]}}",
             "events.list[1]: \"name\" must be a string, got nothing");
  expect_bad("{\"format\": \"doppel-profile/1\", \"events\": {\"list\": [{\"name\": 3}]}}",
             "events.list[0]: \"name\" must be a string, got a number");
  expect_bad("{\"format\": \"doppel-profile/1\", \"events\": {\"list\": [{\"name\": \"a\", \"next\": [1]}]}}",
             "events.list[0]: \"next\" must be an object, got an array");
  expect_bad("{\"format\": \"doppel-profile/1\", \"time\": {\"hour_of_week\": [1, 2]}}",
             "time.hour_of_week must have 168 numbers (one per hour of the week, Monday 00:00 UTC first), got 2");
  expect_bad("{\"format\": \"doppel-profile/1\", \"privacy\": {\"fields\": [{\"class\": \"none\"}]}}",
             "privacy.fields[0]: \"path\" must be a string, got nothing");
  expect_bad("{\"format\": \"doppel-profile/1\", \"properties\": [{\"path\": \"p\", \"values\": 3}]}",
             "properties[0]: \"values\" must be an object, got a number");
  expect_bad("{\"format\": \"doppel-profile/1\", \"warnings\": [\"oops\"]}", "warnings[0] must be an object, got a string");
}

/* ---- files and the job ---- */

static void test_load_and_job(void **state) {
  (void)state;
  const char *dir0 = tu_tmpdir();
  char dir[256], path[512], out[512], gz[512];
  snprintf(dir, sizeof dir, "%s", dir0);
  doppel_diag d;
  json_t *p;
  /* a missing file */
  snprintf(path, sizeof path, "%s/nope.json", dir);
  assert_int_equal(doppel_report_load(path, &p, &d), DOPPEL_E_IO);
  assert_null(p);
  assert_non_null(strstr(d.text, "cannot open '"));
  assert_non_null(strstr(d.text, "No such file or directory"));
  /* invalid JSON: line and column */
  snprintf(path, sizeof path, "%s/bad.json", dir);
  tu_write_file(path, "{\"format\": \"doppel-profile/1\",\n  \"events\": {\"list\": [}\n}\n", 55);
  assert_int_equal(doppel_report_load(path, &p, &d), DOPPEL_E_DATA);
  assert_int_equal(d.line, 2);
  assert_true(d.column > 0);
  assert_int_equal(strncmp(d.text, "invalid JSON: ", 14), 0);
  assert_string_equal(d.source, path);
  /* an empty file */
  tu_write_file(path, "", 0);
  assert_int_equal(doppel_report_load(path, &p, &d), DOPPEL_E_DATA);
  assert_string_equal(d.text, "empty file: not a doppel profile");
  /* gzip is read transparently and gives the same report */
  char src[512];
  snprintf(src, sizeof src, "%s/fixtures/profiles/report.profile.json", DOPPEL_SOURCE_DIR);
  size_t n;
  char *text = tu_read_file(src, &n);
  snprintf(gz, sizeof gz, "%s/p.json.gz", dir);
  gzFile g = gzopen(gz, "wb");
  assert_non_null(g);
  assert_int_equal(gzwrite(g, text, (unsigned)n), (int)n);
  gzclose(g);
  free(text);
  doppel_report_options o = {DOPPEL_REPORT_MARKDOWN, "report.profile.json", 0};
  doppel_report_summary sum;
  snprintf(out, sizeof out, "%s/r.md", dir);
  assert_int_equal(doppel_report(gz, out, &o, &sum, &d), DOPPEL_OK);
  assert_int_equal(sum.events, 5);
  assert_int_equal(sum.properties, 19);
  assert_int_equal(sum.fields, 10);
  assert_int_equal(sum.direct_identifiers, 2);
  assert_int_equal(sum.untreated, 0);
  assert_int_equal(sum.warnings[0], 1);
  assert_int_equal(sum.warnings[1], 1);
  assert_int_equal(sum.warnings[2], 2);
  char gpath[512];
  snprintf(gpath, sizeof gpath, "%s/fixtures/golden/report.md", DOPPEL_SOURCE_DIR);
  size_t a, b;
  char *got = tu_read_file(out, &a), *want = tu_read_file(gpath, &b);
  assert_non_null(got);
  assert_non_null(want);
  assert_int_equal(a, b);
  assert_int_equal(sum.bytes, a);
  assert_memory_equal(got, want, a);
  free(got);
  free(want);
  /* a failed job leaves no file and no temporary */
  snprintf(out, sizeof out, "%s/r2.html", dir);
  char pol[512];
  snprintf(pol, sizeof pol, "%s/fixtures/policy/example.json", DOPPEL_SOURCE_DIR);
  assert_int_equal(doppel_report(pol, out, NULL, &sum, &d), DOPPEL_E_DATA);
  assert_string_equal(d.text, "this is a policy (doppel-policy/1), not a profile");
  assert_string_equal(d.source, pol);
  assert_int_equal(access(out, F_OK), -1);
  assert_int_equal(tu_count_entries(dir, ".r2"), 0);
  /* the output may not be the input */
  assert_int_equal(doppel_report(gz, gz, NULL, &sum, &d), DOPPEL_E_SAME_FILE);
  tu_rmdir(dir);
}

static void test_cli(void **state) {
  (void)state;
  const char *dir0 = tu_tmpdir();
  char dir[256], args[1024];
  snprintf(dir, sizeof dir, "%s", dir0);
  snprintf(args, sizeof args, "report '%s/fixtures/profiles/report.profile.json' -o r.html", DOPPEL_SOURCE_DIR);
  tu_run r = tu_cli(dir, args, NULL);
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.err, "doppel report: wrote r.html (HTML, "));
  assert_non_null(strstr(r.err, "5 event names, 19 properties, 10 ledger fields (2 direct identifiers), 1 error, "
                                "1 warning, 2 notes"));
  tu_run_free(&r);
  snprintf(args, sizeof args, "report '%s/fixtures/profiles/report.profile.json' -o r.md -q", DOPPEL_SOURCE_DIR);
  r = tu_cli(dir, args, NULL);
  assert_int_equal(r.status, 0);
  assert_string_equal(r.err, "");
  tu_run_free(&r);
  char path[512];
  snprintf(path, sizeof path, "%s/r.md", dir);
  char *md = tu_read_file(path, NULL);
  assert_non_null(md);
  assert_int_equal(strncmp(md, "# Profile of report.jsonl", 25), 0);
  free(md);
  /* stdin in, stdout out */
  snprintf(path, sizeof path, "%s/fixtures/profiles/minimal.json", DOPPEL_SOURCE_DIR);
  r = tu_cli(dir, "report - -o - -q", path);
  assert_int_equal(r.status, 0);
  assert_int_equal(strncmp(r.out, "<!DOCTYPE html>", 15), 0);
  assert_non_null(strstr(r.out, "<code>signup</code>"));
  tu_run_free(&r);
  tu_rmdir(dir);
}

/* ---- real data ---- */

static void real_data(const char *rel, const char *must) {
  char data[512];
  snprintf(data, sizeof data, "%s/%s", DOPPEL_SHARED_DATA, rel);
  if (access(data, R_OK) != 0) {
    fprintf(stderr, "skipped: %s not found\n", data);
    skip();
  }
  const char *dir0 = tu_tmpdir();
  char dir[256], args[1024], path[512];
  snprintf(dir, sizeof dir, "%s", dir0);
  snprintf(args, sizeof args, "profile '%s' -o p.json --now 2026-12-01 -q", data);
  tu_run r = tu_cli(dir, args, NULL);
  assert_int_equal(r.status, 0);
  tu_run_free(&r);
  snprintf(path, sizeof path, "%s/p.json", dir);
  doppel_diag d;
  json_t *p;
  assert_int_equal(doppel_report_load(path, &p, &d), DOPPEL_OK);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  size_t n, nm;
  char *html = render(p, DOPPEL_REPORT_HTML, "p.json", &n);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  char *md = render(p, DOPPEL_REPORT_MARKDOWN, "p.json", &nm);
  fprintf(stderr, "%s: %zu bytes of HTML in %.1f ms, %zu bytes of Markdown\n", rel, n,
          (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6, nm);
  assert_well_formed(html);
  assert_self_contained(html, 0);
  assert_sections(html);
  assert_non_null(strstr(html, must));
  assert_md_safe(md);
  size_t n2;
  char *again = render(p, DOPPEL_REPORT_HTML, "p.json", &n2);
  assert_int_equal(n, n2);
  assert_memory_equal(html, again, n);
  free(again);
  free(html);
  free(md);
  json_decref(p);
  tu_rmdir(dir);
}

static void test_real_rails(void **state) {
  (void)state;
  real_data("rails-commits/events.jsonl.gz",
            "<tr class=\"direct\"><td><code>properties.author_email</code></td>");
}

static void test_real_rails_segment(void **state) {
  (void)state;
  real_data("rails-commits/events.segment.jsonl.gz", "<tr class=\"direct\"><td><code>context.traits.email</code></td>");
}

static void test_real_nasa(void **state) {
  (void)state;
  real_data("nasa-http/events.amplitude.jsonl.gz", "<tr class=\"direct\"><td><code>ip_address</code></td>");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_formatting),     cmocka_unit_test(test_escaping),
      cmocka_unit_test(test_page_builder),   cmocka_unit_test(test_fixture_html),
      cmocka_unit_test(test_fixture_markdown), cmocka_unit_test(test_markdown_golden),
      cmocka_unit_test(test_unknown_keys),   cmocka_unit_test(test_hostile),
      cmocka_unit_test(test_minimal),        cmocka_unit_test(test_not_profiles),
      cmocka_unit_test(test_load_and_job),   cmocka_unit_test(test_cli),
      cmocka_unit_test(test_real_rails),     cmocka_unit_test(test_real_rails_segment),
      cmocka_unit_test(test_real_nasa),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
