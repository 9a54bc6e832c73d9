/* release.c — HQ's kiosk releases and the bundle files kiosks fetch; see
 * release.h (the record, the files; web/device.c serves them).
 *
 * The bundle's own signature is what a box trusts (storeqr-update checks
 * it before anything else); HQ checks it too when a release is added, so
 * an operator learns at once that a bundle was signed with the wrong key,
 * not a week later from every store's update.log. The SHA-256 HQ names a
 * bundle by only lets a kiosk check its download and find it again.
 */
#include "release.h"
#include "hq_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "bundle.h"
#include "crypto.h"
#include "log.h"
#include "proto.h"

#define COMP               "hq"
#define RELEASES_MAX_BYTES (8 * 1024 * 1024)
#define SUFFIX             ".bundle"

/* ---- releases.json ----------------------------------------------------- */

static void path_in(const hq *h, const char *name, char *out, size_t size) {
  snprintf(out, size, "%s/%s", h->dir, name);
}

/* The record as a cJSON object with a "releases" array; an absent file is
 * an empty record. */
static sqr_rc read_releases(const hq *h, cJSON **out, char *err, size_t errlen) {
  char path[700];
  path_in(h, "releases.json", path, sizeof path);
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if(!f) {
    if(errno != ENOENT) {
      snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
      return SQR_EIO;
    }
    *out = cJSON_CreateObject();
    if(!*out || !cJSON_AddArrayToObject(*out, "releases")) {
      cJSON_Delete(*out);
      *out = NULL;
      return SQR_ENOMEM;
    }
    return SQR_OK;
  }
  char *buf = malloc(RELEASES_MAX_BYTES + 1);
  size_t n = buf ? fread(buf, 1, RELEASES_MAX_BYTES + 1, f) : 0;
  int bad = ferror(f);
  fclose(f);
  if(!buf) return SQR_ENOMEM;
  sqr_rc rc = SQR_OK;
  if(bad || n > RELEASES_MAX_BYTES) {
    snprintf(err, errlen, "%s: %s", path, bad ? "read error" : "larger than 8 MiB");
    rc = bad ? SQR_EIO : SQR_ECORRUPT;
  } else {
    *out = cJSON_ParseWithLength(buf, n);
    if(!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(*out, "releases"))) {
      snprintf(err, errlen, "%s: not a release record (fix or restore it)", path);
      cJSON_Delete(*out);
      *out = NULL;
      rc = SQR_ECORRUPT;
    }
  }
  free(buf);
  return rc;
}

static void fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if(fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
}

static int names_store(const cJSON *rec, const char *sid) {
  const cJSON *stores = cJSON_GetObjectItemCaseSensitive(rec, "stores");
  if(!stores) return 1; /* every store */
  const cJSON *s;
  cJSON_ArrayForEach(s, stores) if(cJSON_IsString(s) && !strcmp(s->valuestring, sid)) return 1;
  return 0;
}

static sqr_rc release_from_json(const cJSON *rec, hq_release *out) {
  const cJSON *serial = cJSON_GetObjectItemCaseSensitive(rec, "serial");
  const cJSON *product = cJSON_GetObjectItemCaseSensitive(rec, "product");
  const cJSON *version = cJSON_GetObjectItemCaseSensitive(rec, "version");
  const cJSON *sha = cJSON_GetObjectItemCaseSensitive(rec, "sha256");
  const cJSON *size = cJSON_GetObjectItemCaseSensitive(rec, "size");
  if(!cJSON_IsNumber(serial) || !cJSON_IsString(product) || !cJSON_IsString(version) ||
     !cJSON_IsString(sha) || !cJSON_IsNumber(size) || strlen(sha->valuestring) != 64 ||
     strlen(product->valuestring) >= sizeof out->product ||
     strlen(version->valuestring) >= sizeof out->version || size->valuedouble < 1)
    return SQR_ECORRUPT;
  memset(out, 0, sizeof *out);
  out->serial = (int64_t)serial->valuedouble;
  snprintf(out->product, sizeof out->product, "%s", product->valuestring);
  snprintf(out->version, sizeof out->version, "%s", version->valuestring);
  snprintf(out->sha256, sizeof out->sha256, "%s", sha->valuestring);
  out->size = (uint64_t)size->valuedouble;
  out->forced = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "forced"));
  const cJSON *from = cJSON_GetObjectItemCaseSensitive(rec, "forced_from");
  const cJSON *until = cJSON_GetObjectItemCaseSensitive(rec, "forced_until");
  if(cJSON_IsString(from))
    snprintf(out->forced_from, sizeof out->forced_from, "%s", from->valuestring);
  if(cJSON_IsNumber(until)) out->forced_until = (int64_t)until->valuedouble;
  return SQR_OK;
}

