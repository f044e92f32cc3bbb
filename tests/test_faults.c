/*
 * test_faults.c — fault injection through the CLI binary (DOPPEL_CLI_PATH)
 * for keygen, pseudonymize and sample:
 *   - failing writes: the LD_PRELOAD shim tests/faults/failwrite.c makes
 *     write()/fsync()/link()/rename() fail with ENOSPC or EIO after N bytes,
 *     on the Nth call, at fsync or at commit; and a full 64 KiB tmpfs when
 *     mount(2) is permitted (skipped with a message otherwise);
 *   - kill -9 / SIGTERM / SIGINT mid-run, after output started (a FIFO
 *     input holds the run open; and a ~64 MB generated file), also while
 *     sample copies stdin to $TMPDIR;
 *   - failing allocations: the shim tests/faults/failmalloc.c fails the Nth
 *     allocation, for every allocation a normal run makes outside OpenSSL
 *     and a sample of those inside it (all of them with
 *     DOPPEL_FAULT_MALLOC_ALL=1); for pseudonymize and keygen also every
 *     allocation from each of our own on (memory that stays out). Skipped
 *     under AddressSanitizer, which owns the allocator.
 *   - a run started under nohup keeps SIGHUP ignored.
 * Each failed run must exit 1 (never by a signal, never 2: running out of
 * memory or disk is not a usage error) with a "doppel VERB: error:" message
 * naming the file and the OS error (or "out of memory"); leave nothing under
 * the output name (an existing target keeps its old content) and no
 * temporary in the output directory or $TMPDIR; and leave the input
 * byte-identical (SHA-256). A run that survives a fault must give exactly
 * the normal output. Every scenario runs with the unnamed O_TMPFILE
 * temporary and with the named fallback (DOPPEL_NO_TMPFILE=1); under the
 * fallback a SIGKILL does leave the named temporary, which is asserted too.
 * The runs work in /dev/shm when it is a tmpfs (fsync is free there), else
 * in /tmp. DOPPEL_TEST_FILTER=test_malloc* runs only the matching tests.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <strings.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "test_util.h"

#ifndef DOPPEL_SANITIZE_BUILD
#define DOPPEL_SANITIZE_BUILD 0
#endif

#define MAX_ARGS 32
#define MAX_ENV 16

static char g_root[256]; /* per-test temporary root */
static char g_work[300]; /* cwd of the runs: inputs and outputs */
static char g_logs[300]; /* captured stderr, shim logs: outside g_work */
static char g_key[600];  /* test key (mode 0600), in g_logs */
static int g_child_ignores; /* a signal the next child starts with ignored, or 0 */
static int g_unnamed;       /* O_TMPFILE works in g_work (else unnamed variants skip) */

static int setup(void **state) {
  (void)state;
  /* on a tmpfs when there is one: every run fsyncs, which costs ~20 ms on a
   * disk and would dominate the thousands of short runs */
  struct statfs sf;
  int shm = statfs("/dev/shm", &sf) == 0 && sf.f_type == TMPFS_MAGIC && access("/dev/shm", W_OK) == 0;
  snprintf(g_root, sizeof g_root, "%s/doppel-faults-XXXXXX", shm ? "/dev/shm" : "/tmp");
  if (!mkdtemp(g_root)) return -1;
  snprintf(g_work, sizeof g_work, "%s/work", g_root);
  snprintf(g_logs, sizeof g_logs, "%s/logs", g_root);
  if (mkdir(g_work, 0755) || mkdir(g_logs, 0755)) return -1;
  const char *k = tu_test_key(g_logs);
  if (!k) return -1;
  snprintf(g_key, sizeof g_key, "%s", k);
  g_unnamed = tu_tmpfile_supported(g_work);
  if (!g_unnamed)
    fprintf(stderr, "note: no O_TMPFILE in %s: the unnamed-temporary variants are skipped\n", g_work);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  tu_rmdir(g_root);
  return 0;
}

static const char *in_dir(const char *dir, const char *name) {
  static char bufs[8][600];
  static int k;
  char *p = bufs[k++ & 7];
  snprintf(p, sizeof bufs[0], "%s/%s", dir, name);
  return p;
}

/* ------------------------------------------------------------- inputs */

/* n JSONL records, ~200 bytes each, with n/2 distinct users (e-mails,
 * phones and IPs to pseudonymize). */
static void gen_jsonl(const char *path, long n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  for (long i = 0; i < n; i++)
    fprintf(f,
            "{\"user_id\":\"user-%ld@example.com\",\"event\":\"E%ld\",\"time\":\"2024-01-%02ldT10:00:00Z\","
            "\"properties\":{\"plan\":\"pro\",\"note\":\"mail user-%ld@example.com or call +1 415 555 %04ld\","
            "\"ip\":\"203.0.%ld.%ld\",\"n\":%ld}}\n",
            i / 2, i % 7, 1 + i % 28, i / 2, i % 10000, (i / 256) % 256, i % 256, i);
  assert_int_equal(fclose(f), 0);
}

static void gen_csv(const char *path, long n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs("user_id,event,time,email,comment\n", f);
  for (long i = 0; i < n; i++)
    fprintf(f, "u%ld,E%ld,2024-01-%02ldT10:00:00Z,user-%ld@example.com,\"call +1 415 555 %04ld, thanks\"\n",
            i / 2, i % 7, 1 + i % 28, i / 2, i % 10000);
  assert_int_equal(fclose(f), 0);
}

static void copy_file(const char *from, const char *to) {
  size_t n;
  char *d = tu_read_file(from, &n);
  assert_non_null(d);
  assert_int_equal(tu_write_file(to, d, n), 0);
  free(d);
}

/* SHA-256 of a file as 64 hex digits into out (65 bytes). */
static void file_sha256(const char *path, char *out) {
  size_t n;
  char *d = tu_read_file(path, &n);
  assert_non_null(d);
  unsigned char md[32];
  unsigned int ml = 0;
  assert_int_equal(EVP_Digest(d, n, md, &ml, EVP_sha256(), NULL), 1);
  for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
  free(d);
}

/* Sorted names in dir (hidden ones too), space-separated, into out. */
static void listing(const char *dir, char *out, size_t size) {
  char *names[256];
  size_t n = 0;
  DIR *d = opendir(dir);
  assert_non_null(d);
  struct dirent *e;
  while ((e = readdir(d)) && n < 256)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[n++] = strdup(e->d_name);
  closedir(d);
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
      char *t = names[j];
      names[j] = names[j - 1];
      names[j - 1] = t;
    }
  size_t o = 0;
  out[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    o += (size_t)snprintf(out + o, o < size ? size - o : 0, "%s%s", i ? " " : "", names[i]);
    free(names[i]);
  }
}

/* --------------------------------------------------------------- runs */

typedef struct run {
  pid_t pid;
  int code;     /* exit code, or -1 when killed by a signal */
  int sig;      /* the signal, or 0 */
  char *err;    /* captured stderr (owned) */
} run;

/* Split a space-separated argument string (no quoting) into argv. */
static size_t split_args(char *s, char **argv, size_t max) {
  size_t n = 0;
  for (char *t = strtok(s, " "); t && n + 1 < max; t = strtok(NULL, " ")) argv[n++] = t;
  argv[n] = NULL;
  return n;
}

/* Start `doppel ARGS` in cwd with the extra environment env ("K=V"
 * strings, NULL-terminated; may be NULL), stdin from stdin_path (NULL:
 * /dev/null), stdout to out_path (NULL: /dev/null) and stderr to err_path.
 * {KEY} in args is the test key. The child gets 120 s before SIGALRM. */
static run start_in(const char *cwd, const char *err_path, const char *out_path, const char *args,
                    const char *const *env, const char *stdin_path) {
  char buf[2048];
  char key_sub[2048];
  /* substitute {KEY} */
  const char *k = strstr(args, "{KEY}");
  if (k) {
    snprintf(key_sub, sizeof key_sub, "%.*s%s%s", (int)(k - args), args, g_key, k + 5);
    args = key_sub;
  }
  snprintf(buf, sizeof buf, "%s", args);
  char *argv[MAX_ARGS];
  argv[0] = (char *)"doppel";
  split_args(buf, argv + 1, MAX_ARGS - 1);
  run r = {0, 0, 0, NULL};
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    if (chdir(cwd) != 0) _exit(126);
    int in = open(stdin_path ? stdin_path : "/dev/null", O_RDONLY);
    int out = out_path ? open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : open("/dev/null", O_WRONLY);
    int er = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || er < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(er, 2);
    unsetenv("DOPPEL_NO_TMPFILE");
    unsetenv("DOPPEL_KEY_FILE");
    for (size_t i = 0; env && env[i]; i++) putenv((char *)env[i]);
    /* a run under nohup or in a background job inherits ignored signals */
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGALRM};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
    if (g_child_ignores) signal(g_child_ignores, SIG_IGN); /* as nohup does */
    alarm(120);
    execv(DOPPEL_CLI_PATH, argv);
    _exit(127);
  }
  r.pid = pid;
  return r;
}

