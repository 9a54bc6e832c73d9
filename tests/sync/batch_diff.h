/* batch_diff.h — are two answers of proto_batch_decode the same? Shared by
 * the differential test (test_proto_diff.c) and the fuzz target
 * (tests/fuzz/fuzz_batch.c), which hold sync/proto's one-pass parser to the
 * cJSON decoder: same result code, same refusal (status, code, message,
 * seq), or the same batch field for field. Header-only so the fuzz target,
 * which links storeqr_core alone, can use it.
 */
#ifndef SQR_TEST_BATCH_DIFF_H
#define SQR_TEST_BATCH_DIFF_H

#include <stdio.h>
#include <string.h>

#include "../../sync/proto/proto.h"

/* 1 if equal; otherwise 0 with the first difference described in why. */
static inline int batch_diff_same(sqr_rc ra, const proto_batch *a, const proto_error *ea, sqr_rc rb,
                                  const proto_batch *b, const proto_error *eb, char *why,
                                  size_t whylen) {
  if(ra != rb) {
    snprintf(why, whylen, "rc %d vs %d (%s | %s)", (int)ra, (int)rb, ea->message, eb->message);
    return 0;
  }
  if(ra != SQR_OK) {
    if(ea->status != eb->status || strcmp(ea->code, eb->code) || strcmp(ea->message, eb->message) ||
       ea->seq != eb->seq) {
      snprintf(why, whylen, "refusal %d %s \"%s\" seq %lld vs %d %s \"%s\" seq %lld", ea->status,
               ea->code, ea->message, (long long)ea->seq, eb->status, eb->code, eb->message,
               (long long)eb->seq);
      return 0;
    }
    if(a->count || a->events || b->count || b->events) {
      snprintf(why, whylen, "a refused batch is not empty");
      return 0;
    }
    return 1;
  }
  if(strcmp(a->kiosk_id, b->kiosk_id) || strcmp(a->store_id, b->store_id) || a->kiosk != b->kiosk ||
     a->behind != b->behind || a->count != b->count) {
    snprintf(why, whylen, "envelope %s %s %d behind %lld %zu vs %s %s %d behind %lld %zu",
             a->kiosk_id, a->store_id, a->kiosk, (long long)a->behind, a->count, b->kiosk_id,
             b->store_id, b->kiosk, (long long)b->behind, b->count);
    return 0;
  }
  for(size_t i = 0; i < a->count; i++) {
    const proto_event *x = &a->events[i], *y = &b->events[i];
    const char *what = NULL;
    if(x->seq != y->seq)
      what = "seq";
    else if(strcmp(x->type, y->type))
      what = "type";
    else if(x->ts_ms != y->ts_ms)
      what = "ts_ms";
    else if(x->payload_len != y->payload_len || !x->payload || !y->payload ||
            memcmp(x->payload, y->payload, x->payload_len + 1))
      what = "payload";
    else if(memcmp(x->body_hash, y->body_hash, sizeof x->body_hash))
      what = "body_hash";
    else if(memcmp(x->hash, y->hash, sizeof x->hash))
      what = "hash";
    else if(x->redacted != y->redacted)
      what = "redacted";
    if(what) {
      snprintf(why, whylen, "events[%zu].%s differs", i, what);
      return 0;
    }
  }
  return 1;
}

#endif /* SQR_TEST_BATCH_DIFF_H */
