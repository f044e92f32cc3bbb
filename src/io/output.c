/*
 * output.c — atomic, buffered file output of io.h.
 *
 * A regular-file target is first written to a temporary in the target's
 * directory, so a failed or interrupted run never leaves a partial file
 * under the target name:
 *   - Unnamed (Linux, the usual case): open(dir, O_TMPFILE) makes a file
 *     with no directory entry (io/unnamed.h). Commit flushes and fsyncs it,
 *     then links it as the target when no target exists (linkat never
 *     replaces), or else links it under a fresh hidden name
 *     ".NAME.XXXXXX.tmp" and rename()s that over the target, so an existing
 *     target is replaced atomically. A run killed by any signal, SIGKILL
 *     included, leaves nothing behind: the kernel frees the unnamed file.
 *     (Only a SIGKILL in the two system calls between that link and the
 *     rename, when replacing an existing target, can leave the hidden name.)
 *   - Named fallback, where O_TMPFILE is unsupported (or forced with the
 *     environment variable DOPPEL_NO_TMPFILE=1, as the tests do): the
 *     hidden temporary ".NAME.XXXXXX.tmp" is created at open with
 *     O_CREAT|O_EXCL, and commit renames it over the target. SIGINT/SIGTERM
 *     handlers remove it through the signal-cleanup registry (tempreg.h);
 *     SIGKILL leaves it behind.
 * Both are created with mode 0666 so the kernel applies the umask (and
 * default ACLs) exactly as for any new file, without touching the
 * process-wide umask. The target's directory is held open from open to
 * commit, so every name is made in the directory checked at open, and it is
 * fsynced after the rename; any failure removes the temporary. Hidden names
 * exist only while registered in tempreg.
 *
 * "-" writes to stdout; an existing non-regular target (a device such as
 * /dev/null, a FIFO, a /dev/fd/N pipe) is opened and written in place, since
 * renaming over it would replace the node itself. Writes go through a
 * 256 KiB buffer flushed with a write(2) loop that retries EINTR and short
 * writes; the first error is sticky and reported again by commit.
 *
 * Outputs of one run (a profile and its state) are committed together by
 * dp_output_commit_all(): every one is flushed and fsynced before any is put
 * in place, and when putting one in place fails, those already put in place
 * under a new name are removed again, so a failed run leaves none of them.
 * (An existing target already replaced cannot be restored: that takes a
 * rename failing right after another rename of the same commit succeeded.)
 */
#define _GNU_SOURCE
#include <doppel/io.h>

#include "core/diag.h"
#include "io/io_private.h"
#include "io/tempreg.h"
#include "io/unnamed.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

enum out_kind {
  OUT_UNNAMED, /* O_TMPFILE temporary, linked at commit */
  OUT_TEMP,    /* named hidden temporary, renamed at commit */
  OUT_STDOUT,  /* "-" */
  OUT_DIRECT   /* existing non-regular target, written in place */
};

struct doppel_output {
  int fd;
  int dfd;      /* target's directory (OUT_UNNAMED, OUT_TEMP), or -1 */
  enum out_kind kind;
  char *path;   /* target as given, or "<stdout>" */
  char *dir;    /* target's directory (OUT_UNNAMED, OUT_TEMP) */
  char *base;   /* target's name in dir (OUT_UNNAMED, OUT_TEMP) */
  char *tmp;    /* hidden temporary "dir/.NAME.XXXXXX.tmp" while it exists, else NULL */
  char *buf;
  size_t len;
  int err;      /* sticky errno of the first failed write */
  int slot;     /* signal-cleanup registry slot of tmp, or -1 */
  int created;  /* put in place by commit under a name that did not exist */
};

/* Longest target basename copied into the temporary name (NAME_MAX room). */
#define TEMP_BASE_MAX 200

static doppel_status os_error(doppel_diag *diag, const char *what, const char *path, int e) {
  char eb[128];
  return dp_diag_set(diag, DOPPEL_E_IO, path, 0, 0, "cannot %s '%s': %s", what, path,
                     dp_io_strerror(e, eb, sizeof eb));
}

static void out_free(doppel_output *o) {
  if (o->dfd >= 0) close(o->dfd);
  free(o->buf);
  free(o->tmp);
  free(o->base);
  free(o->dir);
  free(o->path);
  free(o);
}

/* Write all of p[0..n) to fd, retrying EINTR and short writes and waiting
 * out EAGAIN. Returns 0 or an errno value. */
static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t k = write(fd, p, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) { /* a non-blocking stdout */
        struct pollfd pfd = {fd, POLLOUT, 0};
        if (poll(&pfd, 1, -1) >= 0 || errno == EINTR) continue;
      }
      return errno;
    }
    if (k == 0) return EIO;
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