static run start(const char *args, const char *const *env, const char *stdin_path) {
  return start_in(g_work, in_dir(g_logs, "stderr"), NULL, args, env, stdin_path);
}

/* Fill r from the wait status st and the captured stderr in err_path. */
static void collect(run *r, int st, const char *err_path) {
  r->code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r->sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  r->err = tu_read_file(err_path, NULL);
  if (!r->err) r->err = strdup("");
}

static void finish(run *r) {
  int st;
  while (waitpid(r->pid, &st, 0) < 0) assert_int_equal(errno, EINTR);
  collect(r, st, in_dir(g_logs, "stderr"));
}

static run run_doppel(const char *args, const char *const *env, const char *stdin_path) {
  run r = start(args, env, stdin_path);
  finish(&r);
  return r;
}

/* ASan must not insist on coming first when a shim is preloaded. */
static const char *asan_env(void) {
  static char buf[600];
  const char *old = getenv("ASAN_OPTIONS");
  snprintf(buf, sizeof buf, "ASAN_OPTIONS=%s%sverify_asan_link_order=0", old ? old : "",
           old && *old ? ":" : "");
  return buf;
}

static int contains_ci(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++)
    if (strncasecmp(hay, needle, n) == 0) return 1;
  return 0;
}

/* No crash: exited (no signal), no sanitizer or valgrind report. */
static void assert_clean_exit(const run *r, const char *what) {
  if (r->sig || strstr(r->err, "Sanitizer") || strstr(r->err, "runtime error")) {
    fprintf(stderr, "[%s] crashed: signal %d\n%s\n", what, r->sig, r->err);
    fail();
  }
}

/* ----------------------------------------------------- failing writes */

typedef struct verb_case {
  const char *name;
  const char *args; /* with OUT for the output name */
  const char *out;  /* output name */
  int full;         /* every fault with every kind of temporary and target */
  const char *out2; /* another output of the same run (never pre-existing), or NULL */
  const char *private_out; /* an output that must get mode 0600 (a state), or NULL */
} verb_case;

/* args with OUT replaced by out */
static const char *with_out(const char *args, const char *out) {
  static char b[1024];
  const char *p = strstr(args, "OUT");
  if (!p) return args;
  snprintf(b, sizeof b, "%.*s%s%s", (int)(p - args), args, out, p + 3);
  return b;
}

/* The names in dir with the SHA-256 of each regular file, sorted:
 * "name:sha name ...", so any change to any input shows. */
