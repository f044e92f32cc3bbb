/*
 * test_io.c — the streaming reader and the atomic output of io.h.
 *
 * Every test works in a fresh mkdtemp directory: JSONL with LF, CRLF, blank
 * lines and no final newline (exact line numbers); BOM; plain and gzip input
 * (single and concatenated members, corrupt and truncated streams); CSV
 * records with quoted newlines; format detection; over-long records in the
 * middle of the input; stdin from a file and from a pipe; output commit
 * (new and replaced targets, symlinks, modes), abort, unwritable targets,
 * write errors, same-file refusal and the signal-time removal of
 * temporaries, each with the unnamed O_TMPFILE temporary and with the named
 * fallback (DOPPEL_NO_TMPFILE=1); the unnamed variants skip, with a
 * message, where the file system has no O_TMPFILE.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <doppel/io.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* ----------------------------------------------------------- fixtures */

static char g_dir[256];

static int setup(void **state) {
  (void)state;
  snprintf(g_dir, sizeof g_dir, "/tmp/doppel_test_io_XXXXXX");
  return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  DIR *d = opendir(g_dir);
  if (d) {
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
      if (unlink(p) != 0) rmdir(p);
    }
    closedir(d);
  }
  rmdir(g_dir);
  return 0;
}

static char *path_of(const char *name) {
  static char bufs[4][512];
  static int k;
  char *p = bufs[k++ & 3];
  snprintf(p, sizeof bufs[0], "%s/%s", g_dir, name);
  return p;
}

static const char *write_file(const char *name, const void *data, size_t len) {
  const char *p = path_of(name);
  FILE *f = fopen(p, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
  return p;
}

static const char *write_str(const char *name, const char *s) {
  return write_file(name, s, strlen(s));
}

/* Write data as gzip, one member per part (parts split at the given offsets). */
static const char *write_gz(const char *name, const void *data, size_t len,
                            const size_t *cuts, size_t ncuts) {
  const char *p = path_of(name);
  size_t from = 0;
  for (size_t i = 0; i <= ncuts; i++) {
    size_t to = i < ncuts ? cuts[i] : len;
    gzFile g = gzopen(p, i == 0 ? "wb" : "ab");
    assert_non_null(g);
    if (to > from) assert_int_equal(gzwrite(g, (const char *)data + from, (unsigned)(to - from)), (int)(to - from));
    assert_int_equal(gzclose(g), Z_OK);
    from = to;
  }
  return p;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1024, n = 0;
  char *b = malloc(cap);
  size_t k;
  while (b && (k = fread(b + n, 1, cap - n, f)) > 0) {
    n += k;
    if (n == cap) b = realloc(b, cap *= 2);
  }
  fclose(f);
  *len = n;
  return b;
}

static size_t count_dir_entries(void) {
  DIR *d = opendir(g_dir);
  assert_non_null(d);
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}

static int dir_has_temp(void) {
  DIR *d = opendir(g_dir);
  assert_non_null(d);
  int found = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name);
    if (e->d_name[0] == '.' && l > 4 && strcmp(e->d_name + l - 4, ".tmp") == 0) found = 1;
  }
  closedir(d);
  return found;
}

/* One record or one error as returned by doppel_reader_next. */
typedef struct got {
  int rc;
  char *data;
  size_t len;
  uint64_t line;
  uint32_t lines;
  int crlf, eol;
  doppel_status st;
  char text[DOPPEL_DIAG_TEXT_MAX];
} got;

typedef struct gots {
  got *v;
  size_t n;
  doppel_format format;
  int gzip, bom;
  uint64_t bytes;
} gots;

/* Read everything (continuing after TOO_LONG, stopping after other errors). */
static gots read_all(const char *path, const doppel_reader_options *opt) {
  gots g = {0};
  doppel_reader *r = NULL;
  doppel_diag diag;
  assert_int_equal(doppel_reader_open(&r, path, opt, &diag), DOPPEL_OK);
  g.format = doppel_reader_format(r);
  g.gzip = doppel_reader_is_gzip(r);
  g.bom = doppel_reader_had_bom(r);
  size_t cap = 0;
  for (;;) {
    doppel_record rec;
    doppel_diag_clear(&diag);
    int rc = doppel_reader_next(r, &rec, &diag);
    if (rc == 0) break;
    if (g.n == cap) {
      cap = cap ? cap * 2 : 16;
      g.v = realloc(g.v, cap * sizeof *g.v);
      assert_non_null(g.v);
    }
    got *x = &g.v[g.n++];
    memset(x, 0, sizeof *x);
    x->rc = rc;
    if (rc > 0) {
      x->data = malloc(rec.len + 1);
      assert_non_null(x->data);
      memcpy(x->data, rec.data, rec.len);
      x->data[rec.len] = '\0';
      x->len = rec.len;
      x->line = rec.line;
      x->lines = rec.lines;
      x->crlf = rec.crlf;
      x->eol = rec.eol;
      assert_string_equal(rec.source, strcmp(path, "-") == 0 ? "<stdin>" : path);
      if (opt && opt->max_record) assert_true(rec.len <= opt->max_record);
    } else {
      x->st = diag.status;
      x->line = diag.line;
      snprintf(x->text, sizeof x->text, "%s", diag.text);
      assert_string_equal(diag.source, strcmp(path, "-") == 0 ? "<stdin>" : path);
      if (diag.status != DOPPEL_E_TOO_LONG && diag.status != DOPPEL_E_CSV) break;
    }
  }
  g.bytes = doppel_reader_bytes(r);
  doppel_reader_free(r);
  return g;
}

static void gots_free(gots *g) {
  for (size_t i = 0; i < g->n; i++) free(g->v[i].data);
  free(g->v);
  memset(g, 0, sizeof *g);
}

static void expect_rec(const got *x, const char *data, uint64_t line, uint32_t lines, int crlf,
                       int eol) {
  if (x->rc != 1) fail_msg("expected record '%s', got error '%s'", data, x->text);
  assert_string_equal(x->data, data);
  assert_int_equal(x->line, line);
  assert_int_equal(x->lines, lines);
  assert_int_equal(x->crlf, crlf);
  assert_int_equal(x->eol, eol);
}

static void expect_err(const got *x, doppel_status st, uint64_t line, const char *frag) {
  if (x->rc != -1) fail_msg("expected error '%s', got record '%s'", frag, x->data);
  assert_int_equal(x->st, st);
  assert_int_equal(x->line, line);
  if (!strstr(x->text, frag)) fail_msg("'%s' lacks '%s'", x->text, frag);
}

/* Deterministic JSONL body of n lines with varied lengths (some > 256 KiB). */
static char *make_lines(size_t n, size_t *len) {
  size_t cap = 1 << 20, l = 0;
  char *b = malloc(cap);
  assert_non_null(b);
  for (size_t i = 0; i < n; i++) {
    size_t pad = (i * 7919) % 3000;
    if (i % 997 == 500) pad = 300000; /* spans a 256 KiB buffer */
    while (l + pad + 64 > cap) b = realloc(b, cap *= 2);
    assert_non_null(b);
    l += (size_t)sprintf(b + l, "{\"i\":%zu,\"p\":\"", i);
    memset(b + l, 'a' + (char)(i % 26), pad);
    l += pad;
    l += (size_t)sprintf(b + l, "\"}%s", i % 3 == 0 ? "\r\n" : "\n");
  }
  *len = l;
  return b;
}

