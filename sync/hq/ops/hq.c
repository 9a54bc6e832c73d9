/* hq.c — see hq.h. */
#include "hq.h"
#include "hq_int.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "crypto.h"
#include "log.h"

int64_t hq_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static sqr_rc load_b64_file(const char *dir, const char *name, char *out, size_t size) {
  char path[600], *text = NULL;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  sqr_rc rc = pki_read_file(path, size - 1, &text, NULL);
  if(rc) return rc;
  size_t n = strlen(text);
  while(n && isspace((unsigned char)text[n - 1]))
    text[--n] = '\0';
  snprintf(out, size, "%s", text);
  crypto_wipe(text, n);
  free(text);
  return SQR_OK;
}

/* The group_policy every store's document carries (configdoc.c copies the
 * template's): reserve and expiry margin, the defaults (those of the
 * built-in template too) where absent, or where config_parse would refuse
 * the value and the resolver falls back to them (resolve_cache.c). */
static void template_group_policy(const char *tpl_json, int *reserve, int64_t *margin_s) {
  int r = 10;
  int64_t m = 12 * 3600;
  cJSON *doc = tpl_json ? cJSON_Parse(tpl_json) : NULL;
  const cJSON *gp = cJSON_GetObjectItemCaseSensitive(doc, "group_policy");
  const cJSON *jr = cJSON_GetObjectItemCaseSensitive(gp, "reserve");
  const cJSON *jm = cJSON_GetObjectItemCaseSensitive(gp, "expiry_margin_s");
  /* config.c's get_int: absent or null takes the default; anything else
   * must be a whole number in range (checked before any cast), or the
   * document is refused and load_store's defaults apply */
  int ok = 1;
  if(jr && !cJSON_IsNull(jr))
    ok = cJSON_IsNumber(jr) && jr->valuedouble >= 0 && jr->valuedouble <= 200 &&
         jr->valuedouble == (double)(int64_t)jr->valuedouble;
  if(ok && jm && !cJSON_IsNull(jm))
    ok = cJSON_IsNumber(jm) && jm->valuedouble >= 0 && jm->valuedouble <= 7 * 86400 &&
         jm->valuedouble == (double)(int64_t)jm->valuedouble;
  if(ok && cJSON_IsNumber(jr)) r = (int)jr->valuedouble;
  if(ok && cJSON_IsNumber(jm)) m = (int64_t)jm->valuedouble;
  cJSON_Delete(doc);
  *reserve = r;
  *margin_s = m;
}

/* The store template's keys.index within what a kiosk accepts
 * (config.h's CONFIG_INDEX_*): refused here, at every command and at
 * serve, rather than in each kiosk's config fetch. Absent fields take
 * the defaults. */
static sqr_rc template_check(const char *path, const char *json, char *err, size_t errlen) {
  cJSON *root = cJSON_Parse(json);
  if(!root) {
    snprintf(err, errlen, "%s: not JSON", path);
    return SQR_EINVAL;
  }
  const cJSON *ix =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "keys"), "index");
  static const struct {
    const char *name;
    double min, max, def;
    const char *unit;
  } f[] = {{"m_kib", CONFIG_INDEX_M_KIB_MIN, CONFIG_INDEX_M_KIB_MAX, CONFIG_INDEX_M_KIB_DEFAULT,
            " KiB (256 MiB: what a kiosk can give it)"},
           {"t", 1, CONFIG_INDEX_T_MAX, CONFIG_INDEX_T_DEFAULT, " passes"},
           {"p", 1, CONFIG_INDEX_P_MAX, CONFIG_INDEX_P_DEFAULT, " lanes"}};
  double v[3];
  sqr_rc rc = SQR_OK;
  for(size_t i = 0; !rc && i < SQR_ARRAY_LEN(f); i++) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(ix, f[i].name);
    v[i] = n ? n->valuedouble : f[i].def;
    if(n && (!cJSON_IsNumber(n) || v[i] != (double)(int64_t)v[i] || v[i] < f[i].min ||
             v[i] > f[i].max)) {
      snprintf(err, errlen, "%s: keys.index.%s must be a whole number %.0f..%.0f%s", path,
               f[i].name, f[i].min, f[i].max, f[i].unit);
      rc = SQR_EINVAL;
    }
  }
  if(!rc && v[0] < 8 * v[2]) {
    snprintf(err, errlen, "%s: keys.index.m_kib must be at least 8 times keys.index.p", path);
    rc = SQR_EINVAL;
  }
  cJSON_Delete(root);
  return rc;
}

/* The store template's retention section (member_days, event_days), as
 * config.c reads it: absent or null takes the default, anything else must
 * be a whole number in range. Refused here, at every command and at serve,
 * so no store's document carries a value a kiosk would refuse and HQ's
 * retention job never runs on one. */