static void snapshot(const char *dir, char *out, size_t size) {
  char names[4096];
  listing(dir, names, sizeof names);
  size_t o = 0;
  out[0] = '\0';
  for (char *save = NULL, *t = strtok_r(names, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
    struct stat st;
    char sha[65] = "";
    if (lstat(in_dir(dir, t), &st) == 0 && S_ISREG(st.st_mode)) file_sha256(in_dir(dir, t), sha);
    o += (size_t)snprintf(out + o, o < size ? size - o : 0, "%s%s%s%s", o ? " " : "", t, *sha ? ":" : "", sha);
  }
  assert_true(o < size);
}

/* The message prefix of the verb that args run: "doppel VERB: error: ". */
static const char *verb_error_prefix(const char *args) {
  static char b[64];
  snprintf(b, sizeof b, "doppel %.*s: error: ", (int)strcspn(args, " "), args);
  return b;
}

typedef struct fault {
  const char *name;
  const char *env[3]; /* shim variables */
  int at_commit;      /* fails only when the output is put in place */
} fault;

/* Run one verb with one fault, with or without an existing target and the
 * named fallback, and check the aftermath against snap (snapshot() of
 * g_work before). */
static void check_write_fault(const verb_case *vc, const fault *ft, const char *err_name,
                              const char *err_text, int named, int existing, const char *snap) {
  char what[300];
  snprintf(what, sizeof what, "%s, %s, %s, %s%s", vc->name, ft->name, err_name,
           named ? "named temporary" : "unnamed temporary", existing ? ", existing target" : "");
  const char *out = vc->out;
  if (existing) assert_int_equal(tu_write_file(in_dir(g_work, out), "old\n", 4), 0);
  char preload[600], errno_env[64], log_env[600];
  snprintf(preload, sizeof preload, "LD_PRELOAD=%s", DOPPEL_FAILWRITE_PATH);
  snprintf(errno_env, sizeof errno_env, "FAULT_ERRNO=%s", err_name);
  snprintf(log_env, sizeof log_env, "FAULT_LOG=%s", in_dir(g_logs, "fault.log"));
  unlink(in_dir(g_logs, "fault.log"));
  const char *env[MAX_ENV];
  size_t ne = 0;
  env[ne++] = preload;
  env[ne++] = asan_env();
  env[ne++] = errno_env;
  env[ne++] = log_env;
  if (named) env[ne++] = "DOPPEL_NO_TMPFILE=1";
  for (size_t i = 0; i < 3 && ft->env[i]; i++) env[ne++] = ft->env[i];
  env[ne] = NULL;
  run r = run_doppel(with_out(vc->args, out), env, NULL);
  assert_clean_exit(&r, what);
  int bad = 0;
  size_t loglen = 0;
  char *log = tu_read_file(in_dir(g_logs, "fault.log"), &loglen);
  if (!log || !loglen) {
    fprintf(stderr, "[%s] the fault was never hit\n", what);
    bad = 1;
  }
  free(log);
  if (r.code != 1) {
    fprintf(stderr, "[%s] exit %d, expected 1\n", what, r.code);
    bad = 1;
  }
  /* the message names the file (either output of a run with two) */
  const char *verb_prefix = verb_error_prefix(vc->args);
  char quoted[300], quoted2[300];
  snprintf(quoted, sizeof quoted, "'%s'", out);
  snprintf(quoted2, sizeof quoted2, "'%s'", vc->out2 ? vc->out2 : out);
  if (!strstr(r.err, verb_prefix) || !(strstr(r.err, quoted) || strstr(r.err, quoted2)) ||
      !contains_ci(r.err, err_text)) {
    fprintf(stderr, "[%s] message lacks '%s', %s%s%s or '%s'\n", what, verb_prefix, quoted,
            vc->out2 ? " / " : "", vc->out2 ? quoted2 : "", err_text);
    bad = 1;
  }
  if (existing) {
    size_t n;
    char *d = tu_read_file(in_dir(g_work, out), &n);
    if (!d || n != 4 || memcmp(d, "old\n", 4) != 0) {
      fprintf(stderr, "[%s] the existing target was changed\n", what);
      bad = 1;
    }
    free(d);
    unlink(in_dir(g_work, out));
  }
  /* nothing new (no output, no temporary), every input unchanged */
  char now[8192];
  snapshot(g_work, now, sizeof now);
  if (strcmp(now, snap) != 0) {
    fprintf(stderr, "[%s] directory holds '%s', expected '%s'\n", what, now, snap);
    bad = 1;
  }
  if (bad) fprintf(stderr, "--- stderr:\n%s\n", r.err);
  free(r.err);
  assert_int_equal(bad, 0);
}

/* A clean run of vc under the shim (no fault chosen) works; returns the
 * bytes it wrote (all outputs) and removes them. With existing, the output
 * replaces an old file of mode 0644. An output that must be private gets
 * mode 0600 either way. */
static long long clean_run(const verb_case *vc, int existing) {
  if (existing) {
    assert_int_equal(tu_write_file(in_dir(g_work, vc->out), "old\n", 4), 0);
    assert_int_equal(chmod(in_dir(g_work, vc->out), 0644), 0);
  }
  char preload[600];
  snprintf(preload, sizeof preload, "LD_PRELOAD=%s", DOPPEL_FAILWRITE_PATH);
  const char *env0[] = {preload, asan_env(), NULL};
  run r = run_doppel(with_out(vc->args, vc->out), env0, NULL);
  assert_clean_exit(&r, vc->name);
  if (r.code != 0) fprintf(stderr, "[%s] clean run: exit %d\n%s\n", vc->name, r.code, r.err);
  assert_int_equal(r.code, 0);
  free(r.err);
  long long bytes = 0;
  const char *outs[2] = {in_dir(g_work, vc->out), vc->out2 ? in_dir(g_work, vc->out2) : NULL};
  for (int i = 0; i < 2 && outs[i]; i++) {
    struct stat st;
    assert_int_equal(stat(outs[i], &st), 0);
    bytes += st.st_size;
    if (existing && i == 0) assert_true(st.st_size != 4);
  }
  if (vc->private_out) {
    struct stat st;
    assert_int_equal(stat(in_dir(g_work, vc->private_out), &st), 0);
    if ((st.st_mode & 0777) != 0600)
      fprintf(stderr, "[%s%s] %s has mode %03o, expected 0600\n", vc->name, existing ? ", existing target" : "",
              vc->private_out, (unsigned)(st.st_mode & 0777));
    assert_int_equal(st.st_mode & 0777, 0600);
  }
  for (int i = 0; i < 2 && outs[i]; i++) unlink(outs[i]);
  return bytes;
}

static void write_faults_for(const verb_case *vcs, size_t n_vc) {
  char snap[8192];
  snapshot(g_work, snap, sizeof snap);
  static const fault faults[] = {
      {"first write", {"FAULT_WRITE_CALL=1", NULL, NULL}, 0},       /* nothing written */
      {"after 1 byte", {"FAULT_WRITE_AFTER=1", NULL, NULL}, 0},       /* a short write, then none */
      {"after 262144 bytes", {"FAULT_WRITE_AFTER=262144", NULL, NULL}, 0}, /* the 2nd buffer flush */
      {"after 300000 bytes", {"FAULT_WRITE_AFTER=300000", NULL, NULL}, 0}, /* short, mid-run */
      {"fsync", {"FAULT_FSYNC=1", NULL, NULL}, 1},
      {"link", {"FAULT_LINK=1", NULL, NULL}, 1},
      {"rename", {"FAULT_RENAME=1", NULL, NULL}, 1},
  };
  static const char *const errs[2][2] = {{"ENOSPC", "No space left on device"},
                                         {"EIO", "Input/output error"}};
  int k = 0, picked = 0, runs = 0;
  for (size_t v = 0; v < n_vc; v++) {
    /* a clean run under the shim (no fault chosen) works and gives the output size */
    long long size = clean_run(&vcs[v], 0);
    if (vcs[v].private_out) clean_run(&vcs[v], 1); /* replacing a file of mode 0644 */
    int is_keygen = strncmp(vcs[v].args, "keygen", 6) == 0;
    /* the verbs tested in full fail mid-run too: outputs over 2 buffers */
    int big = size > 300000 + 4096;
    if (vcs[v].full && !is_keygen && !big)
      fprintf(stderr, "[%s] output of %lld bytes: too small for the byte-offset faults\n", vcs[v].name, size);
    assert_true(is_keygen || big || !vcs[v].full);
    for (size_t f = 0; f < sizeof faults / sizeof faults[0]; f++) {
      if (!big && strstr(faults[f].name, "bytes")) continue; /* a key file: 65 bytes */
      if (is_keygen && strstr(faults[f].name, "rename"))
        continue; /* a key is linked, never renamed into place */
      for (int named = !g_unnamed; named < 2; named++) {
        const char *const *e = errs[k++ % 2];
        /* an existing target (that must keep its content), where the output
         * may replace one; once with each kind of temporary for commit-time
         * faults, else with the unnamed one */
        int existing_max = is_keygen || (named && !faults[f].at_commit) ? 0 : 1;
        for (int existing = 0; existing <= existing_max; existing++) {
          /* rename happens only when a target is replaced, or with the named
           * fallback; link only with an unnamed temporary (or for a key) */
          if (!strcmp(faults[f].name, "rename") && !existing && !named) continue;
          if (!strcmp(faults[f].name, "link") && named && !is_keygen) continue;
          /* the other verbs share the output code: every other combination */
          if (!vcs[v].full && picked++ % 2) continue;
          check_write_fault(&vcs[v], &faults[f], e[0], e[1], named, existing, snap);
          runs++;
        }
      }
    }
  }
  fprintf(stderr, "write faults: %d failing runs over %zu verbs, all clean\n", runs, n_vc);
}

static void test_write_faults_jsonl(void **state) {
  (void)state;
  gen_jsonl(in_dir(g_work, "in.jsonl"), 1600); /* ~350 KB; pseudonymized ~400 KB */
  copy_file(g_key, in_dir(g_work, "test.key"));
  chmod(in_dir(g_work, "test.key"), 0600);
  static const verb_case vcs[] = {
      {"pseudonymize", "pseudonymize in.jsonl -o OUT --key test.key", "out.jsonl", 1, NULL, NULL},
      {"sample --users", "sample in.jsonl -o OUT --key test.key --users 0.5", "out.jsonl", 0, NULL, NULL},
      {"sample --users-n", "sample in.jsonl -o OUT --key test.key --users-n 600", "out.jsonl", 0, NULL, NULL},
      {"sample --events-n", "sample in.jsonl -o OUT --key test.key --events-n 1000 --raw", "out.jsonl", 0, NULL, NULL},
      {"keygen", "keygen -o OUT", "new.key", 1, NULL, NULL},
  };
  write_faults_for(vcs, sizeof vcs / sizeof vcs[0]);
}

static void test_write_faults_csv(void **state) {
  (void)state;
  gen_csv(in_dir(g_work, "in.csv"), 3000);
  copy_file(g_key, in_dir(g_work, "test.key"));
  chmod(in_dir(g_work, "test.key"), 0600);
  static const verb_case vcs[] = {
      {"pseudonymize csv", "pseudonymize in.csv -o OUT --key test.key", "out.csv", 0, NULL, NULL},
      {"sample csv", "sample in.csv -o OUT --key test.key --users 0.9", "out.csv", 0, NULL, NULL},
  };
  write_faults_for(vcs, sizeof vcs / sizeof vcs[0]);
}

/* profile (with and without the state, which must keep mode 0600) and
 * merge: the profile is written at the end, the state is the large one */
static void test_write_faults_profile(void **state) {
  (void)state;
  gen_jsonl(in_dir(g_work, "in.jsonl"), 1600); /* profile ~37 KB, state ~670 KB */
  gen_jsonl(in_dir(g_work, "in2.jsonl"), 400);
  run r = run_doppel("profile in.jsonl --state-out s1.json -q", NULL, NULL);
  assert_int_equal(r.code, 0);
  free(r.err);
  r = run_doppel("profile in2.jsonl --state-out s2.json -q", NULL, NULL);
  assert_int_equal(r.code, 0);
  free(r.err);
  static const verb_case vcs[] = {
      {"profile", "profile in.jsonl -o OUT", "p.json", 0, NULL, NULL},
      {"profile --state-out", "profile in.jsonl -o OUT --state-out st.json", "p.json", 1, "st.json", "st.json"},
      {"profile --state-out, the state replaced", "profile in.jsonl -o p.json --state-out OUT", "st.json", 1,
       "p.json", "st.json"},
      {"profile --state-out only", "profile in.jsonl --state-out OUT", "st.json", 0, NULL, "st.json"},
      {"merge", "merge s1.json s2.json -o OUT", "m.json", 0, NULL, NULL},
      {"merge --state-out", "merge s1.json s2.json -o OUT --state-out ms.json", "m.json", 0, "ms.json", "ms.json"},
  };
  write_faults_for(vcs, sizeof vcs / sizeof vcs[0]);
}

/* synth from a ready profile in every format and order: a few hundred
 * users give an output of some MB, written in 1 MiB pieces */
static void test_write_faults_synth(void **state) {
  (void)state;
  copy_file(DOPPEL_SOURCE_DIR "/profiles/nasa-http.json", in_dir(g_work, "nasa.json"));
  static const verb_case vcs[] = {
      {"synth", "synth nasa.json --users 300 -o OUT", "out.jsonl", 1, NULL, NULL},
      {"synth csv", "synth nasa.json --users 300 -o OUT", "out.csv", 0, NULL, NULL},
      {"synth sql", "synth nasa.json --users 300 --format sql -o OUT", "out.txt", 0, NULL, NULL},
      {"synth --order time", "synth nasa.json --users 300 --order time -o OUT", "out.jsonl", 0, NULL, NULL},
  };
  write_faults_for(vcs, sizeof vcs / sizeof vcs[0]);
}

/* report (HTML, Markdown) of a profile; the HTML scorecard of compare (a
 * real and a synthetic dataset) */
static void test_write_faults_report(void **state) {
  (void)state;
  copy_file(DOPPEL_SOURCE_DIR "/fixtures/profiles/report.profile.json", in_dir(g_work, "p.json"));
  copy_file(DOPPEL_SOURCE_DIR "/fixtures/events/report.jsonl", in_dir(g_work, "a.jsonl"));
  run r = run_doppel("synth p.json --users 40 -o b.jsonl -q", NULL, NULL);
  assert_int_equal(r.code, 0);
  free(r.err);
  static const verb_case vcs[] = {
      {"report", "report p.json -o OUT", "r.html", 0, NULL, NULL},
      {"report --format md", "report p.json -o OUT --format md", "r.txt", 0, NULL, NULL},
      {"compare --html", "compare a.jsonl b.jsonl --html OUT -q", "c.html", 0, NULL, NULL},
      {"compare --json --html", "compare a.jsonl b.jsonl --json --html OUT", "c.html", 0, NULL, NULL},
  };
  write_faults_for(vcs, sizeof vcs / sizeof vcs[0]);
}

/* Every verb that can write to stdout, with stdout on /dev/full (ENOSPC
 * on every write; the shim cannot reach stdio's own writes): exit 1 with the
 * message, and a file output of the same run is not left behind either. */
static void test_stdout_full(void **state) {
  (void)state;
  gen_jsonl(in_dir(g_work, "in.jsonl"), 1600);
  copy_file(g_key, in_dir(g_work, "test.key"));
  chmod(in_dir(g_work, "test.key"), 0600);
  copy_file(DOPPEL_SOURCE_DIR "/profiles/nasa-http.json", in_dir(g_work, "nasa.json"));
  copy_file(DOPPEL_SOURCE_DIR "/fixtures/profiles/report.profile.json", in_dir(g_work, "p.json"));
  copy_file(DOPPEL_SOURCE_DIR "/fixtures/events/report.jsonl", in_dir(g_work, "a.jsonl"));
  run r = run_doppel("profile in.jsonl --state-out s1.json -q", NULL, NULL);
  assert_int_equal(r.code, 0);
  free(r.err);
  r = run_doppel("synth p.json --users 40 -o b.jsonl -q", NULL, NULL);
  assert_int_equal(r.code, 0);
  free(r.err);
  static const char *const cases[] = {
      "pseudonymize in.jsonl -o - --key test.key",
      "sample in.jsonl -o - --key test.key --users 0.5",
      "profile in.jsonl -o -",
      "profile in.jsonl -o - --state-out st.json",
      "profile in.jsonl -o out.json --state-out -",
      "merge s1.json -o -",
      "merge s1.json -o out.json --state-out -",
      "synth nasa.json --users 50 -o -",
      "report p.json -o -",
      "report p.json -o - --format md",
      "compare a.jsonl b.jsonl",
      "compare a.jsonl b.jsonl --json",
      "compare a.jsonl b.jsonl --json --html c.html",
  };
  char snap[8192];
  snapshot(g_work, snap, sizeof snap);
  int bad = 0;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    for (int named = !g_unnamed; named < 2; named++) {
      const char *env[] = {named ? "DOPPEL_NO_TMPFILE=1" : NULL, NULL};
      run rf = start_in(g_work, in_dir(g_logs, "stderr"), "/dev/full", cases[c], env, NULL);
      finish(&rf);
      assert_clean_exit(&rf, cases[c]);
      char now[8192];
      snapshot(g_work, now, sizeof now);
      if (rf.code != 1 || !strstr(rf.err, verb_error_prefix(cases[c])) || !strstr(rf.err, "stdout") ||
          !strstr(rf.err, "No space left on device") || strcmp(now, snap) != 0) {
        fprintf(stderr, "[%s%s] exit %d, directory holds '%s', expected '%s'\n%s\n", cases[c],
                named ? ", named" : "", rf.code, now, snap, rf.err);
        bad = 1;
        char cmd[1200]; /* go on from a clean directory */
        snprintf(cmd, sizeof cmd, "cd '%s' && rm -f out.json st.json c.html", g_work);
        assert_int_equal(system(cmd), 0);
      }
      free(rf.err);
    }
  assert_int_equal(bad, 0);
}

/* sample --users-n from stdin copies stdin to $TMPDIR: a failing write
 * there is reported and the copy is gone afterwards. */
static void test_write_fault_stdin_copy(void **state) {
  (void)state;
  gen_jsonl(in_dir(g_logs, "in.jsonl"), 2000);
  char tmpdir[400], tmpenv[420], preload[600];
  snprintf(tmpdir, sizeof tmpdir, "%s/tmp", g_root);
  assert_int_equal(mkdir(tmpdir, 0700), 0);
  snprintf(tmpenv, sizeof tmpenv, "TMPDIR=%s", tmpdir);
  snprintf(preload, sizeof preload, "LD_PRELOAD=%s", DOPPEL_FAILWRITE_PATH);
  for (int named = 0; named < 2; named++) {
    const char *env[] = {preload, asan_env(), tmpenv, "FAULT_WRITE_AFTER=70000", "FAULT_ERRNO=EIO",
                         named ? "DOPPEL_NO_TMPFILE=1" : NULL, NULL};
    run r = run_doppel("sample - -o out.jsonl --key {KEY} --users-n 10", env, in_dir(g_logs, "in.jsonl"));
    assert_clean_exit(&r, "stdin copy");
    if (r.code != 1 || !strstr(r.err, "doppel sample: error: ") ||
        !strstr(r.err, "cannot write the stdin copy: Input/output error"))
      fprintf(stderr, "exit %d\n%s\n", r.code, r.err);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "cannot write the stdin copy: Input/output error"));
    free(r.err);
    char l[4096];
    listing(tmpdir, l, sizeof l);
    assert_string_equal(l, "");
    listing(g_work, l, sizeof l);
    assert_string_equal(l, "");
  }
}