sqr_rc hq_release_for_store(hq *h, const char *sid, hq_release *out, int64_t *count, char *err,
                            size_t errlen) {
  cJSON *doc = NULL;
  *count = 0;
  sqr_rc rc = read_releases(h, &doc, err, errlen);
  if(rc) return rc;
  const cJSON *rec, *last = NULL;
  cJSON_ArrayForEach(rec, cJSON_GetObjectItemCaseSensitive(doc, "releases")) {
    if(!names_store(rec, sid)) continue;
    (*count)++;
    last = rec;
  }
  rc = SQR_ENOTFOUND;
  if(last && (rc = release_from_json(last, out)))
    snprintf(err, errlen, "releases.json: release %lld is malformed", (long long)*count);
  cJSON_Delete(doc);
  return rc;
}

/* ---- release add --------------------------------------------------------- */

/* Copies src to dst (created, 0640) and fsyncs it. */
static sqr_rc copy_file(const char *src, const char *dst, char *err, size_t errlen) {
  int in = open(src, O_RDONLY | O_CLOEXEC);
  int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  char buf[65536];
  sqr_rc rc = SQR_OK;
  if(in < 0 || out < 0) {
    snprintf(err, errlen, "cannot open %s: %s", in < 0 ? src : dst, strerror(errno));
    rc = SQR_EIO;
  }
  while(!rc) {
    ssize_t n = read(in, buf, sizeof buf);
    if(n < 0 && errno == EINTR) continue;
    if(n == 0) break;
    if(n < 0 || write(out, buf, (size_t)n) != n) {
      snprintf(err, errlen, "copying %s: %s", src, strerror(errno));
      rc = SQR_EIO;
    }
  }
  if(!rc && fsync(out) != 0) {
    snprintf(err, errlen, "cannot write %s: %s", dst, strerror(errno));
    rc = SQR_EIO;
  }
  if(in >= 0) close(in);
  if(out >= 0 && close(out) != 0 && !rc) rc = SQR_EIO;
  return rc;
}

/* "A,B,C" into a cJSON array of existing store ids. */
static sqr_rc parse_stores(hq *h, const char *list, cJSON **out, char *err, size_t errlen) {
  *out = cJSON_CreateArray();
  if(!*out) return SQR_ENOMEM;
  const char *p = list;
  while(*p) {
    size_t n = strcspn(p, ",");
    char sid[HQ_ID_MAX];
    hq_store s;
    if(n == 0 || n >= sizeof sid) {
      snprintf(err, errlen, "--stores: empty or too long store id in \"%.100s\"", list);
      return SQR_EINVAL;
    }
    memcpy(sid, p, n);
    sid[n] = '\0';
    if(!proto_store_id_valid(sid) || hqdb_store_get(h->db, sid, &s) != SQR_OK) {
      snprintf(err, errlen, "--stores: no store \"%s\"", sid);
      return SQR_EINVAL;
    }
    if(cJSON_GetArraySize(*out) >= HQ_RELEASES_MAX) {
      snprintf(err, errlen, "--stores: more than %d stores", HQ_RELEASES_MAX);
      return SQR_EINVAL;
    }
    cJSON_AddItemToArray(*out, cJSON_CreateString(sid));
    p += n;
    if(*p == ',') p++;
  }
  if(!cJSON_GetArraySize(*out)) {
    snprintf(err, errlen, "--stores: no store given");
    return SQR_EINVAL;
  }
  return SQR_OK;
}

