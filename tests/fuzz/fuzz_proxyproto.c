/* fuzz_proxyproto.c — what a trusted load balancer's connection begins
 * with (sync/hq/web/proxyproto.c): the input is fed to proxyproto_need as
 * server.c's read_proxy_header does, a byte count at a time exactly as
 * asked, then the header to proxyproto_parse; the whole input, whatever
 * need() said, to parse too; and the input as a --trusted-proxy list.
 * Checked: need() never asks past PROXYPROTO_MAX, agrees with parse, and
 * a parsed PROXY header names an IPv4 or IPv6 address of the right size. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "proxyproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t got = 0, more;
  const char *why;
  proxyproto_hdr h;
  for(;;) {
    if(proxyproto_need(data, got, &more, &why)) {
      if(!why) abort(); /* every refusal says why */
      break;
    }
    if(got + more > PROXYPROTO_MAX) abort();
    if(!more) {
      if(proxyproto_parse(data, got, &h, &why) != SQR_OK) abort(); /* need() said whole */
      if(!h.local && !(h.src.ss_family == AF_INET && h.src_len == sizeof(struct sockaddr_in)) &&
         !(h.src.ss_family == AF_INET6 && h.src_len == sizeof(struct sockaddr_in6)))
        abort();
      break;
    }
    if(got + more > size) break; /* the peer stopped: the deadline's case */
    got += more;
  }
  /* the whole input is a header only if the byte-wise reading found it so */
  if(proxyproto_parse(data, size, &h, &why) == SQR_OK && got != size) abort();
  char *s = malloc(size + 1);
  if(!s) return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  proxyproto_trust t;
  char err[200];
  if(proxyproto_trust_parse(s, &t, err, sizeof err) == SQR_OK) {
    char text[PROXYPROTO_TRUST_MAX * 20];
    proxyproto_trust_text(&t, text, sizeof text);
  }
  free(s);
  return 0;
}