/* A real full file system: a 64 KiB tmpfs (needs CAP_SYS_ADMIN). */
static void test_full_tmpfs(void **state) {
  (void)state;
  char mnt[400];
  snprintf(mnt, sizeof mnt, "%s/full", g_work);
  assert_int_equal(mkdir(mnt, 0755), 0);
  if (mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755") != 0) {
    fprintf(stderr, "test_full_tmpfs: skipped: cannot mount a tmpfs here (%s)\n", strerror(errno));
    rmdir(mnt);
    skip();
  }
  gen_jsonl(in_dir(g_work, "in.jsonl"), 4000);
  copy_file(DOPPEL_SOURCE_DIR "/profiles/nasa-http.json", in_dir(g_work, "nasa.json"));
  copy_file(DOPPEL_SOURCE_DIR "/fixtures/profiles/report.profile.json", in_dir(g_work, "p.json"));
  char sha0[65], sha1[65];
  file_sha256(in_dir(g_work, "in.jsonl"), sha0);
  static const char *const verbs[] = {
      "pseudonymize in.jsonl -o full/out.jsonl --key {KEY}",
      "sample in.jsonl -o full/out.jsonl --key {KEY} --users 0.5",
      "sample in.jsonl -o full/out.jsonl --key {KEY} --events-n 3000",
      "profile in.jsonl -o full/p.json --state-out full/st.json",
      "synth nasa.json --users 300 -o full/out.jsonl",
      "report p.json -o full/r.html",
  };
  int bad = 0;
  for (size_t v = 0; v < sizeof verbs / sizeof verbs[0]; v++)
    for (int named = 0; named < 2; named++) {
      const char *env[] = {named ? "DOPPEL_NO_TMPFILE=1" : NULL, NULL};
      run r = run_doppel(verbs[v], env, NULL);
      assert_clean_exit(&r, verbs[v]);
      char l[4096];
      listing(mnt, l, sizeof l);
      if (r.code != 1 || !strstr(r.err, verb_error_prefix(verbs[v])) || !strstr(r.err, "cannot write 'full/") ||
          !strstr(r.err, "': No space left on device") || strcmp(l, "") != 0) {
        fprintf(stderr, "[%s%s] exit %d, tmpfs holds '%s'\n%s\n", verbs[v], named ? ", named" : "",
                r.code, l, r.err);
        bad = 1;
      }
      free(r.err);
    }
  /* a small output fits */
  run r = run_doppel("pseudonymize " DOPPEL_SOURCE_DIR "/fixtures/events/generic.jsonl -o full/small.jsonl --key {KEY} -q", NULL, NULL);
  assert_int_equal(r.code, 0);
  free(r.err);
  unlink(in_dir(mnt, "small.jsonl"));
  /* keygen into a file system with no room left */
  FILE *f = fopen(in_dir(mnt, "filler"), "wb");
  assert_non_null(f);
  static char block[4096];
  while (fwrite(block, 1, sizeof block, f) == sizeof block && fflush(f) == 0) {}
  fclose(f);
  for (int named = 0; named < 2; named++) {
    const char *env[] = {named ? "DOPPEL_NO_TMPFILE=1" : NULL, NULL};
    r = run_doppel("keygen -o full/new.key", env, NULL);
    char l[4096];
    listing(mnt, l, sizeof l);
    if (r.code != 1 || !strstr(r.err, "key file 'full/new.key'") ||
        !contains_ci(r.err, "no space left on device") || strcmp(l, "filler") != 0) {
      fprintf(stderr, "[keygen%s] exit %d, tmpfs holds '%s'\n%s\n", named ? ", named" : "", r.code, l,
              r.err);
      bad = 1;
    }
    free(r.err);
  }
  umount2(mnt, MNT_DETACH);
  rmdir(mnt);
  file_sha256(in_dir(g_work, "in.jsonl"), sha1);
  assert_string_equal(sha0, sha1);
  assert_int_equal(bad, 0);
}

