/* fuzz_batch.c — HQ's decoder of POST /v1/events bodies (and the kiosk's
 * decoder of HQ's answers): strict JSON, bounds, hashes, the chain check.
 * Differential too: wherever the one-pass parser (sync/proto/batch.c)
 * answers, the cJSON decoder must give the same answer, field for field.
 * The proto sources are compiled in here because the fuzz targets link
 * storeqr_core only (tests/fuzz/CMakeLists.txt). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../sync/proto/proto.c"
#include "../../sync/proto/batch.c"
#include "../sync/batch_diff.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

volatile int fuzz_sink;

static void parsers_agree(const char *body, size_t size) {
  proto_batch f, t;
  proto_error fe, te;
  int unsure;
  sqr_rc frc = proto__batch_parse(body, size, &f, &fe, &unsure);
  if(!unsure) {
    sqr_rc trc = proto__batch_decode_tree(body, size, &t, &te);
    char why[700];
    if(!batch_diff_same(frc, &f, &fe, trc, &t, &te, why, sizeof why)) {
      fprintf(stderr, "fuzz_batch: one-pass parser and cJSON decoder differ: %s\n", why);
      abort();
    }
    proto_batch_clear(&t);
  } else if(f.count || f.events) {
    abort(); /* giving up must leave nothing behind */
  }
  proto_batch_clear(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  log_set_level(LOG_FATAL);
  parsers_agree((const char *)data, size);
  proto_batch b;
  proto_error err;
  if(proto_batch_decode((const char *)data, size, &b, &err) == SQR_OK) {
    uint8_t zero[32] = {0};
    size_t bad = 0;
    fuzz_sink += (int)proto_chain_check(zero, b.events, b.count, &bad);
    /* Re-encoding what was accepted must work and decode again. */
    proto_batch again;
    if(proto_batch_init(&again, b.store_id, b.kiosk, b.incarnation) != SQR_OK) abort();
    again.behind = b.behind;
    for(size_t i = 0; i < b.count; i++) {
      store_event ev = {.seq = b.events[i].seq,
                        .ts_ms = b.events[i].ts_ms,
                        .payload = b.events[i].payload,
                        .redacted = b.events[i].redacted};
      memcpy(ev.type, b.events[i].type, sizeof ev.type);
      memcpy(ev.body_hash, b.events[i].body_hash, 32);
      memcpy(ev.hash, b.events[i].hash, 32);
      if(proto_batch_add(&again, &ev) != SQR_OK) break;
    }
    char *json;
    size_t len;
    if(again.count == b.count && proto_batch_encode(&again, &json, &len) == SQR_OK) {
      proto_batch c;
      if(proto_batch_decode(json, len, &c, &err) != SQR_OK || c.behind != b.behind) abort();
      parsers_agree(json, len);
      proto_batch_clear(&c);
      free(json);
    }
    proto_batch_clear(&again);
    proto_batch_clear(&b);
  } else if(!err.code[0] || !err.message[0] || err.status < 400) {
    abort(); /* every refusal names its status, code and field */
  }
  proto_answer a;
  char msg[256];
  fuzz_sink += (int)proto_answer_decode((const char *)data, size, &a, msg, sizeof msg);
  return 0;
}
