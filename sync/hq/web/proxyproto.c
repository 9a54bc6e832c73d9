/* proxyproto.c — see proxyproto.h. The format is haproxy's
 * doc/proxy-protocol.txt, section 2.2 (the binary header, version 2). */
#include "proxyproto.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t SIG[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

enum { CMD_LOCAL = 0x0, CMD_PROXY = 0x1 };
enum { FAM_INET = 0x1, FAM_INET6 = 0x2 };
enum { PROTO_STREAM = 0x1 };
/* source address, destination address, source port, destination port */
enum { ADDRS_INET = 4 + 4 + 2 + 2, ADDRS_INET6 = 16 + 16 + 2 + 2 };

static sqr_rc refuse(const char **why, const char *text) {
  *why = text;
  return SQR_EPROTO;
}

sqr_rc proxyproto_need(const uint8_t *buf, size_t len, size_t *more, const char **why) {
  *more = 0;
  *why = NULL;
  size_t sig = len < sizeof SIG ? len : sizeof SIG;
  if(memcmp(buf, SIG, sig) != 0) {
    /* say so when it is the text form, the usual misconfiguration */
    size_t v1 = len < 6 ? len : 6;
    if(memcmp(buf, "PROXY ", v1) == 0)
      return refuse(why, "a PROXY protocol version 1 (text) header: want version 2 "
                         "(haproxy: send-proxy-v2)");
    return refuse(why, "no PROXY protocol version 2 signature");
  }
  int command = -1;
  if(len > 12) {
    if(buf[12] >> 4 != 2) return refuse(why, "PROXY protocol: version is not 2");
    command = buf[12] & 0x0F;
    if(command != CMD_LOCAL && command != CMD_PROXY)
      return refuse(why, "PROXY protocol: command is neither LOCAL nor PROXY");
  }
  size_t addrs = 0;
  /* LOCAL carries no address the receiver may use (its family is
   * ignored, haproxy sends UNSPEC); PROXY must name a TCP client. */
  if(len > 13 && command == CMD_PROXY) {
    int family = buf[13] >> 4, transport = buf[13] & 0x0F;
    if(transport != PROTO_STREAM || (family != FAM_INET && family != FAM_INET6))
      return refuse(why, "PROXY protocol: not TCP over IPv4 or IPv6");
    addrs = family == FAM_INET ? ADDRS_INET : ADDRS_INET6;
  }
  if(len < PROXYPROTO_FIXED) {
    *more = PROXYPROTO_FIXED - len;
    return SQR_OK;
  }
  size_t total = PROXYPROTO_FIXED + ((size_t)buf[14] << 8 | buf[15]);
  if(total > PROXYPROTO_MAX) return refuse(why, "PROXY protocol: header longer than 536 bytes");
  if(total < PROXYPROTO_FIXED + addrs)
    return refuse(why, "PROXY protocol: header too short for its addresses");
  *more = total > len ? total - len : 0;
  return SQR_OK;
}

sqr_rc proxyproto_parse(const uint8_t *buf, size_t len, proxyproto_hdr *out, const char **why) {
  memset(out, 0, sizeof *out);
  size_t more;
  sqr_rc rc = proxyproto_need(buf, len, &more, why);
  if(rc) return rc;
  if(more) return refuse(why, "PROXY protocol: header cut short");
  if(len != PROXYPROTO_FIXED + ((size_t)buf[14] << 8 | buf[15]))
    return refuse(why, "PROXY protocol: bytes past the header's length");
  if((buf[12] & 0x0F) == CMD_LOCAL) {
    out->local = 1;
    return SQR_OK;
  }
  /* need() checked the family and that the addresses fit: the source
   * address comes first, the source port after both addresses. */
  const uint8_t *a = buf + PROXYPROTO_FIXED;
  if(buf[13] >> 4 == FAM_INET) {
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    memcpy(&sin.sin_addr, a, 4);
    memcpy(&sin.sin_port, a + 8, 2); /* both in network order */
    memcpy(&out->src, &sin, sizeof sin);
    out->src_len = sizeof sin;
  } else {
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    memcpy(&sin6.sin6_addr, a, 16);
    memcpy(&sin6.sin6_port, a + 32, 2);
    memcpy(&out->src, &sin6, sizeof sin6);
    out->src_len = sizeof sin6;
  }
  return SQR_OK;
}

sqr_rc proxyproto_trust_parse(const char *list, proxyproto_trust *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if(!list || !*list) return SQR_OK;
  for(const char *p = list;;) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    char item[32];
    if(n == 0 || n >= sizeof item) {
      snprintf(err, errlen, "--trusted-proxy: want IPV4[/BITS][,IPV4[/BITS]...], got \"%s\"", list);
      goto bad;
    }
    memcpy(item, p, n);
    item[n] = '\0';
    if(out->n == PROXYPROTO_TRUST_MAX) {
      snprintf(err, errlen, "--trusted-proxy: at most %d addresses", PROXYPROTO_TRUST_MAX);
      goto bad;
    }
    long bits = 32;
    char *slash = strchr(item, '/');
    if(slash) {
      char *stop;
      *slash = '\0';
      bits = strtol(slash + 1, &stop, 10);
      if(!slash[1] || *stop || bits < 0 || bits > 32) {
        snprintf(err, errlen, "--trusted-proxy: %s/%s: want a prefix length of 0..32", item,
                 slash + 1);
        goto bad;
      }
    }
    struct in_addr ia;
    if(inet_pton(AF_INET, item, &ia) != 1) {
      snprintf(err, errlen, "--trusted-proxy: %s is not an IPv4 address", item);
      goto bad;
    }
    uint32_t mask = bits ? 0xFFFFFFFFu << (32 - bits) : 0, net = ntohl(ia.s_addr);
    if(net & ~mask) {
      snprintf(err, errlen, "--trusted-proxy: %s/%ld has bits set past its prefix", item, bits);
      goto bad;
    }
    out->e[out->n].net = net;
    out->e[out->n].mask = mask;
    out->n++;
    if(!end) break;
    p = end + 1;
  }
  return SQR_OK;
bad:
  memset(out, 0, sizeof *out);
  return SQR_EINVAL;
}

int proxyproto_trusted(const proxyproto_trust *t, const struct sockaddr *sa) {
  if(!t || !t->n || sa->sa_family != AF_INET) return 0;
  const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
  uint32_t a = ntohl(sin->sin_addr.s_addr);
  for(int i = 0; i < t->n; i++)
    if((a & t->e[i].mask) == t->e[i].net) return 1;
  return 0;
}

void proxyproto_trust_text(const proxyproto_trust *t, char *out, size_t size) {
  size_t used = 0;
  if(size) out[0] = '\0';
  if(!t || !t->n) {
    snprintf(out, size, "none");
    return;
  }
  for(int i = 0; i < t->n && used < size; i++) {
    struct in_addr ia = {htonl(t->e[i].net)};
    char addr[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &ia, addr, sizeof addr);
    int bits = 0;
    for(uint32_t m = t->e[i].mask; m; m <<= 1)
      bits++;
    int w = bits == 32 ? snprintf(out + used, size - used, "%s%s", i ? ", " : "", addr)
                       : snprintf(out + used, size - used, "%s%s/%d", i ? ", " : "", addr, bits);
    if(w < 0) break;
    used += (size_t)w;
  }
}