static void check_lines(const gots *g, size_t n) {
  assert_int_equal(g->n, n);
  for (size_t i = 0; i < n; i++) {
    const got *x = &g->v[i];
    assert_int_equal(x->rc, 1);
    assert_int_equal(x->line, i + 1);
    assert_int_equal(x->crlf, i % 3 == 0);
    char head[32];
    int hl = sprintf(head, "{\"i\":%zu,\"p\":\"", i);
    assert_memory_equal(x->data, head, (size_t)hl);
    size_t pad = (i * 7919) % 3000;
    if (i % 997 == 500) pad = 300000;
    assert_int_equal(x->len, (size_t)hl + pad + 2);
    assert_true(x->data[hl + (pad ? pad - 1 : 0)] == (pad ? 'a' + (char)(i % 26) : '"'));
  }
}

/* --------------------------------------------------------------- reader */

static void test_jsonl_lines(void **state) {
  (void)state;
  const char *p = write_str("a.jsonl",
                            "{\"a\":1}\n"
                            "\n"
                            "  \t\n"
                            "{\"b\":2}\r\n"
                            "\r\n"
                            "{\"c\":3}\n"
                            " {\"d\":4}\n"
                            "{\"e\":5}");
  gots g = read_all(p, NULL);
  assert_int_equal(g.format, DOPPEL_FORMAT_JSONL);
  assert_int_equal(g.gzip, 0);
  assert_int_equal(g.bom, 0);
  assert_int_equal(g.n, 5);
  expect_rec(&g.v[0], "{\"a\":1}", 1, 1, 0, 1);
  expect_rec(&g.v[1], "{\"b\":2}", 4, 1, 1, 1);
  expect_rec(&g.v[2], "{\"c\":3}", 6, 1, 0, 1);
  expect_rec(&g.v[3], " {\"d\":4}", 7, 1, 0, 1);
  expect_rec(&g.v[4], "{\"e\":5}", 8, 1, 0, 0);
  gots_free(&g);

  /* trailing blank lines and a final blank line without newline yield nothing */
  p = write_str("b.jsonl", "{}\n\n   ");
  g = read_all(p, NULL);
  assert_int_equal(g.n, 1);
  expect_rec(&g.v[0], "{}", 1, 1, 0, 1);
  gots_free(&g);

  /* a lone '\r' at the very end is data, not a terminator (byte-exact rewrite) */
  p = write_str("c.jsonl", "{}\r");
  g = read_all(p, NULL);
  assert_int_equal(g.n, 1);
  expect_rec(&g.v[0], "{}\r", 1, 1, 0, 0);
  gots_free(&g);

  p = write_str("empty.jsonl", "");
  g = read_all(p, NULL);
  assert_int_equal(g.n, 0);
  assert_int_equal(g.bytes, 0);
  gots_free(&g);
}

static void test_bom(void **state) {
  (void)state;
  const char *p = write_str("bom.data", "\xEF\xBB\xBF{\"a\":1}\n{\"b\":2}\n");
  gots g = read_all(p, NULL);
  assert_int_equal(g.bom, 1);
  assert_int_equal(g.format, DOPPEL_FORMAT_JSONL); /* detected after the BOM */
  assert_int_equal(g.n, 2);
  expect_rec(&g.v[0], "{\"a\":1}", 1, 1, 0, 1);
  expect_rec(&g.v[1], "{\"b\":2}", 2, 1, 0, 1);
  gots_free(&g);

  p = write_str("bom.csv", "\xEF\xBB\xBFid,name\r\n1,x\r\n");
  g = read_all(p, NULL);
  assert_int_equal(g.bom, 1);
  assert_int_equal(g.format, DOPPEL_FORMAT_CSV);
  assert_int_equal(g.n, 2);
  expect_rec(&g.v[0], "id,name", 1, 1, 1, 1);
  gots_free(&g);

  /* a BOM alone, and a partial BOM, are handled */
  p = write_str("bomonly.jsonl", "\xEF\xBB\xBF");
  g = read_all(p, NULL);
  assert_int_equal(g.bom, 1);
  assert_int_equal(g.n, 0);
  gots_free(&g);
  p = write_str("partial.csv", "\xEF\xBB");
  g = read_all(p, NULL);
  assert_int_equal(g.bom, 0);
  assert_int_equal(g.n, 1);
  assert_int_equal(g.v[0].len, 2);
  gots_free(&g);
}

static void test_large_plain(void **state) {
  (void)state;
  size_t len;
  char *body = make_lines(3000, &len);
  const char *p = write_file("large.jsonl", body, len);
  gots g = read_all(p, NULL);
  check_lines(&g, 3000);
  assert_int_equal(g.bytes, len);
  gots_free(&g);
  free(body);
}

static void test_gzip(void **state) {
  (void)state;
  const char *text = "{\"a\":1}\n\n{\"b\":2}\r\n{\"c\":3}";
  const char *p = write_gz("x.data.gz", text, strlen(text), NULL, 0);
  gots g = read_all(p, NULL);
  assert_int_equal(g.gzip, 1);
  assert_int_equal(g.format, DOPPEL_FORMAT_JSONL);
  assert_int_equal(g.n, 3);
  expect_rec(&g.v[0], "{\"a\":1}", 1, 1, 0, 1);
  expect_rec(&g.v[1], "{\"b\":2}", 3, 1, 1, 1);
  expect_rec(&g.v[2], "{\"c\":3}", 4, 1, 0, 0);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(g.bytes, (uint64_t)st.st_size); /* compressed bytes */
  gots_free(&g);

  /* concatenated members, split inside a record and between records; one empty */
  const char *csv = "\xEF\xBB\xBFid,v\n1,\"x\ny\"\n2,z\n";
  size_t cuts[] = {5, 13, 13, 17};
  p = write_gz("multi.gz", csv, strlen(csv), cuts, 4);
  g = read_all(p, NULL);
  assert_int_equal(g.gzip, 1);
  assert_int_equal(g.bom, 1);
  assert_int_equal(g.format, DOPPEL_FORMAT_CSV);
  assert_int_equal(g.n, 3);
  expect_rec(&g.v[0], "id,v", 1, 1, 0, 1);
  expect_rec(&g.v[1], "1,\"x\ny\"", 2, 2, 0, 1);
  expect_rec(&g.v[2], "2,z", 4, 1, 0, 1);
  gots_free(&g);

  /* large, several members, records crossing refills */
  size_t len;
  char *body = make_lines(3000, &len);
  size_t cuts2[] = {len / 3, len / 2 + 17};
  p = write_gz("large.jsonl.gz", body, len, cuts2, 2);
  g = read_all(p, NULL);
  assert_int_equal(g.gzip, 1);
  check_lines(&g, 3000);
  gots_free(&g);
  free(body);
}

