/* pki.c — see pki.h. */
#include "pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gmp.h>
#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>
#include <nettle/bignum.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "crypto.h"
#include "seal.h"
#include "seal_fast.h"

#define PEM_MAX 4096

struct pki_ca {
  mbedtls_x509_crt crt;
  mbedtls_pk_context key;
  char subject[256];
  /* The CA's public key for nettle (pki_verify_client); has_pub once set */
  struct ecc_point pub;
  int has_pub;
};

sqr_rc pki_read_file(const char *path, size_t max, char **out, size_t *len) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if(!f) return errno == ENOENT ? SQR_ENOTFOUND : SQR_EIO;
  char *buf = malloc(max + 1);
  size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
  int bad = ferror(f);
  fclose(f);
  if(!buf) return SQR_ENOMEM;
  if(bad || n > max) {
    free(buf);
    return bad ? SQR_EIO : SQR_EINVAL;
  }
  buf[n] = '\0';
  *out = buf;
  if(len) *len = n;
  return SQR_OK;
}

sqr_rc pki_write_file(const char *path, const void *data, size_t len, int mode) {
  /* Whole or not at all, and never over a key that is already there. */
  char err[200];
  return atomicfile_write(path, data, len, (mode_t)mode, ATOMICFILE_NOREPLACE, err, sizeof err);
}

static sqr_rc key_new(mbedtls_pk_context *pk) {
  mbedtls_pk_init(pk);
  if(mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) ||
     mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk), crypto_rng, NULL))
    return SQR_ECRYPTO;
  return SQR_OK;
}

static void ymdhms(int64_t t, char out[32]) {
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  if(tm.tm_year + 1900 > 9999) tm.tm_year = 9999 - 1900;
  snprintf(out, 32, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* subjectAltName with DNS names and IPv4 addresses, DER written backwards
 * (mbedtls 2.28 has no SAN writer). */
static int san_der(const char *const *names, size_t n, unsigned char *buf, size_t size,
                   unsigned char **start) {
  unsigned char *p = buf + size;
  size_t len = 0;
  int r;
  for(size_t i = n; i-- > 0;) {
    struct in_addr a;
    size_t l = 0;
    if(inet_pton(AF_INET, names[i], &a) == 1) {
      if((r = mbedtls_asn1_write_raw_buffer(&p, buf, (const unsigned char *)&a, 4)) < 0) return r;
      l += (size_t)r;
      if((r = mbedtls_asn1_write_len(&p, buf, 4)) < 0) return r;
      l += (size_t)r;
      if((r = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7)) < 0) return r;
    } else {
      size_t sl = strlen(names[i]);
      if((r = mbedtls_asn1_write_raw_buffer(&p, buf, (const unsigned char *)names[i], sl)) < 0)
        return r;
      l += (size_t)r;
      if((r = mbedtls_asn1_write_len(&p, buf, sl)) < 0) return r;
      l += (size_t)r;
      if((r = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)) < 0) return r;
    }
    l += (size_t)r;
    len += l;
  }
  if((r = mbedtls_asn1_write_len(&p, buf, len)) < 0) return r;
  len += (size_t)r;
  if((r = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) < 0)
    return r;
  len += (size_t)r;
  *start = p;
  return (int)len;
}

typedef struct cert_req {
  mbedtls_pk_context *subject_key, *issuer_key;
  const char *subject, *issuer;
  int64_t not_before, not_after;
  int is_ca;
  unsigned char key_usage;
  const char *const *san;
  size_t nsan;
} cert_req;