/* ----------------------------------------------------------- kill -9 */

/* Bytes the process has read and written so far (/proc/PID/io); 0 when
 * unreadable. */
static void proc_io(pid_t pid, long long *rchar, long long *wchar) {
  char p[64], buf[1024];
  snprintf(p, sizeof p, "/proc/%d/io", (int)pid);
  *rchar = *wchar = 0;
  FILE *f = fopen(p, "r");
  if (!f) return;
  while (fgets(buf, sizeof buf, f)) {
    sscanf(buf, "rchar: %lld", rchar);
    sscanf(buf, "wchar: %lld", wchar);
  }
  fclose(f);
}

/* Does pid hold an unnamed (O_TMPFILE) file of dir open? */
static int holds_unnamed(pid_t pid, const char *dir) {
  char p[64], want[700];
  snprintf(p, sizeof p, "/proc/%d/fd", (int)pid);
  char *real = realpath(dir, NULL);
  assert_non_null(real);
  snprintf(want, sizeof want, "%s/#", real);
  free(real);
  DIR *d = opendir(p);
  if (!d) return 0;
  int found = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    char lp[400], target[800];
    snprintf(lp, sizeof lp, "%s/%s", p, e->d_name);
    ssize_t n = readlink(lp, target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (!strncmp(target, want, strlen(want)) && strstr(target, " (deleted)")) found = 1;
  }
  closedir(d);
  return found;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Wait (up to 20 s) until pid has written at least min_w bytes and read at
 * least min_r. Returns 0 when it did, -1 when it ended first. */
static int wait_progress(pid_t pid, long long min_r, long long min_w) {
  for (int i = 0; i < 20000; i++) {
    long long r, w;
    proc_io(pid, &r, &w);
    if (r >= min_r && w >= min_w) return 0;
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) return -1;
    sleep_ms(1);
  }
  return -1;
}

/* Is the listing l exactly the names of base plus, for each of outs[0..n),
 * one hidden temporary ".OUT.XXXXXX.tmp"? */
static int is_base_and_temps(const char *l, const char *base, const char *const *outs, size_t n) {
  char lb[4096], bb[4096];
  snprintf(lb, sizeof lb, "%s", l);
  snprintf(bb, sizeof bb, "%s", base);
  int seen[8] = {0};
  size_t n_base = 0, n_tok = 0;
  for (char *sv = NULL, *t = strtok_r(bb, " ", &sv); t; t = strtok_r(NULL, " ", &sv)) n_base++;
  for (char *sv = NULL, *t = strtok_r(lb, " ", &sv); t; t = strtok_r(NULL, " ", &sv)) {
    n_tok++;
    int ok = 0;
    for (size_t i = 0; i < n && i < 8 && !ok; i++) {
      size_t ol = strlen(outs[i]), tl = strlen(t);
      if (!seen[i] && tl == ol + 12 && t[0] == '.' && !strncmp(t + 1, outs[i], ol) && t[ol + 1] == '.' &&
          !strcmp(t + tl - 4, ".tmp"))
        ok = seen[i] = 1;
    }
    if (!ok) { /* then it must be a name of base */
      snprintf(bb, sizeof bb, " %s ", base);
      char needle[300];
      snprintf(needle, sizeof needle, " %s ", t);
      if (!strstr(bb, needle)) return 0;
    }
  }
  return n_tok == n_base + n;
}

/* Run `doppel ARGS` until its output has started (min_w bytes written; with
 * a FIFO input in.fifo, after 800 KB were fed to it and read), then kill it
 * with sig. outs[0..n_outs) are the outputs: each has a temporary open,
 * unnamed or (named) a hidden file, and none is left after the signal
 * except, for SIGKILL under the named fallback, those hidden files. */
static void kill_mid_run_outs(const char *verb_args, int sig, int named, const char *const *outs, size_t n_outs,
                              int fifo_input, long long min_w) {
  char what[300];
  snprintf(what, sizeof what, "%s, signal %d, %s", verb_args, sig, named ? "named" : "unnamed");
  char fifo[400];
  snprintf(fifo, sizeof fifo, "%s", in_dir(g_work, "in.fifo"));
  if (fifo_input) assert_int_equal(mkfifo(fifo, 0600), 0);
  char base[4096];
  listing(g_work, base, sizeof base);
  const char *env[] = {named ? "DOPPEL_NO_TMPFILE=1" : NULL, NULL};
  run r = start(verb_args, env, NULL);
  int fd = -1;
  long long sent = 0;
  if (fifo_input) {
    fd = open(fifo, O_WRONLY); /* blocks until doppel opens it */
    assert_true(fd >= 0);
    /* 800 KB of records: the output buffer (256 KiB) has been flushed at
     * least once (sample keeps half: 400 KB) */
    char rec[512];
    for (long i = 0; sent < 800000; i++) {
      int n = snprintf(rec, sizeof rec,
                       "{\"user_id\":\"user-%ld@example.com\",\"event\":\"E\",\"time\":\"2024-01-01T00:00:00Z\","
                       "\"properties\":{\"note\":\"mail user-%ld@example.com\",\"ip\":\"10.0.%ld.%ld\"}}\n",
                       i, i, (i / 256) % 256, i % 256);
      assert_int_equal(write(fd, rec, (size_t)n), n);
      sent += n;
    }
  }
  if (wait_progress(r.pid, fifo_input ? sent - 65536 : 0, min_w) != 0) {
    finish(&r);
    fprintf(stderr, "[%s] ended before it could be killed (exit %d)\n%s\n", what, r.code, r.err);
    fail();
  }
  char l[4096];
  listing(g_work, l, sizeof l);
  if (named) {
    if (!is_base_and_temps(l, base, outs, n_outs)) fprintf(stderr, "[%s] holds '%s'\n", what, l);
    assert_true(is_base_and_temps(l, base, outs, n_outs));
  } else {
    assert_string_equal(l, base); /* the temporaries have no name */
    assert_true(holds_unnamed(r.pid, g_work));
  }
  assert_int_equal(kill(r.pid, sig), 0);
  finish(&r);
  if (fd >= 0) close(fd);
  if (r.sig != sig) fprintf(stderr, "[%s] ended with exit %d signal %d\n%s\n", what, r.code, r.sig, r.err);
  assert_int_equal(r.sig, sig);
  free(r.err);
  listing(g_work, l, sizeof l);
  if (named && sig == SIGKILL) {
    /* the fallback's known limit: SIGKILL cannot be handled, the temporaries stay */
    assert_true(is_base_and_temps(l, base, outs, n_outs));
    for (char *sv = NULL, *t = strtok_r(l, " ", &sv); t; t = strtok_r(NULL, " ", &sv))
      if (t[0] == '.' && strlen(t) > 4 && !strcmp(t + strlen(t) - 4, ".tmp")) unlink(in_dir(g_work, t));
  } else {
    if (strcmp(l, base) != 0) fprintf(stderr, "[%s] left '%s'\n", what, l);
    assert_string_equal(l, base);
  }
  if (fifo_input) unlink(fifo);
}

/* Feed a FIFO input until the output out.jsonl has started, then kill with sig. */
static void kill_mid_run(const char *verb_args, int sig, int named) {
  static const char *const outs[] = {"out.jsonl"};
  kill_mid_run_outs(verb_args, sig, named, outs, 1, 1, 262144);
}

static void test_kill_fifo(void **state) {
  (void)state;
  static const char *const verbs[] = {
      "pseudonymize in.fifo -o out.jsonl --key {KEY}",
      "sample in.fifo -o out.jsonl --key {KEY} --users 0.5",
  };
  static const int sigs[] = {SIGKILL, SIGTERM, SIGINT};
  for (size_t v = 0; v < 2; v++)
    for (size_t s = 0; s < 3; s++)
      for (int named = !g_unnamed; named < 2; named++) kill_mid_run(verbs[v], sigs[s], named);
}

/* profile reading a FIFO (its two outputs are open from the start, written
 * at the end), and synth writing a large output: killed mid-run. */
