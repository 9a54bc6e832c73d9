/* proto.h — the sync wire format (docs/PROTOCOL.md), shared by the kiosk's
 * sync client and HQ.
 *
 * Owns the JSON bodies of every route: the /v1/events batch (encode on the
 * kiosk, strict decode at HQ), the enrolment request and answer, the ack
 * answer and the error body, plus the chain check HQ runs on a batch. No
 * network, no database, no gzip: callers move bytes, this module only
 * turns them into C values and back, within the protocol's limits.
 *
 * Decoders are strict: every field has one type, integers must be whole
 * numbers in range, and the first problem is reported in a proto_error
 * with the HTTP status and error code HQ answers with and a message that
 * names the field ("events[3].seq: must be an integer").
 *
 * A payload travels as the compact JSON the kiosk stored (cJSON's
 * unformatted print, which is what store.c hashes); HQ checks body_hash
 * against that print of the parsed payload: the bytes as sent when they
 * already are exactly that print (the usual case, no re-printing),
 * otherwise a fresh print. Either way the decoded payload is the print.
 * Never logs a body (bodies hold sealed phone numbers).
 */
#ifndef SQR_PROTO_H
#define SQR_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include "chain.h"
#include "sqr.h"
#include "store.h"

#define PROTO_MAX_EVENTS        500
#define PROTO_MAX_PAYLOAD       (16 * 1024)       /* one event's payload */
#define PROTO_MAX_BODY          (1024 * 1024)     /* batch on the wire */
#define PROTO_MAX_INFLATED      (4 * 1024 * 1024) /* batch after gunzip */
#define PROTO_MAX_ENROLL        (16 * 1024)       /* enrolment request */
#define PROTO_MAX_ANSWER        (64 * 1024)       /* any answer but enrolment/config */
#define PROTO_MAX_ENROLL_ANSWER (1024 * 1024 + 64 * 1024)
#define PROTO_STORE_ID_MAX      16 /* A-Z 0-9 '-' */
#define PROTO_KIOSK_ID_MAX      32 /* "STORE/65535@9999" + NUL, room to spare */
#define PROTO_INCARNATION_MAX   9999
#define PROTO_CODE_MAX          32

/* What went wrong, ready to become HQ's error answer. */
typedef struct proto_error {
  int status;        /* HTTP status: 400, 413, 422 */
  char code[32];     /* "bad_request", "too_large", "unknown_type", ... */
  char message[256]; /* names the field or limit */
  int64_t seq;       /* the event at fault, 0 when none */
} proto_error;

/* ---- kiosk identity ---------------------------------------------------- */

/* 1 if id is 1..16 characters of A-Z 0-9 '-'. */
int proto_store_id_valid(const char *id);
/* "SH-JA01/1" or "SH-JA01/1@2" -> store, number and incarnation (1 when
 * there is no "@", docs/PROTOCOL.md "Identity and keys"); incarnation may
 * be NULL. SQR_EINVAL unless exactly that shape: no sign, no leading zero,
 * number 1..65535, incarnation 2..9999 when written ("@1" is not a name:
 * incarnation 1 is written without it, so each kiosk has one name). */
sqr_rc proto_kiosk_parse(const char *kiosk_id, char store_id[PROTO_STORE_ID_MAX + 1], int *number,
                         int *incarnation) SQR_WARN_UNUSED;
/* store, number and incarnation -> "SH-JA01/1" (incarnation 1) or
 * "SH-JA01/1@2". SQR_EINVAL for a bad id, number or incarnation. */
sqr_rc proto_kiosk_format(const char *store_id, int number, int incarnation,
                          char out[PROTO_KIOSK_ID_MAX]) SQR_WARN_UNUSED;

/* 1 if HQ knows the event type (the list in docs/PROTOCOL.md). */
int proto_type_known(const char *type);

/* ---- the /v1/events batch ---------------------------------------------- */

typedef struct proto_event {
  int64_t seq;
  char type[STORE_EVENT_TYPE_MAX];
  int64_t ts_ms;
  char *payload; /* compact JSON object, owned by the batch */
  size_t payload_len;
  uint8_t body_hash[CHAIN_HASH_LEN];
  uint8_t hash[CHAIN_HASH_LEN];
  int redacted;
} proto_event;

typedef struct proto_batch {
  char kiosk_id[PROTO_KIOSK_ID_MAX]; /* "SH-JA01/1", "SH-JA01/1@2" */
  char store_id[PROTO_STORE_ID_MAX + 1];
  int kiosk;
  int incarnation; /* 1.., from kiosk_id */
  /* "behind": events the kiosk still held after the last one of this batch
   * when it built it; -1 when not sent (kiosks before the field). */
  int64_t behind;
  size_t count;
  proto_event *events; /* count entries, contiguous seqs */
  size_t cap, bytes;   /* internal: encoder bookkeeping */
} proto_batch;

/* Starts an empty batch for kiosk store_id/number, incarnation (encoder
 * side), with behind -1 (not sent); set b->behind before encoding to send
 * it. SQR_EINVAL for a bad store id, number or incarnation. */
sqr_rc proto_batch_init(proto_batch *b, const char *store_id, int number,
                        int incarnation) SQR_WARN_UNUSED;

