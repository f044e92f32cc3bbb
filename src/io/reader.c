/*
 * reader.c — the streaming record reader of io.h.
 *
 * Input is read with read(2) into one 256 KiB buffer; gzip input (magic
 * 1f 8b) is read into a second buffer and inflated into the first, member
 * after member. Records are found in place: a JSONL record ends at the next
 * '\n' (memchr), a CSV record at the next '\n' outside double quotes (every
 * quote toggles the quoted state, so "" inside quotes needs no special case;
 * outside quotes, only a quote at the start of a field opens one).
 * A record that lies wholly inside the buffer is returned as a pointer into
 * it; only a record that spans a refill is copied into the accumulation
 * buffer, which is capped at max_record + 1 bytes (room for a '\r' that turns
 * out to be part of "\r\n"). A record found to be longer than max_record is
 * reported once and then skipped byte by byte without being buffered.
 *
 * Line numbers count physical lines: `line` is the line of the scan position,
 * advanced for every '\n' (including quoted ones in CSV records).
 */
#include <doppel/io.h>

#include "core/buf.h"
#include "core/diag.h"
#include "io/io_private.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <zlib.h>

struct doppel_reader {
  int fd;
  int close_fd;          /* 0 for stdin */
  char *source;          /* path as given, or "<stdin>" */
  size_t max_record;
  doppel_format format;
  char delim;
  unsigned char gzip;
  unsigned char bom;
  uint64_t bytes;        /* bytes read from fd */

  /* decoded data: buf[pos..end) unconsumed, buf[pos..scan) already scanned */
  char *buf;
  size_t cap, pos, scan, end;
  int eof;               /* decoded data exhausted */

  /* gzip state */
  unsigned char *zbuf;
  z_stream zs;
  int zinit;
  int zmember_end;       /* inflate finished a member; another may follow */
  int zraw_eof;          /* fd exhausted */

  /* record in progress */
  dp_buf acc;            /* bytes of a record that spans refills */
  int in_rec;            /* a record has started (at least one byte scanned) */
  int skipping;          /* discarding the rest of a too-long record */
  int in_quote;          /* CSV: inside a quoted field */
  unsigned char prev;    /* CSV: byte before buf[scan] within the record (',' at its start) */
  int prev_closed;       /* CSV: that byte was a quote closing a quoted field */
  uint64_t rec_line;     /* first line of the record in progress */
  uint64_t quote_line;   /* CSV: line of the last opening quote */
  uint32_t rec_nl;       /* CSV: newlines inside quotes so far */
  uint64_t line;         /* physical line of buf[scan] */

  /* sticky fatal error (I/O, gzip, memory) */
  doppel_status err;
  char errtext[DOPPEL_DIAG_TEXT_MAX];
};

/* ---------------------------------------------------------------- errors */

static void set_err(doppel_reader *r, doppel_status st, const char *fmt, ...) DP_PRINTF(3, 4);

static void set_err(doppel_reader *r, doppel_status st, const char *fmt, ...) {
  va_list ap;
  r->err = st;
  va_start(ap, fmt);
  vsnprintf(r->errtext, sizeof r->errtext, fmt, ap);
  va_end(ap);
}

static void set_os_err(doppel_reader *r, const char *what, int e) {
  char eb[128];
  r->err = DOPPEL_E_IO;
  snprintf(r->errtext, sizeof r->errtext, "cannot %s '%s': %s", what, r->source,
           dp_io_strerror(e, eb, sizeof eb));
}

static int report_err(doppel_reader *r, doppel_diag *diag) {
  dp_diag_set(diag, r->err, r->source, r->line, 0, "%s", r->errtext);
  return -1;
}

/* ------------------------------------------------------------ raw input */

