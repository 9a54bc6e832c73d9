/* proto_int.h — what proto.c and batch.c share, and the seams the tests
 * and the fuzz target use. Not for callers of storeqr_proto: proto.h is the
 * module's interface.
 */
#ifndef SQR_PROTO_INT_H
#define SQR_PROTO_INT_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "proto.h"

#define PROTO__MAX_SAFE_INT 9007199254740991.0 /* 2^53 - 1: exact in a double */

/* Fills err (if not NULL) and returns SQR_EINVAL. */
SQR_PRINTF(4, 5)
sqr_rc proto__fail(proto_error *err, int status, const char *code, const char *fmt, ...);

/* cJSON over exactly len bytes: trailing bytes other than whitespace make
 * it NULL (cJSON alone would ignore them). Caller deletes the tree. */
cJSON *proto__parse_all(const char *body, size_t len);
/* A request body bounded to max bytes and parsed whole: NULL with err set
 * (413 too_large, 400 bad_request) when it is not. */
cJSON *proto__parse_request(const char *body, size_t len, size_t max, proto_error *err);

/* The two halves of proto_batch_decode, same contract as it has.
 *
 * proto__batch_parse is the one-pass parser. It answers only for bodies it
 * can vouch for; for anything else (every malformed body among them) it
 * sets *unsure, leaves *out empty and err unspecified, and the caller asks
 * proto__batch_decode_tree, the cJSON decoder, which answers every body. */
sqr_rc proto__batch_parse(const char *body, size_t len, proto_batch *out, proto_error *err,
                          int *unsure) SQR_WARN_UNUSED;
sqr_rc proto__batch_decode_tree(const char *body, size_t len, proto_batch *out,
                                proto_error *err) SQR_WARN_UNUSED;

#endif /* SQR_PROTO_INT_H */