static void test_gzip_corrupt_truncated(void **state) {
  (void)state;
  size_t len;
  char *body = make_lines(2000, &len);
  const char *p = write_gz("good.gz", body, len, NULL, 0);
  size_t zlen = 0;
  char *z = slurp(p, &zlen);
  assert_non_null(z);
  assert_true(zlen > 1000);

  /* truncated: the records before the cut are delivered, then the error */
  p = write_file("trunc.jsonl.gz", z, zlen / 2);
  gots g = read_all(p, NULL);
  assert_true(g.n > 10);
  const got *last = &g.v[g.n - 1];
  expect_err(last, DOPPEL_E_GZIP, last->line, "truncated gzip data");
  for (size_t i = 0; i + 1 < g.n; i++) {
    assert_int_equal(g.v[i].rc, 1);
    assert_int_equal(g.v[i].line, i + 1);
  }
  assert_int_equal(last->line, g.n); /* the line reached: the one cut short */
  gots_free(&g);

  /* only the header */
  p = write_file("hdr.gz", z, 10);
  g = read_all(p, NULL);
  assert_int_equal(g.gzip, 1);
  assert_int_equal(g.n, 1);
  expect_err(&g.v[0], DOPPEL_E_GZIP, 1, "truncated gzip data");
  gots_free(&g);

  /* corrupt: garbage in the middle of the deflate stream */
  memset(z + zlen / 2, 0xA5, 64);
  p = write_file("bad.jsonl.gz", z, zlen);
  g = read_all(p, NULL);
  last = &g.v[g.n - 1];
  assert_int_equal(last->rc, -1);
  assert_int_equal(last->st, DOPPEL_E_GZIP);
  assert_non_null(strstr(last->text, "corrupt gzip data: "));
  assert_true(last->line >= 1);
  gots_free(&g);

  /* corrupt: bad compression method in the header */
  z[2] = 7;
  p = write_file("badhdr.gz", z, zlen);
  g = read_all(p, NULL);
  assert_int_equal(g.n, 1);
  expect_err(&g.v[0], DOPPEL_E_GZIP, 1, "corrupt gzip data: unknown compression method");
  gots_free(&g);

  /* trailing garbage after a complete member */
  const char *gz2 = write_gz("t.gz", "{}\n", 3, NULL, 0);
  size_t l2 = 0;
  char *z2 = slurp(gz2, &l2);
  z2 = realloc(z2, l2 + 4);
  memcpy(z2 + l2, "junk", 4);
  p = write_file("trail.gz", z2, l2 + 4);
  g = read_all(p, NULL);
  assert_int_equal(g.n, 2);
  expect_rec(&g.v[0], "{}", 1, 1, 0, 1);
  expect_err(&g.v[1], DOPPEL_E_GZIP, 2, "corrupt gzip data");
  gots_free(&g);
  free(z2);
  free(z);
  free(body);
}

static void test_csv_records(void **state) {
  (void)state;
  const char *p = write_str("q.csv",
                            "id,text\n"
                            "1,\"hello\nworld\"\n"
                            "2,\"a\r\nb\"\"c\"\r\n"
                            "\n"
                            "3,\"\"\"\"\n"
                            "4,\"x\n\n\ny\",z\n"
                            "5,last");
  gots g = read_all(p, NULL);
  assert_int_equal(g.format, DOPPEL_FORMAT_CSV);
  assert_int_equal(g.n, 7);
  expect_rec(&g.v[0], "id,text", 1, 1, 0, 1);
  expect_rec(&g.v[1], "1,\"hello\nworld\"", 2, 2, 0, 1);
  expect_rec(&g.v[2], "2,\"a\r\nb\"\"c\"", 4, 2, 1, 1);
  expect_rec(&g.v[3], "", 6, 1, 0, 1); /* CSV keeps empty lines */
  expect_rec(&g.v[4], "3,\"\"\"\"", 7, 1, 0, 1);
  expect_rec(&g.v[5], "4,\"x\n\n\ny\",z", 8, 4, 0, 1);
  expect_rec(&g.v[6], "5,last", 12, 1, 0, 0);
  gots_free(&g);

  /* unterminated quote at EOF: records before it, then the error, then EOF */
  p = write_str("open.csv", "a,b\n1,2\n3,\"open\nmore\nstill\n");
  g = read_all(p, NULL);
  assert_int_equal(g.n, 3);
  expect_rec(&g.v[1], "1,2", 2, 1, 0, 1);
  expect_err(&g.v[2], DOPPEL_E_CSV, 3, "unterminated quoted field starting at line 3");
  gots_free(&g);

  /* the opening quote's line is reported, not the record's first line */
  p = write_str("open2.csv", "1,\"ok\nok\",\"bad\nx");
  g = read_all(p, NULL);
  assert_int_equal(g.n, 1);
  expect_err(&g.v[0], DOPPEL_E_CSV, 2, "unterminated quoted field starting at line 2");
  gots_free(&g);

  /* a CSV record spanning buffer refills, with quoted newlines throughout */
  size_t big = 600000, l = 0;
  char *b = malloc(big + 64);
  assert_non_null(b);
  l += (size_t)sprintf(b, "h\n\"");
  for (size_t i = 0; i < big / 10; i++) l += (size_t)sprintf(b + l, "abcd\"\"fg\n");
  l += (size_t)sprintf(b + l, "\",end\r\nnext,1\n");
  p = write_file("big.csv", b, l);
  g = read_all(p, NULL);
  assert_int_equal(g.n, 3);
  expect_rec(&g.v[0], "h", 1, 1, 0, 1);
  assert_int_equal(g.v[1].rc, 1);
  assert_int_equal(g.v[1].line, 2);
  assert_int_equal(g.v[1].lines, big / 10 + 1);
  assert_int_equal(g.v[1].len, l - 2 - strlen("\r\nnext,1\n"));
  assert_int_equal(g.v[1].crlf, 1);
  expect_rec(&g.v[2], "next,1", 2 + big / 10 + 1, 1, 0, 1);
  gots_free(&g);
  free(b);
}

/* A stray quote inside an unquoted field stays literal: that one record is
 * bad (the field splitter reports it), the following records are intact. */
static void test_csv_stray_quote(void **state) {
  (void)state;
  const char *p = write_str("stray.csv",
                            "id,text\n"
                            "1,a\"b\n"
                            "2,\"multi\nline\"\n"
                            "3,\"q\"\"q\",c\"\"d\n"
                            "4,end\n");
  gots g = read_all(p, NULL);
  assert_int_equal(g.n, 5);
  expect_rec(&g.v[0], "id,text", 1, 1, 0, 1);
  expect_rec(&g.v[1], "1,a\"b", 2, 1, 0, 1);
  expect_rec(&g.v[2], "2,\"multi\nline\"", 3, 2, 0, 1);
  expect_rec(&g.v[3], "3,\"q\"\"q\",c\"\"d", 5, 1, 0, 1);
  expect_rec(&g.v[4], "4,end", 6, 1, 0, 1);
  gots_free(&g);
}

