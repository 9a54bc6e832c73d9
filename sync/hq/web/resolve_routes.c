/* resolve_routes.c — the scan resolver's routes (see resolve.h,
 * resolve_int.h and docs/PROTOCOL.md "Scan resolver").
 *
 * GET /J/<STORE>/<TOKEN>: the kiosk's live code. The token is checked
 * with the one key its kiosk number and key version name (unknown or
 * retired: refused; livecode_verify: constant time, MAC before window),
 * the scan counted by store, kiosk and hour, and the shopper sent
 * to the store's group with room. GET /N/<BRAND>: the brand-wide code that
 * finds the nearest store by the phone's location.
 *
 * Owns answering: the URL, the language and gzip or not as
 * resolve_parse.c reads them, a brand's nearest store (lat/lon, great-circle
 * distance), choosing the page and queuing its prebuilt response. Holds
 * no state of its own: the entries are the cache's (resolve_cache.c), the
 * counts go into them (resolve__count_scan) for the flusher
 * (resolve_counters.c) to write. The hot path goes to the database only
 * on a cache miss and when a group's leased seats are spent (one
 * conditional UPDATE per block, resolve__lease).
 *
 * Locks: takes only resolve__R.lock, held for memory work (no I/O but
 * rendering a page the first time); a miss and a lease take db_lock (in
 * the cache, in resolve__lease), before resolve__R.lock and never while
 * holding it. Never logs a token or a key; pages never show a phone
 * number.
 */
#include "resolve.h"
#include "resolve_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "livecode.h"
#include "log.h"

/* ---- answering ------------------------------------------------------------------- */

static int local_minute(const rstore *e, int64_t now) {
  int64_t t = now + (int64_t)e->utc_offset_min * 60;
  t %= 86400;
  if(t < 0) t += 86400;
  return (int)(t / 60);
}

/* Index of the campaign running now, or -1. */
static int campaign_now(const rstore *e, int64_t now) {
  int m = local_minute(e, now);
  for(size_t i = 0; i < e->ncampaigns; i++)
    if(m >= e->campaigns[i].start_min && m < e->campaigns[i].end_min) return (int)i;
  return -1;
}

