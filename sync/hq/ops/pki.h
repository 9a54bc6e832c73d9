/* pki.h — HQ's certificates and keys, written with mbedtls.
 *
 * Owns the files `storeqr-hq init` creates in HQ's directory (PROTOCOL.md:
 * master.key, hq-ca.crt/.key, server.crt/.key, device-ca.crt/.key,
 * seal.pub/.key, admin.token) and the two certificate operations HQ does
 * while serving: signing a kiosk's CSR at enrolment and verifying a
 * kiosk's client certificate against the device CA. All keys are P-256.
 * Private keys are written 0600 and never logged.
 */
#ifndef SQR_PKI_H
#define SQR_PKI_H

#include <stddef.h>
#include <stdint.h>
#include "sqr.h"

#define PKI_DEVICE_CERT_DAYS 730
/* HQ's own TLS certificate: at most 398 days, what browsers accept from a
 * public CA (and what a scan page must look like to be trusted); renewed
 * with `storeqr-hq cert renew`. */
#define PKI_SERVER_CERT_DAYS 397

/* Creates every file in dir (which must exist and hold none of them:
 * SQR_EEXISTS otherwise). host goes into the server certificate's CN and
 * subjectAltName (an IPv4 address or a DNS name); "localhost" and
 * 127.0.0.1 are always added. err gets a sentence. */
sqr_rc pki_init_dir(const char *dir, const char *host, char *err, size_t errlen) SQR_WARN_UNUSED;

/* Re-issues dir/server.crt from dir/hq-ca for the same key (server.key),
 * valid from now_s - 1 hour for PKI_SERVER_CERT_DAYS, for host (NULL: the
 * CN of the certificate it replaces), and replaces the file atomically. A
 * running server keeps the old certificate until it restarts. SQR_EINVAL
 * for a bad host or keys that do not match, SQR_EIO for unreadable files;
 * err gets a sentence. */
sqr_rc pki_renew_server(const char *dir, const char *host, int64_t now_s, char *err,
                        size_t errlen) SQR_WARN_UNUSED;

typedef struct pki_ca pki_ca; /* a CA certificate with its private key */

/* Loads dir/NAME.crt and dir/NAME.key ("device-ca"). */
sqr_rc pki_ca_load(const char *dir, const char *name, pki_ca **out, char *err,
                   size_t errlen) SQR_WARN_UNUSED;
void pki_ca_free(pki_ca *ca);

/* Checks the CSR (PEM) is well formed, self-signed correctly and holds a
 * P-256 key, then issues a certificate for it with CN = cn, valid from
 * now_s - 1 hour for days days. *pem is malloc'ed; sha256 is the SHA-256
 * of the certificate's DER (how HQ recognises it later). SQR_EINVAL with
 * err naming the problem for a bad CSR. */
sqr_rc pki_sign_csr(pki_ca *ca, const char *csr_pem, const char *cn, int64_t now_s, int days,
                    char **pem, uint8_t sha256[32], char *err, size_t errlen) SQR_WARN_UNUSED;

/* Verifies a client certificate (DER) against the CA: signature, validity
 * at the current time. SQR_EAUTH with the reason in err otherwise. */
sqr_rc pki_verify_client(pki_ca *ca, const uint8_t *der, size_t len, char *err,
                         size_t errlen) SQR_WARN_UNUSED;

/* Reads a whole file (at most max bytes) into a NUL-terminated buffer. */
sqr_rc pki_read_file(const char *path, size_t max, char **out, size_t *len) SQR_WARN_UNUSED;
/* Writes a file atomically-enough for init (O_EXCL, mode). */
sqr_rc pki_write_file(const char *path, const void *data, size_t len, int mode) SQR_WARN_UNUSED;

#endif