/* One read(2), retried on EINTR (and after poll(2) on EAGAIN). Returns bytes read, 0 at EOF, -1 on error. */
static long read_some(doppel_reader *r, void *p, size_t n) {
  for (;;) {
    ssize_t k = read(r->fd, p, n);
    if (k >= 0) {
      r->bytes += (uint64_t)k;
      return (long)k;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) { /* a non-blocking stdin */
      struct pollfd pfd = {r->fd, POLLIN, 0};
      if (poll(&pfd, 1, -1) >= 0 || errno == EINTR) continue;
    }
    set_os_err(r, "read", errno);
    return -1;
  }
}

/* Inflate into buf[end..cap). Returns bytes produced, 0 at the clean end of
 * the last member, -1 on error. Output produced before an error is returned
 * first; the error is then reported by the next call. */
static long fill_gzip(doppel_reader *r) {
  for (;;) {
    if (r->zs.avail_in == 0 && !r->zraw_eof) {
      long k = read_some(r, r->zbuf, DP_IO_BUF_SIZE);
      if (k < 0) return -1;
      if (k == 0) r->zraw_eof = 1;
      r->zs.next_in = r->zbuf;
      r->zs.avail_in = (uInt)k;
    }
    if (r->zmember_end) {
      if (r->zs.avail_in == 0) {
        if (r->zraw_eof) return 0;
        continue;
      }
      if (inflateReset(&r->zs) != Z_OK) {
        set_err(r, DOPPEL_E_INTERNAL, "cannot reset the gzip decoder");
        return -1;
      }
      r->zmember_end = 0;
    }
    if (r->zs.avail_in == 0 && r->zraw_eof) {
      set_err(r, DOPPEL_E_GZIP, "truncated gzip data");
      return -1;
    }
    size_t room = r->cap - r->end;
    r->zs.next_out = (unsigned char *)r->buf + r->end;
    r->zs.avail_out = (uInt)room;
    int ret = inflate(&r->zs, Z_NO_FLUSH);
    size_t got = room - r->zs.avail_out;
    if (ret == Z_STREAM_END) {
      r->zmember_end = 1;
    } else if (ret == Z_DATA_ERROR || ret == Z_NEED_DICT || ret == Z_STREAM_ERROR) {
      set_err(r, DOPPEL_E_GZIP, "corrupt gzip data: %s",
              r->zs.msg ? r->zs.msg : "invalid stream");
    } else if (ret == Z_MEM_ERROR) {
      set_err(r, DOPPEL_E_NOMEM, "out of memory while decompressing '%s'", r->source);
    }
    /* Z_OK and Z_BUF_ERROR: progress made, or more input needed */
    if (got) {
      r->end += got;
      return (long)got;
    }
    if (r->err) return -1;
  }
}

/* Append decoded bytes to buf[end..cap) (end < cap). Returns bytes added,
 * 0 at end of input, -1 on a (sticky) error. */
static long fill(doppel_reader *r) {
  if (r->err) return -1;
  if (r->eof) return 0;
  long k;
  if (r->gzip) {
    k = fill_gzip(r);
  } else {
    k = read_some(r, r->buf + r->end, r->cap - r->end);
    if (k > 0) r->end += (size_t)k;
  }
  if (k == 0) r->eof = 1;
  return k;
}

/* ------------------------------------------------------------- scanning */

static int is_blank_byte(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static int is_blank(const char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!is_blank_byte((unsigned char)p[i])) return 0;
  return 1;
}

/* Count the newlines in [p, e), advancing the line counters. */
static void count_quoted_newlines(doppel_reader *r, const char *p, const char *e) {
  while (p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
    r->line++;
    if (r->rec_nl < UINT32_MAX - 1) r->rec_nl++;
    p++;
  }
}

/* Scan buf[scan..end) for the end of the current record. Returns a pointer to
 * its terminating '\n', or NULL (and scan = end) when the buffer runs out
 * first. Starts a new record at the first byte scanned. */
