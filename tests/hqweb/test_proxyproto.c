/* test_proxyproto.c — the PROXY protocol v2 parser and the trusted
 * balancer list (sync/hq/web/proxyproto.c), without a socket: valid IPv4,
 * IPv6 and LOCAL headers (with TLVs skipped), and the refusals: cut
 * short, wrong signature, version 1 text, another version or command, a
 * length past 536 bytes or too short for the addresses, a family other
 * than TCP over IPv4/IPv6; proxyproto_need reading exactly the header's
 * bytes; and --trusted-proxy lists, good and bad.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "proxyproto.h"

static const uint8_t SIG[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/* A header: command byte, family byte, then addr_len address bytes and
 * tlv_len bytes of TLVs (zeros); returns its length. */
static size_t header(uint8_t *buf, uint8_t ver_cmd, uint8_t fam, const uint8_t *addrs,
                     size_t addr_len, size_t tlv_len) {
  memcpy(buf, SIG, 12);
  buf[12] = ver_cmd;
  buf[13] = fam;
  size_t body = addr_len + tlv_len;
  buf[14] = (uint8_t)(body >> 8);
  buf[15] = (uint8_t)body;
  if(addr_len) memcpy(buf + 16, addrs, addr_len);
  memset(buf + 16 + addr_len, 0, tlv_len);
  return 16 + body;
}

/* 192.0.2.7:40001 -> 198.51.100.1:443 */
static const uint8_t V4[12] = {192, 0, 2, 7, 198, 51, 100, 1, 0x9C, 0x41, 0x01, 0xBB};

/* The header fed in pieces of one byte: need() asks for exactly what is
 * missing, never more, and is satisfied at the end. */
static void needs_exactly(const uint8_t *buf, size_t total) {
  size_t more;
  const char *why;
  assert_int_equal(proxyproto_need(buf, 0, &more, &why), SQR_OK);
  assert_int_equal(more, 16);
  for(size_t got = 1; got < 16; got++) {
    assert_int_equal(proxyproto_need(buf, got, &more, &why), SQR_OK);
    assert_int_equal(more, 16 - got);
  }
  assert_int_equal(proxyproto_need(buf, 16, &more, &why), SQR_OK);
  assert_int_equal(more, total - 16);
  assert_int_equal(proxyproto_need(buf, total, &more, &why), SQR_OK);
  assert_int_equal(more, 0);
}

static void test_ipv4(void **state) {
  (void)state;
  uint8_t buf[PROXYPROTO_MAX];
  size_t n = header(buf, 0x21, 0x11, V4, sizeof V4, 0);
  assert_int_equal(n, 28);
  needs_exactly(buf, n);
  proxyproto_hdr h;
  const char *why = NULL;
  assert_int_equal(proxyproto_parse(buf, n, &h, &why), SQR_OK);
  assert_false(h.local);
  assert_int_equal(h.src_len, sizeof(struct sockaddr_in));
  const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)&h.src;
  assert_int_equal(sin->sin_family, AF_INET);
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
  assert_string_equal(text, "192.0.2.7");
  assert_int_equal(ntohs(sin->sin_port), 40001);
  /* TLVs after the addresses (haproxy sends some) are skipped, up to the
   * 536 bytes in all the specification allows */
  n = header(buf, 0x21, 0x11, V4, sizeof V4, PROXYPROTO_MAX - 28);
  assert_int_equal(n, PROXYPROTO_MAX);
  needs_exactly(buf, n);
  assert_int_equal(proxyproto_parse(buf, n, &h, &why), SQR_OK);
  inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
  assert_string_equal(text, "192.0.2.7");
}

static void test_ipv6(void **state) {
  (void)state;
  uint8_t addrs[36] = {0x20,        0x01,        0x0d,        0xb8,        [15] = 0x07, [16] = 0x20,
                       [17] = 0x01, [32] = 0x01, [33] = 0xBB, [34] = 0x01, [35] = 0xBB};
  uint8_t buf[PROXYPROTO_MAX];
  size_t n = header(buf, 0x21, 0x21, addrs, sizeof addrs, 5);
  needs_exactly(buf, n);
  proxyproto_hdr h;
  const char *why;
  assert_int_equal(proxyproto_parse(buf, n, &h, &why), SQR_OK);
  assert_int_equal(h.src_len, sizeof(struct sockaddr_in6));
  const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)&h.src;
  assert_int_equal(sin6->sin6_family, AF_INET6);
  char text[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
  assert_string_equal(text, "2001:db8::7");
  assert_int_equal(ntohs(sin6->sin6_port), 443);
}

