/*
 * unnamed.c — unnamed temporary files through O_TMPFILE (see unnamed.h).
 *
 * A file opened with O_TMPFILE is linked into place with
 * linkat("/proc/self/fd/N", AT_SYMLINK_FOLLOW), which needs no privilege;
 * where /proc is missing, linkat(fd, "", AT_EMPTY_PATH) is tried (it needs
 * CAP_DAC_READ_SEARCH). Since an unnamed file that cannot be linked would
 * lose its data, dp_unnamed_open() only hands one out when /proc/self/fd
 * resolves it.
 */
#define _GNU_SOURCE
#include "io/unnamed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int disabled(void) {
  const char *v = getenv("DOPPEL_NO_TMPFILE");
  return v && *v && strcmp(v, "0") != 0;
}

int dp_unnamed_open(int dfd, int flags, mode_t mode) {
#if defined(O_TMPFILE) && defined(AT_SYMLINK_FOLLOW)
  if (disabled()) return DP_UNNAMED_UNSUPPORTED;
  int fd = openat(dfd, ".", flags | O_TMPFILE, mode);
  if (fd < 0) {
    /* EISDIR: a kernel that predates O_TMPFILE saw O_DIRECTORY|O_WRONLY;
     * EOPNOTSUPP/EINVAL: a file system without support */
    if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) return DP_UNNAMED_UNSUPPORTED;
    return -1;
  }
  char proc[40];
  struct stat a, b;
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  if (stat(proc, &a) != 0 || fstat(fd, &b) != 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
    close(fd);
    return DP_UNNAMED_UNSUPPORTED;
  }
  return fd;
#else
  (void)dfd;
  (void)flags;
  (void)mode;
  return DP_UNNAMED_UNSUPPORTED;
#endif
}

int dp_unnamed_link(int fd, int dfd, const char *name) {
#if defined(O_TMPFILE) && defined(AT_SYMLINK_FOLLOW)
  char proc[40];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  if (linkat(AT_FDCWD, proc, dfd, name, AT_SYMLINK_FOLLOW) == 0) return 0;
  int e = errno;
#ifdef AT_EMPTY_PATH
  if (e == ENOENT && linkat(fd, "", dfd, name, AT_EMPTY_PATH) == 0) return 0;
#endif
  return e;
#else
  (void)fd;
  (void)dfd;
  (void)name;
  return ENOTSUP;
#endif
}