static const char *find_term(doppel_reader *r) {
  if (r->scan >= r->end) return NULL;
  if (!r->in_rec) {
    r->in_rec = 1;
    r->rec_line = r->line;
    r->rec_nl = 0;
    r->in_quote = 0;
    r->prev = ',';
    r->prev_closed = 0;
  }
  const char *p = r->buf + r->scan;
  const char *p0 = p;
  const char *e = r->buf + r->end;
  if (r->format != DOPPEL_FORMAT_CSV) {
    const char *nl = memchr(p, '\n', (size_t)(e - p));
    if (!nl) r->scan = r->end;
    return nl;
  }
  const char *nl = NULL;
  const char *closed = NULL; /* last quote that closed a quoted field in this scan */
  int nl_known = 0;
  for (;;) {
    if (r->in_quote) {
      const char *q = memchr(p, '"', (size_t)(e - p));
      count_quoted_newlines(r, p, q ? q : e);
      if (!q) break;
      r->in_quote = 0;
      closed = q;
      p = q + 1;
    } else {
      if (!nl_known || (nl && nl < p)) {
        nl = memchr(p, '\n', (size_t)(e - p));
        nl_known = 1;
      }
      const char *lim = nl ? nl : e;
      const char *q = memchr(p, '"', (size_t)(lim - p));
      if (!q) {
        if (nl) return nl;
        break;
      }
      /* a quote opens a quoted field only at the start of a field (or right
       * after a closing quote: ""); a stray quote inside an unquoted field
       * stays literal, so one bad record is reported by the field splitter
       * instead of swallowing the rest of the file */
      int field_start = q > p0 ? (q[-1] == ',' || q - 1 == closed)
                               : (r->prev == ',' || r->prev_closed);
      if (field_start) {
        r->in_quote = 1;
        r->quote_line = r->line;
      }
      p = q + 1;
    }
  }
  if (e > p0) {
    r->prev = (unsigned char)e[-1];
    r->prev_closed = closed == e - 1;
  }
  r->scan = r->end;
  return NULL;
}

static int too_long(doppel_reader *r, doppel_diag *diag, uint64_t line) {
  dp_diag_set(diag, DOPPEL_E_TOO_LONG, r->source, line, 0,
              "record longer than %zu bytes (use --max-record to raise the limit)",
              r->max_record);
  return -1;
}

static void emit(doppel_reader *r, doppel_record *rec, const char *d, size_t len,
                 uint64_t line, uint32_t nl, int crlf, int eol) {
  rec->data = d;
  rec->len = len;
  rec->source = r->source;
  rec->line = line;
  rec->lines = nl + 1;
  rec->crlf = (uint8_t)crlf;
  rec->eol = (uint8_t)eol;
}