static sqr_rc cert_write(const cert_req *q, unsigned char *pem, size_t size) {
  mbedtls_x509write_cert w;
  mbedtls_mpi serial;
  mbedtls_x509write_crt_init(&w);
  mbedtls_mpi_init(&serial);
  uint8_t sn[16];
  char nb[32], na[32];
  sqr_rc rc = crypto_random(sn, sizeof sn);
  sn[0] &= 0x7f;
  sn[0] |= 0x01;
  ymdhms(q->not_before, nb);
  ymdhms(q->not_after, na);
  int r = 0;
  if(!rc) {
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, q->subject_key);
    mbedtls_x509write_crt_set_issuer_key(&w, q->issuer_key);
    if((r = mbedtls_mpi_read_binary(&serial, sn, sizeof sn)) ||
       (r = mbedtls_x509write_crt_set_serial(&w, &serial)) ||
       (r = mbedtls_x509write_crt_set_subject_name(&w, q->subject)) ||
       (r = mbedtls_x509write_crt_set_issuer_name(&w, q->issuer)) ||
       (r = mbedtls_x509write_crt_set_validity(&w, nb, na)) ||
       (r = mbedtls_x509write_crt_set_basic_constraints(&w, q->is_ca, q->is_ca ? 0 : -1)) ||
       (r = mbedtls_x509write_crt_set_key_usage(&w, q->key_usage)) ||
       (r = mbedtls_x509write_crt_set_subject_key_identifier(&w)) ||
       (r = mbedtls_x509write_crt_set_authority_key_identifier(&w)))
      rc = SQR_ECRYPTO;
  }
  if(!rc && q->nsan) {
    unsigned char buf[512], *start;
    int len = san_der(q->san, q->nsan, buf, sizeof buf, &start);
    if(len < 0 || mbedtls_x509write_crt_set_extension(
                      &w, MBEDTLS_OID_SUBJECT_ALT_NAME,
                      MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, start, (size_t)len))
      rc = SQR_ECRYPTO;
  }
  if(!rc && mbedtls_x509write_crt_pem(&w, pem, size, crypto_rng, NULL)) rc = SQR_ECRYPTO;
  mbedtls_x509write_crt_free(&w);
  mbedtls_mpi_free(&serial);
  return rc;
}

static sqr_rc write_key(const char *dir, const char *name, mbedtls_pk_context *pk) {
  unsigned char pem[PEM_MAX];
  char path[600];
  if(mbedtls_pk_write_key_pem(pk, pem, sizeof pem)) return SQR_ECRYPTO;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  sqr_rc rc = pki_write_file(path, pem, strlen((char *)pem), 0600);
  crypto_wipe(pem, sizeof pem);
  return rc;
}

static sqr_rc write_text(const char *dir, const char *name, const void *data, size_t len,
                         int mode) {
  char path[600];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return pki_write_file(path, data, len, mode);
}

#define HQ_CA_SUBJECT "CN=StoreQR HQ CA,O=StoreQR"

/* HQ's server certificate for host, issued by hq-ca, valid from an hour
 * ago for PKI_SERVER_CERT_DAYS. */
static sqr_rc server_cert_write(mbedtls_pk_context *server, mbedtls_pk_context *hqca,
                                const char *host, int64_t now, unsigned char *pem, size_t size) {
  char subject[200];
  snprintf(subject, sizeof subject, "CN=%s,O=StoreQR", host);
  const char *san[] = {host, "localhost", "127.0.0.1"};
  size_t nsan = strcmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ? 2 : 3;
  cert_req srv = {server,
                  hqca,
                  subject,
                  HQ_CA_SUBJECT,
                  now - 3600,
                  now + (int64_t)PKI_SERVER_CERT_DAYS * 86400,
                  0,
                  MBEDTLS_X509_KU_DIGITAL_SIGNATURE | MBEDTLS_X509_KU_KEY_AGREEMENT,
                  nsan == 2 ? san + 1 : san,
                  nsan};
  return cert_write(&srv, pem, size);
}