static void test_kill_profile_synth(void **state) {
  (void)state;
  copy_file(DOPPEL_SOURCE_DIR "/profiles/nasa-http.json", in_dir(g_work, "nasa.json"));
  static const char *const p_outs[] = {"p.json", "st.json"};
  static const char *const s_outs[] = {"out.jsonl"};
  static const char *const s_verbs[] = {
      "synth nasa.json --users 20000 -o out.jsonl",
      "synth nasa.json --users 20000 --order time -o out.jsonl", /* ~70 MB */
  };
  static const int sigs[] = {SIGKILL, SIGTERM, SIGINT};
  for (size_t s = 0; s < 3; s++)
    for (int named = !g_unnamed; named < 2; named++) {
      kill_mid_run_outs("profile in.fifo -o p.json --state-out st.json", sigs[s], named, p_outs, 2, 1, 0);
      /* 4 MB written: past the first 1 MiB pieces */
      kill_mid_run_outs(s_verbs[s % 2], sigs[s], named, s_outs, 1, 0, 4 << 20);
    }
}

/* Started under nohup (SIGHUP ignored), doppel keeps SIGHUP ignored: a
 * hangup neither kills the run nor removes its output. */
static void test_nohup(void **state) {
  (void)state;
  char fifo[400];
  snprintf(fifo, sizeof fifo, "%s", in_dir(g_work, "in.fifo"));
  assert_int_equal(mkfifo(fifo, 0600), 0);
  g_child_ignores = SIGHUP;
  run r = start("pseudonymize in.fifo -o out.jsonl --key {KEY} -q", NULL, NULL);
  g_child_ignores = 0;
  int fd = open(fifo, O_WRONLY);
  assert_true(fd >= 0);
  static const char rec[] = "{\"user_id\":\"a@b.co\",\"event\":\"x\"}\n";
  assert_int_equal(write(fd, rec, sizeof rec - 1), (ssize_t)(sizeof rec - 1));
  assert_int_equal(wait_progress(r.pid, sizeof rec - 1, 0), 0);
  assert_int_equal(kill(r.pid, SIGHUP), 0);
  sleep_ms(200);
  assert_int_equal(write(fd, rec, sizeof rec - 1), (ssize_t)(sizeof rec - 1));
  close(fd);
  finish(&r);
  assert_int_equal(r.sig, 0);
  assert_int_equal(r.code, 0);
  free(r.err);
  size_t n;
  char *out = tu_read_file(in_dir(g_work, "out.jsonl"), &n);
  assert_non_null(out);
  assert_null(strstr(out, "a@b.co"));
  int lines = 0;
  for (size_t i = 0; i < n; i++) lines += out[i] == '\n';
  assert_int_equal(lines, 2);
  free(out);
}

/* kill -9 while pseudonymizing or profiling a ~64 MB file, after 16 MB were read. */
static void test_kill_large_file(void **state) {
  (void)state;
  if (!g_unnamed) {
    fprintf(stderr, "test_kill_large_file: skipped: no O_TMPFILE here, so kill -9 leaves the named temporary\n");
    skip();
  }
  /* ~64 MB: a 1 MB block of records, repeated */
  gen_jsonl(in_dir(g_logs, "block.jsonl"), 4700);
  size_t bn;
  char *block = tu_read_file(in_dir(g_logs, "block.jsonl"), &bn);
  assert_non_null(block);
  FILE *f = fopen(in_dir(g_work, "big.jsonl"), "wb");
  assert_non_null(f);
  for (int i = 0; i < 64; i++) assert_int_equal(fwrite(block, 1, bn, f), bn);
  assert_int_equal(fclose(f), 0);
  free(block);
  char sha0[65], sha1[65];
  file_sha256(in_dir(g_work, "big.jsonl"), sha0);
  /* pseudonymize (output under way), profile (outputs open, written at the end) */
  static const char *const verbs[] = {"pseudonymize big.jsonl -o out.jsonl --key {KEY}",
                                      "profile big.jsonl -o p.json --state-out st.json"};
  for (int v = 0; v < 2; v++) {
    run r = start(verbs[v], NULL, NULL);
    if (wait_progress(r.pid, 16 << 20, v == 0 ? 262144 : 0) != 0) {
      finish(&r);
      fprintf(stderr, "[%s] finished before it could be killed (exit %d)\n", verbs[v], r.code);
      fail();
    }
    assert_true(holds_unnamed(r.pid, g_work));
    assert_int_equal(kill(r.pid, SIGKILL), 0);
    finish(&r);
    assert_int_equal(r.sig, SIGKILL);
    free(r.err);
    char l[4096];
    listing(g_work, l, sizeof l);
    assert_string_equal(l, "big.jsonl");
    file_sha256(in_dir(g_work, "big.jsonl"), sha1);
    assert_string_equal(sha0, sha1);
  }
}

/* sample --users-n from stdin: the stdin copy in $TMPDIR does not outlive a
 * kill -9 (unnamed) or a SIGTERM (named fallback, removed by the handler). */
static void test_kill_stdin_copy(void **state) {
  (void)state;
  char tmpdir[400], tmpenv[420];
  snprintf(tmpdir, sizeof tmpdir, "%s/tmp", g_root);
  assert_int_equal(mkdir(tmpdir, 0700), 0);
  snprintf(tmpenv, sizeof tmpenv, "TMPDIR=%s", tmpdir);
  char fifo[400];
  snprintf(fifo, sizeof fifo, "%s", in_dir(g_logs, "stdin.fifo"));
  for (int named = !tu_tmpfile_supported(tmpdir); named < 2; named++) {
    assert_int_equal(mkfifo(fifo, 0600), 0);
    const char *env[] = {tmpenv, named ? "DOPPEL_NO_TMPFILE=1" : NULL, NULL};
    /* the child opens the FIFO as stdin before exec: open our end first */
    int rfd = open(fifo, O_RDONLY | O_NONBLOCK);
    int fd = open(fifo, O_WRONLY);
    assert_true(rfd >= 0 && fd >= 0);
    run r = start("sample - -o out.jsonl --key {KEY} --users-n 10", env, fifo);
    close(rfd);
    static char chunk[65536];
    memset(chunk, ' ', sizeof chunk); /* blank lines: valid, and copied */
    for (int i = 0; i < 8; i++) assert_int_equal(write(fd, chunk, sizeof chunk), (ssize_t)sizeof chunk);
    assert_int_equal(wait_progress(r.pid, 4 * 65536, 65536), 0);
    char l[4096];
    listing(tmpdir, l, sizeof l);
    if (named) assert_non_null(strstr(l, "doppel-sample-"));
    else assert_string_equal(l, "");
    int sig = named ? SIGTERM : SIGKILL;
    assert_int_equal(kill(r.pid, sig), 0);
    finish(&r);
    close(fd);
    assert_int_equal(r.sig, sig);
    free(r.err);
    listing(tmpdir, l, sizeof l);
    assert_string_equal(l, "");
    listing(g_work, l, sizeof l);
    assert_string_equal(l, "");
    unlink(fifo);
  }
}

/* ------------------------------------------------ failing allocations */

typedef struct malloc_case {
  const char *name;
  const char *args;  /* outputs: files in g_work (or a key file), or stdout */
  const char *out;   /* the output; NULL: stdout */
  int is_keygen;
  const char *out2;  /* a second output (a state: mode 0600), or NULL */
  unsigned budget;   /* 0: every allocation outside OpenSSL (schedule());
                        else at most this many, by call site (schedule_sites()) */
} malloc_case;

/* What failmalloc.so counted in a normal run. */
typedef struct alloc_log {
  unsigned long m; /* allocations */
  char *classes;   /* one letter per allocation (owned: the whole file) */
  const char *sites; /* 8 hex digits per allocation: its call stack (in classes' buffer) */
} alloc_log;

/* Allocation count, per-allocation caller classes and call sites of a normal run. */
static alloc_log count_allocations(const malloc_case *mc) {
  char preload[600], cnt[600];
  snprintf(preload, sizeof preload, "LD_PRELOAD=%s", DOPPEL_FAILMALLOC_PATH);
  snprintf(cnt, sizeof cnt, "FAULT_MALLOC_COUNT=%s", in_dir(g_logs, "count"));
  const char *env[] = {preload, cnt, NULL};
  run r = run_doppel(mc->args, env, NULL);
  if (r.code != 0) fprintf(stderr, "[%s] counting run: exit %d\n%s\n", mc->name, r.code, r.err);
  assert_int_equal(r.code, 0);
  free(r.err);
  alloc_log a;
  char *c = tu_read_file(in_dir(g_logs, "count"), NULL);
  assert_non_null(c);
  a.m = strtoul(c, NULL, 10);
  char *nl = strchr(c, '\n');
  assert_non_null(nl);
  memmove(c, nl + 1, strlen(nl + 1) + 1);
  nl = strchr(c, '\n');
  assert_non_null(nl);
  *nl = '\0';
  a.classes = c;
  a.sites = nl + 1;
  return a;
}

