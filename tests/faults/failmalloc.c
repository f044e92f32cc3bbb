/*
 * failmalloc.c — an LD_PRELOAD shim for fault tests (test_faults.c): counts
 * heap allocations and makes a chosen one fail, SQLite-style, chosen by
 * environment variables read at load time:
 *   FAULT_MALLOC_NTH=N    the Nth allocation (1-based, counted from when the
 *                         shim is initialized, before main) returns NULL
 *                         with errno ENOMEM
 *   FAULT_MALLOC_FROM=1   ... and so does every later one (memory stays out)
 *   FAULT_MALLOC_COUNT=F  at exit, write to file F the number of allocations
 *                         and, on a second line, one letter per allocation
 *                         naming the library that called the allocator: 'c'
 *                         libcrypto (OpenSSL, also through memory
 *                         functions the program gave it), 'j' jansson, 'z'
 *                         zlib, 'l' libc, 'm' the program itself, '?'
 *                         another library; and, on a third line, 8 hex
 *                         digits per allocation: a hash of its call stack
 *                         (up to FAULT_MALLOC_DEPTH frames from the
 *                         allocator's caller, default 6), so a test can
 *                         fail each distinct call site instead of each call
 *   FAULT_MALLOC_TRAP=1   raise SIGTRAP at the failing allocation (to find
 *                         it under gdb: `set environment LD_PRELOAD ...`)
 * malloc, calloc, realloc (to a non-zero size), posix_memalign,
 * aligned_alloc and memalign are counted; glibc routes its own internal
 * allocations (strdup, fopen, realpath, ...) and those of OpenSSL, jansson
 * and zlib through them too. Allocation is forwarded to glibc's
 * __libc_malloc and friends, so memory is freed by the ordinary free() and
 * no dlsym() bootstrap is needed. Not usable under AddressSanitizer, which
 * owns the allocator (test_faults.c skips it there).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);

static int active;               /* set by the constructor */
static unsigned long long nth;   /* 0: never fail */
static int from;                 /* fail every allocation from the nth on */
static int trap;                 /* SIGTRAP at the failure */
static unsigned long long count; /* allocations so far */
static char count_path[4096];
#define MAX_CLASSES (1u << 20)
static char classes[MAX_CLASSES];   /* per allocation: who called (count mode) */
static unsigned sites[MAX_CLASSES]; /* per allocation: call-stack hash (count mode) */
static int depth = 6;               /* frames in the call-stack hash */
static __thread int in_backtrace;   /* backtrace() may allocate: pass those through */

__attribute__((constructor)) static void init(void) {
  const char *v;
  if ((v = getenv("FAULT_MALLOC_NTH")) && *v) nth = strtoull(v, NULL, 10);
  from = (v = getenv("FAULT_MALLOC_FROM")) && *v == '1';
  trap = (v = getenv("FAULT_MALLOC_TRAP")) && *v == '1';
  if ((v = getenv("FAULT_MALLOC_DEPTH")) && *v) depth = atoi(v);
  if (depth < 1) depth = 1;
  if (depth > 24) depth = 24;
  if ((v = getenv("FAULT_MALLOC_COUNT")) && *v && strlen(v) < sizeof count_path)
    memcpy(count_path, v, strlen(v) + 1);
  if (count_path[0]) { /* load the unwinder now, not inside an allocation */
    void *frames[2];
    in_backtrace = 1;
    (void)backtrace(frames, 2);
    in_backtrace = 0;
  }
  active = 1;
}

