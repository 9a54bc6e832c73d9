/* bundle.c — header codec and ECDSA P-256 signatures of release bundles.
 * mbedtls codes are logged here and become sqr_rc; key bytes never reach a
 * log line. */
#include "bundle.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>

#define COMP "bundle"

#define OFF_PRODUCT 8
#define OFF_VERSION 40
#define OFF_FLAGS   72
#define OFF_COUNT   76
#define OFF_PAYLEN  80
#define OFF_KEYID   88
#define OFF_SIG     96

#define VERSION_PART_MAX (1u << 20)

static void put32(uint8_t *p, uint32_t v) {
  for(int i = 3; i >= 0; i--, v >>= 8)
    p[i] = (uint8_t)v;
}
static void put64(uint8_t *p, uint64_t v) {
  for(int i = 7; i >= 0; i--, v >>= 8)
    p[i] = (uint8_t)v;
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t get64(const uint8_t *p) {
  return (uint64_t)get32(p) << 32 | get32(p + 4);
}

sqr_rc bundle_check_product(const char *name) {
  size_t n = strlen(name);
  if(n == 0 || n > BUNDLE_NAME_LEN) return SQR_EINVAL;
  for(size_t i = 0; i < n; i++) {
    char c = name[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '_' || c == '-';
    if(!ok) return SQR_EINVAL;
  }
  return SQR_OK;
}

sqr_rc bundle_parse_version(const char *v, uint32_t parts[4]) {
  size_t n = strlen(v);
  if(n == 0 || n > BUNDLE_NAME_LEN) return SQR_EINVAL;
  memset(parts, 0, 4 * sizeof parts[0]);
  int k = 0;
  const char *p = v;
  for(;;) {
    if(k == 4 || *p < '0' || *p > '9') return SQR_EINVAL;
    uint32_t x = 0;
    while(*p >= '0' && *p <= '9') {
      x = x * 10 + (uint32_t)(*p - '0');
      if(x >= VERSION_PART_MAX) return SQR_EINVAL;
      p++;
    }
    parts[k++] = x;
    if(*p == '\0') return SQR_OK;
    if(*p != '.') return SQR_EINVAL;
    p++;
  }
}

int bundle_version_cmp(const uint32_t a[4], const uint32_t b[4]) {
  for(int i = 0; i < 4; i++)
    if(a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

sqr_rc bundle_check_path(const char *path) {
  size_t n = strlen(path);
  if(n == 0 || n > BUNDLE_MAX_PATH || path[0] == '/') return SQR_EINVAL;
  const char *c = path;
  while(*c) {
    const char *e = strchr(c, '/');
    size_t len = e ? (size_t)(e - c) : strlen(c);
    if(len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
      return SQR_EINVAL;
    if(!e) break;
    c = e + 1;
    if(*c == '\0') return SQR_EINVAL; /* trailing slash */
  }
  return SQR_OK;
}

void bundle_keyid(const uint8_t pub[SEAL_PUB_LEN], uint8_t out[BUNDLE_KEYID_LEN]) {
  uint8_t d[CRYPTO_SHA256_LEN];
  if(crypto_sha256(pub, SEAL_PUB_LEN, d)) memset(d, 0, sizeof d);
  memcpy(out, d, BUNDLE_KEYID_LEN);
}

void bundle_header_encode(const bundle_header *h, uint8_t buf[BUNDLE_HEADER_LEN]) {
  memset(buf, 0, BUNDLE_HEADER_LEN);
  memcpy(buf, BUNDLE_MAGIC, 8);
  memcpy(buf + OFF_PRODUCT, h->product, strnlen(h->product, BUNDLE_NAME_LEN));
  memcpy(buf + OFF_VERSION, h->version, strnlen(h->version, BUNDLE_NAME_LEN));
  put32(buf + OFF_FLAGS, h->flags);
  put32(buf + OFF_COUNT, h->count);
  put64(buf + OFF_PAYLEN, h->payload_len);
  memcpy(buf + OFF_KEYID, h->keyid, BUNDLE_KEYID_LEN);
  memcpy(buf + OFF_SIG, h->sig, BUNDLE_SIG_LEN);
}

/* A NUL-padded field: text, then only NULs. */
static sqr_rc get_name(const uint8_t *field, char out[BUNDLE_NAME_LEN + 1]) {
  size_t n = strnlen((const char *)field, BUNDLE_NAME_LEN);
  for(size_t i = n; i < BUNDLE_NAME_LEN; i++)
    if(field[i]) return SQR_EINVAL;
  memcpy(out, field, n);
  out[n] = '\0';
  return SQR_OK;
}

sqr_rc bundle_header_decode(const uint8_t buf[BUNDLE_HEADER_LEN], bundle_header *h) {
  memset(h, 0, sizeof *h);
  if(memcmp(buf, BUNDLE_MAGIC, 8) != 0) {
    log_error(COMP, "not a StoreQR bundle (bad magic)");
    return SQR_EINVAL;
  }
  if(get_name(buf + OFF_PRODUCT, h->product) || get_name(buf + OFF_VERSION, h->version)) {
    log_error(COMP, "damaged header: product or version field is not NUL-padded text");
    return SQR_EINVAL;
  }
  h->flags = get32(buf + OFF_FLAGS);
  h->count = get32(buf + OFF_COUNT);
  h->payload_len = get64(buf + OFF_PAYLEN);
  memcpy(h->keyid, buf + OFF_KEYID, BUNDLE_KEYID_LEN);
  memcpy(h->sig, buf + OFF_SIG, BUNDLE_SIG_LEN);
  if(h->count > BUNDLE_MAX_ENTRIES || h->payload_len > BUNDLE_MAX_PAYLOAD) {
    log_error(COMP, "header exceeds limits (%u entries, %llu payload bytes)", h->count,
              (unsigned long long)h->payload_len);
    return SQR_EINVAL;
  }
  return SQR_OK;
}

static sqr_rc from_mbedtls(int rc, const char *what) {
  log_error(COMP, "%s failed: -0x%04x", what, (unsigned)-rc);
  if(rc == MBEDTLS_ERR_MPI_ALLOC_FAILED || rc == MBEDTLS_ERR_ECP_ALLOC_FAILED) return SQR_ENOMEM;
  return SQR_ECRYPTO;
}

sqr_rc bundle_sign(const uint8_t priv[SEAL_PRIV_LEN], const uint8_t digest[CRYPTO_SHA256_LEN],
                   uint8_t sig[BUNDLE_SIG_LEN]) {
  mbedtls_ecp_group grp;
  mbedtls_mpi d, r, s;
  sqr_rc rc = SQR_OK;
  int m;

  mbedtls_ecp_group_init(&grp);
  mbedtls_mpi_init(&d);
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  if((m = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1))) {
    rc = from_mbedtls(m, "loading P-256");
    goto out;
  }
  if((m = mbedtls_mpi_read_binary(&d, priv, SEAL_PRIV_LEN)) ||
     (m = mbedtls_ecp_check_privkey(&grp, &d))) {
    log_error(COMP, "signing key is not a valid P-256 scalar");
    rc = SQR_EINVAL;
    goto out;
  }
  m = mbedtls_ecdsa_sign_det_ext(&grp, &r, &s, &d, digest, CRYPTO_SHA256_LEN, MBEDTLS_MD_SHA256,
                                 crypto_rng, NULL);
  if(m) {
    rc = from_mbedtls(m, "signing");
    goto out;
  }
  if((m = mbedtls_mpi_write_binary(&r, sig, 32)) ||
     (m = mbedtls_mpi_write_binary(&s, sig + 32, 32)))
    rc = from_mbedtls(m, "writing the signature");
out:
  mbedtls_mpi_free(&d); /* mbedtls zeroises limbs on free */
  mbedtls_mpi_free(&r);
  mbedtls_mpi_free(&s);
  mbedtls_ecp_group_free(&grp);
  return rc;
}

int bundle_sig_is_zero(const uint8_t sig[BUNDLE_SIG_LEN]) {
  uint8_t acc = 0;
  for(size_t i = 0; i < BUNDLE_SIG_LEN; i++)
    acc |= sig[i];
  return acc == 0;
}

sqr_rc bundle_verify(const uint8_t pub[SEAL_PUB_LEN], const uint8_t digest[CRYPTO_SHA256_LEN],
                     const uint8_t sig[BUNDLE_SIG_LEN]) {
  mbedtls_ecp_group grp;
  mbedtls_ecp_point Q;
  mbedtls_mpi r, s;
  sqr_rc rc = SQR_OK;
  int m;

  if(bundle_sig_is_zero(sig)) return SQR_EAUTH;
  mbedtls_ecp_group_init(&grp);
  mbedtls_ecp_point_init(&Q);
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  if((m = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1))) {
    rc = from_mbedtls(m, "loading P-256");
    goto out;
  }
  if(pub[0] != 0x04 || mbedtls_ecp_point_read_binary(&grp, &Q, pub, SEAL_PUB_LEN) ||
     mbedtls_ecp_check_pubkey(&grp, &Q)) {
    log_error(COMP, "verification key is not a P-256 public key");
    rc = SQR_EINVAL;
    goto out;
  }
  if((m = mbedtls_mpi_read_binary(&r, sig, 32)) ||
     (m = mbedtls_mpi_read_binary(&s, sig + 32, 32))) {
    rc = from_mbedtls(m, "reading the signature");
    goto out;
  }
  m = mbedtls_ecdsa_verify(&grp, digest, CRYPTO_SHA256_LEN, &Q, &r, &s);
  if(m == MBEDTLS_ERR_ECP_VERIFY_FAILED || m == MBEDTLS_ERR_ECP_BAD_INPUT_DATA)
    rc = SQR_EAUTH;
  else if(m)
    rc = from_mbedtls(m, "verifying");
out:
  mbedtls_mpi_free(&r);
  mbedtls_mpi_free(&s);
  mbedtls_ecp_point_free(&Q);
  mbedtls_ecp_group_free(&grp);
  return rc;
}

sqr_rc bundle_entry_encode(const bundle_entry *e, uint8_t *buf, size_t *len) {
  size_t n = strlen(e->path);
  if(bundle_check_path(e->path)) return SQR_EINVAL;
  buf[0] = (uint8_t)(n >> 8);
  buf[1] = (uint8_t)n;
  memcpy(buf + 2, e->path, n);
  put32(buf + 2 + n, e->mode);
  put64(buf + 6 + n, e->size);
  *len = n + 14;
  return SQR_OK;
}

/* Reads the first line of a small key file into line (NUL-terminated). */
static sqr_rc read_line(const char *path, char *line, size_t size) {
  FILE *f = fopen(path, "r");
  if(!f) {
    log_error(COMP, "cannot open key file %s: %s", path, strerror(errno));
    return SQR_EIO;
  }
  sqr_rc rc = SQR_OK;
  if(!fgets(line, (int)size, f)) {
    log_error(COMP, "key file %s is empty", path);
    rc = SQR_EINVAL;
  }
  fclose(f);
  line[strcspn(line, "\r\n")] = '\0';
  return rc;
}

sqr_rc bundle_read_pub(const char *path, uint8_t pub[SEAL_PUB_LEN]) {
  char line[256];
  sqr_rc rc = read_line(path, line, sizeof line);
  if(rc) return rc;
  rc = seal_pub_from_b64(line, pub);
  if(rc) log_error(COMP, "%s is not a StoreQR public key (base64 P-256 point)", path);
  return rc;
}

sqr_rc bundle_read_priv(const char *path, uint8_t priv[SEAL_PRIV_LEN]) {
  char line[256];
  sqr_rc rc = read_line(path, line, sizeof line);
  if(!rc) {
    rc = seal_priv_from_b64(line, priv);
    if(rc) log_error(COMP, "%s is not a StoreQR private key (base64 P-256 scalar)", path);
  }
  crypto_wipe(line, sizeof line);
  return rc;
}

sqr_rc bundle_verify_file(const char *path, const uint8_t pub[SEAL_PUB_LEN], bundle_header *h,
                          uint8_t file_sha[CRYPTO_SHA256_LEN], char *err, size_t errlen) {
  uint8_t hdr[BUNDLE_HEADER_LEN], digest[CRYPTO_SHA256_LEN], kid[BUNDLE_KEYID_LEN];
  mbedtls_sha256_context whole, sig;
  sqr_rc rc = SQR_EIO;
  uint8_t *buf = NULL;
  FILE *f = fopen(path, "rb");
  mbedtls_sha256_init(&whole);
  mbedtls_sha256_init(&sig);
  if(!f) {
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    goto out;
  }
  if(fread(hdr, 1, sizeof hdr, f) != sizeof hdr) {
    snprintf(err, errlen, "%s: truncated (shorter than a bundle header)", path);
    rc = SQR_ECORRUPT;
    goto out;
  }
  if(bundle_header_decode(hdr, h)) {
    snprintf(err, errlen, "%s: not a StoreQR bundle (bad header)", path);
    rc = SQR_ECORRUPT;
    goto out;
  }
  rc = SQR_ECRYPTO;
  if(mbedtls_sha256_starts_ret(&whole, 0) || mbedtls_sha256_starts_ret(&sig, 0) ||
     mbedtls_sha256_update_ret(&whole, hdr, sizeof hdr) ||
     mbedtls_sha256_update_ret(&sig, hdr, BUNDLE_SIGNED_HEADER_LEN))
    goto out;
  /* The payload streams through both hashes: a bundle may be 1 GiB. */
  enum { CHUNK = 1 << 16 };
  if(!(buf = malloc(CHUNK))) {
    rc = SQR_ENOMEM;
    goto out;
  }
  uint64_t left = h->payload_len;
  while(left) {
    size_t want = left < CHUNK ? (size_t)left : CHUNK;
    size_t got = fread(buf, 1, want, f);
    if(got == 0) break;
    if(mbedtls_sha256_update_ret(&whole, buf, got) || mbedtls_sha256_update_ret(&sig, buf, got))
      goto out;
    left -= got;
  }
  if(ferror(f)) {
    snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
    rc = SQR_EIO;
    goto out;
  }
  if(left || fgetc(f) != EOF) {
    snprintf(err, errlen, "%s: %s", path,
             left ? "truncated (shorter than its header says)" : "bytes after the payload");
    rc = SQR_ECORRUPT;
    goto out;
  }
  if(mbedtls_sha256_finish_ret(&whole, file_sha) || mbedtls_sha256_finish_ret(&sig, digest))
    goto out;
  rc = SQR_EAUTH;
  bundle_keyid(pub, kid);
  if(bundle_sig_is_zero(h->sig))
    snprintf(err, errlen, "%s: not signed", path);
  else if(memcmp(kid, h->keyid, sizeof kid) != 0)
    snprintf(err, errlen, "%s: signed by another key than the one given", path);
  else if((rc = bundle_verify(pub, digest, h->sig)))
    snprintf(err, errlen, "%s: signature does not verify (tampered with?)", path);
out:
  free(buf);
  if(f) fclose(f);
  mbedtls_sha256_free(&whole);
  mbedtls_sha256_free(&sig);
  return rc;
}
