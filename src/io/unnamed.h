/*
 * io/unnamed.h — unnamed temporary files (Linux O_TMPFILE) for outputs that
 * must never leave a partial or stray file behind, not even after SIGKILL:
 * the file has no directory entry until it is linked at commit, and the
 * kernel frees it when the process dies first. Used by the atomic output
 * (output.c), key files (crypto/key.c) and sample's stdin copy.
 *
 * Where O_TMPFILE is unavailable (another OS, an old kernel, a file system
 * without support, no /proc to link through) dp_unnamed_open() says so and
 * the caller falls back to a named temporary. Setting the environment
 * variable DOPPEL_NO_TMPFILE to a non-empty value other than "0" forces that
 * fallback (the tests use it to cover both paths).
 */
#ifndef DP_IO_UNNAMED_H
#define DP_IO_UNNAMED_H

#include <sys/types.h>

/* dp_unnamed_open() result when unnamed files cannot be used here. */
#define DP_UNNAMED_UNSUPPORTED (-2)

/* Open a new unnamed regular file in the directory open as dfd, with
 * flags (O_WRONLY or O_RDWR, plus e.g. O_CLOEXEC) and mode (minus umask, as
 * for any new file). Returns the descriptor; -1 with errno set on a real
 * error (EACCES, ENOSPC, ...); DP_UNNAMED_UNSUPPORTED when the caller
 * should use a named temporary instead. */
int dp_unnamed_open(int dfd, int flags, mode_t mode);

/* Give the unnamed file fd the name `name` in the directory dfd (fails
 * with EEXIST when the name exists: it never replaces an entry). Returns 0
 * or an errno value. */
int dp_unnamed_link(int fd, int dfd, const char *name);

#endif
