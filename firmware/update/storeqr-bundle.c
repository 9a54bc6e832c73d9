/* storeqr-bundle — HQ's side of signed updates: makes the signing key and
 * packs a release directory into one signed bundle (format: bundle.h).
 *
 *   storeqr-bundle keygen PREFIX
 *       writes PREFIX.key (private, mode 0600) and PREFIX.pub (public);
 *       both are one line of base64 (seal.h encodings). Refuses to
 *       overwrite either.
 *   storeqr-bundle pack --key PREFIX.key --product NAME --version X.Y.Z
 *                       [--forced --forced-from VERSION --forced-until WHEN]
 *                       RELEASE_DIR OUT
 *       walks RELEASE_DIR in sorted order (regular files and directories;
 *       a symbolic link, device node, FIFO, socket, setuid/setgid file or
 *       a name starting with ".storeqr-" is an error, as a box would
 *       refuse it: bundle_check_entry), writes OUT atomically (format 2).
 *       --forced lets boxes install it over a newer version (a rollback
 *       ordered by HQ), but only over exactly --forced-from and only until
 *       --forced-until (YYYY-MM-DD: the end of that day, UTC; or unix
 *       seconds), at most FORCED_MAX_DAYS ahead; all three are signed like
 *       everything else, and --forced needs both.
 *   storeqr-bundle info BUNDLE
 *       prints the header (nothing in it is verified: storeqr-update does).
 *
 * Owns only the files it writes. Must never: print key bytes, leave a
 * half-written bundle under OUT's name.
 */
#include "atomicfile.h"
#include "bundle.h"
#include "crypto.h"
#include "log.h"
#include "seal.h"
#include "sqr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

#define COMP "bundle"
/* A forced bundle is an order for now, not a standing permission: a
 * rollback that has not reached its boxes in three months is a new
 * decision, to be signed again. */
#define FORCED_MAX_DAYS 90

typedef struct item {
  char path[BUNDLE_MAX_PATH + 1]; /* relative to the release root */
  uint32_t mode;
  uint64_t size;
} item;

typedef struct walk {
  char root[4096];
  item *items;
  size_t n, cap;
  uint64_t payload;
} walk;

static void usage(void) {
  fprintf(stderr,
          "usage: storeqr-bundle keygen PREFIX\n"
          "       storeqr-bundle pack --key FILE --product NAME --version X.Y.Z\n"
          "                           [--forced --forced-from VERSION --forced-until WHEN]\n"
          "                           RELEASE_DIR OUT\n"
          "       storeqr-bundle info BUNDLE\n"
          "  RELEASE_DIR holds regular files and directories only (no symbolic links,\n"
          "  devices, FIFOs, sockets, setuid/setgid files or names starting .storeqr-).\n"
          "  --forced        a downgrade or reinstall ordered by HQ; boxes install it only\n"
          "                  over exactly --forced-from VERSION and only until\n"
          "                  --forced-until YYYY-MM-DD (end of that day, UTC) or unix\n"
          "                  seconds, at most %d days ahead\n",
          FORCED_MAX_DAYS);
}

/* PATH = text and a newline, whole or not at all, never over an existing
 * file (SQR_EEXISTS): a key is not replaced by accident. */
static sqr_rc write_key_file(const char *path, const char *text, mode_t mode) {
  char line[256], err[4300];
  if((size_t)snprintf(line, sizeof line, "%s\n", text) >= sizeof line) return SQR_EINVAL;
  sqr_rc rc =
      atomicfile_write(path, line, strlen(line), mode, ATOMICFILE_NOREPLACE, err, sizeof err);
  if(rc) log_error(COMP, "%s", err);
  crypto_wipe(line, sizeof line);
  return rc;
}

