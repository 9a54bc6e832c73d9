/* wire.h — the sync client's view of the wire format (docs/PROTOCOL.md).
 *
 * A thin seam: the client builds batches and reads HQ's answers only
 * through these calls, so the shared implementation in sync/proto can
 * replace the bodies here without touching the rest of the client.
 * Never logs a body.
 */
#ifndef SQR_SYNC_WIRE_H
#define SQR_SYNC_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include "sqr.h"
#include "store.h"

#define WIRE_BATCH_MAX_EVENTS 500
#define WIRE_BATCH_MAX_BYTES (1024 * 1024) /* on the wire */
#define WIRE_ANSWER_MAX_BYTES (64 * 1024)  /* any answer but config/enrolment */
#define WIRE_CONFIG_MAX_BYTES (1024 * 1024 + 64 * 1024)

typedef struct wire_batch wire_batch;

/* kiosk_id is "STORE/N". */
sqr_rc wire_batch_new(const char *kiosk_id, wire_batch **out) SQR_WARN_UNUSED;
void wire_batch_free(wire_batch *b);
/* Adds a copy of ev. SQR_ENOSPC when the batch is full (by count or by
 * bytes); the event was not added. A single event that alone exceeds the
 * byte limit is SQR_EINVAL. */
sqr_rc wire_batch_add(wire_batch *b, const store_event *ev) SQR_WARN_UNUSED;
size_t wire_batch_count(const wire_batch *b);
int64_t wire_batch_first_seq(const wire_batch *b);
int64_t wire_batch_last_seq(const wire_batch *b);
/* The request body; the caller frees *json. */
sqr_rc wire_batch_json(const wire_batch *b, char **json, size_t *len) SQR_WARN_UNUSED;

/* Any answer from HQ: hq_time_ms always; acked_seq (200), expected_seq
 * (409 gap), error and message (4xx/5xx) when present, else 0 / "". */
typedef struct wire_answer {
  int64_t hq_time_ms;
  int64_t acked_seq;
  int64_t expected_seq;
  char error[48];
  char message[256];
} wire_answer;
sqr_rc wire_answer_parse(const char *body, size_t len, wire_answer *out) SQR_WARN_UNUSED;

/* Enrolment request body {"code","csr"}; the caller frees *json. */
sqr_rc wire_enroll_request(const char *code, const char *csr_pem, char **json) SQR_WARN_UNUSED;

typedef struct wire_enroll_answer {
  char store_id[17];
  int kiosk;
  char *certificate; /* PEM, owned */
  char *hq_ca;       /* PEM, owned */
  char *config;      /* the configuration document as compact JSON, owned */
  int64_t hq_time_ms;
} wire_enroll_answer;
/* SQR_EPROTO with a sentence in err when a field is missing or wrong. */
sqr_rc wire_enroll_answer_parse(const char *body, size_t len, wire_enroll_answer *out, char *err,
                                size_t errlen) SQR_WARN_UNUSED;
void wire_enroll_answer_clear(wire_enroll_answer *a);

#endif
