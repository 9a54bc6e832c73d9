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

/* Offsets shared by both formats, then format 2's forced binding; the key
 * id and signature sit at the end of either header (see bundle.h). */
#define OFF_PRODUCT 8
#define OFF_VERSION 40
#define OFF_FLAGS   72
#define OFF_COUNT   76
#define OFF_PAYLEN  80
#define OFF_FROM    88
#define OFF_UNTIL   120

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
  for(const char *c = path; *c; c++)
    if((unsigned char)*c < 0x20 || *c == 0x7f) return SQR_EINVAL; /* one log line per record */
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

size_t bundle_header_len(const uint8_t *magic) {
  if(!memcmp(magic, BUNDLE_MAGIC_V2, BUNDLE_MAGIC_LEN)) return BUNDLE_HEADER_LEN_V2;
  if(!memcmp(magic, BUNDLE_MAGIC_V1, BUNDLE_MAGIC_LEN)) return BUNDLE_HEADER_LEN_V1;
  return 0;
}

size_t bundle_header_encode(const bundle_header *h, uint8_t buf[BUNDLE_HEADER_MAX]) {
  int v1 = h->format == 1;
  size_t len = v1 ? BUNDLE_HEADER_LEN_V1 : BUNDLE_HEADER_LEN_V2;
  memset(buf, 0, BUNDLE_HEADER_MAX);
  memcpy(buf, v1 ? BUNDLE_MAGIC_V1 : BUNDLE_MAGIC_V2, BUNDLE_MAGIC_LEN);
  memcpy(buf + OFF_PRODUCT, h->product, strnlen(h->product, BUNDLE_NAME_LEN));
  memcpy(buf + OFF_VERSION, h->version, strnlen(h->version, BUNDLE_NAME_LEN));
  put32(buf + OFF_FLAGS, h->flags);
  put32(buf + OFF_COUNT, h->count);
  put64(buf + OFF_PAYLEN, h->payload_len);
  if(!v1) {
    memcpy(buf + OFF_FROM, h->forced_from, strnlen(h->forced_from, BUNDLE_NAME_LEN));
    put64(buf + OFF_UNTIL, h->forced_until);
  }
  memcpy(buf + len - BUNDLE_SIG_LEN - BUNDLE_KEYID_LEN, h->keyid, BUNDLE_KEYID_LEN);
  memcpy(buf + len - BUNDLE_SIG_LEN, h->sig, BUNDLE_SIG_LEN);
  return len;
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

sqr_rc bundle_header_decode(const uint8_t *buf, size_t len, bundle_header *h) {
  memset(h, 0, sizeof *h);
  size_t want = bundle_header_len(buf);
  if(!want) {
    log_error(COMP, "not a StoreQR bundle (bad magic)");
    return SQR_EINVAL;
  }
  if(len != want) {
    log_error(COMP, "header of %zu bytes, its magic says %zu", len, want);
    return SQR_EINVAL;
  }
  h->format = want == BUNDLE_HEADER_LEN_V1 ? 1 : 2;
  h->header_len = want;
  h->signed_len = want - BUNDLE_SIG_LEN;
  if(get_name(buf + OFF_PRODUCT, h->product) || get_name(buf + OFF_VERSION, h->version) ||
     (h->format == 2 && get_name(buf + OFF_FROM, h->forced_from))) {
    log_error(COMP, "damaged header: a name field is not NUL-padded text");
    return SQR_EINVAL;
  }
  h->flags = get32(buf + OFF_FLAGS);
  h->count = get32(buf + OFF_COUNT);
  h->payload_len = get64(buf + OFF_PAYLEN);
  if(h->format == 2) h->forced_until = get64(buf + OFF_UNTIL);
  memcpy(h->keyid, buf + want - BUNDLE_SIG_LEN - BUNDLE_KEYID_LEN, BUNDLE_KEYID_LEN);
  memcpy(h->sig, buf + want - BUNDLE_SIG_LEN, BUNDLE_SIG_LEN);
  if(h->count > BUNDLE_MAX_ENTRIES || h->payload_len > BUNDLE_MAX_PAYLOAD) {
    log_error(COMP, "header exceeds limits (%u entries, %llu payload bytes)", h->count,
              (unsigned long long)h->payload_len);
    return SQR_EINVAL;
  }
  /* An unknown flag may mean something this box cannot honour: refuse. */
  if(h->flags & ~BUNDLE_FLAG_FORCED) {
    log_error(COMP, "header has unknown flags 0x%x", h->flags);
    return SQR_EINVAL;
  }
  if(h->format == 2) {
    int forced = (h->flags & BUNDLE_FLAG_FORCED) != 0;
    uint32_t parts[4];
    if(forced ? bundle_parse_version(h->forced_from, parts) != SQR_OK || !h->forced_until
              : h->forced_from[0] || h->forced_until) {
      log_error(COMP, "damaged header: forced_from and forced_until must be set exactly when "
                      "the bundle is forced");
      return SQR_EINVAL;
    }
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

/* The path as it may go into a message: bytes a terminal or a log line
 * would misread become '?' (bundle_check_path refuses them anyway). */
static void printable(const char *in, char *out, size_t size) {
  size_t i = 0;
  for(; in[i] && i + 1 < size; i++)
    out[i] = (unsigned char)in[i] < 0x20 || (unsigned char)in[i] >= 0x7f ? '?' : in[i];
  out[i] = '\0';
}

sqr_rc bundle_check_entry(const bundle_entry *e, char *why, size_t whylen) {
  const char *what = NULL;
  uint32_t type = e->mode & S_IFMT;
  if(bundle_check_path(e->path)) {
    what = "is not a plain relative path (empty, absolute, \".\", \"..\", a control character, "
           "or longer than 255 bytes)";
  } else {
    const char *c = e->path;
    size_t plen = strlen(BUNDLE_RESERVED_PREFIX);
    for(; c; c = strchr(c, '/'), c = c ? c + 1 : NULL) {
      if(!strncmp(c, BUNDLE_RESERVED_PREFIX, plen)) {
        what = "uses a name reserved for the updater's own files (" BUNDLE_RESERVED_PREFIX "*)";
        break;
      }
    }
  }
  if(what) {
  } else if(type == S_IFLNK) {
    what = "is a symbolic link (a release holds only regular files and directories)";
  } else if(type == S_IFCHR || type == S_IFBLK) {
    what = "is a device node";
  } else if(type == S_IFIFO) {
    what = "is a FIFO";
  } else if(type == S_IFSOCK) {
    what = "is a socket";
  } else if(type != S_IFREG && type != S_IFDIR) {
    what = "has an unknown file type";
  } else if(e->mode & ~(uint32_t)(S_IFMT | 07777)) {
    what = "has unknown mode bits";
  } else if(e->mode & 06000) {
    what = "is setuid or setgid";
  } else if(type == S_IFDIR && e->size) {
    what = "is a directory with a size";
  }
  if(!what) return SQR_OK;
  char p[BUNDLE_MAX_PATH + 1];
  printable(e->path, p, sizeof p);
  snprintf(why, whylen, "entry \"%s\" %s", p, what);
  return SQR_EINVAL;
}

enum { W_LEN, W_PATH, W_META, W_BODY, W_DONE };

void bundle_walk_init(bundle_walk *w, uint32_t count) {
  memset(w, 0, sizeof *w);
  w->count = count;
  w->state = count ? W_LEN : W_DONE;
  w->need = 2;
}

static void walk_fail(bundle_walk *w, const char *path, const char *what) {
  char p[BUNDLE_MAX_PATH + 1];
  printable(path, p, sizeof p);
  snprintf(w->why, sizeof w->why, "entry \"%s\" %s", p, what);
  w->rc = SQR_ECORRUPT;
}

/* Order of the packer's depth-first walk: component by component, a
 * parent before its children ('/' sorts below every byte of a name). */
static int walk_cmp(const char *a, const char *b) {
  for(;; a++, b++) {
    int x = *a == '\0' ? 0 : *a == '/' ? 1 : (unsigned char)*a + 1;
    int y = *b == '\0' ? 0 : *b == '/' ? 1 : (unsigned char)*b + 1;
    if(x != y || x == 0) return x - y;
  }
}

/* A record's metadata is complete: the entry rules, then where it sits. */
static void walk_entry(bundle_walk *w) {
  bundle_entry *e = &w->entry;
  if(bundle_check_entry(e, w->why, sizeof w->why)) {
    w->rc = SQR_ECORRUPT;
    return;
  }
  if(w->seen > 1 && walk_cmp(w->prev, e->path) >= 0) {
    walk_fail(w, e->path,
              !strcmp(w->prev, e->path) ? "appears twice"
                                        : "is out of order (not as storeqr-bundle packs a tree)");
    return;
  }
  /* Close the directories this entry is not in; what stays open must be
   * its own directory, declared earlier as a directory entry. */
  size_t n = strlen(w->open_dir);
  while(n && !(strncmp(e->path, w->open_dir, n) == 0 && e->path[n] == '/')) {
    char *slash = strrchr(w->open_dir, '/');
    n = slash ? (size_t)(slash - w->open_dir) : 0;
    w->open_dir[n] = '\0';
  }
  const char *last = strrchr(e->path, '/');
  size_t parent = last ? (size_t)(last - e->path) : 0;
  if(parent != n) {
    walk_fail(w, e->path, "is not inside a directory entry that comes before it");
    return;
  }
  if((e->mode & S_IFMT) == S_IFDIR) memcpy(w->open_dir, e->path, sizeof w->open_dir);
  memcpy(w->prev, e->path, sizeof w->prev);
  w->complete = 1;
}

/* A record whose bytes are all in: on to the next, or done. */
static void walk_next(bundle_walk *w) {
  if(w->state == W_BODY && w->body_left == 0) {
    w->state = w->seen == w->count ? W_DONE : W_LEN;
    w->need = 2;
  }
}

void bundle_walk_feed(bundle_walk *w, const uint8_t *p, size_t n) {
  while(n && !w->rc) {
    if(w->state == W_DONE) {
      snprintf(w->why, sizeof w->why, "the payload has bytes after its last entry");
      w->rc = SQR_ECORRUPT;
      return;
    }
    if(w->state == W_BODY) {
      size_t k = w->body_left < n ? (size_t)w->body_left : n;
      p += k, n -= k, w->body_left -= k;
    } else {
      size_t k = w->need - w->have < n ? w->need - w->have : n;
      uint8_t *dst = w->state == W_PATH ? (uint8_t *)w->entry.path : w->meta;
      memcpy(dst + w->have, p, k);
      p += k, n -= k, w->have += k;
      if(w->have < w->need) continue;
      w->have = 0;
      if(w->state == W_LEN) {
        w->seen++;
        w->complete = 0;
        memset(&w->entry, 0, sizeof w->entry);
        w->need = (size_t)w->meta[0] << 8 | w->meta[1];
        w->state = W_PATH;
        if(w->need == 0 || w->need > BUNDLE_MAX_PATH) {
          snprintf(w->why, sizeof w->why, "entry %u has a path of %zu bytes", w->seen, w->need);
          w->rc = SQR_ECORRUPT;
        }
        continue;
      }
      if(w->state == W_PATH) {
        w->entry.path[w->need] = '\0';
        if(strlen(w->entry.path) != w->need) {
          snprintf(w->why, sizeof w->why, "entry %u has a NUL byte in its path", w->seen);
          w->rc = SQR_ECORRUPT;
        }
        w->state = W_META;
        w->need = 12;
        continue;
      }
      w->entry.mode = get32(w->meta);
      w->entry.size = get64(w->meta + 4);
      walk_entry(w);
      w->body_left = w->entry.size;
      w->state = W_BODY;
    }
    walk_next(w);
  }
}

sqr_rc bundle_walk_end(bundle_walk *w) {
  if(!w->rc && w->state != W_DONE) {
    snprintf(w->why, sizeof w->why, "the payload ends inside entry %u of %u", w->seen, w->count);
    w->rc = SQR_ECORRUPT;
  }
  return w->rc;
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
  uint8_t hdr[BUNDLE_HEADER_MAX], digest[CRYPTO_SHA256_LEN], kid[BUNDLE_KEYID_LEN];
  mbedtls_sha256_context whole, sig;
  sqr_rc rc = SQR_EIO;
  uint8_t *buf = NULL;
  bundle_walk *walk = NULL;
  size_t hlen = 0;
  FILE *f = fopen(path, "rb");
  mbedtls_sha256_init(&whole);
  mbedtls_sha256_init(&sig);
  if(!f) {
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    goto out;
  }
  if(fread(hdr, 1, BUNDLE_MAGIC_LEN, f) != BUNDLE_MAGIC_LEN || !(hlen = bundle_header_len(hdr)) ||
     fread(hdr + BUNDLE_MAGIC_LEN, 1, hlen - BUNDLE_MAGIC_LEN, f) != hlen - BUNDLE_MAGIC_LEN) {
    snprintf(err, errlen, "%s: %s", path,
             hlen ? "truncated (shorter than a bundle header)"
                  : "not a StoreQR bundle (bad magic)");
    rc = SQR_ECORRUPT;
    goto out;
  }
  if(bundle_header_decode(hdr, hlen, h)) {
    snprintf(err, errlen, "%s: not a StoreQR bundle (bad header)", path);
    rc = SQR_ECORRUPT;
    goto out;
  }
  rc = SQR_ENOMEM;
  if(!(walk = malloc(sizeof *walk))) goto out;
  bundle_walk_init(walk, h->count);
  rc = SQR_ECRYPTO;
  if(mbedtls_sha256_starts_ret(&whole, 0) || mbedtls_sha256_starts_ret(&sig, 0) ||
     mbedtls_sha256_update_ret(&whole, hdr, hlen) ||
     mbedtls_sha256_update_ret(&sig, hdr, h->signed_len))
    goto out;
  /* The payload streams through both hashes and the walk: a bundle may be
   * 1 GiB. */
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
    bundle_walk_feed(walk, buf, got);
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
  /* Signed, so the entries are HQ's: a box refuses the same ones. */
  else if((rc = bundle_walk_end(walk)))
    snprintf(err, errlen, "%s: %s", path, walk->why);
out:
  free(buf);
  free(walk);
  if(f) fclose(f);
  mbedtls_sha256_free(&whole);
  mbedtls_sha256_free(&sig);
  return rc;
}
