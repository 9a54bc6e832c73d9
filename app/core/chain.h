/* chain.h — the event log's hash chain, one definition for every end.
 *
 * For: the kiosk's event log (store.c), HQ's upload check (sync/hq) and
 * the wire format (sync/proto) all compute the same link:
 *   hash = SHA-256(prev_hash || be64(seq) || type || 0x00 || be64(ts_ms) || body_hash)
 * (prev_hash of the first event is 32 zero bytes; body_hash =
 * SHA-256(payload JSON as stored)). Owns nothing; no I/O.
 */
#ifndef SQR_CHAIN_H
#define SQR_CHAIN_H

#include <stdint.h>
#include "sqr.h"

#define CHAIN_HASH_LEN 32
#define CHAIN_TYPE_MAX 24 /* = STORE_EVENT_TYPE_MAX, NUL included */

/* Computes one link into out. SQR_EINVAL if type is empty or does not fit
 * CHAIN_TYPE_MAX with its NUL. */
sqr_rc chain_hash(const uint8_t prev[CHAIN_HASH_LEN], int64_t seq, const char *type, int64_t ts_ms,
                  const uint8_t body_hash[CHAIN_HASH_LEN],
                  uint8_t out[CHAIN_HASH_LEN]) SQR_WARN_UNUSED;

#endif