sqr_rc hq_release_add(hq *h, const char *path, const char *pub_path, const char *stores,
                      hq_release *out, char *err, size_t errlen) {
  char dir[700], tmp[800] = "", final[800], lock[700], pubdefault[700];
  uint8_t pub[SEAL_PUB_LEN], sha[CRYPTO_SHA256_LEN];
  bundle_header hdr;
  cJSON *list = NULL, *doc = NULL;
  int lockfd = -1;
  sqr_rc rc;
  if(!pub_path) path_in(h, "update.pub", pubdefault, sizeof pubdefault), pub_path = pubdefault;
  if(bundle_read_pub(pub_path, pub)) {
    snprintf(err, errlen,
             "cannot read the update public key %s (storeqr-bundle keygen writes it; give --pub)",
             pub_path);
    return SQR_EINVAL;
  }
  if(stores && (rc = parse_stores(h, stores, &list, err, errlen))) goto out;
  path_in(h, "releases.lock", lock, sizeof lock);
  /* One writer at a time; `serve` only reads, and only renamed files. */
  if((lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0 || flock(lockfd, LOCK_EX)) {
    snprintf(err, errlen, "cannot lock %s: %s", lock, strerror(errno));
    rc = SQR_EIO;
    goto out;
  }
  path_in(h, "bundles", dir, sizeof dir);
  if(mkdir(dir, 0750) != 0 && errno != EEXIST) {
    snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
    rc = SQR_EIO;
    goto out;
  }
  /* Verify the copy, not the original: what is checked is what is served. */
  snprintf(tmp, sizeof tmp, "%s/.incoming.%ld", dir, (long)getpid());
  if((rc = copy_file(path, tmp, err, errlen))) goto out;
  if((rc = bundle_verify_file(tmp, pub, &hdr, sha, err, errlen))) {
    /* Name the operator's file, not the temporary copy. */
    char *colon = strstr(err, ": ");
    char why[300];
    snprintf(why, sizeof why, "%s", colon ? colon + 2 : err);
    snprintf(err, errlen, "%s: %s", path, why);
    goto out;
  }
  if(strcmp(hdr.product, HQ_RELEASE_PRODUCT) != 0) {
    snprintf(err, errlen, "%s is a bundle for \"%s\"; kiosks install only %s", path, hdr.product,
             HQ_RELEASE_PRODUCT);
    rc = SQR_EINVAL;
    goto out;
  }
  /* A forced bundle every box would refuse is refused now, not found out
   * from every store's update.log: unbound (old format) or expired. */
  if((hdr.flags & BUNDLE_FLAG_FORCED) && hdr.format == 1) {
    snprintf(err, errlen,
             "%s is a forced bundle in the old format (no forced-from version, no expiry); "
             "boxes refuse it: pack it again with --forced --forced-from --forced-until",
             path);
    rc = SQR_EINVAL;
    goto out;
  }
  if((hdr.flags & BUNDLE_FLAG_FORCED) && hdr.forced_until < (uint64_t)(hq_now_ms() / 1000)) {
    snprintf(err, errlen, "%s is a forced bundle that expired (forced-until %llu): boxes refuse it",
             path, (unsigned long long)hdr.forced_until);
    rc = SQR_EINVAL;
    goto out;
  }
  char hex[65];
  crypto_hex(sha, sizeof sha, hex);
  snprintf(final, sizeof final, "%s/%s" SUFFIX, dir, hex);
  if(rename(tmp, final) != 0) {
    snprintf(err, errlen, "cannot store %s: %s", final, strerror(errno));
    rc = SQR_EIO;
    goto out;
  }
  tmp[0] = '\0';
  fsync_dir(dir);

  if((rc = read_releases(h, &doc, err, errlen))) goto out;
  cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "releases");
  int n = cJSON_GetArraySize(arr);
  if(n >= HQ_RELEASES_MAX) {
    snprintf(err, errlen, "releases.json holds %d releases already (the limit)", n);
    rc = SQR_EINVAL;
    goto out;
  }
  const cJSON *lastser =
      n ? cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, n - 1), "serial") : NULL;
  memset(out, 0, sizeof *out);
  out->serial = (cJSON_IsNumber(lastser) ? (int64_t)lastser->valuedouble : 0) + 1;
  snprintf(out->product, sizeof out->product, "%s", hdr.product);
  snprintf(out->version, sizeof out->version, "%s", hdr.version);
  snprintf(out->sha256, sizeof out->sha256, "%s", hex);
  out->size = hdr.header_len + hdr.payload_len;
  out->forced = (hdr.flags & BUNDLE_FLAG_FORCED) != 0;
  if(out->forced) {
    snprintf(out->forced_from, sizeof out->forced_from, "%s", hdr.forced_from);
    out->forced_until = (int64_t)hdr.forced_until;
  }
  cJSON *rec = cJSON_CreateObject();
  if(!rec) {
    rc = SQR_ENOMEM;
    goto out;
  }
  cJSON_AddItemToArray(arr, rec);
  cJSON_AddNumberToObject(rec, "serial", (double)out->serial);
  cJSON_AddStringToObject(rec, "product", out->product);
  cJSON_AddStringToObject(rec, "version", out->version);
  cJSON_AddStringToObject(rec, "sha256", hex);
  cJSON_AddNumberToObject(rec, "size", (double)out->size);
  cJSON_AddBoolToObject(rec, "forced", out->forced);
  if(out->forced) {
    cJSON_AddStringToObject(rec, "forced_from", out->forced_from);
    cJSON_AddNumberToObject(rec, "forced_until", (double)out->forced_until);
  }
  if(list) cJSON_AddItemToObject(rec, "stores", list), list = NULL;
  cJSON_AddNumberToObject(rec, "added_ms", (double)hq_now_ms());
  char *text = cJSON_Print(doc);
  if(!text) {
    rc = SQR_ENOMEM;
    goto out;
  }
  char rpath[700];
  path_in(h, "releases.json", rpath, sizeof rpath);
  rc = atomicfile_write(rpath, text, strlen(text), 0640, 0, err, errlen);
  free(text);
  if(!rc) fsync_dir(h->dir);
  log_info(COMP, "release %lld: %s %s (%.16s...) for %s", (long long)out->serial, out->product,
           out->version, hex, stores ? stores : "every store");
