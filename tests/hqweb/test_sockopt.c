/* test_sockopt.c — sync/hq/web/sockopt.c on real loopback TCP sockets:
 * a socket taken over keeps TCP_NODELAY on and is never corked whatever
 * setsockopt is asked, other options and other sockets are untouched,
 * and a socket given back obeys again. Run with the path of storeqr-hq,
 * it also checks that the binary exports setsockopt, so that
 * libmicrohttpd's calls reach sockopt.c's and not the C library's. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "sockopt.h"

static const char *hq_bin;

static int opt(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  assert_int_equal(getsockopt(fd, level, name, &v, &len), 0);
  return v;
}

static void set(int fd, int level, int name, int v) {
  assert_int_equal(setsockopt(fd, level, name, &v, sizeof v), 0);
}

/* A connected pair on 127.0.0.1: *a the client's end, *b the server's. */
static void pair(int *a, int *b) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(l >= 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(listen(l, 1), 0);
  assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &len), 0);
  *a = socket(AF_INET, SOCK_STREAM, 0);
  assert_int_equal(connect(*a, (struct sockaddr *)&sa, sizeof sa), 0);
  *b = accept(l, NULL, NULL);
  assert_true(*b >= 0);
  close(l);
}

static void test_owned(void **st) {
  (void)st;
  int a, b;
  pair(&a, &b);
  assert_int_equal(opt(b, IPPROTO_TCP, TCP_NODELAY), 0);
  assert_int_equal(sockopt_own(b), 0);
  assert_int_not_equal(opt(b, IPPROTO_TCP, TCP_NODELAY), 0);

  unsigned long before = sockopt_skipped();
  set(b, IPPROTO_TCP, TCP_CORK, 1); /* libmicrohttpd's cork */
  assert_int_equal(opt(b, IPPROTO_TCP, TCP_CORK), 0);
  set(b, IPPROTO_TCP, TCP_NODELAY, 0);
  assert_int_not_equal(opt(b, IPPROTO_TCP, TCP_NODELAY), 0);
  set(b, IPPROTO_TCP, TCP_NODELAY, 1); /* its push */
  set(b, IPPROTO_TCP, TCP_CORK, 0);
  assert_int_equal(sockopt_skipped() - before, 4);

  /* other options of an owned socket are the C library's */
  set(b, SOL_SOCKET, SO_KEEPALIVE, 1);
  assert_int_not_equal(opt(b, SOL_SOCKET, SO_KEEPALIVE), 0);
  set(b, IPPROTO_TCP, TCP_KEEPIDLE, 77);
  assert_int_equal(opt(b, IPPROTO_TCP, TCP_KEEPIDLE), 77);
  assert_int_equal(sockopt_skipped() - before, 4);

  /* another socket, and this one once given back, obey */
  set(a, IPPROTO_TCP, TCP_CORK, 1);
  assert_int_equal(opt(a, IPPROTO_TCP, TCP_CORK), 1);
  sockopt_release(b);
  set(b, IPPROTO_TCP, TCP_CORK, 1);
  assert_int_equal(opt(b, IPPROTO_TCP, TCP_CORK), 1);
  set(b, IPPROTO_TCP, TCP_NODELAY, 0);
  assert_int_equal(opt(b, IPPROTO_TCP, TCP_NODELAY), 0);
  assert_int_equal(sockopt_skipped() - before, 4);
  close(a);
  close(b);
}

/* What is sent on an owned socket leaves at once: a small write arrives
 * although TCP_CORK was asked for before it. */
static void test_not_held(void **st) {
  (void)st;
  int a, b;
  pair(&a, &b);
  assert_int_equal(sockopt_own(b), 0);
  set(b, IPPROTO_TCP, TCP_CORK, 1);
  assert_int_equal(send(b, "hello", 5, 0), 5);
  struct timeval tv = {.tv_sec = 0, .tv_usec = 100 * 1000}; /* the cork holds 200 ms */
  assert_int_equal(setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  char got[8];
  assert_int_equal(recv(a, got, sizeof got, 0), 5);
  sockopt_release(b);
  close(a);
  close(b);
}

static void test_refuses(void **st) {
  (void)st;
  assert_int_equal(sockopt_own(-1), -1);
  assert_int_equal(sockopt_own(1 << 20), -1);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0); /* no TCP options */
  assert_true(fd >= 0);
  assert_int_equal(sockopt_own(fd), -1);
  int v = 1;
  assert_int_not_equal(setsockopt(fd, IPPROTO_TCP, TCP_CORK, &v, sizeof v), 0);
  close(fd);
}

/* storeqr-hq's dynamic symbol table defines setsockopt. */
static void test_exported(void **st) {
  (void)st;
  if(!hq_bin) skip();
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "nm -D --defined-only '%s' | grep -qw setsockopt", hq_bin);
  assert_int_equal(system(cmd), 0);
}

int main(int argc, char **argv) {
  hq_bin = argc > 1 ? argv[1] : NULL;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_owned),
      cmocka_unit_test(test_not_held),
      cmocka_unit_test(test_refuses),
      cmocka_unit_test(test_exported),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
