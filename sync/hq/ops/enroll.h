/* enroll.h — enrolment (POST /v1/enroll after decoding): a one-time code
 * HQ issued (manage.h) and the kiosk's CSR become the kiosk's certificate,
 * signed by HQ's device CA, and its first configuration document.
 *
 * Each enrolment of a kiosk number starts its next incarnation (docs/
 * PROTOCOL.md "Identity and keys"): a new kiosk id, chain from seq 1 and
 * key version, and the previous incarnation revoked with its keys. The
 * code is used at most once, even with several HQ processes: the
 * database's conditional update decides. Never logs a code.
 */
#ifndef SQR_HQ_ENROLL_H
#define SQR_HQ_ENROLL_H

#include <stddef.h>
#include <stdint.h>
#include "hq.h"
#include "hqdb.h"

typedef struct hq_enroll_out {
  int kiosk;
  int incarnation;          /* 1 for the number's first box, then 2, 3, ... */
  char kiosk_id[HQ_ID_MAX]; /* "STORE/N" or "STORE/N@INC" */
  char store[HQ_ID_MAX];
  char *certificate; /* PEM, malloc'ed */
  char *config;      /* the configuration document, malloc'ed; holds the kiosk's keys */
  char *hq_ca;       /* PEM of HQ's CA, borrowed from h (not to be freed) */
} hq_enroll_out;
/* Wipes and frees what hq_enroll handed out. */
void hq_enroll_out_clear(hq_enroll_out *out);

/* code: as typed (dashes, spaces, any case); csr: PEM. Errors:
 * SQR_EAUTH "code_unknown", SQR_EEXISTS "code_used", SQR_EEXPIRED
 * "code_expired", SQR_EINVAL "bad_request" (the CSR), "storage",
 * "internal". */
sqr_rc hq_enroll(hq *h, const char *code, const char *csr, hq_enroll_out *out,
                 hq_err *e) SQR_WARN_UNUSED;

/* The kiosk a client certificate (DER) belongs to ("STORE/N", "STORE/N@INC"): issued by
 * HQ's device CA and not expired, enrolled, not revoked. Errors (all
 * "certificate"): SQR_EAUTH with the reason in e; storage failures
 * "storage". */
sqr_rc hq_kiosk_identify(hq *h, const uint8_t *der, size_t len, char kiosk_id[HQ_ID_MAX],
                         hq_err *e) SQR_WARN_UNUSED;

#endif
