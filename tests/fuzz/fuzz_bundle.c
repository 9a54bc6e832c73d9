/* fuzz_bundle.c — the release bundle reader (app/core/bundle.h): the
 * header codec and the payload walk that HQ (`release add`, ops/
 * release.c through bundle_verify_file) and every box run over a bundle
 * before anything in it is trusted.
 *
 * Input: a bundle file's bytes. With a bundle magic and a whole header,
 * the header is decoded and the rest walked with its entry count;
 * otherwise the first byte is the entry count and the rest the payload,
 * so the walk is reached without a valid header too. Checks, beyond no
 * crash: a header that decodes is within the limits, its forced fields
 * are set exactly when forced, and it encodes back to the same bytes;
 * the walk's verdict (rc, reason, records begun) is the same whether the
 * payload comes in one piece, byte by byte or in uneven pieces (HQ
 * reads the file in blocks, a box streams it), and a walk that ends well
 * has begun exactly the announced records. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_header(const uint8_t *buf, size_t len, const bundle_header *h) {
  if(h->count > BUNDLE_MAX_ENTRIES || h->payload_len > BUNDLE_MAX_PAYLOAD) abort();
  if(h->flags & ~BUNDLE_FLAG_FORCED) abort();
  if(h->header_len != len || h->signed_len != len - BUNDLE_SIG_LEN) abort();
  int forced = (h->flags & BUNDLE_FLAG_FORCED) != 0;
  uint32_t parts[4];
  if(h->format == 2 && forced && (bundle_parse_version(h->forced_from, parts) || !h->forced_until))
    abort();
  if(h->format == 2 && !forced && (h->forced_from[0] || h->forced_until)) abort();
  uint8_t again[BUNDLE_HEADER_MAX];
  if(bundle_header_encode(h, again) != len || memcmp(again, buf, len) != 0) abort();
}

/* Walks p in pieces: step 0 all at once, else pieces of 1..step bytes
 * (a fixed pattern, so a crash replays). */
static void walk(bundle_walk *w, uint32_t count, const uint8_t *p, size_t n, size_t step) {
  bundle_walk_init(w, count);
  for(size_t off = 0, i = 0; off < n; i++) {
    size_t k = step ? 1 + (i * 7 + off) % step : n;
    if(k > n - off) k = n - off;
    bundle_walk_feed(w, p + off, k);
    off += k;
  }
  if(bundle_walk_end(w) != w->rc) abort(); /* the verdict is the one kept */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  log_set_level(LOG_FATAL);
  uint32_t count;
  const uint8_t *payload;
  size_t plen;
  size_t hl = size >= BUNDLE_MAGIC_LEN ? bundle_header_len(data) : 0;
  bundle_header h;
  if(hl && size >= hl && bundle_header_decode(data, hl, &h) == SQR_OK) {
    check_header(data, hl, &h);
    count = h.count;
    payload = data + hl;
    plen = size - hl;
  } else {
    if(size < 1) return 0;
    count = data[0];
    payload = data + 1;
    plen = size - 1;
  }
  static bundle_walk whole, bytes, uneven; /* ~1 KiB each */
  walk(&whole, count, payload, plen, 0);
  walk(&bytes, count, payload, plen, 1);
  walk(&uneven, count, payload, plen, 300);
  const bundle_walk *other[2] = {&bytes, &uneven};
  for(int i = 0; i < 2; i++)
    if(other[i]->rc != whole.rc || other[i]->seen != whole.seen ||
       strcmp(other[i]->why, whole.why) != 0)
      abort();
  if(whole.rc == SQR_OK && whole.seen != count) abort();
  if(whole.rc != SQR_OK && !whole.why[0]) abort();
  return 0;
}