int doppel_reader_next(doppel_reader *r, doppel_record *rec, doppel_diag *diag) {
  if (!r || !rec) {
    dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "no reader or record given");
    return -1;
  }
  r->acc.len = 0;
  for (;;) {
    const char *term = find_term(r);
    if (term) {
      const char *d = r->buf + r->pos;
      size_t len = (size_t)(term - d);
      uint64_t line = r->rec_line;
      uint32_t nl = r->rec_nl;
      r->pos = r->scan = (size_t)(term - r->buf) + 1;
      r->line++;
      r->in_rec = 0;
      if (r->skipping) {
        r->skipping = 0;
        continue;
      }
      if (r->acc.len) {
        if (len > r->max_record + 1 - r->acc.len) {
          r->acc.len = 0;
          return too_long(r, diag, line);
        }
        if (dp_buf_append(&r->acc, d, len) != DOPPEL_OK) {
          set_err(r, DOPPEL_E_NOMEM, "out of memory reading '%s'", r->source);
          return report_err(r, diag);
        }
        d = r->acc.data;
        len = r->acc.len;
      }
      int crlf = len && d[len - 1] == '\r';
      if (crlf) len--;
      if (len > r->max_record) return too_long(r, diag, line);
      if (r->format != DOPPEL_FORMAT_CSV && (len == 0 || is_blank_byte((unsigned char)d[0])) &&
          is_blank(d, len)) {
        r->acc.len = 0;
        continue;
      }
      emit(r, rec, d, len, line, nl, crlf, 1);
      return 1;
    }

    /* The buffer ran out inside a record (or is empty): keep its bytes, refill. */
    size_t n = r->end - r->pos;
    if (n && !r->skipping) {
      if (n > r->max_record + 1 - r->acc.len) {
        r->acc.len = 0;
        r->skipping = 1;
        r->pos = r->scan = r->end;
        return too_long(r, diag, r->rec_line);
      }
      if (dp_buf_append(&r->acc, r->buf + r->pos, n) != DOPPEL_OK) {
        set_err(r, DOPPEL_E_NOMEM, "out of memory reading '%s'", r->source);
        return report_err(r, diag);
      }
    }
    r->pos = r->scan = r->end = 0;
    long k = fill(r);
    if (k < 0) return report_err(r, diag);
    if (k > 0) continue;

    /* End of input. */
    if (!r->in_rec) return 0;
    r->in_rec = 0;
    if (r->skipping) {
      r->skipping = 0;
      return 0;
    }
    if (r->format == DOPPEL_FORMAT_CSV && r->in_quote) {
      r->acc.len = 0;
      dp_diag_set(diag, DOPPEL_E_CSV, r->source, r->quote_line, 0,
                  "unterminated quoted field starting at line %llu",
                  (unsigned long long)r->quote_line);
      return -1;
    }
    const char *d = r->acc.data;
    size_t len = r->acc.len;
    if (len > r->max_record) {
      r->acc.len = 0;
      return too_long(r, diag, r->rec_line);
    }
    if (r->format != DOPPEL_FORMAT_CSV && is_blank(d, len)) return 0;
    emit(r, rec, d, len, r->rec_line, r->rec_nl, 0, 0);
    return 1;
  }
}

/* ------------------------------------------------------------ open/close */

