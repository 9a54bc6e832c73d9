/* sockopt.h — HQ's web connections keep TCP_NODELAY on and are never
 * corked, whatever libmicrohttpd asks.
 *
 * libmicrohttpd pushes each piece of an answer it sends over TLS by
 * setting TCP_NODELAY, one system call each, on every connection it did
 * not accept itself (it cannot know their options): two a scan page,
 * header and body, a third of a scan's system calls and, on this
 * project's kind of virtual machine, where each system call costs a few
 * microseconds of interrupt handling, some 7 % of HQ's CPU a scan
 * (docs/BENCHMARKS.md, "Issue 13, session 4"). HQ accepts every
 * connection itself (server.c, accept_loop), and sets its options once:
 * TCP_NODELAY on, no cork (the resolver's answers are gathered into one
 * record by GnuTLS's own cork instead, see server.c). So this file
 * defines setsockopt(): for a socket owned here it answers TCP_NODELAY
 * and TCP_CORK requests at once without changing anything, as a push
 * on such a socket has nothing left to push; for every other socket and
 * option it is the C library's own.
 *
 * In a static build this definition replaces the C library's (which it
 * then reaches by the system call). Should libmicrohttpd ever reach the
 * C library's some other way, nothing breaks: the sockets are then
 * corked and pushed by libmicrohttpd as before, and server.c still clears
 * the cork that a small answer may leave (uncork_answer; tested with
 * SQR_HQ_TCP_OWN=0 by hqweb.nostall.mhd).
 */
#ifndef SQR_SOCKOPT_H
#define SQR_SOCKOPT_H

/* Sets TCP_NODELAY on fd, a connected TCP socket, and takes it over: from
 * here until sockopt_release, TCP_NODELAY and TCP_CORK requests on fd
 * leave it as it is. 0, or -1 with errno (then fd is not taken over). */
int sockopt_own(int fd);
/* Gives fd back, before it is closed (its number will be reused). */
void sockopt_release(int fd);
/* Requests this file answered without a system call (for tests). */
unsigned long sockopt_skipped(void);
/* Sockets taken over and not given back: HQ's open connections
 * (storeqr_hq_connections_open on /metrics). */
long sockopt_owned(void);

#endif