static void test_local(void **state) {
  (void)state;
  uint8_t buf[PROXYPROTO_MAX];
  /* haproxy's health check: LOCAL, family UNSPEC, no addresses */
  size_t n = header(buf, 0x20, 0x00, NULL, 0, 0);
  assert_int_equal(n, 16);
  size_t more;
  const char *why;
  assert_int_equal(proxyproto_need(buf, 16, &more, &why), SQR_OK);
  assert_int_equal(more, 0);
  proxyproto_hdr h;
  assert_int_equal(proxyproto_parse(buf, n, &h, &why), SQR_OK);
  assert_true(h.local);
  assert_int_equal(h.src_len, 0);
  /* LOCAL with addresses: they are not used */
  n = header(buf, 0x20, 0x11, V4, sizeof V4, 0);
  assert_int_equal(proxyproto_parse(buf, n, &h, &why), SQR_OK);
  assert_true(h.local);
  assert_int_equal(h.src_len, 0);
}

/* Refused by need() on the first len bytes, and by parse on the whole. */
static void refused(const uint8_t *buf, size_t len, size_t whole, const char *because) {
  size_t more = 99;
  const char *why = NULL;
  assert_int_equal(proxyproto_need(buf, len, &more, &why), SQR_EPROTO);
  assert_non_null(why);
  assert_non_null(strstr(why, because));
  proxyproto_hdr h;
  why = NULL;
  assert_int_equal(proxyproto_parse(buf, whole, &h, &why), SQR_EPROTO);
  assert_non_null(strstr(why, because));
}

static void test_refusals(void **state) {
  (void)state;
  uint8_t buf[PROXYPROTO_MAX + 64];
  proxyproto_hdr h;
  const char *why;
  size_t n = header(buf, 0x21, 0x11, V4, sizeof V4, 0);
  /* cut short: in the fixed part, and in the addresses */
  for(size_t len = 0; len < n; len++) {
    why = NULL;
    assert_int_equal(proxyproto_parse(buf, len, &h, &why), SQR_EPROTO);
    assert_non_null(strstr(why, "cut short"));
  }
  /* one byte too many: the caller read past the header */
  assert_int_equal(proxyproto_parse(buf, n + 1, &h, &why), SQR_EPROTO);
  /* a wrong signature, seen at its first wrong byte */
  for(size_t i = 0; i < 12; i++) {
    n = header(buf, 0x21, 0x11, V4, sizeof V4, 0);
    buf[i] ^= 0x20;
    refused(buf, i + 1, n, "signature");
  }
  /* TLS straight away (a ClientHello starts 0x16 0x03) */
  const uint8_t hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
  refused(hello, 1, sizeof hello, "signature");
  /* version 1 text, known after its first byte */
  const char *v1 = "PROXY TCP4 192.0.2.7 198.51.100.1 40001 443\r\n";
  refused((const uint8_t *)v1, 1, strlen(v1), "version 1");
  refused((const uint8_t *)"PROXY UNKNOWN\r\n", 15, 15, "version 1");
  /* version 1 and 3 in the binary form; commands 2..15 */
  n = header(buf, 0x11, 0x11, V4, sizeof V4, 0);
  refused(buf, 13, n, "version is not 2");
  n = header(buf, 0x31, 0x11, V4, sizeof V4, 0);
  refused(buf, 13, n, "version is not 2");
  for(uint8_t cmd = 2; cmd < 16; cmd++) {
    n = header(buf, (uint8_t)(0x20 | cmd), 0x11, V4, sizeof V4, 0);
    refused(buf, 13, n, "command");
  }
  /* families: UNSPEC, UNIX; transports: UNSPEC, DGRAM; and 0x41 */
  const uint8_t fams[] = {0x00, 0x01, 0x31, 0x10, 0x12, 0x22, 0x41, 0x13};
  for(size_t i = 0; i < sizeof fams; i++) {
    n = header(buf, 0x21, fams[i], V4, sizeof V4, 0);
    refused(buf, 14, n, "not TCP over IPv4 or IPv6");
  }
  /* a length past 536 bytes in all, known from the fixed part */
  n = header(buf, 0x21, 0x11, V4, sizeof V4, PROXYPROTO_MAX - 28 + 1);
  refused(buf, 16, n, "longer than 536");
  buf[14] = 0xFF;
  buf[15] = 0xFF;
  refused(buf, 16, 16, "longer than 536");
  n = header(buf, 0x20, 0x00, NULL, 0, 0);
  buf[14] = 0x02; /* LOCAL too */
  buf[15] = 0x09;
  refused(buf, 16, 16, "longer than 536");
  /* a length too short for the addresses of its family */
  n = header(buf, 0x21, 0x11, V4, 11, 0);
  refused(buf, 16, n, "too short");
  n = header(buf, 0x21, 0x21, V4, 12, 0);
  refused(buf, 16, n, "too short");
}