/* 1 if the client takes gzip (resolve_accepts_gzip). */
static int accepts_gzip(struct MHD_Connection *c) {
  return resolve_accepts_gzip(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding"));
}

static int lang_of(struct MHD_Connection *c) {
  return resolve_lang_of(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Language"));
}

static page *static_answer(int kind, int lang) {
  pthread_mutex_lock(&resolve__R.lock);
  page *p = resolve__static_page(kind, lang);
  pthread_mutex_unlock(&resolve__R.lock);
  return p;
}

/* The group page (or the staff contact page) of a store whose entry is
 * held with resolve__R.lock; counts the shopper as sent when count is set,
 * spending a seat of the group's lease (asking the database for more
 * when it is spent). Releases resolve__R.lock; NULL on a storage error. */
static page *group_page_locked(hq *h, rstore *e, int lang, int count, int64_t now) {
  page *p = NULL;
  rgroup *g = resolve__choose_group(e, now);
  /* Each ask either grants a seat or marks the group without seats, so
   * this ends within one ask per group. */
  for(size_t asks = 0; count && g && !g->lease && asks <= e->ngroups; asks++) {
    int64_t want, limit;
    resolve__lease_want(e, g, &want, &limit);
    sqr_rc rc;
    e = resolve__lease(h, e->id, g->id, want, limit, &rc);
    if(!e) return NULL;
    if(e->missing) {
      pthread_mutex_unlock(&resolve__R.lock);
      return static_answer(PG_NO_STORE, lang);
    }
    g = resolve__choose_group(e, now);
  }
  if(count && g && !g->lease) g = NULL; /* cannot happen; never send without a seat */
  int campaign = campaign_now(e, now);
  if(count) counters_add_scan(g ? "sent" : "all_full");
  if(g) {
    if(count) {
      g->sent_mem++;
      g->lease--;
      g->used_s = now;
    }
    if(!g->pages[lang] || g->page_campaign[lang] != campaign) {
      resolve__page_unref(g->pages[lang]);
      g->pages[lang] = resolve__render_group(e, g, campaign, lang);
      g->page_campaign[lang] = campaign;
    }
    p = resolve__page_ref(g->pages[lang]);
  } else {
    if(count && now * 1000 - e->last_alert_ms >= ALERT_WINDOW_MS) {
      e->last_alert_ms = now * 1000;
      e->alert_due = 1;
      resolve__mark_dirty(e);
      resolve__R.alerts_due = 1;
      pthread_cond_signal(&resolve__R.cond);
      log_warn("resolve", "store %s: every group is full or expired; showing the staff code",
               e->id);
    }
    if(!e->exhausted[lang] || e->exh_campaign[lang] != campaign) {
      resolve__page_unref(e->exhausted[lang]);
      e->exhausted[lang] = resolve__render_exhausted(e, campaign, lang);
      e->exh_campaign[lang] = campaign;
    }
    p = resolve__page_ref(e->exhausted[lang]);
  }
  pthread_mutex_unlock(&resolve__R.lock);
  return p;
}

/* The answer to a scan (a held page), or NULL when storage failed. */
/* The key of (kiosk number, version) in the store's table, or NULL: a
 * number HQ never enrolled, or a version it never issued. */
static const rkey *find_key(const rstore *e, int kiosk, int version) {
  for(size_t i = 0; i < e->nkeys; i++)
    if(e->keys[i].number == kiosk && e->keys[i].key.version == version) return &e->keys[i];
  return NULL;
}

static page *route_j(hq *h, const resolve_url *u, int get, int lang) {
  if(u->kind == RESOLVE_URL_NO_ID) return static_answer(PG_NO_STORE, lang);
  if(u->kind == RESOLVE_URL_BAD_ID) {
    counters_add_scan("unknown_store");
    return static_answer(PG_NO_STORE, lang);
  }
  const char *sid = u->id, *token = u->token;
  sqr_rc rc;
  rstore *e = resolve__get_store(h, sid, 0, &rc);
  if(!e) {
    log_error("resolve", "store %s: storage failed: %s", sid, sqr_strerror(rc));
    return NULL;
  }
  if(e->missing) {
    pthread_mutex_unlock(&resolve__R.lock);
    counters_add_scan("unknown_store");
    return static_answer(PG_NO_STORE, lang);
  }
  int64_t now_ms = hq_now_ms(), now = now_ms / 1000;
  livecode_claim claim;
  const char *outcome = NULL;
  /* The token names its kiosk and key version (public bytes); only that
   * key may verify it, so a kiosk's key never speaks for another number.
   * Constant time over the MAC; a forged token and an old one are told
   * apart only after the MAC checked. */
  const rkey *k = NULL;
  rc = livecode_peek(token, &claim);
  if(!rc && !(k = find_key(e, claim.kiosk, claim.key_version))) {
    rc = SQR_EAUTH;
    outcome = "unknown_key"; /* a number never enrolled, a version never issued */
  }
  if(!rc)
    rc = livecode_verify(&k->key, 1, sid, token, now, e->period, e->skew, LIVECODE_LEAD_S, &claim);
  if((!rc || rc == SQR_EEXPIRED) && k->retire_ms && k->retire_ms <= now_ms) {
    /* Authentic, under a key HQ retired (a revoked or replaced kiosk, or a
     * thief's copy): refused for every window, past or future, and
     * someone should know. */
    rc = SQR_EAUTH;
    outcome = "retired_key";
    if(get) {
      snprintf(e->retired_due, sizeof e->retired_due, "%s", k->kiosk_id);
      resolve__mark_dirty(e);
      resolve__R.alerts_due = 1;
      pthread_cond_signal(&resolve__R.cond);
    }
  }
  if(rc) {
    page *p = resolve__static_page(rc == SQR_EEXPIRED ? PG_EXPIRED : PG_BAD_TOKEN, lang);
    pthread_mutex_unlock(&resolve__R.lock);
    counters_add_scan(outcome              ? outcome
                      : rc == SQR_EEXPIRED ? "expired"
                      : rc == SQR_EAUTH    ? "forged"
                                           : "malformed");
    return p;
  }
  if(get) {
    resolve__count_scan(e, claim.kiosk, now_ms / 3600000);
    resolve__R.pending++;
    if(resolve__flush_due()) pthread_cond_signal(&resolve__R.cond);
  }
  return group_page_locked(h, e, lang, get, now);
}

/* ---- /N/<BRAND> ----------------------------------------------------------------- */

double resolve_distance_km(double lat1, double lon1, double lat2, double lon2) {
  const double rad = M_PI / 180.0;
  double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
  double a = sin(dlat / 2) * sin(dlat / 2) +
             cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
  if(a > 1) a = 1;
  return 2 * 6371.0088 * asin(sqrt(a));
}

/* A query argument, "" (never valid) when its unescaped value holds a
 * NUL (%00), NULL when absent. */
static const char *query_arg(struct MHD_Connection *c, const char *name) {
  const char *v = NULL;
  size_t n = 0;
  if(MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, name, strlen(name), &v, &n) !=
         MHD_YES ||
     !v)
    return NULL;
  return strlen(v) == n ? v : "";
}

/* A brand id follows a store id's rule, 1..16 of A-Z 0-9 '-' (the
 * /N/<BRAND> URL stays upper case, like /J/); a store belongs to at most
 * one brand. */
static page *route_n(hq *h, struct MHD_Connection *c, const resolve_url *u, int get, int lang) {
  if(u->kind != RESOLVE_URL_N) return static_answer(PG_NO_STORE, lang);
  const char *brand = u->id;
  const char *lat_s = query_arg(c, "lat"), *lon_s = query_arg(c, "lon");
  const char *store_s = query_arg(c, "store");
  sqr_rc rc;
  rbrand *b = resolve__get_brand(h, brand, &rc);
  if(!b) {
    if(rc == SQR_ENOTFOUND) return static_answer(PG_NO_STORE, lang);
    log_error("resolve", "brand %s: storage failed: %s", brand, sqr_strerror(rc));
    return NULL;
  }
  char target[HQ_ID_MAX] = "";
  if(store_s) {
    for(size_t i = 0; i < b->n; i++)
      if(strcmp(b->stores[i].id, store_s) == 0) snprintf(target, sizeof target, "%s", store_s);
    if(!target[0]) {
      pthread_mutex_unlock(&resolve__R.lock);
      return static_answer(PG_NO_STORE, lang);
    }
  } else if(lat_s || lon_s) {
    double lat, lon, best = INFINITY;
    if(!resolve_parse_degrees(lat_s, 90, &lat) || !resolve_parse_degrees(lon_s, 180, &lon)) {
      static const char *const note[NLANG] = {"无法识别的位置，请从列表中选择门店。",
                                              "Location not understood: please choose a store."};
      page *p = resolve__render_brand(b, lang, 400, note[lang]);
      pthread_mutex_unlock(&resolve__R.lock);
      return p;
    }
    for(size_t i = 0; i < b->n; i++) {
      const resolve_brand_store *s = &b->stores[i];
      if(s->lat == 0 && s->lon == 0) continue; /* no coordinates given */
      double d = resolve_distance_km(lat, lon, s->lat, s->lon);
      if(d < best) {
        best = d;
        snprintf(target, sizeof target, "%s", s->id);
      }
    }
  }
  if(!target[0]) {
    if(!b->pages[lang]) b->pages[lang] = resolve__render_brand(b, lang, 200, NULL);
    page *p = resolve__page_ref(b->pages[lang]);
    pthread_mutex_unlock(&resolve__R.lock);
    return p;
  }
  pthread_mutex_unlock(&resolve__R.lock);
  rstore *e = resolve__get_store(h, target, 0, &rc);
  if(!e) {
    return NULL;
  }
  if(e->missing) {
    pthread_mutex_unlock(&resolve__R.lock);
    return static_answer(PG_NO_STORE, lang);
  }
  if(get) resolve__R.pending++;
  return group_page_locked(h, e, lang, get, hq_now_ms() / 1000);
}

/* The page for a /J or /N request (held: page_unref it), or NULL when
 * storage failed. 0 when the URL is not the resolver's. */
static int resolve_page(hq *h, struct MHD_Connection *c, const char *method, const char *url,
                        page **out) {
  *out = NULL;
  resolve_url u;
  resolve_url_parse(url, &u);
  if(u.kind == RESOLVE_URL_OTHER) return 0;
  int lang = lang_of(c);
  int get = strcmp(method, "GET") == 0;
  if(!get && strcmp(method, "HEAD") != 0)
    *out = static_answer(PG_METHOD, lang);
  else if(u.kind == RESOLVE_URL_TOO_LONG)
    *out = static_answer(PG_TOO_LONG, lang);
  else if(u.j)
    *out = route_j(h, &u, get, lang);
  else
    *out = route_n(h, c, &u, get, lang);
  /* Storage failed (route_j/route_n logged why): the shopper gets a page
   * saying try again, 503 with Retry-After, like every route whose
   * database is down; NULL only when even that cannot be rendered. */
  if(!*out) *out = static_answer(PG_UNAVAILABLE, lang);
  return 1;
}

int resolve_serve(hq *h, struct MHD_Connection *c, const char *method, const char *url, int *status,
                  size_t *sent_min) {
  page *p;
  *status = 0;
  *sent_min = 0;
  if(!resolve_page(h, c, method, url, &p)) return 0;
  if(!p) return -1;
  *status = p->status;
  /* libmicrohttpd takes its own reference; ours goes at once */
  int gz = p->gz && accepts_gzip(c);
  struct MHD_Response *r = gz ? p->gz : p->resp;
  if(strcmp(method, "GET") == 0) *sent_min = gz ? p->gz_min : p->resp_min;
  int ok = MHD_queue_response(c, (unsigned)p->status, r) == MHD_YES;
  resolve__page_unref(p);
  return ok ? 1 : -2;
}
