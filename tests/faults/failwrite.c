/*
 * failwrite.c — an LD_PRELOAD shim for fault tests (test_faults.c): makes
 * writes to regular files fail the way a full or broken disk does, chosen by
 * environment variables read at load time:
 *   FAULT_WRITE_AFTER=N   allow N bytes in all, then fail: the write that
 *                         crosses N is cut short at N, later ones fail
 *   FAULT_WRITE_CALL=N    the Nth write()/writev() call fails, and every
 *                         later one (a full disk stays full)
 *   FAULT_FSYNC=1         fsync()/fdatasync() fail
 *   FAULT_LINK=1          link()/linkat() fail
 *   FAULT_RENAME=1        rename()/renameat()/renameat2() fail
 *   FAULT_ERRNO=E         the error: ENOSPC (default), EIO, EDQUOT or a number
 * Only regular files other than stderr count, so messages still get out and
 * pipes, terminals and devices are untouched. Failing calls write a line
 * "failwrite: ..." to FAULT_LOG (a file name) when it is set, so a test can
 * tell that the fault was actually hit.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static long long allow_bytes = -1; /* -1: no byte limit */
static long long fail_call = -1;   /* -1: no call limit */
static int fail_fsync, fail_link, fail_rename;
static int fault_errno = ENOSPC;
static long long bytes_done, calls_done;
static const char *log_path;

__attribute__((constructor)) static void init(void) {
  const char *v;
  if ((v = getenv("FAULT_WRITE_AFTER")) && *v) allow_bytes = atoll(v);
  if ((v = getenv("FAULT_WRITE_CALL")) && *v) fail_call = atoll(v);
  fail_fsync = (v = getenv("FAULT_FSYNC")) && *v == '1';
  fail_link = (v = getenv("FAULT_LINK")) && *v == '1';
  fail_rename = (v = getenv("FAULT_RENAME")) && *v == '1';
  if ((v = getenv("FAULT_ERRNO")) && *v) {
    if (!strcmp(v, "ENOSPC")) fault_errno = ENOSPC;
    else if (!strcmp(v, "EIO")) fault_errno = EIO;
    else if (!strcmp(v, "EDQUOT")) fault_errno = EDQUOT;
    else fault_errno = atoi(v);
  }
  log_path = getenv("FAULT_LOG");
}

/* Note a failure in FAULT_LOG (raw system calls: no stdio, no recursion). */
static void note(const char *what) {
  if (!log_path || !*log_path) return;
  int fd = (int)syscall(SYS_openat, AT_FDCWD, log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  char line[128];
  int n = snprintf(line, sizeof line, "failwrite: %s failed with errno %d\n", what, fault_errno);
  if (n > 0) (void)syscall(SYS_write, fd, line, (size_t)n);
  (void)syscall(SYS_close, fd);
}

static int counts(int fd) {
  struct stat st;
  return fd != STDERR_FILENO && syscall(SYS_fstat, fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* How many of n bytes may be written now: n, fewer, or -1 (fail). */
static ssize_t budget(int fd, size_t n) {
  if (!counts(fd)) return (ssize_t)n;
  calls_done++;
  if (fail_call >= 0 && calls_done >= fail_call) return -1;
  if (allow_bytes < 0) return (ssize_t)n;
  long long left = allow_bytes - bytes_done;
  if (left <= 0) return n ? -1 : 0;
  return (size_t)left < n ? (ssize_t)left : (ssize_t)n;
}

ssize_t write(int fd, const void *buf, size_t n) {
  ssize_t b = budget(fd, n);
  if (b < 0) {
    note("write");
    errno = fault_errno;
    return -1;
  }
  ssize_t k = syscall(SYS_write, fd, buf, (size_t)b);
  if (k > 0 && counts(fd)) bytes_done += k;
  return k;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
  size_t n = 0;
  for (int i = 0; i < cnt; i++) n += iov[i].iov_len;
  ssize_t b = budget(fd, n);
  if (b < 0) {
    note("writev");
    errno = fault_errno;
    return -1;
  }
  ssize_t k;
  if ((size_t)b == n) {
    k = syscall(SYS_writev, fd, iov, cnt);
  } else { /* a short write: the first b bytes, from the first buffers */
    k = 0;
    for (int i = 0; i < cnt && k < b; i++) {
      size_t part = iov[i].iov_len < (size_t)(b - k) ? iov[i].iov_len : (size_t)(b - k);
      ssize_t w = syscall(SYS_write, fd, iov[i].iov_base, part);
      if (w < 0) return k ? k : -1;
      k += w;
      if ((size_t)w < part) break;
    }
  }
  if (k > 0 && counts(fd)) bytes_done += k;
  return k;
}

static int fsync_fault(int fd) {
  if (fail_fsync && counts(fd)) {
    note("fsync");
    errno = fault_errno;
    return -1;
  }
  return 0;
}

int fsync(int fd) {
  if (fsync_fault(fd)) return -1;
  return (int)syscall(SYS_fsync, fd);
}

int fdatasync(int fd) {
  if (fsync_fault(fd)) return -1;
  return (int)syscall(SYS_fdatasync, fd);
}

#define NEXT(name) ((name##_fn)dlsym(RTLD_NEXT, #name))
typedef int (*link_fn)(const char *, const char *);
typedef int (*linkat_fn)(int, const char *, int, const char *, int);
typedef int (*rename_fn)(const char *, const char *);
typedef int (*renameat_fn)(int, const char *, int, const char *);
typedef int (*renameat2_fn)(int, const char *, int, const char *, unsigned);

static int fault(const char *what) {
  note(what);
  errno = fault_errno;
  return -1;
}

int link(const char *a, const char *b) {
  return fail_link ? fault("link") : NEXT(link)(a, b);
}

int linkat(int da, const char *a, int db, const char *b, int flags) {
  return fail_link ? fault("linkat") : NEXT(linkat)(da, a, db, b, flags);
}

int rename(const char *a, const char *b) {
  return fail_rename ? fault("rename") : NEXT(rename)(a, b);
}

int renameat(int da, const char *a, int db, const char *b) {
  return fail_rename ? fault("renameat") : NEXT(renameat)(da, a, db, b);
}

int renameat2(int da, const char *a, int db, const char *b, unsigned flags) {
  return fail_rename ? fault("renameat2") : NEXT(renameat2)(da, a, db, b, flags);
}