static void test_format_detection(void **state) {
  (void)state;
  struct {
    const char *name, *content;
    doppel_format opt, want;
  } cases[] = {
      {"a.data", "{\"x\":1}\n", DOPPEL_FORMAT_AUTO, DOPPEL_FORMAT_JSONL},
      {"b.data", "\n\n  \r\n\t{\"x\":1}\n", DOPPEL_FORMAT_AUTO, DOPPEL_FORMAT_JSONL},
      {"c.data", "x,y\n1,2\n", DOPPEL_FORMAT_AUTO, DOPPEL_FORMAT_CSV},
      {"d.data", "[1,2]\n", DOPPEL_FORMAT_AUTO, DOPPEL_FORMAT_CSV},
      {"e.data", "", DOPPEL_FORMAT_AUTO, DOPPEL_FORMAT_CSV},
      {"f.csv", "{\"x\":1}\n", DOPPEL_FORMAT_AUTO, DOPPEL_FORMAT_CSV},
      {"g.CSV.gz", "{\"x\":1}\n", DOPPEL_FORMAT_AUTO, DOPPEL_FORMAT_CSV},
      {"h.jsonl", "x,y\n", DOPPEL_FORMAT_AUTO, DOPPEL_FORMAT_JSONL},
      {"i.ndjson", "x,y\n", DOPPEL_FORMAT_AUTO, DOPPEL_FORMAT_JSONL},
      {"j.json", "x,y\n", DOPPEL_FORMAT_AUTO, DOPPEL_FORMAT_JSONL},
      {"k.jsonl.gz", "x,y\n", DOPPEL_FORMAT_AUTO, DOPPEL_FORMAT_JSONL},
      {"l.jsonl", "{}\n", DOPPEL_FORMAT_CSV, DOPPEL_FORMAT_CSV},
      {"m.csv", "a,b\n", DOPPEL_FORMAT_JSONL, DOPPEL_FORMAT_JSONL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *p = write_str(cases[i].name, cases[i].content);
    doppel_reader_options opt = {0, cases[i].opt, 0};
    doppel_reader *r = NULL;
    doppel_diag diag;
    assert_int_equal(doppel_reader_open(&r, p, &opt, &diag), DOPPEL_OK);
    if (doppel_reader_format(r) != cases[i].want) fail_msg("case %s", cases[i].name);
    doppel_reader_free(r);
  }
  /* gzip content is sniffed after decompression */
  const char *p = write_gz("z.bin", "{\"x\":1}\n", 8, NULL, 0);
  gots g = read_all(p, NULL);
  assert_int_equal(g.format, DOPPEL_FORMAT_JSONL);
  gots_free(&g);
}

static void test_too_long(void **state) {
  (void)state;
  char long1[201], huge_line[1 << 19];
  memset(long1, 'x', 200);
  long1[200] = '\0';
  /* build: short, 200-byte line, short, 512 KiB line, short, exact-64, 65, 64+CRLF, last */
  char exact[65], over[66];
  memset(exact, 'e', 64);
  exact[64] = '\0';
  memset(over, 'o', 65);
  over[65] = '\0';
  memset(huge_line, 'h', sizeof huge_line - 1);
  huge_line[sizeof huge_line - 1] = '\0';
  size_t cap = sizeof huge_line + 1024, l = 0;
  char *b = malloc(cap);
  assert_non_null(b);
  l += (size_t)snprintf(b + l, cap - l, "{\"n\":1}\n{\"%s\":0}\n{\"n\":3}\n", long1);
  l += (size_t)snprintf(b + l, cap - l, "{\"%s\":0}\n{\"n\":5}\n", huge_line);
  l += (size_t)snprintf(b + l, cap - l, "%s\n%s\n%s\r\n{\"n\":9}\n%s", exact, over, exact, over);
  const char *p = write_file("long.jsonl", b, l);
  doppel_reader_options opt = {64, DOPPEL_FORMAT_AUTO, 0};
  gots g = read_all(p, &opt);
  assert_int_equal(g.n, 10);
  expect_rec(&g.v[0], "{\"n\":1}", 1, 1, 0, 1);
  expect_err(&g.v[1], DOPPEL_E_TOO_LONG, 2,
             "record longer than 64 bytes (use --max-record to raise the limit)");
  expect_rec(&g.v[2], "{\"n\":3}", 3, 1, 0, 1);
  expect_err(&g.v[3], DOPPEL_E_TOO_LONG, 4, "record longer than 64 bytes");
  expect_rec(&g.v[4], "{\"n\":5}", 5, 1, 0, 1);
  expect_rec(&g.v[5], exact, 6, 1, 0, 1);
  expect_err(&g.v[6], DOPPEL_E_TOO_LONG, 7, "longer than 64");
  expect_rec(&g.v[7], exact, 8, 1, 1, 1);
  expect_rec(&g.v[8], "{\"n\":9}", 9, 1, 0, 1);
  expect_err(&g.v[9], DOPPEL_E_TOO_LONG, 10, "longer than 64"); /* final, no newline */
  gots_free(&g);

  /* same through gzip, and at the default buffer boundary */
  p = write_gz("long.jsonl.gz", b, l, NULL, 0);
  g = read_all(p, &opt);
  assert_int_equal(g.n, 10);
  expect_err(&g.v[3], DOPPEL_E_TOO_LONG, 4, "record longer than 64 bytes");
  expect_rec(&g.v[4], "{\"n\":5}", 5, 1, 0, 1);
  gots_free(&g);

  /* CSV: a long record with quoted newlines is skipped as a whole */
  l = 0;
  l += (size_t)snprintf(b + l, cap - l, "a,b\n1,\"");
  for (int i = 0; i < 40000; i++) l += (size_t)snprintf(b + l, cap - l, "ln\n");
  l += (size_t)snprintf(b + l, cap - l, "\"\n2,\"short\nq\"\n3,z\n");
  p = write_file("long.csv", b, l);
  g = read_all(p, &opt);
  assert_int_equal(g.n, 4);
  expect_rec(&g.v[0], "a,b", 1, 1, 0, 1);
  expect_err(&g.v[1], DOPPEL_E_TOO_LONG, 2, "record longer than 64 bytes");
  expect_rec(&g.v[2], "2,\"short\nq\"", 40003, 2, 0, 1);
  expect_rec(&g.v[3], "3,z", 40005, 1, 0, 1);
  gots_free(&g);

  /* the limit larger than the I/O buffer: records up to it are reassembled */
  doppel_reader_options big = {600000, DOPPEL_FORMAT_JSONL, 0};
  l = (size_t)snprintf(b, cap, "%s\nshort\n", huge_line);
  p = write_file("fits.jsonl", b, l);
  g = read_all(p, &big);
  assert_int_equal(g.n, 2);
  assert_int_equal(g.v[0].rc, 1);
  assert_int_equal(g.v[0].len, sizeof huge_line - 1);
  assert_string_equal(g.v[0].data, huge_line);
  expect_rec(&g.v[1], "short", 2, 1, 0, 1);
  gots_free(&g);
  free(b);
}

/* Run read_all on "-" with fd 0 replaced by fd. */
static gots read_stdin_from(int fd) {
  int saved = dup(STDIN_FILENO);
  assert_true(saved >= 0);
  assert_true(dup2(fd, STDIN_FILENO) >= 0);
  close(fd);
  gots g = read_all("-", NULL);
  assert_true(dup2(saved, STDIN_FILENO) >= 0);
  close(saved);
  return g;
}

static void test_stdin(void **state) {
  (void)state;
  const char *p = write_str("in.jsonl", "{\"a\":1}\n\n{\"b\":2}\n");
  int fd = open(p, O_RDONLY);
  assert_true(fd >= 0);
  gots g = read_stdin_from(fd);
  assert_int_equal(g.format, DOPPEL_FORMAT_JSONL);
  assert_int_equal(g.n, 2);
  expect_rec(&g.v[1], "{\"b\":2}", 3, 1, 0, 1);
  gots_free(&g);

  /* a pipe carrying gzip data */
  const char *gz = write_gz("in.gz", "x,y\n1,2\n", 8, NULL, 0);
  size_t zl = 0;
  char *z = slurp(gz, &zl);
  assert_non_null(z);
  int pfd[2];
  assert_int_equal(pipe(pfd), 0);
  assert_int_equal(write(pfd[1], z, zl), (ssize_t)zl);
  close(pfd[1]);
  g = read_stdin_from(pfd[0]);
  assert_int_equal(g.gzip, 1);
  assert_int_equal(g.format, DOPPEL_FORMAT_CSV);
  assert_int_equal(g.n, 2);
  expect_rec(&g.v[1], "1,2", 2, 1, 0, 1);
  assert_int_equal(g.bytes, zl);
  gots_free(&g);
  free(z);

  /* a non-blocking pipe whose writer is slow: the reader waits, no EAGAIN error */
  assert_int_equal(pipe(pfd), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(pfd[0]);
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    ssize_t w1 = write(pfd[1], "{\"late\":", 8);
    nanosleep(&ts, NULL);
    ssize_t w2 = write(pfd[1], "1}\n", 3);
    _exit(w1 == 8 && w2 == 3 ? 0 : 1);
  }
  close(pfd[1]);
  assert_int_equal(fcntl(pfd[0], F_SETFL, fcntl(pfd[0], F_GETFL) | O_NONBLOCK), 0);
  g = read_stdin_from(pfd[0]);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(g.n, 1);
  expect_rec(&g.v[0], "{\"late\":1}", 1, 1, 0, 1);
  gots_free(&g);
}

static void test_open_errors(void **state) {
  (void)state;
  doppel_reader *r = (doppel_reader *)1;
  doppel_diag diag;
  const char *p = path_of("missing.jsonl");
  assert_int_equal(doppel_reader_open(&r, p, NULL, &diag), DOPPEL_E_IO);
  assert_null(r);
  assert_string_equal(diag.source, p);
  assert_non_null(strstr(diag.text, "cannot open '"));
  assert_non_null(strstr(diag.text, "missing.jsonl': No such file or directory"));
  assert_int_equal(doppel_reader_open(&r, g_dir, NULL, &diag), DOPPEL_E_IO);
  assert_null(r);
  assert_non_null(strstr(diag.text, "Is a directory"));
  doppel_reader_free(NULL);
}

static void test_shared_data(void **state) {
  (void)state;
  const char *p = DOPPEL_SHARED_DATA "/rails-commits/events.jsonl.gz";
  if (access(p, R_OK) != 0) skip();
  gots g = read_all(p, NULL);
  assert_int_equal(g.gzip, 1);
  assert_int_equal(g.format, DOPPEL_FORMAT_JSONL);
  assert_int_equal(g.n, 99429);
  for (size_t i = 0; i < g.n; i++) {
    assert_int_equal(g.v[i].rc, 1);
    assert_int_equal(g.v[i].data[0], '{');
    assert_int_equal(g.v[i].line, i + 1);
  }
  gots_free(&g);
}

/* ------------------------------------------------ differential reader test */

static uint64_t rng_state;

static uint64_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void push(gots *g, const got *x) {
  if ((g->n & (g->n - 1)) == 0) { /* grow at powers of two */
    g->v = realloc(g->v, (g->n ? 2 * g->n : 1) * sizeof *g->v);
    assert_non_null(g->v);
  }
  g->v[g->n++] = *x;
}

/* A straightforward model of doppel_reader_next over a whole buffer. */
static gots reference_read(const char *d, size_t len, int csv, size_t max) {
  gots g = {0};
  size_t pos = 0;
  uint64_t line = 1;
  while (pos < len) {
    uint64_t start_line = line, quote_line = 0;
    uint32_t nl = 0;
    int in_q = 0;
    size_t closed = (size_t)-1; /* index of the quote that last closed a quoted field */
    size_t i = pos;
    while (i < len) {
      if (csv && d[i] == '"') {
        /* inside quotes every quote closes; outside, only a quote at the start
         * of a field (record start, after ',', or right after a closing quote) opens */
        if (in_q) {
          in_q = 0;
          closed = i;
        } else if (i == pos || d[i - 1] == ',' || closed == i - 1) {
          in_q = 1;
          quote_line = line;
        }
      } else if (d[i] == '\n') {
        if (!in_q) break;
        line++;
        nl++;
      }
      i++;
    }
    got x;
    memset(&x, 0, sizeof x);
    size_t rl = i - pos;
    int eol = i < len;
    int crlf = eol && rl && d[i - 1] == '\r';
    if (crlf) rl--;
    int blank = 1;
    for (size_t k = 0; k < rl; k++)
      if (!strchr(" \t\r\f\v\n", d[pos + k])) blank = 0;
    if (eol ? rl > max : (rl > max + 1 || (!in_q && rl > max))) {
      x.rc = -1;
      x.st = DOPPEL_E_TOO_LONG;
      x.line = start_line;
      push(&g, &x);
    } else if (!eol && in_q) {
      x.rc = -1;
      x.st = DOPPEL_E_CSV;
      x.line = quote_line;
      push(&g, &x);
    } else if (csv || !blank) {
      x.rc = 1;
      x.data = malloc(rl + 1);
      assert_non_null(x.data);
      memcpy(x.data, d + pos, rl);
      x.data[rl] = '\0';
      x.len = rl;
      x.line = start_line;
      x.lines = nl + 1;
      x.crlf = crlf;
      x.eol = eol;
      push(&g, &x);
    }
    pos = i + 1;
    line++;
  }
  return g;
}

static void compare(const gots *want, const gots *have, const char *what) {
  if (want->n != have->n) fail_msg("%s: %zu results, want %zu", what, have->n, want->n);
  for (size_t i = 0; i < want->n; i++) {
    const got *w = &want->v[i], *h = &have->v[i];
    if (w->rc != h->rc || w->line != h->line || w->st != h->st)
      fail_msg("%s: result %zu: rc %d line %llu status %d, want rc %d line %llu status %d", what,
               i, h->rc, (unsigned long long)h->line, h->st, w->rc,
               (unsigned long long)w->line, w->st);
    if (w->rc == 1) {
      if (w->len != h->len || memcmp(w->data, h->data, w->len) != 0)
        fail_msg("%s: record %zu differs (len %zu, want %zu)", what, i, h->len, w->len);
      assert_int_equal(h->lines, w->lines);
      assert_int_equal(h->crlf, w->crlf);
      assert_int_equal(h->eol, w->eol);
    }
  }
}

static char *random_content(size_t target, size_t *len) {
  char *b = malloc(target + 4096);
  assert_non_null(b);
  size_t l = 0;
  while (l < target) {
    unsigned r = (unsigned)(rng() % 100);
    if (r < 3) { /* a run, sometimes long */
      size_t run = (size_t)(rng() % (rng() % 8 == 0 ? 4000 : 40));
      if (l + run > target + 4000) run = 0;
      memset(b + l, 'a' + (char)(rng() % 26), run);
      l += run;
    } else if (r < 60) {
      b[l++] = 'x';
    } else if (r < 70) {
      b[l++] = '\n';
    } else if (r < 77) {
      b[l++] = '"';
    } else if (r < 82) {
      b[l++] = '\r';
    } else if (r < 92) {
      b[l++] = ' ';
    } else {
      b[l++] = ',';
    }
  }
  /* the first byte must not start a BOM; make detection irrelevant too */
  *len = l;
  return b;
}

static void test_reader_differential(void **state) {
  (void)state;
  static const size_t maxes[] = {1, 2, 3, 7, 16, 64, 300, 5000, 0};
  rng_state = 0x9E3779B97F4A7C15ull;
  for (int iter = 0; iter < 400; iter++) {
    int large = iter % 50 == 49;
    size_t len;
    char *d = random_content(large ? 700000 + (size_t)(rng() % 10000) : (size_t)(rng() % 300), &len);
    int csv = (int)(rng() % 2);
    size_t max = maxes[rng() % (sizeof maxes / sizeof maxes[0])];
    int gz = large ? iter % 100 == 49 : (int)(rng() % 4 == 0);
    const char *p = gz ? write_gz("rand.gz", d, len, NULL, 0) : write_file("rand", d, len);
    doppel_reader_options opt = {max, csv ? DOPPEL_FORMAT_CSV : DOPPEL_FORMAT_JSONL, 0};
    gots have = read_all(p, &opt);
    gots want = reference_read(d, len, csv, max ? max : DOPPEL_MAX_RECORD_DEFAULT);
    char what[96];
    snprintf(what, sizeof what, "iteration %d (%s, %s, max %zu, %zu bytes)", iter,
             csv ? "csv" : "jsonl", gz ? "gzip" : "plain", max, len);
    compare(&want, &have, what);
    gots_free(&have);
    gots_free(&want);
    free(d);
  }
}

/* --------------------------------------------------------------- output */

/* Named-temporary fallback on (1) or off (0, the O_TMPFILE default). */
static void set_named(int named) {
  if (named) setenv("DOPPEL_NO_TMPFILE", "1", 1);
  else unsetenv("DOPPEL_NO_TMPFILE");
}

/* Does this process hold an unnamed (O_TMPFILE) file of g_dir open? Its
 * /proc/self/fd link reads "<dir>/#<inode> (deleted)". */
static int holds_unnamed_in_dir(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return 0;
  char want[300];
  snprintf(want, sizeof want, "%s/#", g_dir);
  int found = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char lp[300], target[600];
    snprintf(lp, sizeof lp, "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(lp, target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (strncmp(target, want, strlen(want)) == 0 && strstr(target, " (deleted)")) found = 1;
  }
  closedir(d);
  return found;
}

/* Skip an unnamed-temporary test where g_dir cannot have them. */
static void need_unnamed(const char *test) {
  int fd = open(g_dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  int ok = fd >= 0 && access(proc, F_OK) == 0;
  if (fd >= 0) close(fd);
  if (!ok) {
    fprintf(stderr, "%s: skipped: no O_TMPFILE in %s (doppel uses named temporaries there)\n", test, g_dir);
    skip();
  }
}

static void output_commit(int named) {
  set_named(named);
  const char *p = path_of("out.jsonl");
  doppel_output *o = NULL;
  doppel_diag diag;
  size_t before = count_dir_entries();
  assert_int_equal(doppel_output_open(&o, p, NULL, 0, &diag), DOPPEL_OK);
  const char *tmp = doppel_output_temp_path(o);
  if (named) {
    assert_non_null(tmp);
    char want_prefix[512];
    snprintf(want_prefix, sizeof want_prefix, "%s/.out.jsonl.", g_dir);
    assert_memory_equal(tmp, want_prefix, strlen(want_prefix));
    assert_string_equal(tmp + strlen(tmp) - 4, ".tmp");
    assert_int_equal(strlen(tmp), strlen(want_prefix) + 6 + 4);
    assert_int_equal(access(tmp, F_OK), 0);
    assert_int_equal(count_dir_entries(), before + 1);
  } else {
    /* nothing in the directory at all: the temporary has no name */
    assert_null(tmp);
    assert_int_equal(count_dir_entries(), before);
    assert_true(holds_unnamed_in_dir());
  }
  assert_int_not_equal(access(p, F_OK), 0);

  /* small writes, then one larger than the buffer */
  size_t big = 700000;
  char *blob = malloc(big);
  assert_non_null(blob);
  for (size_t i = 0; i < big; i++) blob[i] = (char)('a' + i % 23);
  assert_int_equal(doppel_output_write(o, "hello\n", 6, &diag), DOPPEL_OK);
  assert_int_equal(doppel_output_write(o, "", 0, &diag), DOPPEL_OK);
  assert_int_equal(doppel_output_write(o, blob, big, &diag), DOPPEL_OK);
  for (int i = 0; i < 1000; i++) assert_int_equal(doppel_output_write(o, "0123456789", 10, &diag), DOPPEL_OK);
  if (!named) assert_int_equal(count_dir_entries(), before);
  assert_int_equal(doppel_output_commit(o, &diag), DOPPEL_OK);
  assert_false(holds_unnamed_in_dir());

  size_t len;
  char *got_data = slurp(p, &len);
  assert_non_null(got_data);
  assert_int_equal(len, 6 + big + 10000);
  assert_memory_equal(got_data, "hello\n", 6);
  assert_memory_equal(got_data + 6, blob, big);
  assert_memory_equal(got_data + 6 + big + 9990, "0123456789", 10);
  free(got_data);
  assert_false(dir_has_temp());
  assert_int_equal(count_dir_entries(), before + 1);

  /* mode: 0666 minus umask, also under a stricter umask */
  mode_t um = umask(022);
  umask(um);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0666 & ~um);
  mode_t old_um = umask(077);
  assert_int_equal(doppel_output_open(&o, path_of("private.jsonl"), NULL, 0, &diag), DOPPEL_OK);
  assert_int_equal(doppel_output_commit(o, &diag), DOPPEL_OK);
  umask(old_um);
  assert_int_equal(stat(path_of("private.jsonl"), &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(st.st_size, 0);
  unlink(path_of("private.jsonl"));

  /* replacing an existing file: atomically (a reader of the old file keeps
   * the old content; the new one is another inode) */
  int old_fd = open(p, O_RDONLY);
  assert_true(old_fd >= 0);
  struct stat old_st;
  assert_int_equal(fstat(old_fd, &old_st), 0);
  assert_int_equal(doppel_output_open(&o, p, NULL, 0, &diag), DOPPEL_OK);
  assert_int_equal(doppel_output_write(o, "new\n", 4, &diag), DOPPEL_OK);
  got_data = slurp(p, &len); /* untouched until commit */
  assert_int_equal(len, 6 + big + 10000);
  free(got_data);
  assert_int_equal(doppel_output_commit(o, &diag), DOPPEL_OK);
  got_data = slurp(p, &len);
  assert_int_equal(len, 4);
  assert_memory_equal(got_data, "new\n", 4);
  free(got_data);
  assert_int_equal(stat(p, &st), 0);
  assert_true(st.st_ino != old_st.st_ino);
  char head[6];
  assert_int_equal(pread(old_fd, head, 6, 0), 6);
  assert_memory_equal(head, "hello\n", 6);
  close(old_fd);
  assert_false(dir_has_temp());
  assert_int_equal(count_dir_entries(), before + 1);

  /* replacing a symlink replaces the link, not the file it points to */
  write_str("pointed.jsonl", "pointed\n");
  assert_int_equal(symlink(path_of("pointed.jsonl"), path_of("sym.jsonl")), 0);
  assert_int_equal(doppel_output_open(&o, path_of("sym.jsonl"), NULL, 0, &diag), DOPPEL_OK);
  assert_int_equal(doppel_output_write(o, "via link\n", 9, &diag), DOPPEL_OK);
  assert_int_equal(doppel_output_commit(o, &diag), DOPPEL_OK);
  assert_int_equal(lstat(path_of("sym.jsonl"), &st), 0);
  assert_true(S_ISREG(st.st_mode));
  got_data = slurp(path_of("pointed.jsonl"), &len);
  assert_int_equal(len, 8);
  free(got_data);
  unlink(path_of("sym.jsonl"));
  unlink(path_of("pointed.jsonl"));
  free(blob);
  unlink(p);
  set_named(0);
}

static void test_output_commit(void **state) {
  (void)state;
  need_unnamed("test_output_commit");
  output_commit(0);
}

static void test_output_commit_named(void **state) {
  (void)state;
  output_commit(1);
}

static void output_abort(int named) {
  set_named(named);
  const char *p = path_of("aborted.csv");
  doppel_output *o = NULL;
  doppel_diag diag;
  size_t before = count_dir_entries();
  assert_int_equal(doppel_output_open(&o, p, NULL, 0, &diag), DOPPEL_OK);
  assert_int_equal(doppel_output_write(o, "a,b\n", 4, &diag), DOPPEL_OK);
  assert_int_equal(dir_has_temp(), named);
  assert_int_equal(holds_unnamed_in_dir(), !named);
  doppel_output_abort(o);
  assert_false(holds_unnamed_in_dir());
  assert_int_not_equal(access(p, F_OK), 0);
  assert_false(dir_has_temp());
  assert_int_equal(count_dir_entries(), before);
  doppel_output_abort(NULL);

  /* abort keeps an existing target untouched */
  write_str("keep.csv", "old\n");
  p = path_of("keep.csv");
  assert_int_equal(doppel_output_open(&o, p, NULL, 0, &diag), DOPPEL_OK);
  assert_int_equal(doppel_output_write(o, "new\n", 4, &diag), DOPPEL_OK);
  doppel_output_abort(o);
  size_t len;
  char *d = slurp(p, &len);
  assert_int_equal(len, 4);
  assert_memory_equal(d, "old\n", 4);
  free(d);
  unlink(p);
  assert_false(dir_has_temp());
  set_named(0);
}

static void test_output_abort(void **state) {
  (void)state;
  need_unnamed("test_output_abort");
  output_abort(0);
}

static void test_output_abort_named(void **state) {
  (void)state;
  output_abort(1);
}

static void test_output_errors(void **state) {
  (void)state;
  doppel_output *o = (doppel_output *)1;
  doppel_diag diag;
  const char *p = path_of("nodir/out.jsonl");
  assert_int_equal(doppel_output_open(&o, p, NULL, 0, &diag), DOPPEL_E_IO);
  assert_null(o);
  assert_string_equal(diag.source, p);
  assert_non_null(strstr(diag.text, "cannot create '"));
  assert_non_null(strstr(diag.text, "nodir/out.jsonl': No such file or directory"));

  /* the target is a directory */
  assert_int_equal(doppel_output_open(&o, g_dir, NULL, 0, &diag), DOPPEL_E_IO);
  assert_non_null(strstr(diag.text, "Is a directory"));
  char slash[512];
  snprintf(slash, sizeof slash, "%s/", g_dir);
  assert_int_equal(doppel_output_open(&o, slash, NULL, 0, &diag), DOPPEL_E_IO);
  assert_non_null(strstr(diag.text, "Is a directory"));

  /* a device target is written in place: /dev/full fails on flush */
  if (access("/dev/full", W_OK) == 0) {
    assert_int_equal(doppel_output_open(&o, "/dev/full", NULL, 0, &diag), DOPPEL_OK);
    assert_null(doppel_output_temp_path(o));
    assert_int_equal(doppel_output_write(o, "x\n", 2, &diag), DOPPEL_OK);
    assert_int_equal(doppel_output_commit(o, &diag), DOPPEL_E_IO);
    assert_string_equal(diag.text, "cannot write '/dev/full': No space left on device");

    /* stdout on /dev/full */
    int saved = dup(STDOUT_FILENO);
    int full = open("/dev/full", O_WRONLY);
    assert_true(saved >= 0 && full >= 0);
    fflush(stdout);
    dup2(full, STDOUT_FILENO);
    close(full);
    assert_int_equal(doppel_output_open(&o, "-", NULL, 0, &diag), DOPPEL_OK);
    assert_null(doppel_output_temp_path(o));
    assert_int_equal(doppel_output_write(o, "x\n", 2, &diag), DOPPEL_OK);
    doppel_status st = doppel_output_commit(o, &diag);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    assert_int_equal(st, DOPPEL_E_IO);
    assert_string_equal(diag.text, "cannot write '<stdout>': No space left on device");
  }

  /* a write failure (file size limit) removes the temporary, no target;
   * with either kind of temporary */
  for (int named = 0; named < 2; named++) {
    set_named(named);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 100000;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    p = path_of("toobig.jsonl");
    assert_int_equal(doppel_output_open(&o, p, NULL, 0, &diag), DOPPEL_OK);
    char chunk[4096];
    memset(chunk, 'z', sizeof chunk);
    doppel_status st = DOPPEL_OK;
    for (int i = 0; i < 200 && st == DOPPEL_OK; i++) st = doppel_output_write(o, chunk, sizeof chunk, &diag);
    assert_int_equal(st, DOPPEL_E_IO);
    assert_non_null(strstr(diag.text, "toobig.jsonl': File too large"));
    assert_int_equal(doppel_output_write(o, "x", 1, &diag), DOPPEL_E_IO); /* sticky */
    assert_int_equal(doppel_output_commit(o, &diag), DOPPEL_E_IO);
    assert_non_null(strstr(diag.text, "cannot write '"));
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, oldsig);
    assert_int_not_equal(access(p, F_OK), 0);
    assert_false(dir_has_temp());
    assert_false(holds_unnamed_in_dir());
  }
  set_named(0);
}

static void test_output_same_file(void **state) {
  (void)state;
  const char *in = write_str("input.jsonl", "{}\n");
  char inpath[512], other[512], lnk[512], hard[512], dotted[512];
  snprintf(inpath, sizeof inpath, "%s", in);
  snprintf(other, sizeof other, "%s", write_str("other.jsonl", "{}\n"));
  snprintf(lnk, sizeof lnk, "%s", path_of("link.jsonl"));
  snprintf(hard, sizeof hard, "%s", path_of("hard.jsonl"));
  snprintf(dotted, sizeof dotted, "%s/./input.jsonl", g_dir);
  assert_int_equal(symlink(inpath, lnk), 0);
  assert_int_equal(link(inpath, hard), 0);

  const char *inputs[] = {"-", other, inpath};
  doppel_output *o = (doppel_output *)1;
  doppel_diag diag;
  const char *targets[] = {inpath, lnk, hard, dotted};
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(doppel_output_open(&o, targets[i], inputs, 3, &diag), DOPPEL_E_SAME_FILE);
    assert_null(o);
    char want[1200];
    snprintf(want, sizeof want, "output '%s' is the same file as input '%s'", targets[i], inpath);
    assert_string_equal(diag.text, want);
  }
  /* the input given through the symlink, output the real file */
  const char *via_link[] = {lnk};
  assert_int_equal(doppel_output_open(&o, inpath, via_link, 1, &diag), DOPPEL_E_SAME_FILE);
  /* a different file is fine; inputs are untouched */
  assert_int_equal(doppel_output_open(&o, path_of("fresh.jsonl"), inputs, 3, &diag), DOPPEL_OK);
  assert_int_equal(doppel_output_write(o, "ok\n", 3, &diag), DOPPEL_OK);
  assert_int_equal(doppel_output_commit(o, &diag), DOPPEL_OK);
  size_t len;
  char *d = slurp(inpath, &len);
  assert_int_equal(len, 3);
  free(d);
  assert_false(dir_has_temp());
}

static void test_output_signal_cleanup(void **state) {
  (void)state;
  set_named(1);
  doppel_output *a = NULL, *b = NULL;
  doppel_diag diag;
  assert_int_equal(doppel_output_open(&a, path_of("a.jsonl"), NULL, 0, &diag), DOPPEL_OK);
  assert_int_equal(doppel_output_open(&b, path_of("b.jsonl"), NULL, 0, &diag), DOPPEL_OK);
  char ta[512], tb[512];
  snprintf(ta, sizeof ta, "%s", doppel_output_temp_path(a));
  snprintf(tb, sizeof tb, "%s", doppel_output_temp_path(b));
  assert_string_not_equal(ta, tb);
  assert_int_equal(access(ta, F_OK), 0);
  assert_int_equal(access(tb, F_OK), 0);
  assert_int_equal(doppel_output_write(a, "x\n", 2, &diag), DOPPEL_OK);
  doppel_output_remove_temporaries(); /* what a SIGINT handler does */
  assert_int_not_equal(access(ta, F_OK), 0);
  assert_int_not_equal(access(tb, F_OK), 0);
  assert_int_equal(count_dir_entries(), 0);
  /* committing a removed temporary fails cleanly and creates nothing */
  assert_int_equal(doppel_output_commit(a, &diag), DOPPEL_E_IO);
  assert_non_null(strstr(diag.text, "cannot replace '"));
  assert_non_null(strstr(diag.text, "a.jsonl': No such file or directory"));
  doppel_output_abort(b);
  assert_int_equal(count_dir_entries(), 0);

  /* committed and aborted outputs leave the registry: nothing else is removed */
  assert_int_equal(doppel_output_open(&a, path_of("c.jsonl"), NULL, 0, &diag), DOPPEL_OK);
  assert_int_equal(doppel_output_commit(a, &diag), DOPPEL_OK);
  assert_int_equal(doppel_output_open(&b, path_of("d.jsonl"), NULL, 0, &diag), DOPPEL_OK);
  doppel_output_abort(b);
  write_str("d.jsonl", "keep\n");
  doppel_output_remove_temporaries();
  assert_int_equal(access(path_of("c.jsonl"), F_OK), 0);
  assert_int_equal(access(path_of("d.jsonl"), F_OK), 0);
  unlink(path_of("c.jsonl"));
  unlink(path_of("d.jsonl"));

  /* unnamed temporaries need no cleanup: removal leaves them working */
  set_named(0);
  need_unnamed("test_output_signal_cleanup (unnamed part)");
  assert_int_equal(doppel_output_open(&a, path_of("e.jsonl"), NULL, 0, &diag), DOPPEL_OK);
  assert_null(doppel_output_temp_path(a));
  assert_int_equal(doppel_output_write(a, "e\n", 2, &diag), DOPPEL_OK);
  doppel_output_remove_temporaries();
  assert_int_equal(count_dir_entries(), 0);
  assert_int_equal(doppel_output_commit(a, &diag), DOPPEL_OK);
  assert_int_equal(count_dir_entries(), 1);
  size_t len;
  char *d = slurp(path_of("e.jsonl"), &len);
  assert_int_equal(len, 2);
  assert_memory_equal(d, "e\n", 2);
  free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_jsonl_lines, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bom, setup, teardown),
      cmocka_unit_test_setup_teardown(test_large_plain, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gzip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gzip_corrupt_truncated, setup, teardown),
      cmocka_unit_test_setup_teardown(test_csv_records, setup, teardown),
      cmocka_unit_test_setup_teardown(test_csv_stray_quote, setup, teardown),
      cmocka_unit_test_setup_teardown(test_format_detection, setup, teardown),
      cmocka_unit_test_setup_teardown(test_too_long, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stdin, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_shared_data, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reader_differential, setup, teardown),
      cmocka_unit_test_setup_teardown(test_output_commit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_output_commit_named, setup, teardown),
      cmocka_unit_test_setup_teardown(test_output_abort, setup, teardown),
      cmocka_unit_test_setup_teardown(test_output_abort_named, setup, teardown),
      cmocka_unit_test_setup_teardown(test_output_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_output_same_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_output_signal_cleanup, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