static int cmd_keygen(int argc, char **argv) {
  if(argc != 2) {
    usage();
    return SQR_EXIT_USAGE;
  }
  char kpath[4096], ppath[4096];
  if(snprintf(kpath, sizeof kpath, "%s.key", argv[1]) >= (int)sizeof kpath ||
     snprintf(ppath, sizeof ppath, "%s.pub", argv[1]) >= (int)sizeof ppath) {
    fprintf(stderr, "storeqr-bundle: prefix too long\n");
    return SQR_EXIT_USAGE;
  }
  uint8_t pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN];
  char pub64[SEAL_PUB_B64_LEN], priv64[SEAL_PRIV_B64_LEN];
  sqr_rc rc = seal_keypair_generate(pub, priv);
  if(!rc) rc = seal_pub_to_b64(pub, pub64);
  if(!rc) rc = seal_priv_to_b64(priv, priv64);
  if(!rc) rc = write_key_file(kpath, priv64, 0600);
  if(!rc) {
    rc = write_key_file(ppath, pub64, 0644);
    if(rc) unlink(kpath);
  }
  crypto_wipe(priv, sizeof priv);
  crypto_wipe(priv64, sizeof priv64);
  if(rc) {
    fprintf(stderr, "storeqr-bundle: keygen failed: %s\n", sqr_strerror(rc));
    return sqr_exit_code(rc);
  }
  printf("wrote %s (keep it at HQ, offline) and %s (ships on every box)\n", kpath, ppath);
  return SQR_EXIT_DONE;
}

static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name); /* byte order, not locale */
}