static doppel_status flush_buf(doppel_output *o, doppel_diag *diag) {
  if (!o->err && o->len) {
    o->err = write_all(o->fd, o->buf, o->len);
    o->len = 0;
  }
  if (o->err) return os_error(diag, "write", o->path, o->err);
  return DOPPEL_OK;
}

doppel_status doppel_output_write(doppel_output *o, const void *p, size_t n, doppel_diag *diag) {
  if (!o) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "no output given");
  if (o->err) return os_error(diag, "write", o->path, o->err);
  if (!n) return DOPPEL_OK;
  if (n < DP_IO_BUF_SIZE - o->len) {
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    return DOPPEL_OK;
  }
  doppel_status st = flush_buf(o, diag);
  if (st != DOPPEL_OK) return st;
  if (n >= DP_IO_BUF_SIZE) {
    o->err = write_all(o->fd, p, n);
    if (o->err) return os_error(diag, "write", o->path, o->err);
    return DOPPEL_OK;
  }
  memcpy(o->buf, p, n);
  o->len = n;
  return DOPPEL_OK;
}

/* Split path into a directory ("." when it has none) and a basename. */
static int split_path(const char *path, char **dir, char **base) {
  const char *slash = strrchr(path, '/');
  if (!slash) {
    *dir = strdup(".");
    *base = strdup(path);
  } else {
    size_t dl = (size_t)(slash - path);
    *dir = dl ? strndup(path, dl) : strdup("/");
    *base = strdup(slash + 1);
  }
  if (*dir && *base) return 0;
  free(*dir);
  free(*base);
  *dir = *base = NULL;
  return -1;
}

static uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/* Try up to 100 fresh hidden names "dir/.BASE.XXXXXX.tmp" (o->tmp) and call
 * make(o, name in dir) for each until it does not fail with EEXIST; the
 * name is registered for signal-time removal before make() runs. make
 * returns 0 or an errno value. Returns 0 with o->tmp set and registered, or
 * an errno value with o->tmp NULL. */
static int with_hidden_name(doppel_output *o, int (*make)(doppel_output *o, const char *name)) {
  static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  size_t bl = strlen(o->base);
  if (bl > TEMP_BASE_MAX) bl = TEMP_BASE_MAX;
  size_t dl = strlen(o->dir);
  size_t need = dl + bl + 16;
  o->tmp = malloc(need);
  if (!o->tmp) return ENOMEM;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t seed = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
                  ((uint64_t)getpid() << 20) ^ (uint64_t)(uintptr_t)o;
  int e = EEXIST;
  for (int attempt = 0; attempt < 100 && e == EEXIST; attempt++) {
    uint64_t x = mix64(seed + (uint64_t)attempt);
    char rnd[7];
    for (int i = 0; i < 6; i++, x /= 62) rnd[i] = alnum[x % 62];
    rnd[6] = '\0';
    snprintf(o->tmp, need, "%s/.%.*s.%s.tmp", o->dir, (int)bl, o->base, rnd);
    o->slot = dp_temp_register(o->tmp); /* best effort: -1 when the registry is full */
    e = make(o, o->tmp + dl + 1);
    if (e) {
      dp_temp_unregister(o->slot);
      o->slot = -1;
    }
  }
  if (e) {
    free(o->tmp);
    o->tmp = NULL;
  }
  return e;
}

/* make() for the named fallback: create the temporary exclusively. */
static int create_named(doppel_output *o, const char *name) {
  o->fd = openat(o->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  return o->fd >= 0 ? 0 : errno;
}

/* make() at commit of an unnamed temporary: link it under the hidden name. */
static int link_hidden(doppel_output *o, const char *name) {
  return dp_unnamed_link(o->fd, o->dfd, name);
}

/* Same device and inode as an existing input? Sets *which to the input. */
static int same_as_input(const struct stat *out, const char *const *inputs, size_t n,
                         const char **which) {
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (!inputs[i] || strcmp(inputs[i], "-") == 0) continue;
    if (stat(inputs[i], &st) == 0 && st.st_dev == out->st_dev && st.st_ino == out->st_ino) {
      *which = inputs[i];
      return 1;
    }
  }
  return 0;
}

/* For a target that does not exist yet: does realpath(dir)/base equal the
 * real path of an input? (Only possible if an input vanished meanwhile.)
 * Returns 1 (and sets *which), 0, or -1 when out of memory. */