sqr_rc pki_init_dir(const char *dir, const char *host, char *err, size_t errlen) {
  static const char *const files[] = {"master.key",    "hq-ca.crt",         "hq-ca.key",
                                      "server.crt",    "server.key",        "device-ca.crt",
                                      "device-ca.key", "seal.pub",          "seal.key",
                                      "admin.token",   "admin.token.sha256"};
  char path[600];
  /* README's `init DIR` makes DIR (0700: it holds every key HQ has); a
   * missing parent or a file in the way is named, not an I/O error. */
  struct stat st;
  if(stat(dir, &st) != 0) {
    if(errno != ENOENT || mkdir(dir, 0700) != 0) {
      int e = errno;
      snprintf(err, errlen, "%s: cannot create the directory (%s)", dir, strerror(e));
      return e == ENOSPC ? SQR_ENOSPC : SQR_EIO;
    }
  } else if(!S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "%s: not a directory", dir);
    return SQR_EINVAL;
  }
  for(size_t i = 0; i < SQR_ARRAY_LEN(files); i++) {
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    if(access(path, F_OK) == 0) {
      snprintf(err, errlen, "%s already exists: HQ was initialised here before", path);
      return SQR_EEXISTS;
    }
  }
  mbedtls_pk_context hqca, server, devca;
  unsigned char pem[PEM_MAX];
  uint8_t master[32], token[32], pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN];
  char b64[SEAL_PUB_B64_LEN], hex[65];
  int64_t now = (int64_t)time(NULL);
  sqr_rc rc = key_new(&hqca);
  if(!rc) rc = key_new(&server);
  if(!rc) rc = key_new(&devca);
  if(rc) {
    snprintf(err, errlen, "cannot generate keys");
    goto out;
  }
  const char *hq_subject = HQ_CA_SUBJECT;
  const char *dev_subject = "CN=StoreQR device CA,O=StoreQR";
  unsigned char ca_usage = MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN;
  cert_req ca = {&hqca, &hqca,    hq_subject, hq_subject, now - 3600, now + 20LL * 365 * 86400,
                 1,     ca_usage, NULL,       0};
  cert_req dev = {
      &devca, &devca, dev_subject, dev_subject, now - 3600, now + 20LL * 365 * 86400, 1, ca_usage,
      NULL,   0};
  if((rc = crypto_random(master, sizeof master)) || (rc = crypto_random(token, sizeof token)) ||
     (rc = seal_keypair_generate(pub, priv))) {
    snprintf(err, errlen, "cannot generate keys");
    goto out;
  }
  if((rc = write_text(dir, "master.key", master, sizeof master, 0600)) ||
     (rc = write_key(dir, "hq-ca.key", &hqca)) || (rc = cert_write(&ca, pem, sizeof pem)) ||
     (rc = write_text(dir, "hq-ca.crt", pem, strlen((char *)pem), 0644)) ||
     (rc = write_key(dir, "server.key", &server)) ||
     (rc = server_cert_write(&server, &hqca, host, now, pem, sizeof pem)) ||
     (rc = write_text(dir, "server.crt", pem, strlen((char *)pem), 0644)) ||
     (rc = write_key(dir, "device-ca.key", &devca)) || (rc = cert_write(&dev, pem, sizeof pem)) ||
     (rc = write_text(dir, "device-ca.crt", pem, strlen((char *)pem), 0644)))
    goto fail;
  if((rc = seal_pub_to_b64(pub, b64)) || (rc = write_text(dir, "seal.pub", b64, strlen(b64), 0644)))
    goto fail;
  char pb64[SEAL_PRIV_B64_LEN];
  rc = seal_priv_to_b64(priv, pb64);
  if(!rc) rc = write_text(dir, "seal.key", pb64, strlen(pb64), 0600);
  crypto_wipe(pb64, sizeof pb64);
  if(rc) goto fail;
  /* The admin token: the operator's copy, and the hash HQ checks. */
  char tok[65];
  crypto_hex(token, sizeof token, tok);
  uint8_t th[32];
  if((rc = crypto_sha256(tok, 64, th))) goto fail;
  crypto_hex(th, sizeof th, hex);
  if((rc = write_text(dir, "admin.token", tok, 64, 0600)) ||
     (rc = write_text(dir, "admin.token.sha256", hex, 64, 0644)))
    goto fail;
  crypto_wipe(tok, sizeof tok);
  goto out;
fail:
  snprintf(err, errlen, "cannot write HQ's files in %s: %s", dir, sqr_strerror(rc));
out:
  mbedtls_pk_free(&hqca);
  mbedtls_pk_free(&server);
  mbedtls_pk_free(&devca);
  crypto_wipe(master, sizeof master);
  crypto_wipe(priv, sizeof priv);
  crypto_wipe(token, sizeof token);
  return rc;
}

