/* pin.h — the manager PIN: PBKDF2-SHA256 hashes in the configuration.
 *
 * The configuration carries manager.pin_hash as
 *   "pbkdf2-sha256$ITERATIONS$SALT_BASE64$HASH_BASE64"
 * (standard base64, 32-byte derived key). The kiosk only verifies; HQ or
 * `storeqr pin-hash` makes hashes. Pure functions over mbedtls: no state,
 * no logging of a PIN, the comparison runs in constant time. Lockout after
 * repeated failures is the UI's job (it knows the clock and the screen).
 */
#ifndef SQR_PIN_H
#define SQR_PIN_H

#include <stddef.h>
#include <stdint.h>
#include "sqr.h"

#define PIN_HASH_MAX           200 /* fits sqr_config.manager_pin_hash */
#define PIN_DEFAULT_ITERATIONS 100000
#define PIN_MIN_ITERATIONS     1000
#define PIN_MAX_ITERATIONS     10000000

/* Hashes pin with a fresh 16-byte salt into out (PIN_HASH_MAX bytes).
 * SQR_EINVAL for an empty pin or iterations outside
 * [PIN_MIN_ITERATIONS, PIN_MAX_ITERATIONS]; SQR_ECRYPTO if mbedtls fails. */
sqr_rc pin_hash(const char *pin, uint32_t iterations, char out[PIN_HASH_MAX]) SQR_WARN_UNUSED;

/* Checks pin against a stored hash. SQR_OK when it matches, SQR_EAUTH when
 * it does not, SQR_EINVAL when the stored string is malformed (or empty:
 * no PIN configured means the manager screen stays shut). */
sqr_rc pin_verify(const char *stored, const char *pin) SQR_WARN_UNUSED;

#endif