static sqr_rc template_retention(const char *path, const char *json, int *member_days,
                                 int *event_days, char *err, size_t errlen) {
  *member_days = CONFIG_RETAIN_MEMBER_DEFAULT;
  *event_days = CONFIG_RETAIN_EVENT_DEFAULT;
  cJSON *root = json ? cJSON_Parse(json) : NULL;
  const cJSON *ret = cJSON_GetObjectItemCaseSensitive(root, "retention");
  sqr_rc rc = SQR_OK;
  if(ret && !cJSON_IsNull(ret) && !cJSON_IsObject(ret)) {
    snprintf(err, errlen, "%s: retention must be an object {member_days, event_days}", path);
    rc = SQR_EINVAL;
  }
  static const struct {
    const char *name;
    double min, max;
  } f[] = {{"member_days", CONFIG_RETAIN_MEMBER_MIN, CONFIG_RETAIN_MEMBER_MAX},
           {"event_days", CONFIG_RETAIN_EVENT_MIN, CONFIG_RETAIN_EVENT_MAX}};
  int *outs[] = {member_days, event_days};
  for(size_t i = 0; !rc && cJSON_IsObject(ret) && i < SQR_ARRAY_LEN(f); i++) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(ret, f[i].name);
    if(!n || cJSON_IsNull(n)) continue;
    double v = n->valuedouble;
    if(!cJSON_IsNumber(n) || !(v >= f[i].min && v <= f[i].max) || v != (double)(int64_t)v) {
      snprintf(err, errlen, "%s: retention.%s must be a whole number of days %.0f..%.0f", path,
               f[i].name, f[i].min, f[i].max);
      rc = SQR_EINVAL;
    } else {
      *outs[i] = (int)v;
    }
  }
  cJSON_Delete(root);
  return rc;
}

sqr_rc hq_open(const char *dir, const char *db_url, hq **out, char *err, size_t errlen) {
  *out = NULL;
  hq *h = calloc(1, sizeof *h);
  if(!h) return SQR_ENOMEM;
  snprintf(h->dir, sizeof h->dir, "%s", dir);
  h->key_rotate_days = 90; /* HQ_KEY_ROTATE_DAYS_DEFAULT (keys.h) */
  char path[600], *text = NULL, b64[128];
  size_t len = 0;
  sqr_rc rc;
  snprintf(path, sizeof path, "%s/master.key", dir);
  if((rc = pki_read_file(path, 64, &text, &len)) || len != 32) {
    snprintf(err, errlen, "%s: missing or not 32 bytes (run storeqr-hq init %s)", path, dir);
    free(text);
    hq_close(h);
    return rc ? rc : SQR_ECORRUPT;
  }
  memcpy(h->master, text, 32);
  crypto_wipe(text, len);
  free(text);
  if((rc = crypto_hkdf_sha256(NULL, 0, h->master, 32, "storeqr/v1/hq-pii", h->pii_key, 32)) ||
     (rc = crypto_hkdf_sha256(NULL, 0, h->master, 32, "storeqr/v1/hq-phone-index", h->index_key,
                              32)))
    goto fail;
  if((rc = load_b64_file(dir, "seal.pub", b64, sizeof b64)) ||
     (rc = seal_pub_from_b64(b64, h->seal_pub))) {
    snprintf(err, errlen, "%s/seal.pub: missing or not a P-256 public key", dir);
    goto fail_msg;
  }
  if((rc = load_b64_file(dir, "seal.key", b64, sizeof b64)) ||
     (rc = seal_priv_from_b64(b64, h->seal_priv))) {
    crypto_wipe(b64, sizeof b64);
    snprintf(err, errlen, "%s/seal.key: missing or not a P-256 private key", dir);
    goto fail_msg;
  }
  if((rc = seal_fast_new(h->seal_priv, &h->opener))) {
    snprintf(err, errlen, "%s/seal.key: cannot make the opener of sealed phones", dir);
    goto fail_msg;
  }
  crypto_wipe(b64, sizeof b64);
  if((rc = load_b64_file(dir, "admin.token.sha256", b64, sizeof b64)) ||
     (rc = crypto_unhex(b64, h->admin_hash, 32))) {
    snprintf(err, errlen, "%s/admin.token.sha256: missing or not 64 hex digits", dir);
    goto fail_msg;
  }
  if((rc = pki_ca_load(dir, "device-ca", &h->device_ca, err, errlen))) goto fail_msg;
  snprintf(path, sizeof path, "%s/hq-ca.crt", dir);
  if((rc = pki_read_file(path, 16384, &h->hq_ca_pem, NULL))) {
    snprintf(err, errlen, "%s: cannot read it", path);
    goto fail_msg;
  }
  snprintf(path, sizeof path, "%s/store-template.json", dir);
  rc = pki_read_file(path, CONFIG_MAX_BYTES, &h->template_json, NULL);
  if(rc && rc != SQR_ENOTFOUND) {
    snprintf(err, errlen, "%s: cannot read it", path);
    goto fail_msg;
  }
  if(h->template_json && (rc = template_check(path, h->template_json, err, errlen))) goto fail_msg;
  if((rc = template_retention(path, h->template_json, &h->retain_member_days, &h->retain_event_days,
                              err, errlen)))
    goto fail_msg;
  template_group_policy(h->template_json, &h->group_reserve, &h->group_margin_s);
  snprintf(path, sizeof path, "%s/hq.db", dir);
  if((rc = hqdb_open(db_url ? db_url : path, &h->db, err, errlen))) goto fail_msg;
  hq_set_url(h, "127.0.0.1", 8443);
  *out = h;
  return SQR_OK;
fail:
  snprintf(err, errlen, "cannot derive HQ's keys");
fail_msg:
  hq_close(h);
  return rc;
}