static void test_trust(void **state) {
  (void)state;
  proxyproto_trust t;
  char err[200], text[400];
  assert_int_equal(proxyproto_trust_parse(NULL, &t, err, sizeof err), SQR_OK);
  assert_int_equal(t.n, 0);
  proxyproto_trust_text(&t, text, sizeof text);
  assert_string_equal(text, "none");
  assert_int_equal(
      proxyproto_trust_parse("127.0.0.1,10.0.0.0/8,192.0.2.0/24,0.0.0.0/0", &t, err, sizeof err),
      SQR_OK);
  assert_int_equal(t.n, 4);
  proxyproto_trust_text(&t, text, sizeof text);
  assert_string_equal(text, "127.0.0.1, 10.0.0.0/8, 192.0.2.0/24, 0.0.0.0/0");

  assert_int_equal(proxyproto_trust_parse("127.0.0.1,10.0.0.0/8", &t, err, sizeof err), SQR_OK);
  struct sockaddr_in sin = {.sin_family = AF_INET};
  const char *in[] = {"127.0.0.1", "10.0.0.1", "10.255.255.255"};
  const char *out[] = {"127.0.0.2", "11.0.0.0", "9.255.255.255", "192.0.2.7"};
  for(size_t i = 0; i < 3; i++) {
    inet_pton(AF_INET, in[i], &sin.sin_addr);
    assert_true(proxyproto_trusted(&t, (struct sockaddr *)&sin));
  }
  for(size_t i = 0; i < 4; i++) {
    inet_pton(AF_INET, out[i], &sin.sin_addr);
    assert_false(proxyproto_trusted(&t, (struct sockaddr *)&sin));
  }
  struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
  assert_false(proxyproto_trusted(&t, (struct sockaddr *)&sin6));

  const char *bad[] = {",",
                       "127.0.0.1,",
                       ",127.0.0.1",
                       "localhost",
                       "127.0.0.256",
                       "::1",
                       "10.0.0.0/33",
                       "10.0.0.0/",
                       "10.0.0.0/x",
                       "10.0.0.1/8",
                       "1.2.3.4 ",
                       "10.0.0.0/-1",
                       "127.0.0.1;10.0.0.1",
                       "1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9,"
                       "1.1.1.10,1.1.1.11,1.1.1.12,1.1.1.13,1.1.1.14,1.1.1.15,1.1.1.16,1.1.1.17"};
  for(size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    err[0] = '\0';
    assert_int_equal(proxyproto_trust_parse(bad[i], &t, err, sizeof err), SQR_EINVAL);
    assert_int_equal(t.n, 0);
    assert_non_null(strstr(err, "--trusted-proxy"));
  }
  /* sixteen is the most */
  assert_int_equal(proxyproto_trust_parse("1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,"
                                          "1.1.1.7,1.1.1.8,1.1.1.9,1.1.1.10,1.1.1.11,1.1.1.12,"
                                          "1.1.1.13,1.1.1.14,1.1.1.15,1.1.1.16",
                                          &t, err, sizeof err),
                   SQR_OK);
  assert_int_equal(t.n, 16);
  assert_int_equal(proxyproto_trust_parse("", &t, err, sizeof err), SQR_OK);
  assert_int_equal(t.n, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_ipv4), cmocka_unit_test(test_ipv6),
                                     cmocka_unit_test(test_local), cmocka_unit_test(test_refusals),
                                     cmocka_unit_test(test_trust)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