__attribute__((destructor)) static void fini(void) {
  if (!count_path[0]) return;
  int fd = (int)syscall(SYS_openat, AT_FDCWD, count_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  char line[32];
  int n = snprintf(line, sizeof line, "%llu\n", count);
  if (n > 0) (void)syscall(SYS_write, fd, line, (size_t)n);
  unsigned long long k = count < MAX_CLASSES ? count : MAX_CLASSES;
  (void)syscall(SYS_write, fd, classes, (size_t)k);
  (void)syscall(SYS_write, fd, "\n", (size_t)1);
  static const char hex[] = "0123456789abcdef";
  char chunk[8 * 512];
  for (unsigned long long i = 0; i < k;) {
    size_t o = 0;
    for (; i < k && o < sizeof chunk; i++)
      for (int d = 7; d >= 0; d--) chunk[o++] = hex[(sites[i] >> (4 * d)) & 15];
    (void)syscall(SYS_write, fd, chunk, o);
  }
  (void)syscall(SYS_write, fd, "\n", (size_t)1);
  (void)syscall(SYS_close, fd);
}

/* The library holding code address pc, as a class letter. */
static char class_of(const void *pc) {
  Dl_info info;
  if (!dladdr(pc, &info) || !info.dli_fname) return '?';
  const char *slash = strrchr(info.dli_fname, '/');
  const char *base = slash ? slash + 1 : info.dli_fname;
  if (!strncmp(base, "libcrypto", 9)) return 'c';
  if (!strncmp(base, "libjansson", 10)) return 'j';
  if (!strncmp(base, "libz.", 5)) return 'z';
  if (!strncmp(base, "libc.", 5)) return 'l';
  if (!strncmp(base, "ld-", 3) || !strncmp(base, "lib", 3)) return '?';
  return 'm';
}

/* Who asked for an allocation called from pc, and a hash of its call
 * stack (*site): the library of pc, except that a call from the program
 * made on behalf of OpenSSL (doppel installs OpenSSL memory functions that
 * call malloc) counts as OpenSSL's. */
static char caller_class(const void *pc, unsigned *site) {
  char c = class_of(pc);
  void *frames[32];
  in_backtrace = 1;
  int n = backtrace(frames, 32);
  in_backtrace = 0;
  int at = -1;
  for (int i = 0; i < n && at < 0; i++) /* pc's frame, then the one that called it */
    if (frames[i] == pc) at = i;
  unsigned h = 2166136261u; /* FNV-1a over the frames from pc on */
  for (int i = at < 0 ? 0 : at, d = 0; i < n && d < depth; i++, d++) {
    uintptr_t a = (uintptr_t)frames[i];
    for (size_t b = 0; b < sizeof a; b++, a >>= 8) h = (h ^ (unsigned)(a & 255)) * 16777619u;
  }
  *site = h;
  if (c != 'm') return c;
  if (at >= 0 && at + 1 < n) return class_of(frames[at + 1]) == 'c' ? 'c' : 'm';
  return 'm';
}

/* Count one allocation called from pc; 1 when it must fail. */
static int fail_now_from(const void *pc) {
  if (!active || in_backtrace) return 0;
  unsigned long long k = __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
  if (count_path[0] && k <= MAX_CLASSES) classes[k - 1] = caller_class(pc, &sites[k - 1]);
  if (!nth) return 0;
  if (k == nth || (from && k > nth)) {
    if (trap && k == nth) raise(SIGTRAP);
    errno = ENOMEM;
    return 1;
  }
  return 0;
}

#define fail_now() fail_now_from(__builtin_return_address(0))

void *malloc(size_t n) { return fail_now() ? NULL : __libc_malloc(n); }

void *calloc(size_t n, size_t size) { return fail_now() ? NULL : __libc_calloc(n, size); }

void *realloc(void *p, size_t n) {
  if (n && fail_now()) return NULL;
  return __libc_realloc(p, n);
}

void *memalign(size_t align, size_t n) { return fail_now() ? NULL : __libc_memalign(align, n); }

void *aligned_alloc(size_t align, size_t n) { return fail_now() ? NULL : __libc_memalign(align, n); }

int posix_memalign(void **out, size_t align, size_t n) {
  if (align < sizeof(void *) || (align & (align - 1))) return EINVAL;
  void *p = fail_now() ? NULL : __libc_memalign(align, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