/* Appends a copy of ev (as store_events_after hands it out).
 * SQR_ENOSPC: the batch is full (PROTO_MAX_EVENTS, or the encoded body
 *             would pass PROTO_MAX_BODY); ev was not added, send first.
 * SQR_EINVAL: ev can never be sent (payload over PROTO_MAX_PAYLOAD, bad
 *             type) or does not follow the last event's seq. */
sqr_rc proto_batch_add(proto_batch *b, const store_event *ev) SQR_WARN_UNUSED;

/* The request body (compact JSON, NUL-terminated), with "behind" when
 * b->behind >= 0; the caller frees *json with free(). SQR_EINVAL for an
 * empty batch. */
sqr_rc proto_batch_encode(const proto_batch *b, char **json, size_t *len) SQR_WARN_UNUSED;

/* Parses and validates a request body of len bytes (already inflated).
 * On failure returns SQR_EINVAL (or SQR_ENOMEM) with err filled and *out
 * empty; on success the caller owns *out (proto_batch_clear). Checks:
 * JSON object with exactly the known fields and types, kiosk id shape,
 * 1..PROTO_MAX_EVENTS events, behind (optional: -1 when absent) an
 * integer 0..2^53-1, contiguous seqs >= 1, known types
 * (422 unknown_type), payload an object <= PROTO_MAX_PAYLOAD (413),
 * 64-hex hashes, and body_hash against the payload unless redacted
 * (422 chain_broken). The chain itself needs HQ's last hash:
 * proto_chain_check. */
sqr_rc proto_batch_decode(const char *body, size_t len, proto_batch *out,
                          proto_error *err) SQR_WARN_UNUSED;

void proto_batch_clear(proto_batch *b);

/* Checks events[0..n) link to prev (32 zero bytes before seq 1) and to each
 * other. SQR_EAUTH with *bad = index of the first broken link. */
sqr_rc proto_chain_check(const uint8_t prev[CHAIN_HASH_LEN], const proto_event *events, size_t n,
                         size_t *bad) SQR_WARN_UNUSED;

/* ---- answers ----------------------------------------------------------- */

/* {"acked_seq": N, "hq_time_ms": T}. Caller frees *json. */
sqr_rc proto_ack_encode(int64_t acked_seq, int64_t hq_time_ms, char **json) SQR_WARN_UNUSED;

/* {"error": code, "message": message, "hq_time_ms": T[, extra_key: extra]}
 * extra_key may be NULL ("expected_seq" for 409 gap, "seq" for
 * chain_broken). Caller frees *json. */
sqr_rc proto_error_encode(const char *code, const char *message, int64_t hq_time_ms,
                          const char *extra_key, int64_t extra, char **json) SQR_WARN_UNUSED;

/* Any answer from HQ other than enrolment and config. Absent fields are 0
 * or "". SQR_EPROTO with err when the body is not a JSON object, a present
 * field has the wrong type, or hq_time_ms is missing. */
typedef struct proto_answer {
  int64_t hq_time_ms;
  int64_t acked_seq;
  int64_t expected_seq;
  int64_t seq;
  int has_acked;
  char error[48];
  char message[256];
} proto_answer;
sqr_rc proto_answer_decode(const char *body, size_t len, proto_answer *out, char *err,
                           size_t errlen) SQR_WARN_UNUSED;

/* HQ's clock from a 200 answer to GET /v1/config: the configuration
 * document (up to CONFIG_MAX_BYTES, far past PROTO_MAX_ANSWER) with a
 * top-level "hq_time_ms". The document itself is core's to parse. */
sqr_rc proto_config_time(const char *body, size_t len, int64_t *hq_time_ms, char *err,
                         size_t errlen) SQR_WARN_UNUSED;

/* ---- enrolment --------------------------------------------------------- */

/* {"code": code, "csr": csr_pem}. Caller frees *json. */
sqr_rc proto_enroll_request_encode(const char *code, const char *csr_pem,
                                   char **json) SQR_WARN_UNUSED;

typedef struct proto_enroll_request {
  char code[PROTO_CODE_MAX + 1]; /* as sent, dashes kept */
  char *csr;                     /* PEM, owned */
} proto_enroll_request;
/* Strict decode (400 bad_request, 413 too_large over PROTO_MAX_ENROLL).
 * The CSR is only checked to be a PEM CERTIFICATE REQUEST block; HQ parses
 * it with mbedtls. */
sqr_rc proto_enroll_request_decode(const char *body, size_t len, proto_enroll_request *out,
                                   proto_error *err) SQR_WARN_UNUSED;
void proto_enroll_request_clear(proto_enroll_request *r);

typedef struct proto_enroll_answer {
  char store_id[PROTO_STORE_ID_MAX + 1];
  int kiosk;
  char *certificate; /* PEM, owned */
  char *hq_ca;       /* PEM, owned */
  char *config;      /* configuration document, compact JSON, owned */
  int64_t hq_time_ms;
} proto_enroll_answer;
/* HQ side. a->config must be a JSON object text. Caller frees *json. */
sqr_rc proto_enroll_answer_encode(const proto_enroll_answer *a, char **json) SQR_WARN_UNUSED;
/* Kiosk side. SQR_EPROTO with a sentence in err when a field is missing or
 * wrong; the caller clears *out on success. */
sqr_rc proto_enroll_answer_decode(const char *body, size_t len, proto_enroll_answer *out, char *err,
                                  size_t errlen) SQR_WARN_UNUSED;
void proto_enroll_answer_clear(proto_enroll_answer *a);

#endif /* SQR_PROTO_H */