static int same_real_path(const char *dir, const char *base, const char *const *inputs,
                          size_t n, const char **which) {
  char *rdir = realpath(dir, NULL);
  if (!rdir) return errno == ENOMEM ? -1 : 0;
  size_t need = strlen(rdir) + strlen(base) + 2;
  char *full = malloc(need);
  int same = full ? 0 : -1;
  if (full) {
    snprintf(full, need, "%s/%s", strcmp(rdir, "/") == 0 ? "" : rdir, base);
    for (size_t i = 0; i < n && !same; i++) {
      if (!inputs[i] || strcmp(inputs[i], "-") == 0) continue;
      char *rin = realpath(inputs[i], NULL);
      if (!rin && errno == ENOMEM) same = -1;
      if (rin && strcmp(rin, full) == 0) {
        same = 1;
        *which = inputs[i];
      }
      free(rin);
    }
  }
  free(full);
  free(rdir);
  return same;
}

/* Open the target's directory for the *at() calls: for reading (so it can
 * be fsynced), else, in a directory we may write but not list, as O_PATH. */
static int open_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
#ifdef O_PATH
  if (fd < 0 && errno == EACCES) fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
#endif
  return fd;
}

doppel_status doppel_output_open(doppel_output **out, const char *path,
                                 const char *const *inputs, size_t n_inputs,
                                 doppel_diag *diag) {
  if (!out) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "no output pointer given");
  *out = NULL;
  if (!path || !*path) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "empty output path");
  if (!inputs) n_inputs = 0;

  doppel_output *o = calloc(1, sizeof *o);
  if (!o) return dp_diag_set(diag, DOPPEL_E_NOMEM, path, 0, 0, NULL);
  o->fd = -1;
  o->dfd = -1;
  o->slot = -1;
  o->buf = malloc(DP_IO_BUF_SIZE);
  int is_stdout = strcmp(path, "-") == 0;
  o->path = strdup(is_stdout ? "<stdout>" : path);
  if (!o->buf || !o->path) {
    out_free(o);
    return dp_diag_set(diag, DOPPEL_E_NOMEM, path, 0, 0, NULL);
  }
  if (is_stdout) {
    o->kind = OUT_STDOUT;
    o->fd = STDOUT_FILENO;
    *out = o;
    return DOPPEL_OK;
  }

  const char *which = NULL;
  struct stat st;
  int exists = stat(path, &st) == 0;
  if (exists && same_as_input(&st, inputs, n_inputs, &which)) {
    out_free(o);
    return dp_diag_set(diag, DOPPEL_E_SAME_FILE, path, 0, 0,
                       "output '%s' is the same file as input '%s'", path, which);
  }
  if (exists && S_ISDIR(st.st_mode)) {
    out_free(o);
    return os_error(diag, "create", path, EISDIR);
  }
  if (exists && !S_ISREG(st.st_mode)) {
    o->kind = OUT_DIRECT;
    o->fd = open(path, O_WRONLY | O_CLOEXEC);
    if (o->fd < 0) {
      int e = errno;
      out_free(o);
      return os_error(diag, "open", path, e);
    }
    *out = o;
    return DOPPEL_OK;
  }

  if (split_path(path, &o->dir, &o->base) != 0) {
    out_free(o);
    return dp_diag_set(diag, DOPPEL_E_NOMEM, path, 0, 0, NULL);
  }
  if (!*o->base || strcmp(o->base, ".") == 0 || strcmp(o->base, "..") == 0) {
    out_free(o);
    return os_error(diag, "create", path, EISDIR);
  }
  int same = exists ? 0 : same_real_path(o->dir, o->base, inputs, n_inputs, &which);
  if (same) {
    out_free(o);
    if (same < 0) return dp_diag_set(diag, DOPPEL_E_NOMEM, path, 0, 0, NULL);
    return dp_diag_set(diag, DOPPEL_E_SAME_FILE, path, 0, 0,
                       "output '%s' is the same file as input '%s'", path, which);
  }
  o->dfd = open_dir(o->dir);
  if (o->dfd < 0) {
    int e = errno;
    out_free(o);
    return os_error(diag, "create", path, e);
  }
  o->kind = OUT_UNNAMED;
  o->fd = dp_unnamed_open(o->dfd, O_WRONLY | O_CLOEXEC, 0666);
  int e = o->fd >= 0 ? 0 : errno;
  if (o->fd == DP_UNNAMED_UNSUPPORTED) {
    o->fd = -1;
    o->kind = OUT_TEMP;
    e = with_hidden_name(o, create_named);
  }
  if (e) {
    out_free(o);
    return os_error(diag, "create", path, e);
  }
  *out = o;
  return DOPPEL_OK;
}

/* fsync that tolerates descriptors which cannot be synced (pipes, devices,
 * O_PATH directories). */
static int sync_fd(int fd) {
  if (fsync(fd) == 0) return 0;
  if (errno == EINVAL || errno == EROFS || errno == ENOTSUP || errno == EBADF) return 0;
  return errno;
}

