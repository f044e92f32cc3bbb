/*
 * test_cli.c — golden CLI cases, data-driven: every directory under
 * tests/cli/ is one case with
 *   args              shell words after `doppel` (placeholders below)
 *   exit              expected exit code
 *   stdin             optional: repository path fed on stdin
 *   env               optional: NAME=VALUE lines set for the run
 *   setup             optional: shell run in the case's temp dir first
 *   stdout.file       optional: repository path stdout must equal exactly
 *   stdout.contains   optional: lines that must each appear in stdout
 *   stderr.contains   optional: lines that must each appear in stderr
 *   check             optional: shell run afterwards in the temp dir; must exit 0
 * Placeholders: {FIX} fixtures dir, {KEY} a copy of the test key (mode
 * 0600), {TMP} the temp dir, {SRC} the source tree, {BIN} the doppel binary. Every case also asserts
 * that neither stdout nor stderr contains the key's bytes in hex.
 * Environment: DOPPEL_CLI_WRAPPER runs each case's doppel under a wrapper
 * (test_util.h; not the {BIN} runs of setup/check scripts), and
 * DOPPEL_CLI_SHARD=i/N runs only every Nth case from the ith (both for
 * tests/valgrind.sh).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>

#include "test_util.h"

static char *subst(const char *s, const char *tmp, const char *key) {
  size_t cap = strlen(s) * 4 + 1024, o = 0;
  char *r = malloc(cap);
  while (*s) {
    const char *rep = NULL;
    size_t skip = 0;
    char fix[512];
    if (!strncmp(s, "{FIX}", 5)) { snprintf(fix, sizeof fix, "%s/fixtures", DOPPEL_SOURCE_DIR); rep = fix; skip = 5; }
    else if (!strncmp(s, "{KEY}", 5)) { rep = key; skip = 5; }
    else if (!strncmp(s, "{TMP}", 5)) { rep = tmp; skip = 5; }
    else if (!strncmp(s, "{SRC}", 5)) { rep = DOPPEL_SOURCE_DIR; skip = 5; }
    else if (!strncmp(s, "{BIN}", 5)) { rep = DOPPEL_CLI_PATH; skip = 5; }
    if (rep) {
      size_t n = strlen(rep);
      if (o + n + 1 >= cap) { cap = (o + n) * 2 + 1; r = realloc(r, cap); }
      memcpy(r + o, rep, n);
      o += n;
      s += skip;
    } else {
      if (o + 2 >= cap) { cap *= 2; r = realloc(r, cap); }
      r[o++] = *s++;
    }
  }
  r[o] = '\0';
  while (o && (r[o - 1] == '\n' || r[o - 1] == '\r')) r[--o] = '\0';
  return r;
}

static char *case_file(const char *casedir, const char *name) {
  char p[1024];
  snprintf(p, sizeof p, "%s/%s", casedir, name);
  return tu_read_file(p, NULL);
}

static int run_shell(const char *dir, const char *script) {
  char *cmd = malloc(strlen(script) + strlen(dir) + 64);
  sprintf(cmd, "cd '%s' && ( %s ) >/dev/null 2>&1", dir, script);
  int st = system(cmd);
  free(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int check_contains(const char *what, const char *hay, const char *lines, const char *name) {
  int bad = 0;
  char *copy = strdup(lines);
  for (char *l = strtok(copy, "\n"); l; l = strtok(NULL, "\n")) {
    if (!*l) continue;
    if (!hay || !strstr(hay, l)) {
      fprintf(stderr, "[%s] %s lacks: %s\n--- %s was:\n%s\n", name, what, l, what, hay ? hay : "(none)");
      bad = 1;
    }
  }
  free(copy);
  return bad;
}

static int run_case(const char *casedir, const char *name) {
  int bad = 0;
  const char *tmp0 = tu_tmpdir();
  char tmp[256];
  snprintf(tmp, sizeof tmp, "%s", tmp0);
  const char *key = tu_test_key(tmp);
  char *raw;
  unsetenv("DOPPEL_KEY_FILE");
  if ((raw = case_file(casedir, "env"))) {
    char *e = subst(raw, tmp, key);
    for (char *l = strtok(e, "\n"); l; l = strtok(NULL, "\n")) {
      char *eq = strchr(l, '=');
      if (eq) { *eq = '\0'; setenv(l, eq + 1, 1); }
    }
    free(e);
    free(raw);
  }
  if ((raw = case_file(casedir, "setup"))) {
    char *s = subst(raw, tmp, key);
    if (run_shell(tmp, s) != 0) { fprintf(stderr, "[%s] setup failed\n", name); bad = 1; }
    free(s);
    free(raw);
  }
  char *args_raw = case_file(casedir, "args");
  char *args = subst(args_raw ? args_raw : "", tmp, key);
  char stdin_path[1024] = "";
  if ((raw = case_file(casedir, "stdin"))) {
    char *s = subst(raw, tmp, key);
    snprintf(stdin_path, sizeof stdin_path, "%s/%s", DOPPEL_SOURCE_DIR, s);
    free(s);
    free(raw);
  }
  tu_run r = tu_cli(tmp, args, stdin_path[0] ? stdin_path : NULL);
  unsetenv("DOPPEL_KEY_FILE");
  char *exp_exit = case_file(casedir, "exit");
  if (exp_exit && r.status != atoi(exp_exit)) {
    fprintf(stderr, "[%s] exit %d, expected %d\n--- stderr:\n%s\n", name, r.status, atoi(exp_exit),
            r.err ? r.err : "");
    bad = 1;
  }
  if ((raw = case_file(casedir, "stdout.file"))) {
    char *s = subst(raw, tmp, key);
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", DOPPEL_SOURCE_DIR, s);
    size_t n;
    char *want = tu_read_file(p, &n);
    if (!want || !r.out || n != r.out_len || memcmp(want, r.out, n) != 0) {
      fprintf(stderr, "[%s] stdout differs from %s\n", name, s);
      bad = 1;
    }
    free(want);
    free(s);
    free(raw);
  }
  if ((raw = case_file(casedir, "stdout.contains"))) {
    bad |= check_contains("stdout", r.out, raw, name);
    free(raw);
  }
  if ((raw = case_file(casedir, "stderr.contains"))) {
    bad |= check_contains("stderr", r.err, raw, name);
    free(raw);
  }
  static const char *key_hex = "000102030405060708090a0b0c0d0e0f";
  if ((r.out && strstr(r.out, key_hex)) || (r.err && strstr(r.err, key_hex))) {
    fprintf(stderr, "[%s] key bytes appear in the output\n", name);
    bad = 1;
  }
  if ((raw = case_file(casedir, "check"))) {
    char *s = subst(raw, tmp, key);
    if (run_shell(tmp, s) != 0) { fprintf(stderr, "[%s] check failed: %s\n", name, s); bad = 1; }
    free(s);
    free(raw);
  }
  free(exp_exit);
  free(args);
  free(args_raw);
  tu_run_free(&r);
  tu_rmdir(tmp);
  return bad;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_cli_cases(void **state) {
  (void)state;
  char root[512];
  snprintf(root, sizeof root, "%s/tests/cli", DOPPEL_SOURCE_DIR);
  DIR *d = opendir(root);
  assert_non_null(d);
  char *names[512];
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 512)
    if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof names[0], cmp_names);
  assert_true(n >= 20);
  /* DOPPEL_CLI_SHARD=i/N: only the cases whose index is i modulo N (so a
   * slow wrapper such as valgrind can run N processes side by side) */
  unsigned shard = 0, shards = 1;
  const char *sh = getenv("DOPPEL_CLI_SHARD");
  if (sh && (sscanf(sh, "%u/%u", &shard, &shards) != 2 || shards == 0 || shard >= shards)) {
    fprintf(stderr, "DOPPEL_CLI_SHARD must be i/N with i < N, not '%s'\n", sh);
    fail();
  }
  int failures = 0;
  for (size_t i = 0; i < n; i++) {
    if (i % shards != shard) {
      free(names[i]);
      continue;
    }
    char casedir[1024];
    snprintf(casedir, sizeof casedir, "%s/%s", root, names[i]);
    int bad = run_case(casedir, names[i]);
    fprintf(stderr, "cli case %-24s %s\n", names[i], bad ? "FAILED" : "ok");
    failures += bad;
    free(names[i]);
  }
  assert_int_equal(failures, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_cli_cases)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