/* Allocation numbers to fail (1-based) into pick[1..m]: every allocation
 * not made inside OpenSSL. With deep set, also OpenSSL's own in runs of at
 * most 8 (the work of one of our calls, e.g. a digest), and of longer runs
 * (its one-time initialization, fetching an algorithm) the first and last
 * 4 and every 50th; else the first and last 2 of every run. */
static unsigned long schedule(const char *classes, unsigned long m, char *pick, int all, int deep) {
  size_t len = strlen(classes);
  unsigned long n_pick = 0;
  for (unsigned long i = 0; i < m;) {
    if (all || i >= len || classes[i] != 'c') {
      pick[i + 1] = 1;
      i++;
      continue;
    }
    unsigned long j = i;
    while (j < m && j < len && classes[j] == 'c') j++;
    for (unsigned long k = i; k < j; k++)
      if (deep ? j - i <= 8 || k < i + 4 || k + 4 >= j || (k - i) % 50 == 0 : k < i + 2 || k + 2 >= j)
        pick[k + 1] = 1;
    i = j;
  }
  for (unsigned long n = 1; n <= m; n++) n_pick += pick[n] != 0;
  return n_pick;
}

/* For the verbs whose runs make tens of thousands of allocations (most of
 * them jansson's, building and dumping documents): the first allocation
 * from each distinct call stack (failmalloc.so's site hashes), in order,
 * and of those at most budget, evenly spread (all of them with all set);
 * with only set, only allocations of that class. Returns how many. */
static unsigned long schedule_sites(const alloc_log *a, char *pick, unsigned budget, int all, char only) {
  unsigned long m = a->m, n_sites = strlen(a->sites) / 8;
  if (n_sites < m) m = n_sites;
  unsigned long cap = 1;
  while (cap < 2 * m + 2) cap <<= 1;
  unsigned *set = calloc(cap, sizeof *set); /* open addressing; 0 stands for "empty" */
  unsigned long *first = malloc((m + 1) * sizeof *first);
  assert_true(set && first);
  unsigned long n_first = 0;
  for (unsigned long i = 0; i < m; i++) {
    char hex[9];
    memcpy(hex, a->sites + 8 * i, 8);
    hex[8] = '\0';
    unsigned h = (unsigned)strtoul(hex, NULL, 16) | 1u; /* never 0 */
    unsigned long k = (h * 2654435761u) & (cap - 1);
    while (set[k] && set[k] != h) k = (k + 1) & (cap - 1);
    if (set[k]) continue;
    set[k] = h;
    if (!only || a->classes[i] == only) first[n_first++] = i + 1;
  }
  unsigned long n_pick = 0;
  for (unsigned long i = 0; i < n_first; i++) {
    unsigned long k = all || n_first <= budget ? i : i * budget / n_first;
    if (all || n_first <= budget || (k * n_first + budget - 1) / budget == i) { /* i = ceil(k*n/budget) */
      pick[first[i]] = 1;
      n_pick++;
    }
  }
  free(set);
  free(first);
  return n_pick;
}

#define WORKERS 2

typedef struct mjob {
  unsigned long n;     /* allocation to fail; 0 = idle */
  pid_t pid;
  char dir[400];       /* the worker's directory */
  char err[400];       /* its stderr file */
  char out[400];       /* its stdout file */
} mjob;

/* The normal outputs of a case, and the work directory before its runs. */
typedef struct want {
  char *out, *out2;
  size_t out_len, out2_len;
  char snap[8192];
} want;

/* Output name of mc in dir: a file there, or the worker's stdout file. */
static const char *out_path(const malloc_case *mc, const char *dir, const char *stdout_file) {
  return mc->out ? in_dir(dir, mc->out) : stdout_file;
}

/* Check the aftermath of failing allocation j->n; returns 1 when bad. */
static int check_malloc_run(const malloc_case *mc, const mjob *j, const run *r, const alloc_log *a,
                            const want *w, unsigned long *failed, unsigned long *survived) {
  char what[200];
  snprintf(what, sizeof what, "%s, allocation %lu of %lu (%c)", mc->name, j->n, a->m,
           j->n - 1 < strlen(a->classes) ? a->classes[j->n - 1] : '?');
  int bad = 0;
  if (r->sig) {
    fprintf(stderr, "[%s] killed by signal %d\n", what, r->sig);
    bad = 1;
  } else if (r->code == 0) {
    ++*survived;
    size_t got_len;
    char *got = tu_read_file(out_path(mc, j->dir, j->out), &got_len);
    if (mc->is_keygen) {
      struct stat st;
      if (!got || got_len != 65 || got[64] != '\n' || stat(in_dir(j->dir, mc->out), &st) ||
          (st.st_mode & 0777) != 0600) {
        fprintf(stderr, "[%s] exit 0 but the key file is wrong\n", what);
        bad = 1;
      }
    } else if (!got || got_len != w->out_len || memcmp(got, w->out, w->out_len) != 0) {
      fprintf(stderr, "[%s] exit 0 but the output differs\n", what);
      bad = 1;
    }
    free(got);
    if (mc->out2) {
      struct stat st;
      got = tu_read_file(in_dir(j->dir, mc->out2), &got_len);
      if (!got || got_len != w->out2_len || memcmp(got, w->out2, w->out2_len) != 0 ||
          stat(in_dir(j->dir, mc->out2), &st) || (st.st_mode & 0777) != 0600) {
        fprintf(stderr, "[%s] exit 0 but %s differs or is not of mode 0600\n", what, mc->out2);
        bad = 1;
      }
      free(got);
      unlink(in_dir(j->dir, mc->out2));
    }
    if (mc->out) unlink(in_dir(j->dir, mc->out));
  } else if (r->code == 1) {
    ++*failed;
    if (!strstr(r->err, "error: ") ||
        !(strstr(r->err, "out of memory") || strstr(r->err, "Cannot allocate memory") ||
          strstr(r->err, "cannot allocate memory"))) {
      fprintf(stderr, "[%s] exit 1 without an out-of-memory message\n", what);
      bad = 1;
    }
  } else {
    fprintf(stderr, "[%s] exit %d, expected 0 or 1\n", what, r->code);
    bad = 1;
  }
  /* no output or temporary left, every input unchanged */
  char now[8192];
  snapshot(j->dir, now, sizeof now);
  if (strcmp(now, w->snap) != 0) {
    fprintf(stderr, "[%s] directory holds '%s', expected '%s'\n", what, now, w->snap);
    bad = 1;
    char cmd[1400]; /* start the next run from a clean copy */
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", j->dir, g_work, j->dir);
    assert_int_equal(system(cmd), 0);
  }
  if (bad) fprintf(stderr, "--- stderr:\n%s\n", r->err);
  return bad;
}

/* Run mc failing each allocation n with pick[n] set (and, with from, every
 * later one too) on the workers; returns the number of bad runs (it stops
 * starting new ones after 5). */
static int malloc_pass(const malloc_case *mc, mjob *jobs, const char *pick, int from, const alloc_log *a,
                       const want *w) {
  char preload[600];
  snprintf(preload, sizeof preload, "LD_PRELOAD=%s", DOPPEL_FAILMALLOC_PATH);
  unsigned long runs = 0, failed = 0, survived = 0, next = 1, m = a->m;
  int bad = 0, busy = 0;
  char from_env[] = "FAULT_MALLOC_FROM=1";
  for (;;) {
    /* start jobs on idle workers */
    for (int wk = 0; wk < WORKERS && bad < 5; wk++) {
      if (jobs[wk].n) continue;
      while (next <= m && !pick[next]) next++;
      if (next > m) break;
      static char nth[WORKERS][64];
      snprintf(nth[wk], sizeof nth[wk], "FAULT_MALLOC_NTH=%lu", next);
      const char *env[] = {preload, nth[wk], from ? from_env : NULL, NULL};
      run r = start_in(jobs[wk].dir, jobs[wk].err, mc->out ? NULL : jobs[wk].out, mc->args, env, NULL);
      jobs[wk].n = next++;
      jobs[wk].pid = r.pid;
      busy++;
      runs++;
    }
    if (!busy) break;
    int st;
    pid_t pid = wait(&st);
    assert_true(pid > 0);
    for (int wk = 0; wk < WORKERS; wk++) {
      if (!jobs[wk].n || jobs[wk].pid != pid) continue;
      run r = {pid, 0, 0, NULL};
      collect(&r, st, jobs[wk].err);
      bad += check_malloc_run(mc, &jobs[wk], &r, a, w, &failed, &survived);
      free(r.err);
      jobs[wk].n = 0;
      busy--;
    }
  }
  fprintf(stderr,
          "%s: %lu allocations in a normal run; failed %lu of them %s: %lu runs exited 1 "
          "(out of memory), %lu recovered with the normal output\n",
          mc->name, m, runs, from ? "and every later one" : "one at a time", failed, survived);
  return bad;
}