static int ends_with_ci(const char *s, size_t n, const char *suffix) {
  size_t k = strlen(suffix);
  return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

/* Format implied by the path's extension (a trailing .gz is looked through). */
static doppel_format format_from_name(const char *path) {
  size_t n = strlen(path);
  if (ends_with_ci(path, n, ".gz")) n -= 3;
  if (ends_with_ci(path, n, ".csv")) return DOPPEL_FORMAT_CSV;
  if (ends_with_ci(path, n, ".jsonl") || ends_with_ci(path, n, ".ndjson") ||
      ends_with_ci(path, n, ".json"))
    return DOPPEL_FORMAT_JSONL;
  return DOPPEL_FORMAT_AUTO;
}

/* Fill until buf holds at least `want` bytes from pos, or input ends. */
static void fill_to(doppel_reader *r, size_t want) {
  while (r->end - r->pos < want && r->end < r->cap) {
    if (fill(r) <= 0) break;
  }
}

/* Switch to gzip decoding when the first raw bytes are the gzip magic. */
static doppel_status detect_gzip(doppel_reader *r) {
  fill_to(r, 2);
  if (r->end < 2 || (unsigned char)r->buf[0] != 0x1f || (unsigned char)r->buf[1] != 0x8b)
    return DOPPEL_OK;
  r->zbuf = malloc(DP_IO_BUF_SIZE);
  if (!r->zbuf) return DOPPEL_E_NOMEM;
  memset(&r->zs, 0, sizeof r->zs);
  if (inflateInit2(&r->zs, 15 + 16) != Z_OK) return DOPPEL_E_NOMEM;
  r->zinit = 1;
  r->gzip = 1;
  memcpy(r->zbuf, r->buf, r->end);
  r->zs.next_in = r->zbuf;
  r->zs.avail_in = (uInt)r->end;
  r->zraw_eof = r->eof;
  r->eof = 0;
  r->end = 0;
  return DOPPEL_OK;
}

static void detect_format(doppel_reader *r, doppel_format forced) {
  if (forced == DOPPEL_FORMAT_JSONL || forced == DOPPEL_FORMAT_CSV) {
    r->format = forced;
    return;
  }
  doppel_format f = format_from_name(r->source);
  if (f != DOPPEL_FORMAT_AUTO) {
    r->format = f;
    return;
  }
  size_t i = r->pos;
  for (;;) {
    while (i < r->end && is_blank_byte((unsigned char)r->buf[i])) i++;
    if (i < r->end || r->end == r->cap || fill(r) <= 0) break;
  }
  r->format = (i < r->end && r->buf[i] == '{') ? DOPPEL_FORMAT_JSONL : DOPPEL_FORMAT_CSV;
}

doppel_status doppel_reader_open(doppel_reader **out, const char *path,
                                 const doppel_reader_options *opt, doppel_diag *diag) {
  if (!out) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "no reader pointer given");
  *out = NULL;
  if (!path || !*path)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "empty input path");

  doppel_reader *r = calloc(1, sizeof *r);
  if (!r) return dp_diag_set(diag, DOPPEL_E_NOMEM, path, 0, 0, NULL);
  r->fd = -1;
  int is_stdin = strcmp(path, "-") == 0;
  r->source = strdup(is_stdin ? "<stdin>" : path);
  r->buf = malloc(DP_IO_BUF_SIZE);
  if (!r->source || !r->buf) {
    doppel_reader_free(r);
    return dp_diag_set(diag, DOPPEL_E_NOMEM, path, 0, 0, NULL);
  }
  r->cap = DP_IO_BUF_SIZE;
  r->line = 1;
  r->max_record = (opt && opt->max_record) ? opt->max_record : DOPPEL_MAX_RECORD_DEFAULT;
  if (r->max_record > SIZE_MAX / 2) r->max_record = SIZE_MAX / 2;
  r->delim = (opt && opt->csv_delim) ? opt->csv_delim : ',';
  dp_buf_init(&r->acc, r->max_record + 1);

  char eb[128];
  if (is_stdin) {
    r->fd = STDIN_FILENO;
  } else {
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
      int e = errno;
      doppel_reader_free(r);
      return dp_diag_set(diag, DOPPEL_E_IO, path, 0, 0, "cannot open '%s': %s", path,
                         dp_io_strerror(e, eb, sizeof eb));
    }
    r->close_fd = 1;
    struct stat st;
    if (fstat(r->fd, &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        doppel_reader_free(r);
        return dp_diag_set(diag, DOPPEL_E_IO, path, 0, 0, "cannot read '%s': %s", path,
                           dp_io_strerror(EISDIR, eb, sizeof eb));
      }
#ifdef POSIX_FADV_SEQUENTIAL
      if (S_ISREG(st.st_mode)) (void)posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
  }

  /* Read errors met while sniffing stay pending and surface from next(). */
  doppel_status st = detect_gzip(r);
  if (st != DOPPEL_OK) {
    doppel_reader_free(r);
    return dp_diag_set(diag, st, path, 0, 0, NULL);
  }
  fill_to(r, 3);
  if (r->end >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0) {
    r->bom = 1;
    r->pos = r->scan = 3;
  }
  detect_format(r, opt ? opt->format : DOPPEL_FORMAT_AUTO);
  *out = r;
  return DOPPEL_OK;
}

doppel_format doppel_reader_format(const doppel_reader *r) {
  return r ? r->format : DOPPEL_FORMAT_AUTO;
}

int doppel_reader_is_gzip(const doppel_reader *r) { return r ? r->gzip : 0; }

int doppel_reader_had_bom(const doppel_reader *r) { return r ? r->bom : 0; }

uint64_t doppel_reader_bytes(const doppel_reader *r) { return r ? r->bytes : 0; }

void doppel_reader_free(doppel_reader *r) {
  if (!r) return;
  if (r->zinit) inflateEnd(&r->zs);
  if (r->close_fd && r->fd >= 0) close(r->fd);
  dp_buf_release(&r->acc);
  free(r->zbuf);
  free(r->buf);
  free(r->source);
  free(r);
}
