/* phone.h — validation and normalisation of mainland China mobile numbers.
 *
 * A phone number is personal data: this module only ever writes it into the
 * caller's buffer, never into a log line or an error message.
 */
#ifndef SQR_PHONE_H
#define SQR_PHONE_H

#include "sqr.h"

#define PHONE_LEN 11

/* Normalises what a shopper typed or a CLI user passed into the 11-digit
 * form: spaces and '-' are ignored, a leading "+86", "0086" or "86" (when
 * 13 digits remain) is dropped. The result must be 11 digits, start with 1
 * and have a second digit 3..9 (mainland mobile ranges).
 * SQR_EINVAL otherwise; *why (if given) gets a static, phone-free reason. */
sqr_rc phone_normalize(const char *input, char out[PHONE_LEN + 1],
                       const char **why) SQR_WARN_UNUSED;

#endif