void hq_close(hq *h) {
  if(!h) return;
  if(h->alert_queued)
    log_error("hq", "stopping with storage unavailable: %zu alerts never written", h->alert_queued);
  free(h->alert_queue);
  hqdb_close(h->db);
  pki_ca_free(h->device_ca);
  free(h->hq_ca_pem);
  free(h->template_json);
  seal_fast_free(h->opener);
  crypto_wipe(h, sizeof *h);
  free(h);
}

void hq_set_url(hq *h, const char *host, int port) {
  if(!h->kiosk_host[0]) snprintf(h->url, sizeof h->url, "https://%s:%d", host, port);
  if(!h->public_host[0]) snprintf(h->resolver_host, sizeof h->resolver_host, "%s:%d", host, port);
}

/* A DNS name (labels of 1..63 letters, digits and inner '-', 253 at most)
 * or a dotted IPv4 literal. A name whose last label is all digits would
 * be read as an address by some clients and as a name by others: refused
 * unless it is a valid IPv4 literal. */
static int host_valid(const char *host) {
  size_t n = strlen(host);
  if(n == 0 || n > 253) return 0;
  struct in_addr a;
  if(inet_pton(AF_INET, host, &a) == 1) return 1;
  const char *label = host;
  int all_digits = 1;
  for(const char *p = host;; p++) {
    if(*p == '.' || *p == '\0') {
      size_t len = (size_t)(p - label);
      if(len == 0 || len > 63 || label[0] == '-' || p[-1] == '-') return 0;
      if(!*p) break;
      label = p + 1;
      all_digits = 1;
      continue;
    }
    if(!isalnum((unsigned char)*p) && *p != '-') return 0;
    if(!isdigit((unsigned char)*p)) all_digits = 0;
  }
  return !all_digits;
}

/* "https://HOST[:PORT]" into host (lower case) and hostport
 * ("HOST[:PORT]" as given, host lowered). */
