/* base32.h — RFC 4648 Base32 (alphabet A-Z 2-7), unpadded.
 *
 * Used for live-code tokens and coupon codes because upper-case letters and
 * digits stay inside the QR alphanumeric set and read aloud without case.
 * Owns nothing and allocates nothing. Decoding is strict on purpose: one
 * byte string has exactly one spelling, so a token cannot be varied by
 * padding, lower case or stray low bits. Callers that accept hand-typed
 * input (coupons) normalise before decoding; this module never guesses.
 */
#ifndef SQR_BASE32_H
#define SQR_BASE32_H

#include <stddef.h>
#include "sqr.h"

/* Characters needed for n bytes, unpadded (no terminating NUL). */
#define BASE32_ENCODED_LEN(n) (((n)*8 + 4) / 5)
/* Bytes held by n characters of valid unpadded Base32. */
#define BASE32_DECODED_LEN(n) ((n)*5 / 8)

/* Encodes n bytes from in as upper-case Base32 without padding, NUL
 * terminated. out is the caller's and must hold BASE32_ENCODED_LEN(n) + 1
 * bytes; SQR_EINVAL (out untouched) if outsize is smaller. */
sqr_rc base32_encode(const void *in, size_t n, char *out, size_t outsize) SQR_WARN_UNUSED;

/* Decodes inlen characters of in (no NUL needed). Accepts only A-Z and
 * 2-7, no padding, a length an unpadded encoding can have (inlen % 8 not
 * 1, 3 or 6) and zero bits after the last whole byte. Writes the bytes to
 * out (caller's, outsize bytes) and their count to *outlen.
 * SQR_EINVAL for any other input or a too-small out; out may then hold
 * partial garbage and *outlen is untouched. */
sqr_rc base32_decode(const char *in, size_t inlen, void *out, size_t outsize,
                     size_t *outlen) SQR_WARN_UNUSED;

#endif /* SQR_BASE32_H */