sqr_rc pki_renew_server(const char *dir, const char *host, int64_t now_s, char *err,
                        size_t errlen) {
  mbedtls_x509_crt old, ca;
  mbedtls_pk_context server, hqca;
  mbedtls_x509_crt_init(&old);
  mbedtls_x509_crt_init(&ca);
  mbedtls_pk_init(&server);
  mbedtls_pk_init(&hqca);
  unsigned char pem[PEM_MAX];
  char path[600], cn[256] = "";
  sqr_rc rc = SQR_EIO;
  snprintf(path, sizeof path, "%s/server.crt", dir);
  if(mbedtls_x509_crt_parse_file(&old, path)) {
    snprintf(err, errlen, "cannot read HQ's certificate %s", path);
    goto out;
  }
  snprintf(path, sizeof path, "%s/server.key", dir);
  if(mbedtls_pk_parse_keyfile(&server, path, NULL)) {
    snprintf(err, errlen, "cannot read HQ's key %s", path);
    goto out;
  }
  snprintf(path, sizeof path, "%s/hq-ca.crt", dir);
  if(mbedtls_x509_crt_parse_file(&ca, path)) {
    snprintf(err, errlen, "cannot read the certificate %s", path);
    goto out;
  }
  snprintf(path, sizeof path, "%s/hq-ca.key", dir);
  if(mbedtls_pk_parse_keyfile(&hqca, path, NULL)) {
    snprintf(err, errlen, "cannot read the key %s (renew on the machine that holds hq-ca)", path);
    goto out;
  }
  /* The old certificate names the host, unless told otherwise. */
  if(!host) {
    for(const mbedtls_x509_name *n = &old.subject; n; n = n->next)
      if(MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0 && n->val.len < sizeof cn) {
        memcpy(cn, n->val.p, n->val.len);
        cn[n->val.len] = '\0';
      }
    if(!cn[0]) {
      snprintf(err, errlen, "%s/server.crt names no host: give --host", dir);
      rc = SQR_EINVAL;
      goto out;
    }
    host = cn;
  }
  if(strlen(host) > 100 || strpbrk(host, ",=+\"\\<>;/ ")) {
    snprintf(err, errlen, "--host: want a DNS name or an IPv4 address, got %s", host);
    rc = SQR_EINVAL;
    goto out;
  }
  /* The key must be the one in server.crt, hq-ca the one that signed it. */
  if(mbedtls_pk_check_pair(&old.pk, &server) || mbedtls_pk_check_pair(&ca.pk, &hqca)) {
    snprintf(err, errlen, "%s: server.key or hq-ca.key does not match its certificate", dir);
    rc = SQR_EINVAL;
    goto out;
  }
  if((rc = server_cert_write(&server, &hqca, host, now_s, pem, sizeof pem))) {
    snprintf(err, errlen, "cannot issue the certificate: %s", sqr_strerror(rc));
    goto out;
  }
  /* Replaced whole (written aside, renamed over): a server starting now
   * reads the old certificate or the new one, never half of one. */
  snprintf(path, sizeof path, "%s/server.crt", dir);
  if((rc = atomicfile_write(path, pem, strlen((char *)pem), 0644, 0, err, errlen))) goto out;
out:
  mbedtls_x509_crt_free(&old);
  mbedtls_x509_crt_free(&ca);
  mbedtls_pk_free(&server);
  mbedtls_pk_free(&hqca);
  return rc;
}

/* The CA certificate's P-256 public key as nettle's point. */
static int ca_pub_load(pki_ca *ca) {
  if(mbedtls_pk_get_type(&ca->crt.pk) != MBEDTLS_PK_ECKEY) return -1;
  const mbedtls_ecp_keypair *ec = mbedtls_pk_ec(ca->crt.pk);
  uint8_t x[32], y[32];
  if(ec->grp.id != MBEDTLS_ECP_DP_SECP256R1 || mbedtls_mpi_write_binary(&ec->Q.X, x, 32) ||
     mbedtls_mpi_write_binary(&ec->Q.Y, y, 32))
    return -1;
  ecc_point_init(&ca->pub, nettle_get_secp_256r1());
  if(!seal_fast_point_set(&ca->pub, x, y)) {
    ecc_point_clear(&ca->pub);
    return -1;
  }
  ca->has_pub = 1;
  return 0;
}

