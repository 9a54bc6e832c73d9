/* decode.h — the web layer's decoders of bytes a client controls, kept
 * pure (no libmicrohttpd, no hq handle, no storage) so that each can be
 * fed any bytes on its own: tests/fuzz/fuzz_dash_query and fuzz_gunzip
 * do. server.c installs decode_unescape as libmicrohttpd's unescape
 * callback; dash.c decodes the login form and integer query arguments;
 * device.c inflates gzip event bodies.
 *
 * Every output is bounded by the caller's size; none of these logs what
 * it decodes (a password, a phone number in a body).
 */
#ifndef SQR_DECODE_H
#define SQR_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include "sqr.h"

/* Percent-decodes the NUL-terminated s in place and returns its new
 * length. "%00" stays as it is (a NUL would cut the C string every route
 * reads, so "/J/S/TOKEN%00junk" would pass for "/J/S/TOKEN"), and so do
 * malformed escapes; '+' is left alone (libmicrohttpd turns it into a
 * space in query arguments before it calls this). */
size_t decode_unescape(char *s);

/* One application/x-www-form-urlencoded field of body (len bytes, not
 * NUL-terminated): the value of the first "name=..." pair, '+' as a space
 * and %XX (two hex digits, not %00) decoded, into out (size bytes, NUL
 * included). 0 when absent, when an escape is malformed or %00, or when
 * the value does not fit. */
int decode_form_field(const char *body, size_t len, const char *name, char *out, size_t size);

/* A decimal query argument in lo..hi (1 to 9 characters that strtoll
 * reads whole); def when v is NULL, empty, out of range or anything
 * else. */
int64_t decode_arg_int(const char *v, int64_t def, int64_t lo, int64_t hi);

/* Inflates the gzip data in (inlen bytes) into at most max bytes: *out
 * (malloc'ed, NUL-terminated, the caller frees it) and *outlen <= max.
 * Stops at the end of the first gzip member. SQR_ENOSPC when the data
 * inflates to more than max, SQR_EINVAL when it is not gzip or is cut
 * short, SQR_ENOMEM. */
sqr_rc decode_gunzip(const char *in, size_t inlen, size_t max, char **out,
                     size_t *outlen) SQR_WARN_UNUSED;

#endif