/* The hidden temporary's name inside o->dir. */
static const char *tmp_name(const doppel_output *o) { return strrchr(o->tmp, '/') + 1; }

/* Put the flushed and synced temporary in place (OUT_UNNAMED, OUT_TEMP),
 * setting o->created when the target did not exist before. Returns 0 or an
 * errno value, with *what the failed step. */
static int put_in_place(doppel_output *o, const char **what) {
  if (o->kind == OUT_UNNAMED) {
    int e = dp_unnamed_link(o->fd, o->dfd, o->base); /* never replaces */
    if (e != EEXIST) {
      *what = "create";
      o->created = !e;
      return e;
    }
    if ((e = with_hidden_name(o, link_hidden)) != 0) {
      *what = "create";
      return e;
    }
  }
  struct stat st;
  int created = fstatat(o->dfd, o->base, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT;
  if (renameat(o->dfd, tmp_name(o), o->dfd, o->base) != 0) {
    *what = "replace";
    return errno;
  }
  o->created = created;
  dp_temp_unregister(o->slot);
  o->slot = -1;
  free(o->tmp);
  o->tmp = NULL;
  return 0;
}

/* The first step of a commit: flush and fsync, and close the descriptor
 * unless it is an unnamed temporary's (its link needs it). */
static doppel_status commit_prepare(doppel_output *o, doppel_diag *diag) {
  doppel_status st = flush_buf(o, diag);
  if (o->kind == OUT_STDOUT) return st;
  int e = 0;
  if (st == DOPPEL_OK) e = sync_fd(o->fd);
  if (o->kind != OUT_UNNAMED) { /* a close error (NFS) must stop the rename */
    int fd = o->fd;
    o->fd = -1;
    if (close(fd) != 0 && st == DOPPEL_OK && !e && errno != EINTR) e = errno;
  }
  if (st == DOPPEL_OK && e) st = os_error(diag, "write", o->path, e);
  return st;
}

/* The second step: put a prepared temporary in place, fsync the directory. */
static doppel_status commit_place(doppel_output *o, doppel_diag *diag) {
  if (o->kind != OUT_UNNAMED && o->kind != OUT_TEMP) return DOPPEL_OK;
  const char *what = "write";
  int e = put_in_place(o, &what);
  if (e) return os_error(diag, what, o->path, e);
  (void)sync_fd(o->dfd);
  return DOPPEL_OK;
}

/* Close, remove what is left of the temporary, and free o. */
static void commit_release(doppel_output *o) {
  if (o->kind != OUT_STDOUT && o->fd >= 0) close(o->fd); /* unnamed: after the link; fsync said all is written */
  o->fd = -1;
  if (o->tmp) unlinkat(o->dfd, tmp_name(o), 0);
  dp_temp_unregister(o->slot);
  out_free(o);
}

doppel_status dp_output_commit_all(doppel_output *const *os, size_t n, doppel_diag *diag) {
  doppel_status st = DOPPEL_OK;
  for (size_t i = 0; i < n && st == DOPPEL_OK; i++)
    if (os[i]) st = commit_prepare(os[i], diag);
  size_t placed = 0;
  for (; placed < n && st == DOPPEL_OK; placed++)
    if (os[placed] && (st = commit_place(os[placed], diag)) != DOPPEL_OK) break;
  if (st != DOPPEL_OK) /* take back the new files put in place before the failure */
    for (size_t i = 0; i < placed; i++)
      if (os[i] && os[i]->created && unlinkat(os[i]->dfd, os[i]->base, 0) == 0) (void)sync_fd(os[i]->dfd);
  for (size_t i = 0; i < n; i++)
    if (os[i]) commit_release(os[i]);
  return st;
}

doppel_status doppel_output_commit(doppel_output *o, doppel_diag *diag) {
  if (!o) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "no output given");
  return dp_output_commit_all(&o, 1, diag);
}

void doppel_output_abort(doppel_output *o) {
  if (!o) return;
  if (o->kind != OUT_STDOUT && o->fd >= 0) close(o->fd);
  if (o->tmp) unlinkat(o->dfd, tmp_name(o), 0);
  dp_temp_unregister(o->slot);
  out_free(o);
}

const char *doppel_output_temp_path(const doppel_output *o) { return o ? o->tmp : NULL; }

doppel_status doppel_output_restrict(doppel_output *o, doppel_diag *diag) {
  if (!o || (o->kind != OUT_TEMP && o->kind != OUT_UNNAMED)) return DOPPEL_OK;
  if (fchmod(o->fd, 0600) != 0) return os_error(diag, "restrict permissions of", o->path, errno);
  return DOPPEL_OK;
}
