/* livecode.h — the signed, rotating token a kiosk's QR code carries.
 *
 * A token proves "this scan happened in front of kiosk K of store S during
 * time window W": it is Base32 of key version, kiosk number and window,
 * followed by HMAC-SHA256 truncated to 64 bits under the kiosk's token key
 * for that key version (docs/PROTOCOL.md "Identity and keys"). The kiosk
 * mints, HQ's resolver verifies.
 *
 * Pure functions: no database, no clock (callers pass the time), no
 * allocation, no logging. Owns only the derived keys in livecode_key,
 * which belong to the caller. It must never log or return a key, and must
 * never tell a forged token apart from a merely old one (the MAC is
 * checked before the window).
 *
 * Wire format (all multi-byte fields big-endian):
 *   payload = key_version(1) | kiosk(2) | window(4),
 *             window = floor(unix_seconds / period), as RFC 6238 counts T
 *   mac     = HMAC-SHA256(token_key, "SQR-T1" || store_id || 0x00 || payload)[0..8)
 *   token   = base32(payload || mac), 24 upper-case characters
 *   token_key = the kiosk's own key from HQ (keys.token_key), or, for a
 *             configuration from before key versions,
 *             HKDF-SHA256(salt none, ikm store_key, info CRYPTO_INFO_TOKEN)
 *   URL     = "HTTPS://" HOST "/J/" STORE "/" TOKEN, all upper case so the
 *             QR stays in alphanumeric mode.
 */
#ifndef SQR_LIVECODE_H
#define SQR_LIVECODE_H

#include <stddef.h>
#include <stdint.h>
#include "sqr.h"

#define LIVECODE_PAYLOAD_LEN  7
#define LIVECODE_MAC_LEN      8
#define LIVECODE_TOKEN_LEN    24 /* base32 of 15 bytes, no NUL */
#define LIVECODE_STORE_ID_MAX 16
#define LIVECODE_HOST_MAX     253 /* DNS name, plus an optional ":port" */
/* Bytes livecode_url needs at most, NUL included:
 * "HTTPS://" + host + ":65535" + "/J/" + store + "/" + token + NUL. */
#define LIVECODE_URL_MAX                                                                           \
  (8 + LIVECODE_HOST_MAX + 6 + 3 + LIVECODE_STORE_ID_MAX + 1 + LIVECODE_TOKEN_LEN + 1)
#define LIVECODE_DEFAULT_PERIOD 30

/* One token key of one version. The body is public so callers can keep an
 * array of them (current and previous versions during key rotation) on
 * the stack without allocating; treat the fields as read-only and fill
 * them only with livecode_key_set or livecode_key_init. Holds secret
 * material: wipe it with livecode_key_wipe when done. */
typedef struct livecode_key {
  uint8_t version;     /* the key_version byte tokens carry */
  uint8_t ready;       /* 1 after a successful livecode_key_set/init */
  uint8_t mac_key[32]; /* the token key */
} livecode_key;

/* What a verified token says. */
typedef struct livecode_claim {
  uint8_t key_version;
  uint16_t kiosk;
  uint32_t window; /* floor(mint time / period) */
} livecode_claim;

/* 1 if id is 1..16 characters of A-Z, 0-9 and '-', else 0 (NULL too). */
int livecode_store_id_valid(const char *id);

/* Copies an already derived 32-byte token key (keys.token_key of the
 * kiosk's configuration, or what HQ derives per kiosk and version) into
 * *k (caller's memory; call livecode_key_wipe). SQR_EINVAL for NULL
 * arguments. */
sqr_rc livecode_key_set(livecode_key *k, const uint8_t token_key[32],
                        uint8_t key_version) SQR_WARN_UNUSED;

/* Derives the token MAC key from a 32-byte legacy store key (HQ, and
 * configurations from before key versions) into *k (caller's
 * memory; nothing to free, but call livecode_key_wipe). Do this once per
 * key, not per token. SQR_EINVAL for NULL arguments; SQR_ECRYPTO if HKDF
 * fails (logged by crypto), in which case *k is wiped and unusable. */
sqr_rc livecode_key_init(livecode_key *k, const uint8_t store_key[32],
                         uint8_t key_version) SQR_WARN_UNUSED;

/* Overwrites *k so no key material stays behind. Accepts NULL. */
void livecode_key_wipe(livecode_key *k);

/* Mints the token for kiosk of store_id at unix_time (seconds) with the
 * given rotation period (seconds) into out (caller's, LIVECODE_TOKEN_LEN+1
 * bytes, NUL terminated). SQR_EINVAL for a NULL or uninitialised key, an
 * invalid store id, period 0, a negative time or a window past 2^32-1;
 * SQR_ECRYPTO if HMAC fails. On error out holds an empty string. */
sqr_rc livecode_mint(const livecode_key *k, const char *store_id, uint16_t kiosk, int64_t unix_time,
                     uint32_t period, char out[LIVECODE_TOKEN_LEN + 1]) SQR_WARN_UNUSED;

/* How far ahead of HQ's clock a kiosk's may run without losing scans: a
 * token of the next window is accepted when that window starts within
 * this many seconds (a kiosk clock 2 s fast lost about 7 % of scans when
 * none was). Small, so a photo of the screen gains nothing from it. */
#define LIVECODE_LEAD_S 5

/* Checks token for store_id at time now. keys[0..nkeys) are the keys HQ
 * still accepts; the one whose version matches the token's version byte is
 * used. Accepts windows in [floor(now/period) - skew, floor(now/period)],
 * and floor(now/period) + 1 when that window starts within lead_s seconds
 * of now (at most period - 1 of it counts; HQ passes LIVECODE_LEAD_S).
 *
 * SQR_OK:       valid; *out filled.
 * SQR_EINVAL:   token malformed (not 24 characters of A-Z2-7, lower case
 *               included), invalid store id, period 0, negative now, NULL.
 * SQR_EAUTH:    no key with the token's version, or the MAC does not match
 *               (compared in constant time). *out untouched.
 * SQR_EEXPIRED: authentic, but its window is older than skew windows or
 *               further in the future than lead_s allows. *out is filled (the claim is authentic,
 * so HQ may count where stale photos come from) — never treat it as a valid scan. SQR_ECRYPTO: HMAC
 * failed. */
sqr_rc livecode_verify(const livecode_key *keys, size_t nkeys, const char *store_id,
                       const char *token, int64_t now, uint32_t period, uint32_t skew,
                       uint32_t lead_s, livecode_claim *out) SQR_WARN_UNUSED;

/* What a token claims, unverified: its key version and kiosk (and
 * window), so HQ can pick the one key (store, kiosk, version) that must
 * verify it. Nothing here is authentic until livecode_verify says so.
 * SQR_EINVAL for a malformed token or NULL. */
sqr_rc livecode_peek(const char *token, livecode_claim *out) SQR_WARN_UNUSED;

/* Builds "HTTPS://HOST/J/STORE/TOKEN" into out (caller's, outsize bytes;
 * LIVECODE_URL_MAX always suffices). host is a DNS name of letters,
 * digits, '-' and '.', optionally followed by ":port" (1..65535); it is
 * upper-cased. Any other character in host (scheme, path, '_', space,
 * IPv6 brackets...) is SQR_EINVAL, as are an invalid store id, a token
 * that is not 24 Base32 characters and a too-small out: the result must
 * stay inside the QR alphanumeric set. On error out holds "" if
 * outsize > 0. */
sqr_rc livecode_url(const char *host, const char *store_id, const char *token, char *out,
                    size_t outsize) SQR_WARN_UNUSED;

#endif /* SQR_LIVECODE_H */
