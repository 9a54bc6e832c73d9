/* chain.c — see chain.h. */
#include "chain.h"

#include <string.h>

#include "crypto.h"

static void be64(uint8_t *p, int64_t v) {
  uint64_t u = (uint64_t)v;
  for(int i = 7; i >= 0; i--) {
    p[i] = (uint8_t)(u & 0xff);
    u >>= 8;
  }
}

sqr_rc chain_hash(const uint8_t prev[CHAIN_HASH_LEN], int64_t seq, const char *type, int64_t ts_ms,
                  const uint8_t body_hash[CHAIN_HASH_LEN], uint8_t out[CHAIN_HASH_LEN]) {
  uint8_t buf[CHAIN_HASH_LEN + 8 + CHAIN_TYPE_MAX + 8 + CHAIN_HASH_LEN];
  size_t tlen = strlen(type), n = 0;
  if(tlen == 0 || tlen >= CHAIN_TYPE_MAX) return SQR_EINVAL;
  memcpy(buf, prev, CHAIN_HASH_LEN);
  n = CHAIN_HASH_LEN;
  be64(buf + n, seq);
  n += 8;
  memcpy(buf + n, type, tlen + 1);
  n += tlen + 1;
  be64(buf + n, ts_ms);
  n += 8;
  memcpy(buf + n, body_hash, CHAIN_HASH_LEN);
  n += CHAIN_HASH_LEN;
  return crypto_sha256(buf, n, out);
}