/* Adds every entry under rel (relative to w->root; "" for the root). */
static sqr_rc walk_dir(walk *w, const char *rel) {
  char dir[8192];
  snprintf(dir, sizeof dir, "%s%s%s", w->root, *rel ? "/" : "", rel);
  struct dirent **names = NULL;
  int n = scandir(dir, &names, NULL, by_name);
  if(n < 0) {
    log_error(COMP, "cannot read directory %s: %s", dir, strerror(errno));
    return SQR_EIO;
  }
  sqr_rc rc = SQR_OK;
  for(int i = 0; i < n && !rc; i++) {
    const char *name = names[i]->d_name;
    if(!strcmp(name, ".") || !strcmp(name, "..")) continue;
    item it;
    memset(&it, 0, sizeof it);
    if(snprintf(it.path, sizeof it.path, "%s%s%s", rel, *rel ? "/" : "", name) >=
           (int)sizeof it.path ||
       bundle_check_path(it.path)) {
      log_error(COMP, "path too long or unusable under %s: %s", dir, name);
      rc = SQR_EINVAL;
      break;
    }
    char full[8192];
    snprintf(full, sizeof full, "%s/%s", w->root, it.path);
    struct stat st;
    if(lstat(full, &st) != 0) {
      log_error(COMP, "cannot stat %s: %s", full, strerror(errno));
      rc = SQR_EIO;
      break;
    }
    if(S_ISREG(st.st_mode)) it.size = (uint64_t)st.st_size;
    /* Never ship setuid/setgid bits: the box would refuse them anyway. */
    it.mode = (uint32_t)(st.st_mode & (S_IFMT | 01777));
    /* What a box would refuse is refused here, by the same rule, naming
     * the file: a release is regular files and directories. */
    bundle_entry e;
    char why[BUNDLE_MAX_PATH + 200];
    memcpy(e.path, it.path, sizeof e.path);
    e.mode = it.mode;
    e.size = it.size;
    if(bundle_check_entry(&e, why, sizeof why)) {
      log_error(COMP, "%s: %s", w->root, why);
      rc = SQR_EINVAL;
      break;
    }
    if(w->n == BUNDLE_MAX_ENTRIES) {
      log_error(COMP, "more than %u entries", BUNDLE_MAX_ENTRIES);
      rc = SQR_EINVAL;
      break;
    }
    if(w->n == w->cap) {
      size_t cap = w->cap ? w->cap * 2 : 64;
      item *p = realloc(w->items, cap * sizeof *p);
      if(!p) {
        rc = SQR_ENOMEM;
        break;
      }
      w->items = p;
      w->cap = cap;
    }
    w->items[w->n++] = it;
    w->payload += 14 + strlen(it.path) + it.size;
    if(w->payload > BUNDLE_MAX_PAYLOAD) {
      log_error(COMP, "release is larger than the %llu-byte limit",
                (unsigned long long)BUNDLE_MAX_PAYLOAD);
      rc = SQR_EINVAL;
      break;
    }
    if(S_ISDIR(st.st_mode)) rc = walk_dir(w, it.path);
  }
  for(int i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return rc;
}

typedef struct out_stream {
  atomicfile *f; /* OUT.tmp until the signature is in */
  mbedtls_sha256_context sha;
  sqr_rc rc; /* the first write (f says why) or hash failure */
} out_stream;

/* Writes and hashes; after the first failure, nothing. */
static void emit(out_stream *o, const void *p, size_t n) {
  if(o->rc) return;
  o->rc = atomicfile_append(o->f, p, n);
  if(!o->rc && mbedtls_sha256_update_ret(&o->sha, p, n) != 0) o->rc = SQR_ECRYPTO;
}

/* Streams one item's bytes; the size must not have changed since the walk. */
static sqr_rc emit_item(out_stream *o, const walk *w, const item *it) {
  uint8_t meta[2 + BUNDLE_MAX_PATH + 12];
  size_t mlen = 0;
  bundle_entry e;
  memset(&e, 0, sizeof e);
  memcpy(e.path, it->path, sizeof e.path);
  e.mode = it->mode;
  e.size = it->size;
  sqr_rc rc = bundle_entry_encode(&e, meta, &mlen);
  if(rc) return rc;
  emit(o, meta, mlen);
  char full[8192];
  snprintf(full, sizeof full, "%s/%s", w->root, it->path);
  if(S_ISREG(it->mode)) {
    int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if(fd < 0) {
      log_error(COMP, "cannot open %s: %s", full, strerror(errno));
      return SQR_EIO;
    }
    uint8_t buf[65536];
    uint64_t left = it->size;
    while(left > 0) {
      ssize_t n = read(fd, buf, left < sizeof buf ? (size_t)left : sizeof buf);
      if(n <= 0) break;
      emit(o, buf, (size_t)n);
      left -= (uint64_t)n;
    }
    char extra;
    ssize_t more = read(fd, &extra, 1);
    close(fd);
    if(left != 0 || more != 0) {
      log_error(COMP, "%s changed size while packing", full);
      return SQR_EIO;
    }
  }
  return SQR_OK; /* a write error is o->rc, reported once by the caller */
}

/* --forced-until: unix seconds, or YYYY-MM-DD meaning the last second of
 * that day in UTC (a date reads the same at HQ and in every store). */
static sqr_rc parse_until(const char *s, uint64_t *out) {
  char *end;
  if(strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    for(int i = 0; i < 10; i++)
      if(i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return SQR_EINVAL;
    tm.tm_year = atoi(s) - 1900;
    tm.tm_mon = atoi(s + 5) - 1;
    tm.tm_mday = atoi(s + 8);
    int mday = tm.tm_mday, mon = tm.tm_mon;
    if(mon < 0 || mon > 11 || mday < 1) return SQR_EINVAL;
    tm.tm_hour = 23, tm.tm_min = 59, tm.tm_sec = 59;
    time_t t = timegm(&tm);
    if(t == (time_t)-1 || tm.tm_mday != mday || tm.tm_mon != mon) return SQR_EINVAL; /* 02-31 */
    *out = (uint64_t)t;
    return SQR_OK;
  }
  if(*s < '0' || *s > '9') return SQR_EINVAL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if(errno || *end || v == 0) return SQR_EINVAL;
  *out = v;
  return SQR_OK;
}

static int cmd_pack(int argc, char **argv) {
  const char *key = NULL, *product = NULL, *version = NULL, *from = NULL, *until = NULL;
  int forced = 0;
  uint64_t until_s = 0;
  static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                       {"product", required_argument, NULL, 'p'},
                                       {"version", required_argument, NULL, 'v'},
                                       {"forced", no_argument, NULL, 'f'},
                                       {"forced-from", required_argument, NULL, 'F'},
                                       {"forced-until", required_argument, NULL, 'U'},
                                       {NULL, 0, NULL, 0}};
  int c;
  optind = 1;
  while((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch(c) {
    case 'k':
      key = optarg;
      break;
    case 'p':
      product = optarg;
      break;
    case 'v':
      version = optarg;
      break;
    case 'f':
      forced = 1;
      break;
    case 'F':
      from = optarg;
      break;
    case 'U':
      until = optarg;
      break;
    default:
      usage();
      return SQR_EXIT_USAGE;
    }
  }
  if(!key || !product || !version || argc - optind != 2) {
    usage();
    return SQR_EXIT_USAGE;
  }
  uint32_t parts[4];
  if(bundle_check_product(product)) {
    fprintf(stderr, "storeqr-bundle: product must be 1-32 of [A-Za-z0-9._-]\n");
    return SQR_EXIT_USAGE;
  }
  if(bundle_parse_version(version, parts)) {
    fprintf(stderr, "storeqr-bundle: version must be numeric, like 1.2.3\n");
    return SQR_EXIT_USAGE;
  }
  /* A forced bundle bound to nothing would install over any version for
   * ever, wherever it is replayed: both bounds, or no --forced. */
  if(forced && (!from || !until)) {
    fprintf(stderr, "storeqr-bundle: --forced needs --forced-from VERSION (the exact version "
                    "it may replace) and --forced-until YYYY-MM-DD|UNIX (when it expires)\n");
    return SQR_EXIT_USAGE;
  }
  if(!forced && (from || until)) {
    fprintf(stderr, "storeqr-bundle: --forced-from and --forced-until only go with --forced\n");
    return SQR_EXIT_USAGE;
  }
  if(forced && bundle_parse_version(from, parts)) {
    fprintf(stderr, "storeqr-bundle: --forced-from must be a numeric version, like 1.2.3\n");
    return SQR_EXIT_USAGE;
  }
  if(forced) {
    time_t now = time(NULL);
    if(parse_until(until, &until_s)) {
      fprintf(stderr, "storeqr-bundle: --forced-until must be YYYY-MM-DD or unix seconds\n");
      return SQR_EXIT_USAGE;
    }
    if(until_s < (uint64_t)now) {
      fprintf(stderr,
              "storeqr-bundle: --forced-until %s is in the past: boxes would refuse "
              "the bundle\n",
              until);
      return SQR_EXIT_USAGE;
    }
    if(until_s > (uint64_t)now + FORCED_MAX_DAYS * 86400ull) {
      fprintf(stderr, "storeqr-bundle: --forced-until %s is more than %d days ahead\n", until,
              FORCED_MAX_DAYS);
      return SQR_EXIT_USAGE;
    }
  }
  const char *dir = argv[optind], *outpath = argv[optind + 1];

  walk w;
  memset(&w, 0, sizeof w);
  out_stream o;
  memset(&o, 0, sizeof o);
  mbedtls_sha256_init(&o.sha);
  uint8_t priv[SEAL_PRIV_LEN], pub[SEAL_PUB_LEN];
  char err[4400];
  sqr_rc rc = SQR_OK;

  if(snprintf(w.root, sizeof w.root, "%s", dir) >= (int)sizeof w.root) {
    rc = SQR_EINVAL;
    goto out;
  }
  rc = bundle_read_priv(key, priv);
  if(rc) goto out;
  rc = walk_dir(&w, "");
  if(rc) goto out;

  bundle_header h;
  memset(&h, 0, sizeof h);
  snprintf(h.product, sizeof h.product, "%s", product);
  snprintf(h.version, sizeof h.version, "%s", version);
  h.format = 2;
  h.flags = forced ? BUNDLE_FLAG_FORCED : 0;
  if(forced) {
    snprintf(h.forced_from, sizeof h.forced_from, "%s", from);
    h.forced_until = until_s;
  }
  h.count = (uint32_t)w.n;
  h.payload_len = w.payload;
  /* The key id lets a box say "signed by another key" instead of a bare
   * "bad signature". seal.h derives no public key from a private one, so
   * the .pub next to the .key is read, and checked against the signature
   * below before anything is written under OUT's name. */
  {
    char ppath[4200];
    size_t kl = strlen(key);
    if(kl > 4 && !strcmp(key + kl - 4, ".key"))
      snprintf(ppath, sizeof ppath, "%.*s.pub", (int)(kl - 4), key);
    else
      snprintf(ppath, sizeof ppath, "%s.pub", key);
    rc = bundle_read_pub(ppath, pub);
    if(rc) {
      log_error(COMP, "the public key %s must sit next to the private key", ppath);
      goto out;
    }
    bundle_keyid(pub, h.keyid);
  }
  uint8_t hdr[BUNDLE_HEADER_MAX];
  size_t hlen = bundle_header_encode(&h, hdr), slen = hlen - BUNDLE_SIG_LEN;

  /* Written as OUT.tmp and renamed once signed: OUT is never half a
   * bundle, and a failure leaves what was there before. */
  rc = atomicfile_open(outpath, 0644, 0, &o.f, err, sizeof err);
  if(rc) {
    log_error(COMP, "%s", err);
    goto out;
  }
  if(mbedtls_sha256_starts_ret(&o.sha, 0) != 0) {
    rc = SQR_ECRYPTO;
    goto out;
  }
  /* Signed bytes: the header without its signature, then the payload. The
   * signature's place is written now and filled in last. */
  emit(&o, hdr, slen);
  if(!o.rc) o.rc = atomicfile_append(o.f, hdr + slen, BUNDLE_SIG_LEN);
  for(size_t i = 0; i < w.n && !rc && !o.rc; i++)
    rc = emit_item(&o, &w, &w.items[i]);
  if(rc) goto out;
  uint8_t digest[CRYPTO_SHA256_LEN];
  if(!o.rc && mbedtls_sha256_finish_ret(&o.sha, digest) != 0) o.rc = SQR_ECRYPTO;
  if(o.rc) {
    rc = o.rc;
    if(atomicfile_error(o.f, err, sizeof err))
      log_error(COMP, "%s", err); /* the first write error: a full disk says so */
    else
      log_error(COMP, "hashing %s failed", outpath);
    goto out;
  }
  rc = bundle_sign(priv, digest, h.sig);
  if(rc) goto out;
  rc = bundle_verify(pub, digest, h.sig);
  if(rc) {
    log_error(COMP, "%s does not match its .pub: refusing to sign with a mismatched pair", key);
    goto out;
  }
  (void)bundle_header_encode(&h, hdr);
  rc = atomicfile_write_at(o.f, 0, hdr, hlen);
  if(rc) {
    (void)atomicfile_error(o.f, err, sizeof err);
  } else {
    rc = atomicfile_commit(o.f, err, sizeof err);
    o.f = NULL;
  }
  if(rc) {
    log_error(COMP, "%s", err);
    goto out;
  }
  char bound[120] = "";
  if(forced) {
    char when[32];
    time_t t = (time_t)until_s;
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    snprintf(bound, sizeof bound, " (forced: replaces only %s, until %s)", from, when);
  }
  printf("%s: %s %s%s, %zu entries, %llu payload bytes\n", outpath, product, version, bound, w.n,
         (unsigned long long)w.payload);
out:
  atomicfile_abort(o.f);
  mbedtls_sha256_free(&o.sha);
  crypto_wipe(priv, sizeof priv);
  free(w.items);
  if(rc) {
    fprintf(stderr, "storeqr-bundle: pack failed: %s\n", sqr_strerror(rc));
    return sqr_exit_code(rc);
  }
  return SQR_EXIT_DONE;
}

static int cmd_info(int argc, char **argv) {
  if(argc != 2) {
    usage();
    return SQR_EXIT_USAGE;
  }
  FILE *f = fopen(argv[1], "rb");
  if(!f) {
    fprintf(stderr, "storeqr-bundle: cannot open %s: %s\n", argv[1], strerror(errno));
    return SQR_EXIT_IO;
  }
  uint8_t hdr[BUNDLE_HEADER_MAX];
  bundle_header h;
  size_t hlen = 0;
  int ok = fread(hdr, 1, BUNDLE_MAGIC_LEN, f) == BUNDLE_MAGIC_LEN &&
           (hlen = bundle_header_len(hdr)) != 0 &&
           fread(hdr + BUNDLE_MAGIC_LEN, 1, hlen - BUNDLE_MAGIC_LEN, f) == hlen - BUNDLE_MAGIC_LEN;
  fclose(f);
  if(!ok || bundle_header_decode(hdr, hlen, &h)) {
    fprintf(stderr, "storeqr-bundle: %s is not a StoreQR bundle\n", argv[1]);
    return SQR_EXIT_USAGE;
  }
  char kid[2 * BUNDLE_KEYID_LEN + 1];
  crypto_hex(h.keyid, sizeof h.keyid, kid);
  int forced = (h.flags & BUNDLE_FLAG_FORCED) != 0;
  printf("format %d\nproduct %s\nversion %s\nforced %s\n", h.format, h.product, h.version,
         !forced         ? "no"
         : h.format == 1 ? "yes (format 1, unbound: boxes refuse it)"
                         : "yes");
  if(forced && h.format == 2) {
    char when[32];
    time_t t = (time_t)h.forced_until;
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    printf("forced-from %s\nforced-until %llu (%s)\n", h.forced_from,
           (unsigned long long)h.forced_until, when);
  }
  printf("entries %u\npayload %llu\nkey %s\nsigned %s\n", h.count,
         (unsigned long long)h.payload_len, kid, bundle_sig_is_zero(h.sig) ? "no" : "yes");
  return SQR_EXIT_DONE;
}

int main(int argc, char **argv) {
  if(argc < 2) {
    usage();
    return SQR_EXIT_USAGE;
  }
  if(!strcmp(argv[1], "keygen")) return cmd_keygen(argc - 1, argv + 1);
  if(!strcmp(argv[1], "pack")) return cmd_pack(argc - 1, argv + 1);
  if(!strcmp(argv[1], "info")) return cmd_info(argc - 1, argv + 1);
  usage();
  return SQR_EXIT_USAGE;
}