sqr_rc pki_ca_load(const char *dir, const char *name, pki_ca **out, char *err, size_t errlen) {
  *out = NULL;
  pki_ca *ca = calloc(1, sizeof *ca);
  if(!ca) return SQR_ENOMEM;
  mbedtls_x509_crt_init(&ca->crt);
  mbedtls_pk_init(&ca->key);
  char path[600];
  snprintf(path, sizeof path, "%s/%s.crt", dir, name);
  int r = mbedtls_x509_crt_parse_file(&ca->crt, path);
  if(r) {
    snprintf(err, errlen, "cannot read the certificate %s (-0x%04x)", path, (unsigned)-r);
    pki_ca_free(ca);
    return SQR_EIO;
  }
  snprintf(path, sizeof path, "%s/%s.key", dir, name);
  r = mbedtls_pk_parse_keyfile(&ca->key, path, NULL);
  if(r) {
    snprintf(err, errlen, "cannot read the key %s (-0x%04x)", path, (unsigned)-r);
    pki_ca_free(ca);
    return SQR_EIO;
  }
  if(mbedtls_x509_dn_gets(ca->subject, sizeof ca->subject, &ca->crt.subject) < 0)
    ca->subject[0] = '\0';
  /* What mbedtls_x509_crt_verify asked of a parent (pki_verify_client no
   * longer calls it): a v3 CA certificate says it is one and may sign. */
  if(ca->crt.version >= 3 && (!ca->crt.ca_istrue || mbedtls_x509_crt_check_key_usage(
                                                        &ca->crt, MBEDTLS_X509_KU_KEY_CERT_SIGN))) {
    snprintf(err, errlen, "%s/%s.crt is not a CA certificate (basic constraints, key usage)", dir,
             name);
    pki_ca_free(ca);
    return SQR_EINVAL;
  }
  if(ca_pub_load(ca)) {
    snprintf(err, errlen, "the CA certificate %s/%s.crt does not hold a P-256 key", dir, name);
    pki_ca_free(ca);
    return SQR_EINVAL;
  }
  *out = ca;
  return SQR_OK;
}

void pki_ca_free(pki_ca *ca) {
  if(!ca) return;
  if(ca->has_pub) ecc_point_clear(&ca->pub);
  mbedtls_x509_crt_free(&ca->crt);
  mbedtls_pk_free(&ca->key);
  free(ca);
}

sqr_rc pki_sign_csr(pki_ca *ca, const char *csr_pem, const char *cn, int64_t now_s, int days,
                    char **pem, uint8_t sha256[32], char *err, size_t errlen) {
  *pem = NULL;
  mbedtls_x509_csr csr;
  mbedtls_x509_crt crt;
  mbedtls_x509_csr_init(&csr);
  mbedtls_x509_crt_init(&crt);
  sqr_rc rc = SQR_EINVAL;
  unsigned char *buf = NULL;
  int r = mbedtls_x509_csr_parse(&csr, (const unsigned char *)csr_pem, strlen(csr_pem) + 1);
  if(r) {
    snprintf(err, errlen, "csr: not a readable certificate request (-0x%04x)", (unsigned)-r);
    goto out;
  }
  if(mbedtls_pk_get_type(&csr.pk) != MBEDTLS_PK_ECKEY ||
     mbedtls_pk_ec(csr.pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
    snprintf(err, errlen, "csr: the key must be ECDSA P-256");
    goto out;
  }
  /* mbedtls parses but does not verify a CSR's self-signature. */
  const mbedtls_md_info_t *md = mbedtls_md_info_from_type(csr.sig_md);
  unsigned char hash[MBEDTLS_MD_MAX_SIZE];
  if(!md || mbedtls_md(md, csr.cri.p, csr.cri.len, hash) ||
     mbedtls_pk_verify_ext(csr.sig_pk, csr.sig_opts, &csr.pk, csr.sig_md, hash,
                           mbedtls_md_get_size(md), csr.sig.p, csr.sig.len)) {
    snprintf(err, errlen, "csr: its signature does not verify");
    goto out;
  }
  char subject[128];
  snprintf(subject, sizeof subject, "CN=%s,O=StoreQR", cn);
  cert_req q = {&csr.pk,
                &ca->key,
                subject,
                ca->subject,
                now_s - 3600,
                now_s + (int64_t)days * 86400,
                0,
                MBEDTLS_X509_KU_DIGITAL_SIGNATURE | MBEDTLS_X509_KU_KEY_AGREEMENT,
                NULL,
                0};
  buf = malloc(PEM_MAX);
  if(!buf) {
    rc = SQR_ENOMEM;
    goto out;
  }
  if((rc = cert_write(&q, buf, PEM_MAX))) {
    snprintf(err, errlen, "cannot issue the certificate");
    goto out;
  }
  if(mbedtls_x509_crt_parse(&crt, buf, strlen((char *)buf) + 1)) {
    rc = SQR_ECRYPTO;
    snprintf(err, errlen, "issued certificate does not parse");
    goto out;
  }
  if((rc = crypto_sha256(crt.raw.p, crt.raw.len, sha256))) goto out;
  *pem = (char *)buf;
  buf = NULL;
out:
  free(buf);
  mbedtls_x509_csr_free(&csr);
  mbedtls_x509_crt_free(&crt);
  return rc;
}

/* The ECDSA signature of a certificate (DER: SEQUENCE { r, s }) checked
 * by nettle against the CA's key: mbedtls' portable bignum took 3.6 ms a
 * verification, half of HQ's CPU for an upload of 500 events
 * (docs/BENCHMARKS.md); nettle's P-256 takes about a tenth of that. */
static int sig_ok(const pki_ca *ca, const mbedtls_x509_crt *crt) {
  uint8_t digest[32];
  if(crypto_sha256(crt->tbs.p, crt->tbs.len, digest)) return 0;
  unsigned char *p = crt->sig.p, *end = crt->sig.p + crt->sig.len;
  size_t len;
  mbedtls_mpi r, s;
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  uint8_t rb[32], sb[32];
  int ok = !mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) &&
           p + len == end && !mbedtls_asn1_get_mpi(&p, end, &r) &&
           !mbedtls_asn1_get_mpi(&p, end, &s) && p == end &&
           !mbedtls_mpi_write_binary(&r, rb, 32) && !mbedtls_mpi_write_binary(&s, sb, 32);
  mbedtls_mpi_free(&r);
  mbedtls_mpi_free(&s);
  if(!ok) return 0;
  struct dsa_signature sig;
  dsa_signature_init(&sig);
  nettle_mpz_set_str_256_u(sig.r, 32, rb);
  nettle_mpz_set_str_256_u(sig.s, 32, sb);
  ok = ecdsa_verify(&ca->pub, sizeof digest, digest, &sig); /* r, s in 1..n-1 checked there */
  dsa_signature_clear(&sig);
  return ok;
}