static void malloc_faults(const malloc_case *mc, int deep) {
  int all = getenv("DOPPEL_FAULT_MALLOC_ALL") && *getenv("DOPPEL_FAULT_MALLOC_ALL") == '1';
  want *w = calloc(1, sizeof *w);
  assert_non_null(w);
  snapshot(g_work, w->snap, sizeof w->snap);
  /* the normal outputs */
  const char *stdout_file = in_dir(g_logs, "stdout");
  run r0 = start_in(g_work, in_dir(g_logs, "stderr"), mc->out ? NULL : stdout_file, mc->args, NULL, NULL);
  finish(&r0);
  if (r0.code != 0) fprintf(stderr, "[%s] normal run: exit %d\n%s\n", mc->name, r0.code, r0.err);
  assert_int_equal(r0.code, 0);
  free(r0.err);
  w->out = tu_read_file(out_path(mc, g_work, stdout_file), &w->out_len);
  assert_non_null(w->out);
  if (mc->out2) {
    w->out2 = tu_read_file(in_dir(g_work, mc->out2), &w->out2_len);
    assert_non_null(w->out2);
    unlink(in_dir(g_work, mc->out2));
  }
  if (mc->out) unlink(in_dir(g_work, mc->out));
  alloc_log a = count_allocations(mc);
  if (mc->out) unlink(in_dir(g_work, mc->out));
  if (mc->out2) unlink(in_dir(g_work, mc->out2));
  assert_true(a.m > 10);
  char *pick = calloc(a.m + 1, 1);
  assert_non_null(pick);
  if (mc->budget) schedule_sites(&a, pick, mc->budget, all, 0);
  else schedule(a.classes, a.m, pick, all, deep);
  /* each worker runs in its own copy of the work directory */
  mjob jobs[WORKERS];
  for (int wk = 0; wk < WORKERS; wk++) {
    jobs[wk].n = 0;
    snprintf(jobs[wk].dir, sizeof jobs[wk].dir, "%s/w%d", g_root, wk);
    snprintf(jobs[wk].err, sizeof jobs[wk].err, "%s/w%d.stderr", g_logs, wk);
    snprintf(jobs[wk].out, sizeof jobs[wk].out, "%s/w%d.stdout", g_logs, wk);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", jobs[wk].dir, g_work, jobs[wk].dir);
    assert_int_equal(system(cmd), 0);
  }
  int bad = malloc_pass(mc, jobs, pick, 0, &a, w);
  /* memory that stays out: every allocation from the Nth on fails, for
   * each N at one of our own allocations (the error path must not need
   * any); for the deep cases (sampled: a quarter of the budget) */
  if (!bad && deep) {
    memset(pick, 0, a.m + 1);
    if (mc->budget) schedule_sites(&a, pick, mc->budget / 4, all, 'm');
    else
      for (unsigned long n = 1; n <= a.m; n++) pick[n] = n - 1 < strlen(a.classes) && a.classes[n - 1] != 'c';
    bad = malloc_pass(mc, jobs, pick, 1, &a, w);
  }
  free(pick);
  free(a.classes);
  free(w->out);
  free(w->out2);
  free(w);
  assert_int_equal(bad, 0);
}

static void test_malloc_faults(void **state) {
  (void)state;
  if (DOPPEL_SANITIZE_BUILD) {
    fprintf(stderr, "test_malloc_faults: skipped: AddressSanitizer owns the allocator, so the malloc shim cannot be preloaded\n");
    skip();
  }
  copy_file(DOPPEL_SOURCE_DIR "/fixtures/events/generic.jsonl", in_dir(g_work, "in.jsonl"));
  copy_file(DOPPEL_SOURCE_DIR "/fixtures/events/generic.csv", in_dir(g_work, "in.csv"));
  copy_file(DOPPEL_SOURCE_DIR "/fixtures/policy/example.json", in_dir(g_work, "policy.json"));
  copy_file(g_key, in_dir(g_work, "test.key"));
  chmod(in_dir(g_work, "test.key"), 0600);
  static const malloc_case cases[] = {
      {"pseudonymize", "pseudonymize in.jsonl -o out.jsonl --key test.key", "out.jsonl", 0, NULL, 0},
      {"pseudonymize csv --policy", "pseudonymize in.csv -o out.csv --key test.key --policy policy.json", "out.csv", 0, NULL, 0},
      {"sample --users", "sample in.jsonl -o out.jsonl --key test.key --users 0.5", "out.jsonl", 0, NULL, 0},
      {"sample --users-n", "sample in.jsonl -o out.jsonl --key test.key --users-n 2", "out.jsonl", 0, NULL, 0},
      {"sample --events-n --stratify", "sample in.jsonl -o out.jsonl --key test.key --events-n 1 --stratify event", "out.jsonl", 0, NULL, 0},
      {"keygen", "keygen -o new.key", "new.key", 1, NULL, 0},
  };
  /* OpenSSL's initialization is sampled more densely for the first case
   * and for keygen (random generator); the rest is the same in every run */
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    malloc_faults(&cases[i], i == 0 || cases[i].is_keygen);
}

/* The later verbs, on small inputs, failing a sample of allocations by
 * call site (their runs make 2,000 to 30,000 allocations, most of them
 * jansson's). */
static void test_malloc_faults_later_verbs(void **state) {
  (void)state;
  if (DOPPEL_SANITIZE_BUILD) {
    fprintf(stderr, "test_malloc_faults_later_verbs: skipped: AddressSanitizer owns the allocator\n");
    skip();
  }
  copy_file(DOPPEL_SOURCE_DIR "/fixtures/events/generic.jsonl", in_dir(g_work, "in.jsonl"));
  copy_file(DOPPEL_SOURCE_DIR "/profiles/nasa-http.json", in_dir(g_work, "nasa.json"));
  copy_file(DOPPEL_SOURCE_DIR "/fixtures/profiles/report.profile.json", in_dir(g_work, "p.json"));
  copy_file(DOPPEL_SOURCE_DIR "/fixtures/profiles/minimal.json", in_dir(g_work, "min.json"));
  run r = run_doppel("profile in.jsonl --state-out s1.json --now 2025-06-01 -q", NULL, NULL);
  assert_int_equal(r.code, 0);
  free(r.err);
  r = run_doppel("synth min.json --users 3 -o b.jsonl -q", NULL, NULL);
  assert_int_equal(r.code, 0);
  free(r.err);
  static const malloc_case cases[] = {
      {"profile", "profile in.jsonl -o out.json --now 2025-06-01", "out.json", 0, NULL, 120},
      {"profile --state-out", "profile in.jsonl -o out.json --state-out st.json --now 2025-06-01", "out.json", 0,
       "st.json", 120},
      {"merge --state-out", "merge s1.json s1.json -o out.json --state-out st.json", "out.json", 0, "st.json", 100},
      {"synth", "synth nasa.json --users 2 -o out.jsonl", "out.jsonl", 0, NULL, 100},
      {"synth csv --order time", "synth min.json --users 3 --order time -o out.csv", "out.csv", 0, NULL, 40},
      {"synth sql", "synth min.json --users 3 -o out.sql", "out.sql", 0, NULL, 40},
      {"report", "report p.json -o out.html", "out.html", 0, NULL, 80},
      {"report --format md", "report p.json -o out.md", "out.md", 0, NULL, 40},
      {"compare --html", "compare in.jsonl b.jsonl --html out.html --now 2025-06-01 -q", "out.html", 0, NULL, 100},
      {"compare --json", "compare in.jsonl b.jsonl --json --now 2025-06-01", NULL, 0, NULL, 40},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) malloc_faults(&cases[i], i == 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_write_faults_jsonl, setup, teardown),
      cmocka_unit_test_setup_teardown(test_write_faults_csv, setup, teardown),
      cmocka_unit_test_setup_teardown(test_write_faults_profile, setup, teardown),
      cmocka_unit_test_setup_teardown(test_write_faults_synth, setup, teardown),
      cmocka_unit_test_setup_teardown(test_write_faults_report, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stdout_full, setup, teardown),
      cmocka_unit_test_setup_teardown(test_write_fault_stdin_copy, setup, teardown),
      cmocka_unit_test_setup_teardown(test_full_tmpfs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kill_fifo, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kill_profile_synth, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kill_large_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nohup, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kill_stdin_copy, setup, teardown),
      cmocka_unit_test_setup_teardown(test_malloc_faults, setup, teardown),
      cmocka_unit_test_setup_teardown(test_malloc_faults_later_verbs, setup, teardown),
  };
  signal(SIGPIPE, SIG_IGN); /* a FIFO whose reader died: EPIPE, a failed assertion */
  const char *only = getenv("DOPPEL_TEST_FILTER"); /* e.g. "test_malloc*" */
  if (only && *only) cmocka_set_test_filter(only);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
