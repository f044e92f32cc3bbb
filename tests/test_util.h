/*
 * test_util.h — small helpers shared by the test programs: temporary
 * directories, whole-file reads, the fixed test key, and running the CLI
 * with captured stdout/stderr/exit code (optionally under a wrapper such as
 * valgrind: DOPPEL_CLI_WRAPPER). Header-only (static functions).
 */
#ifndef DOPPEL_TEST_UTIL_H
#define DOPPEL_TEST_UTIL_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static inline char *tu_read_file(const char *path, size_t *len) {
  if (len) *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *b = malloc(cap + 1);
  size_t got;
  while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      cap *= 2;
      char *nb = realloc(b, cap + 1);
      if (!nb) { free(b); b = NULL; break; }
      b = nb;
    }
  }
  fclose(f);
  if (!b) return NULL;
  b[n] = '\0';
  if (len) *len = n;
  return b;
}

static inline int tu_write_file(const char *path, const char *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(data, 1, len, f);
  return (fclose(f) == 0 && w == len) ? 0 : -1;
}

/* A fresh temporary directory (static storage). */
static inline const char *tu_tmpdir(void) {
  static char dir[256];
  snprintf(dir, sizeof dir, "/tmp/doppel-test-XXXXXX");
  return mkdtemp(dir);
}

static inline void tu_rmdir(const char *dir) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", dir);
}

/* Copy fixtures/keys/test.key into dir/test.key with mode 0600; returns the path. */
static inline const char *tu_test_key(const char *dir) {
  static char path[512];
  char src[512];
  snprintf(src, sizeof src, "%s/fixtures/keys/test.key", DOPPEL_SOURCE_DIR);
  snprintf(path, sizeof path, "%s/test.key", dir);
  size_t n = 0;
  char *k = tu_read_file(src, &n);
  if (!k || tu_write_file(path, k, n) != 0) { free(k); return NULL; }
  free(k);
  chmod(path, 0600);
  return path;
}

typedef struct tu_run {
  int status;      /* exit code, or 128+signal */
  char *out;       /* captured stdout (owned) */
  size_t out_len;
  char *err;       /* captured stderr (owned) */
} tu_run;

/* Run `doppel <args>` through /bin/sh in dir, stdin from stdin_path (or
 * /dev/null). args is shell text (quote it yourself). When the environment
 * variable DOPPEL_CLI_WRAPPER is set, its value (shell words) is put before
 * the binary, e.g. "valgrind --error-exitcode=99" (tests/valgrind.sh). */
static inline tu_run tu_cli(const char *dir, const char *args, const char *stdin_path) {
  tu_run r = {0, NULL, 0, NULL};
  char cmd[8192], op[512], ep[512];
  const char *wrap = getenv("DOPPEL_CLI_WRAPPER");
  snprintf(op, sizeof op, "%s/.stdout", dir);
  snprintf(ep, sizeof ep, "%s/.stderr", dir);
  snprintf(cmd, sizeof cmd, "cd '%s' && %s '%s' %s <'%s' >'%s' 2>'%s'", dir, wrap ? wrap : "",
           DOPPEL_CLI_PATH, args, stdin_path ? stdin_path : "/dev/null", op, ep);
  int st = system(cmd);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  r.out = tu_read_file(op, &r.out_len);
  r.err = tu_read_file(ep, NULL);
  unlink(op);
  unlink(ep);
  return r;
}

static inline void tu_run_free(tu_run *r) {
  free(r->out);
  free(r->err);
}

#ifdef O_TMPFILE /* needs _GNU_SOURCE before the first include */
/* Can files in dir be unnamed O_TMPFILE temporaries (and be linked through
 * /proc/self/fd)? Where not, doppel falls back to named temporaries, and
 * tests of the unnamed kind skip. */
static inline int tu_tmpfile_supported(const char *dir) {
  int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  int ok = access(proc, F_OK) == 0;
  close(fd);
  return ok;
}
#endif

/* Number of entries in dir whose name starts with prefix. */
static inline int tu_count_entries(const char *dir, const char *prefix) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -c '^%s' || true", dir, prefix);
  FILE *p = popen(cmd, "r");
  int n = 0;
  if (p) {
    if (fscanf(p, "%d", &n) != 1) n = 0;
    pclose(p);
  }
  return n;
}

#endif
