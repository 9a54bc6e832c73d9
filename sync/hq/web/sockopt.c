/* sockopt.c — see sockopt.h. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include "sockopt.h"

#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Descriptors at or past this are never taken over (server.c caps its
 * connections well below). One byte each: the table's pages are mapped
 * only when a descriptor in them is used. */
#define OWNED_MAX (1 << 20)

static atomic_uchar owned[OWNED_MAX];
static atomic_ulong skipped;
static atomic_long nowned; /* sockets taken over and not given back */

typedef int (*setsockopt_fn)(int, int, int, const void *, socklen_t);
static setsockopt_fn libc_setsockopt;
static pthread_once_t found = PTHREAD_ONCE_INIT;

static void find_libc(void) {
  libc_setsockopt = (setsockopt_fn)dlsym(RTLD_NEXT, "setsockopt");
}

/* The C library's setsockopt (the system call itself if it cannot be
 * found, as in a static build, where this definition replaces it). */
static int real_setsockopt(int fd, int level, int name, const void *val, socklen_t len) {
  pthread_once(&found, find_libc);
  if(libc_setsockopt) return libc_setsockopt(fd, level, name, val, len);
  return (int)syscall(SYS_setsockopt, fd, level, name, val, len);
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len) {
  if(level == IPPROTO_TCP && (name == TCP_NODELAY || name == TCP_CORK) && fd >= 0 &&
     fd < OWNED_MAX && atomic_load_explicit(&owned[fd], memory_order_relaxed)) {
    atomic_fetch_add_explicit(&skipped, 1, memory_order_relaxed);
    return 0;
  }
  return real_setsockopt(fd, level, name, val, len);
}

int sockopt_own(int fd) {
  int on = 1;
  if(fd < 0 || fd >= OWNED_MAX) {
    errno = EBADF;
    return -1;
  }
  if(real_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on)) return -1;
  if(!atomic_exchange_explicit(&owned[fd], 1, memory_order_relaxed))
    atomic_fetch_add_explicit(&nowned, 1, memory_order_relaxed);
  return 0;
}

void sockopt_release(int fd) {
  if(fd >= 0 && fd < OWNED_MAX && atomic_exchange_explicit(&owned[fd], 0, memory_order_relaxed))
    atomic_fetch_sub_explicit(&nowned, 1, memory_order_relaxed);
}

long sockopt_owned(void) {
  return atomic_load_explicit(&nowned, memory_order_relaxed);
}

unsigned long sockopt_skipped(void) {
  return atomic_load_explicit(&skipped, memory_order_relaxed);
}
