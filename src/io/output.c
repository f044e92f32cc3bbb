/*
 * output.c — atomic, buffered file output of io.h.
 *
 * A regular-file target is written as a hidden temporary ".NAME.XXXXXX.tmp"
 * in the target's directory, created with O_CREAT|O_EXCL and mode 0666 so
 * the kernel applies the umask (and default ACLs) exactly as for any new
 * file, without touching the process-wide umask. Commit flushes, fsyncs,
 * closes and renames the temporary over the target (atomic within one
 * directory), then fsyncs the directory; any failure unlinks the temporary.
 * "-" writes to stdout; an existing non-regular target (a device such as
 * /dev/null, a FIFO, a /dev/fd/N pipe) is opened and written in place, since
 * renaming over it would replace the node itself. Writes go through a
 * 256 KiB buffer flushed with a write(2) loop that retries EINTR and short
 * writes; the first error is sticky and reported again by commit. Open
 * temporaries are listed in the signal-cleanup registry (tempreg.h) until
 * they are renamed or removed.
 */
#include <doppel/io.h>

#include "core/diag.h"
#include "io/io_private.h"
#include "io/tempreg.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

enum out_kind { OUT_TEMP, OUT_STDOUT, OUT_DIRECT };

struct doppel_output {
  int fd;
  enum out_kind kind;
  char *path;   /* target as given, or "<stdout>" */
  char *dir;    /* target's directory (OUT_TEMP) */
  char *tmp;    /* temporary path (OUT_TEMP) */
  char *buf;
  size_t len;
  int err;      /* sticky errno of the first failed write */
  int slot;     /* signal-cleanup registry slot of tmp, or -1 */
};

/* Longest target basename copied into the temporary name (NAME_MAX room). */
#define TEMP_BASE_MAX 200

static doppel_status os_error(doppel_diag *diag, const char *what, const char *path, int e) {
  char eb[128];
  return dp_diag_set(diag, DOPPEL_E_IO, path, 0, 0, "cannot %s '%s': %s", what, path,
                     dp_io_strerror(e, eb, sizeof eb));
}

static void out_free(doppel_output *o) {
  free(o->buf);
  free(o->tmp);
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

/* Create dir/.BASE.XXXXXX.tmp exclusively. Returns the fd or -1 (errno set). */
static int create_temp(doppel_output *o, const char *base) {
  static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  size_t bl = strlen(base);
  if (bl > TEMP_BASE_MAX) bl = TEMP_BASE_MAX;
  size_t need = strlen(o->dir) + bl + 16;
  o->tmp = malloc(need);
  if (!o->tmp) {
    errno = ENOMEM;
    return -1;
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t seed = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
                  ((uint64_t)getpid() << 20) ^ (uint64_t)(uintptr_t)o;
  for (int attempt = 0; attempt < 100; attempt++) {
    uint64_t x = mix64(seed + (uint64_t)attempt);
    char rnd[7];
    for (int i = 0; i < 6; i++, x /= 62) rnd[i] = alnum[x % 62];
    rnd[6] = '\0';
    snprintf(o->tmp, need, "%s/.%.*s.%s.tmp", o->dir, (int)bl, base, rnd);
    int fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  errno = EEXIST;
  return -1;
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
 * real path of an input? (Only possible if an input vanished meanwhile.) */
static int same_real_path(const char *dir, const char *base, const char *const *inputs,
                          size_t n, const char **which) {
  char *rdir = realpath(dir, NULL);
  if (!rdir) return 0;
  size_t need = strlen(rdir) + strlen(base) + 2;
  char *full = malloc(need);
  int same = 0;
  if (full) {
    snprintf(full, need, "%s/%s", strcmp(rdir, "/") == 0 ? "" : rdir, base);
    for (size_t i = 0; i < n && !same; i++) {
      if (!inputs[i] || strcmp(inputs[i], "-") == 0) continue;
      char *rin = realpath(inputs[i], NULL);
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

  char *base = NULL;
  if (split_path(path, &o->dir, &base) != 0) {
    out_free(o);
    return dp_diag_set(diag, DOPPEL_E_NOMEM, path, 0, 0, NULL);
  }
  if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
    free(base);
    out_free(o);
    return os_error(diag, "create", path, EISDIR);
  }
  if (!exists && same_real_path(o->dir, base, inputs, n_inputs, &which)) {
    free(base);
    out_free(o);
    return dp_diag_set(diag, DOPPEL_E_SAME_FILE, path, 0, 0,
                       "output '%s' is the same file as input '%s'", path, which);
  }
  o->kind = OUT_TEMP;
  o->fd = create_temp(o, base);
  free(base);
  if (o->fd < 0) {
    int e = errno;
    free(o->tmp);
    o->tmp = NULL;
    out_free(o);
    return os_error(diag, "create", path, e);
  }
  o->slot = dp_temp_register(o->tmp); /* best effort: -1 when the registry is full */
  *out = o;
  return DOPPEL_OK;
}

/* fsync that tolerates descriptors which cannot be synced (pipes, devices). */
static int sync_fd(int fd) {
  if (fsync(fd) == 0) return 0;
  if (errno == EINVAL || errno == EROFS || errno == ENOTSUP || errno == EBADF) return 0;
  return errno;
}

doppel_status doppel_output_commit(doppel_output *o, doppel_diag *diag) {
  if (!o) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "no output given");
  doppel_status st = flush_buf(o, diag);
  if (o->kind == OUT_STDOUT) {
    out_free(o);
    return st;
  }
  int e = 0;
  const char *what = "write";
  if (st == DOPPEL_OK) {
    e = sync_fd(o->fd);
  }
  int fd = o->fd;
  o->fd = -1;
  if (close(fd) != 0 && st == DOPPEL_OK && !e && errno != EINTR) e = errno;
  if (st == DOPPEL_OK && !e && o->kind == OUT_TEMP) {
    if (rename(o->tmp, o->path) != 0) {
      e = errno;
      what = "replace";
    } else {
      int dfd = open(o->dir, O_RDONLY | O_CLOEXEC);
      if (dfd >= 0) {
        (void)sync_fd(dfd);
        close(dfd);
      }
      dp_temp_unregister(o->slot);
      o->slot = -1;
      free(o->tmp);
      o->tmp = NULL;
    }
  }
  if (o->tmp) unlink(o->tmp);
  dp_temp_unregister(o->slot);
  if (st == DOPPEL_OK && e) st = os_error(diag, what, o->path, e);
  out_free(o);
  return st;
}

void doppel_output_abort(doppel_output *o) {
  if (!o) return;
  if (o->kind != OUT_STDOUT && o->fd >= 0) close(o->fd);
  if (o->tmp) unlink(o->tmp);
  dp_temp_unregister(o->slot);
  out_free(o);
}

const char *doppel_output_temp_path(const doppel_output *o) { return o ? o->tmp : NULL; }

doppel_status doppel_output_restrict(doppel_output *o, doppel_diag *diag) {
  if (!o || o->kind != OUT_TEMP) return DOPPEL_OK;
  if (fchmod(o->fd, 0600) != 0) return os_error(diag, "restrict permissions of", o->path, errno);
  return DOPPEL_OK;
}