out:
  if(rc && tmp[0]) unlink(tmp);
  cJSON_Delete(list);
  cJSON_Delete(doc);
  if(lockfd >= 0) close(lockfd);
  return rc;
}

/* ---- the files GET /v1/bundles/<sha256>.bundle serves ------------------- */

/* The only names served: 64 lower-case hex digits and ".bundle". Nothing
 * else from the URL reaches a path, so no "..", no "/", no NUL. */
static int name_ok(const char *name) {
  size_t i;
  for(i = 0; i < 64; i++)
    if(!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f'))) return 0;
  return strcmp(name + 64, SUFFIX) == 0;
}

sqr_rc hq_release_open(hq *h, const char *kiosk_id, const char *name, int *fd_out, uint64_t *size,
                       hq_err *e) {
  *fd_out = -1;
  if(!name_ok(name))
    return hq_fail(e, SQR_EINVAL, "bad_request",
                   "bundle name: must be 64 lower-case hex digits and .bundle");
  char path[800];
  snprintf(path, sizeof path, "%s/bundles/%s", h->dir, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  if(fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if(fd >= 0 || errno != ENOENT) log_warn(COMP, "bundle %s: %s", name, strerror(errno));
    if(fd >= 0) close(fd);
    return hq_fail(e, SQR_ENOTFOUND, "not_found", "no such bundle");
  }
  *fd_out = fd;
  *size = (uint64_t)st.st_size;
  log_info(COMP, "kiosk %s fetches bundle %.12s... (%lld bytes)", kiosk_id, name,
           (long long)st.st_size);
  return SQR_OK;
}
