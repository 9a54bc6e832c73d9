/* proxyproto.h — the PROXY protocol version 2 header a trusted load
 * balancer (haproxy's `send-proxy-v2`) puts before the bytes it relays,
 * and the list of balancers HQ trusts to send it.
 *
 * Pure functions over byte buffers and addresses: no socket, no thread,
 * no allocation, no log (server.c reads the socket and logs; tests/hqweb
 * and tests/fuzz call these directly). Strict: only version 2 in binary
 * form, LOCAL or PROXY, TCP over IPv4 or IPv6, at most PROXYPROTO_MAX
 * bytes; the TLVs after the addresses are skipped, never interpreted.
 * Version 1 (the text "PROXY TCP4 ...") is refused: it is ambiguous to
 * read without over-reading into the TLS bytes that follow.
 */
#ifndef SQR_PROXYPROTO_H
#define SQR_PROXYPROTO_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sqr.h"

/* The fixed part: 12-byte signature, version/command, family/transport,
 * 2-byte length of what follows. */
#define PROXYPROTO_FIXED 16
/* The longest header accepted: the 536 bytes the specification asks every
 * receiver to take (its section 2.2), TLVs included. */
#define PROXYPROTO_MAX 536
/* Trusted balancers at most (--trusted-proxy). */
#define PROXYPROTO_TRUST_MAX 16

/* A parsed header. */
typedef struct proxyproto_hdr {
  int local; /* LOCAL (the balancer's own health check): use the connection's own peer */
  /* PROXY: the client's address and port (sockaddr_in or sockaddr_in6) */
  struct sockaddr_storage src;
  socklen_t src_len;
} proxyproto_hdr;

/* How many more bytes the header needs, given its first len bytes (len
 * may be 0): *more = 0 once buf holds it whole. Every byte is checked as
 * soon as it is there, so a peer that sends anything but a version 2
 * header is refused without waiting for the rest. SQR_EPROTO with *why
 * (a static string) for a malformed or refused start; SQR_OK otherwise.
 * The caller reads exactly *more bytes next, never past the header. */
sqr_rc proxyproto_need(const uint8_t *buf, size_t len, size_t *more,
                       const char **why) SQR_WARN_UNUSED;

/* The whole header, exactly len bytes of it (as proxyproto_need said):
 * SQR_OK with *out, or SQR_EPROTO with *why (a static string). */
sqr_rc proxyproto_parse(const uint8_t *buf, size_t len, proxyproto_hdr *out,
                        const char **why) SQR_WARN_UNUSED;

/* The balancers trusted to send the header: IPv4 addresses or networks. */
typedef struct proxyproto_trust {
  int n;
  struct {
    uint32_t net, mask; /* host byte order */
  } e[PROXYPROTO_TRUST_MAX];
} proxyproto_trust;

/* list: "ADDR[,ADDR...]", each a.b.c.d or a.b.c.d/BITS (0..32), at most
 * PROXYPROTO_TRUST_MAX; NULL or "" is none. SQR_EINVAL with err naming
 * the bad entry; *out is then empty. */
sqr_rc proxyproto_trust_parse(const char *list, proxyproto_trust *out, char *err,
                              size_t errlen) SQR_WARN_UNUSED;

/* 1 when sa (the accepted peer) is one of t's, 0 otherwise (and for any
 * address that is not IPv4). */
int proxyproto_trusted(const proxyproto_trust *t, const struct sockaddr *sa);

/* t as "a.b.c.d, e.f.g.h/8" for the log ("none" when empty). */
void proxyproto_trust_text(const proxyproto_trust *t, char *out, size_t size);

#endif
