/* enroll.h — first contact of a kiosk with HQ (docs/PROTOCOL.md,
 * "Enrolment"): generates the kiosk's P-256 key on the box, sends a CSR
 * with the one-time code, writes kiosk.key (0600), kiosk.crt and hq-ca.crt
 * beside the database and applies the configuration HQ sent, in one
 * transaction.
 *
 * The private key never leaves the box and is never logged.
 */
#ifndef SQR_SYNC_ENROLL_H
#define SQR_SYNC_ENROLL_H

#include <stddef.h>
#include "sqr.h"

typedef struct enroll_opts {
  const char *db_path;
  const char *hq_url;  /* https://host:port */
  const char *code;    /* XXXX-XXXX-XXXX-XXXX */
  const char *ca_file; /* HQ's CA to pin for this first call */
  long connect_timeout_s;
} enroll_opts;

/* Errors, with a sentence in err:
 *   SQR_EEXISTS  this database is already enrolled (kiosk.crt exists)
 *   SQR_EAUTH    HQ refused the code (unknown, used, expired) or TLS failed
 *   SQR_ENET     HQ unreachable
 *   SQR_EPROTO   HQ's answer was unusable
 *   SQR_EINVAL   bad options, or the configuration was refused
 *   SQR_ENOSPC   the disk is full (no file was half-written)
 *   SQR_EIO      files could not be written */
sqr_rc enroll_run(const enroll_opts *o, char *err, size_t errlen) SQR_WARN_UNUSED;

#endif
