/* coupon.h — short welcome-coupon codes, verified by HQ or the issuing kiosk.
 *
 * A kiosk issues a code when a shopper signs up; HQ (which derives every
 * kiosk's coupon key) and the issuing kiosk check it. No till holds a key:
 * a key that verifies coupons also mints them (docs/PROTOCOL.md "Tokens
 * and coupons"). The code is Base32 of
 *   payload = key_version(1) | kiosk(2, BE) | campaign(1) | serial(3, BE)
 *   mac     = HMAC-SHA256(coupon_key, "SQR-C1" || store_id || 0x00 || payload)[0..5)
 *   coupon_key = the issuing kiosk's key of that version (keys.coupon_key),
 *                or for a legacy store key coupon_key_derive(store_key)
 * 12 bytes -> 20 characters, shown as "XXXXX-XXXXX-XXXXX-XXXXX".
 *
 * The 40-bit MAC is enough for a code typed at a till (an online guesser
 * is rate-limited by people), not for anything an attacker can test
 * offline at scale. Whether a serial was already redeemed is the caller's
 * business (a database); this module only says whether a code is genuine.
 * Pure functions: no allocation, no logging, no clock. Never logs or
 * returns a key.
 */
#ifndef SQR_COUPON_H
#define SQR_COUPON_H

#include <stddef.h>
#include <stdint.h>
#include "sqr.h"

#define COUPON_PAYLOAD_LEN 7
#define COUPON_MAC_LEN     5
#define COUPON_CHARS       20 /* Base32 characters, without dashes */
#define COUPON_GROUP       5  /* characters per dash-separated group */
#define COUPON_CODE_LEN    23 /* "XXXXX-XXXXX-XXXXX-XXXXX", no NUL */
#define COUPON_SERIAL_MAX  0xffffffu
/* Longest hand-typed input coupon_verify reads (spaces and dashes count). */
#define COUPON_INPUT_MAX 64

typedef struct coupon_info {
  uint8_t key_version;
  uint16_t kiosk;
  uint8_t campaign;
  uint32_t serial; /* < 2^24 */
} coupon_info;

/* The coupon key of a legacy 32-byte store key:
 * HKDF-SHA256(no salt, store_key, CRYPTO_INFO_COUPON) into out (caller's;
 * wipe it after use). SQR_EINVAL for NULL, SQR_ECRYPTO if HKDF fails. */
sqr_rc coupon_key_derive(const uint8_t store_key[32], uint8_t out[32]) SQR_WARN_UNUSED;

/* Issues the code for (kiosk, campaign, serial) of store_id under the
 * 32-byte coupon_key at key_version, into out (caller's, COUPON_CODE_LEN+1
 * bytes, upper case with dashes, NUL terminated). SQR_EINVAL for NULL
 * arguments, an invalid store id (livecode_store_id_valid rules) or
 * serial > COUPON_SERIAL_MAX; SQR_ECRYPTO if HMAC fails. On error out
 * holds "". */
sqr_rc coupon_issue(const uint8_t coupon_key[32], uint8_t key_version, const char *store_id,
                    uint16_t kiosk, uint8_t campaign, uint32_t serial,
                    char out[COUPON_CODE_LEN + 1]) SQR_WARN_UNUSED;

/* Verifies a code as a person typed it: dashes and spaces are ignored,
 * lower case is folded, and the look-alikes 0->O, 1->I, 8->B are mapped
 * (Base32 has no 0, 1 or 8). *out is filled on SQR_OK only.
 * SQR_EINVAL: NULL arguments, invalid store id, input longer than
 *             COUPON_INPUT_MAX, or not 20 Base32 characters after
 *             normalising (including non-zero spare bits).
 * SQR_EAUTH:  the code's key version is not key_version, or the MAC does
 *             not match (compared in constant time) — wrong store, edited
 *             kiosk/serial, or a typo.
 * SQR_ECRYPTO: HMAC failed. */
sqr_rc coupon_verify(const uint8_t coupon_key[32], uint8_t key_version, const char *store_id,
                     const char *code, coupon_info *out) SQR_WARN_UNUSED;

/* Reads what a code claims without checking its MAC: which kiosk, key
 * version, campaign and serial. Tells HQ which kiosk's key of which
 * version to verify it with; never proof of anything. Same normalising as
 * coupon_verify. SQR_EINVAL: NULL arguments or a malformed code. */
sqr_rc coupon_parse(const char *code, coupon_info *out) SQR_WARN_UNUSED;

#endif