/* What mbedtls_x509_crt_verify checked for a certificate issued straight
 * by a trusted CA, but with the signature checked by nettle (the CA's own
 * basic constraints and key usage at pki_ca_load). Stricter in three
 * ways, each something HQ never issues: the issuer is compared byte for
 * byte with the CA's subject (HQ wrote both), not by mbedtls' name match;
 * only ECDSA with SHA-256; only a P-256 key. tests/sync/test_pki.c compares the
 * verdicts with mbedtls_x509_crt_verify's over every one-byte change of a
 * good certificate. */
sqr_rc pki_verify_client(pki_ca *ca, const uint8_t *der, size_t len, char *err, size_t errlen) {
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  const char *why = NULL;
  if(mbedtls_x509_crt_parse_der(&crt, der, len))
    why = "does not parse";
  else if(crt.issuer_raw.len != ca->crt.subject_raw.len ||
          memcmp(crt.issuer_raw.p, ca->crt.subject_raw.p, crt.issuer_raw.len) != 0)
    why = "not issued by this CA";
  else if(crt.sig_pk != MBEDTLS_PK_ECDSA || crt.sig_md != MBEDTLS_MD_SHA256)
    why = "not signed with ECDSA and SHA-256";
  else if(mbedtls_pk_get_type(&crt.pk) != MBEDTLS_PK_ECKEY ||
          mbedtls_pk_ec(crt.pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1)
    why = "its key is not P-256 (HQ issues no other)";
  else if(!ca->has_pub || !sig_ok(ca, &crt))
    why = "the signature does not verify";
  else if(mbedtls_x509_time_is_past(&crt.valid_to))
    why = "expired";
  else if(mbedtls_x509_time_is_future(&crt.valid_from))
    why = "not valid yet";
  else if(mbedtls_x509_time_is_past(&ca->crt.valid_to))
    why = "the CA's certificate expired";
  else if(mbedtls_x509_time_is_future(&ca->crt.valid_from))
    why = "the CA's certificate is not valid yet";
  mbedtls_x509_crt_free(&crt);
  if(!why) return SQR_OK;
  snprintf(err, errlen, "client certificate refused: %s", why);
  return SQR_EAUTH;
}
