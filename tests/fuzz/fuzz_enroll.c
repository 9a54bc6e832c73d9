/* fuzz_enroll.c — HQ's decoder of POST /v1/enroll bodies and the kiosk's
 * decoder of the enrolment answer. proto.c is compiled in (see
 * fuzz_batch.c). */
#include <stdint.h>
#include <stdlib.h>

#include "../../sync/proto/proto.c"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

volatile int fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  log_set_level(LOG_FATAL);
  proto_enroll_request r;
  proto_error err;
  if(proto_enroll_request_decode((const char *)data, size, &r, &err) == SQR_OK) {
    if(!r.csr || !r.code[0]) abort();
    proto_enroll_request_clear(&r);
  } else if(!err.code[0] || err.status < 400) {
    abort();
  }
  proto_enroll_answer a;
  char msg[256];
  if(proto_enroll_answer_decode((const char *)data, size, &a, msg, sizeof msg) == SQR_OK) {
    if(!a.certificate || !a.hq_ca || !a.config) abort();
    proto_enroll_answer_clear(&a);
  }
  return 0;
}