static sqr_rc url_parse(const char *what, const char *url, size_t max, char *host, size_t hostlen,
                        char *hostport, size_t hplen, char *err, size_t errlen) {
  static const char scheme[] = "https://";
  size_t n = url ? strlen(url) : 0;
  if(!url || !*url) {
    snprintf(err, errlen, "%s: empty; want https://HOST[:PORT]", what);
    return SQR_EINVAL;
  }
  if(strncmp(url, scheme, sizeof scheme - 1) != 0) {
    snprintf(err, errlen, "%s: want https://HOST[:PORT] (HTTPS only), got %.80s", what, url);
    return SQR_EINVAL;
  }
  const char *hp = url + sizeof scheme - 1;
  size_t hpn = n - (sizeof scheme - 1);
  if(n >= max) {
    snprintf(err, errlen, "%s: longer than %zu characters", what, max - 1);
    return SQR_EINVAL;
  }
  if(hpn >= hplen || hpn >= hostlen) { /* the public name: a kiosk's QR holds this much */
    snprintf(err, errlen, "%s: HOST[:PORT] longer than %zu characters", what,
             (hplen < hostlen ? hplen : hostlen) - 1);
    return SQR_EINVAL;
  }
  if(strpbrk(hp, "/?#@[]")) {
    snprintf(err, errlen, "%s: only https://HOST[:PORT], no user, path, query or fragment: %.80s",
             what, url);
    return SQR_EINVAL;
  }
  const char *colon = strchr(hp, ':');
  size_t hn = colon ? (size_t)(colon - hp) : hpn;
  memcpy(host, hp, hn);
  host[hn] = '\0';
  for(char *p = host; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  if(!host_valid(host)) {
    snprintf(err, errlen, "%s: %.80s is not a DNS name or an IPv4 address", what, host);
    return SQR_EINVAL;
  }
  if(colon) {
    const char *d = colon + 1;
    size_t dn = strlen(d);
    long port = 0;
    for(const char *p = d; *p && isdigit((unsigned char)*p); p++)
      port = port * 10 + (*p - '0');
    if(dn == 0 || dn > 5 || strspn(d, "0123456789") != dn || port < 1 || port > 65535) {
      snprintf(err, errlen, "%s: port must be 1..65535, got \"%.10s\"", what, d);
      return SQR_EINVAL;
    }
  }
  snprintf(hostport, hplen, "%s%s", host, colon ? colon : "");
  return SQR_OK;
}

sqr_rc hq_set_kiosk_url(hq *h, const char *what, const char *url, char *err, size_t errlen) {
  char host[HQ_KIOSK_URL_MAX - 8], hostport[HQ_KIOSK_URL_MAX - 8]; /* less "https://" */
  sqr_rc rc = url_parse(what, url, sizeof h->url, host, sizeof host, hostport, sizeof hostport, err,
                        errlen);
  if(rc) return rc;
  snprintf(h->url, sizeof h->url, "https://%s", hostport);
  snprintf(h->kiosk_host, sizeof h->kiosk_host, "%s", host);
  return SQR_OK;
}

sqr_rc hq_set_public_url(hq *h, const char *what, const char *url, char *err, size_t errlen) {
  char host[HQ_PUBLIC_HOST_MAX], hostport[HQ_PUBLIC_HOST_MAX];
  sqr_rc rc = url_parse(what, url, HQ_KIOSK_URL_MAX, host, sizeof host, hostport, sizeof hostport,
                        err, errlen);
  if(rc) return rc;
  snprintf(h->resolver_host, sizeof h->resolver_host, "%s", hostport);
  snprintf(h->public_host, sizeof h->public_host, "%s", host);
  return SQR_OK;
}

int hq_admin_ok(const hq *h, const char *auth) {
  if(!auth || strncmp(auth, "Bearer ", 7) != 0) return 0;
  uint8_t th[32];
  const char *tok = auth + 7;
  if(crypto_sha256(tok, strlen(tok), th)) return 0;
  return crypto_ct_equal(th, h->admin_hash, 32);
}

sqr_rc hq_store_key(const hq *h, const char *sid, int version, uint8_t out[32]) {
  char info[96];
  snprintf(info, sizeof info, "storeqr/v1/store-key/%s/%d", sid, version);
  return crypto_hkdf_sha256(NULL, 0, h->master, 32, info, out, 32);
}

const char *hq_url(const hq *h) {
  return h->url;
}

const char *hq_kiosk_host(const hq *h) {
  return h->kiosk_host;
}

const char *hq_public_host(const hq *h) {
  return h->public_host;
}

const char *hq_resolver_host(const hq *h) {
  return h->resolver_host;
}

const char *hq_dir(const hq *h) {
  return h->dir;
}

const char *hq_backend(const hq *h) {
  return hqdb_backend(h->db);
}

sqr_rc hq_ready(hq *h, int timeout_ms) {
  return hqdb_ping(h->db, timeout_ms);
}

const char *hq_storage_error(const hq *h) {
  return hqdb_errmsg(h->db);
}

sqr_rc hq_fail(hq_err *e, sqr_rc rc, const char *code, const char *fmt, ...) {
  if(!e) return rc;
  e->code = code;
  e->extra_key = NULL;
  e->extra = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
  return rc;
}

sqr_rc hq_fail_storage(const hq *h, hq_err *e, sqr_rc rc) {
  log_error("hq", "storage: %s", hqdb_errmsg(h->db));
  return hq__fail_db(e, rc);
}

sqr_rc hq__fail_db(hq_err *e, sqr_rc rc) {
  /* SQR_ENET: the database cannot be reached (hqdb_pg.c reconnects with
   * backoff): the client should come back shortly, not report a fault. */
  if(rc == SQR_ENET)
    return hq_fail(e, rc, "unavailable", "HQ's database is unavailable; try again shortly");
  return hq_fail(e, rc, "storage", "HQ's database failed; try again");
}

sqr_rc hq_subscribe(hq *h, void (*fn)(void *arg, hq_change change, const char *store), void *arg) {
  if(h->nlisteners == HQ_MAX_LISTENERS) return SQR_ENOMEM;
  h->listeners[h->nlisteners++] = (hq_listener){fn, arg};
  return SQR_OK;
}

void hq_unsubscribe(hq *h, void (*fn)(void *arg, hq_change change, const char *store), void *arg) {
  for(size_t i = 0; i < h->nlisteners; i++) {
    if(h->listeners[i].fn == fn && h->listeners[i].arg == arg) {
      h->listeners[i] = h->listeners[--h->nlisteners];
      return;
    }
  }
}

void hq__notify(hq *h, hq_change change, const char *store) {
  for(size_t i = 0; i < h->nlisteners; i++)
    h->listeners[i].fn(h->listeners[i].arg, change, store);
}
