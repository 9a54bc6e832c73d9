/* resolve_routes.c — the scan resolver (see resolve.h and
 * docs/PROTOCOL.md "Scan resolver").
 *
 * GET /J/<STORE>/<TOKEN>: the kiosk's live code. The token is checked
 * with the store's key (livecode_verify: constant time, MAC before
 * window), the scan counted by store, kiosk and hour, and the shopper sent
 * to the store's group with room. GET /N/<BRAND>: the brand-wide code that
 * finds the nearest store by the phone's location.
 *
 * Owns one process-wide cache of stores (keys, rotation, group policy,
 * groups with their fill, campaigns, rendered pages) and brands, and the
 * counters not yet written. The hot path never writes to the database:
 * counters live here and a flusher thread writes them in one transaction
 * every RESOLVE_FLUSH_MS or RESOLVE_FLUSH_SCANS scans, and at stop. A
 * crash loses at most that window of scan counts (never a sign-up: those
 * are kiosk events). The database is only read on a cache miss.
 *
 * Locks: R.lock guards everything here and is held only for memory work
 * (no I/O but rendering a page the first time). db_lock (server.c's) is
 * taken before R.lock whenever both are needed, never the other way round.
 * Never logs a token or a key; pages never show a phone number.
 */
#include "resolve.h"
#include "resolve_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "configdoc.h"
#include "counters.h"
#include "group.h"
#include "joinlink.h"
#include "livecode.h"
#include "log.h"
#include "qrpng.h"
#include "scan.h"

#define NBUCKETS        1024
#define MAX_NEGATIVE    4096    /* unknown store ids remembered (hostile URLs) */
#define URL_MAX         256     /* longer /J or /N paths: 414 */
#define ALERT_WINDOW_MS 3600000 /* groups_exhausted: once per store per hour */
#define SENT_REREAD_MS  5000    /* other HQ processes' group_scans (PostgreSQL) */

static struct {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  hq *h;
  pthread_mutex_t *db_lock;
  pthread_t thread;
  int running, stopping;
  rstore *buckets[NBUCKETS];
  size_t nnegative;
  rbrand *brands;
  int64_t pending; /* scans since the last flush */
  int alerts_due;
} R = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

/* ---- small helpers ----------------------------------------------------------- */

static void db_lock(void) {
  if(R.db_lock) pthread_mutex_lock(R.db_lock);
}
static void db_unlock(void) {
  if(R.db_lock) pthread_mutex_unlock(R.db_lock);
}

static unsigned hash_id(const char *s) {
  unsigned h = 2166136261u;
  for(; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h % NBUCKETS;
}

static rstore *find_store(const char *id) {
  for(rstore *e = R.buckets[hash_id(id)]; e; e = e->next)
    if(strcmp(e->id, id) == 0) return e;
  return NULL;
}

static rgroup *find_group(rstore *e, const char *id) {
  for(size_t i = 0; i < e->ngroups; i++)
    if(strcmp(e->groups[i].id, id) == 0) return &e->groups[i];
  return NULL;
}

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

/* ---- loading a store ------------------------------------------------------------ */

static void free_groups(rgroup *g, size_t n) {
  for(size_t i = 0; i < n; i++) {
    free(g[i].qr_src);
    for(int l = 0; l < NLANG; l++)
      resolve__page_unref(g[i].pages[l]);
  }
  free(g);
}

/* Frees what an entry owns except its pending scans and hash link. */
static void store_clear_content(rstore *e) {
  free_groups(e->groups, e->ngroups);
  e->groups = NULL;
  e->ngroups = 0;
  free(e->campaigns);
  e->campaigns = NULL;
  e->ncampaigns = 0;
  free(e->fallback_qr);
  e->fallback_qr = NULL;
  for(int l = 0; l < NLANG; l++) {
    resolve__page_unref(e->exhausted[l]);
    e->exhausted[l] = NULL;
  }
  livecode_key_wipe(&e->key);
}

static void drop_pages(rstore *e) {
  for(size_t i = 0; i < e->ngroups; i++)
    for(int l = 0; l < NLANG; l++) {
      resolve__page_unref(e->groups[i].pages[l]);
      e->groups[i].pages[l] = NULL;
    }
  for(int l = 0; l < NLANG; l++) {
    resolve__page_unref(e->exhausted[l]);
    e->exhausted[l] = NULL;
  }
}

/* Reads one store into *e (fresh memory, not in the table). Caller holds
 * db_lock (or is the command line). SQR_ENOTFOUND: no such store (e is
 * then a negative entry). */
static sqr_rc load_store(hq *h, const char *sid, rstore *e) {
  memset(e, 0, sizeof *e);
  snprintf(e->id, sizeof e->id, "%s", sid);
  e->events = -1;
  hq_store st;
  sqr_rc rc = hq_scan_store(h, sid, &st);
  if(rc == SQR_ENOTFOUND) {
    e->missing = 1;
    return rc;
  }
  if(rc) return rc;
  snprintf(e->name, sizeof e->name, "%s", st.name);
  snprintf(e->city, sizeof e->city, "%s", st.city);
  e->lat = st.lat;
  e->lon = st.lon;
  e->config_version = st.config_version;
  e->period = LIVECODE_DEFAULT_PERIOD;
  e->skew = 1;
  e->reserve = 10;
  e->margin_s = 43200;
  e->utc_offset_min = 480;
  uint8_t key[32];
  if((rc = hq_store_key(h, sid, st.key_version, key))) return rc;
  rc = livecode_key_init(&e->key, key, (uint8_t)st.key_version);
  memset(key, 0, sizeof key);
  if(rc) return rc;
  if((rc = hq_scan_brand_of(h, sid, e->brand))) return rc;

  /* Rotation, group policy and campaigns come from the store's document,
   * exactly as its kiosks get them; groups straight from the table. */
  char *doc = NULL, err[300];
  int64_t version;
  sqr_config *cfg = NULL;
  if(!hq_config_doc(h, sid, 1, &doc, &version, err, sizeof err) &&
     !config_parse(doc, strlen(doc), &cfg, err, sizeof err)) {
    e->period = cfg->period_s;
    e->skew = cfg->skew;
    e->reserve = cfg->group_reserve;
    e->margin_s = cfg->expiry_margin_s;
    e->utc_offset_min = cfg->utc_offset_min;
    snprintf(e->fallback, sizeof e->fallback, "%s", cfg->fallback_link);
    if(cfg->ncampaigns && (e->campaigns = calloc(cfg->ncampaigns, sizeof *e->campaigns))) {
      e->ncampaigns = cfg->ncampaigns;
      for(size_t i = 0; i < cfg->ncampaigns; i++) {
        const config_campaign *c = &cfg->campaigns[i];
        rcampaign *o = &e->campaigns[i];
        o->start_min = c->start_min;
        o->end_min = c->end_min;
        const char *zh =
            c->coupon_campaign && c->coupon_title_zh[0] ? c->coupon_title_zh : c->text_zh;
        const char *en =
            c->coupon_campaign && c->coupon_title_en[0] ? c->coupon_title_en : c->text_en;
        snprintf(o->offer[LANG_ZH], sizeof o->offer[LANG_ZH], "%s", zh);
        snprintf(o->offer[LANG_EN], sizeof o->offer[LANG_EN], "%s", en[0] ? en : zh);
      }
    }
  } else {
    log_warn("resolve", "store %s: configuration unusable (%s); default rotation and policy", sid,
             err);
  }
  if(doc) {
    memset(doc, 0, strlen(doc)); /* it holds the store key */
    free(doc);
  }
  config_free(cfg);
  /* Without an image (no memory, a link too long for a QR code) the page
   * shows the link's button alone. */
  if(e->fallback[0] && joinlink_valid(e->fallback) && qrpng_data_uri(e->fallback, &e->fallback_qr))
    e->fallback_qr = NULL;

  hq_group *gs = calloc(CONFIG_MAX_GROUPS, sizeof *gs);
  size_t ng = 0;
  if(!gs) return SQR_ENOMEM;
  if((rc = hq_scan_groups(h, sid, gs, CONFIG_MAX_GROUPS, &ng))) goto out;
  if(ng && !(e->groups = calloc(ng, sizeof *e->groups))) {
    rc = SQR_ENOMEM;
    goto out;
  }
  for(size_t i = 0; i < ng; i++) {
    if(strcmp(gs[i].kind, "interest") == 0) continue; /* not in the live-code rotation */
    rgroup *g = &e->groups[e->ngroups++];
    snprintf(g->id, sizeof g->id, "%s", gs[i].id);
    snprintf(g->name, sizeof g->name, "%s", gs[i].name);
    snprintf(g->link, sizeof g->link, "%s", gs[i].link);
    g->capacity = gs[i].capacity;
    g->expires_at = gs[i].expires_at;
    g->retired = gs[i].retired;
    if((rc = hq_scan_joins(h, sid, g->id, &g->joins, &g->marked_full)) ||
       (rc = hq_scan_sent(h, sid, g->id, &g->sent_db)))
      goto out;
  }
out:
  free(gs);
  return rc;
}

/* The one group rule (app/core/group.h) over what the resolver counts:
 * joins the kiosks reported plus shoppers it sent, flushed or not. */
static group_state state_of(const rgroup *g) {
  return (group_state){.capacity = g->capacity,
                       .count = g->joins + g->sent_db + g->sent_mem,
                       .expires_at = g->expires_at,
                       .marked_full = g->marked_full,
                       .retired = g->retired};
}

static group_rule rule_of(const rstore *e) {
  return (group_rule){.reserve = e->reserve, .expiry_margin_s = e->margin_s};
}

static rgroup *choose_group(rstore *e, int64_t now) {
  group_rule r = rule_of(e);
  for(size_t i = 0; i < e->ngroups; i++) {
    group_state st = state_of(&e->groups[i]);
    if(group_is_usable(&st, &r, now)) return &e->groups[i];
  }
  return NULL;
}

/* Puts a freshly loaded store in the table, keeping what the old entry
 * held that the database does not have yet (unflushed counts, alert
 * time) and QR images of unchanged links. Caller holds db_lock and
 * R.lock. Takes over fresh's content; returns the entry or NULL (ENOMEM). */
static rstore *install(rstore *fresh) {
  rstore *e = find_store(fresh->id);
  if(!e) {
    if(fresh->missing && R.nnegative >= MAX_NEGATIVE) return NULL;
    e = malloc(sizeof *e);
    if(!e) return NULL;
    *e = *fresh;
    unsigned b = hash_id(e->id);
    e->next = R.buckets[b];
    R.buckets[b] = e;
    if(e->missing) R.nnegative++;
    return e;
  }
  for(size_t i = 0; i < fresh->ngroups; i++) {
    rgroup *ng = &fresh->groups[i], *og = find_group(e, ng->id);
    if(!og) continue;
    ng->sent_mem = og->sent_mem;
    og->sent_mem = 0;
    if(strcmp(ng->link, og->link) == 0 && !ng->qr_src) {
      ng->qr_src = og->qr_src;
      og->qr_src = NULL;
    }
  }
  /* A group that vanished keeps no unflushed count: HQ never deletes
   * groups (retired ones stay), so this does not happen. */
  if(e->missing && !fresh->missing && R.nnegative) R.nnegative--;
  if(!e->missing && fresh->missing) R.nnegative++;
  store_clear_content(e);
  rstore *next = e->next;
  rscan *scans = e->scans;
  size_t nscans = e->nscans, capscans = e->capscans;
  int64_t last_alert = e->last_alert_ms;
  int alert_due = e->alert_due;
  *e = *fresh;
  e->next = next;
  e->scans = scans;
  e->nscans = nscans;
  e->capscans = capscans;
  e->last_alert_ms = last_alert;
  e->alert_due = alert_due;
  return e;
}

static void make_qr_images(rstore *e) {
  for(size_t i = 0; i < e->ngroups; i++) {
    rgroup *g = &e->groups[i];
    if(!g->qr_src && joinlink_valid(g->link) && qrpng_data_uri(g->link, &g->qr_src))
      g->qr_src = NULL; /* the button alone, as for the staff contact */
  }
}

/* The entry for sid with R.lock held, loading it when absent or stale.
 * NULL with R.lock NOT held on a storage error (*rc set). have_db: the
 * caller already holds db_lock. */
static rstore *get_store(hq *h, const char *sid, int have_db, sqr_rc *rc) {
  *rc = SQR_OK;
  pthread_mutex_lock(&R.lock);
  rstore *e = find_store(sid);
  if(e && !e->stale) return e;
  pthread_mutex_unlock(&R.lock);
  /* db_lock stays held until the new entry is in: a flush cannot run
   * between reading group_scans and installing, so no count is lost. */
  if(!have_db) db_lock();
  rstore fresh;
  *rc = load_store(h, sid, &fresh);
  if(*rc == SQR_ENOTFOUND) *rc = SQR_OK;
  if(!*rc) make_qr_images(&fresh);
  pthread_mutex_lock(&R.lock);
  e = *rc ? NULL : install(&fresh);
  if(!have_db) db_unlock();
  if(!e) {
    store_clear_content(&fresh);
    pthread_mutex_unlock(&R.lock);
    if(!*rc && fresh.missing) {
      /* too many unknown ids remembered: answer without caching */
      static rstore unknown = {.missing = 1};
      pthread_mutex_lock(&R.lock);
      return &unknown;
    }
    if(!*rc) *rc = SQR_ENOMEM;
    return NULL;
  }
  return e;
}

/* ---- counting -------------------------------------------------------------------- */

static void count_scan(rstore *e, int kiosk, int64_t hour) {
  for(size_t i = 0; i < e->nscans; i++)
    if(e->scans[i].kiosk == kiosk && e->scans[i].hour == hour) {
      e->scans[i].n++;
      return;
    }
  if(e->nscans == e->capscans) {
    size_t cap = e->capscans ? e->capscans * 2 : 4;
    rscan *ns = realloc(e->scans, cap * sizeof *ns);
    if(!ns) return; /* out of memory: this one scan goes uncounted */
    e->scans = ns;
    e->capscans = cap;
  }
  e->scans[e->nscans++] = (rscan){.kiosk = kiosk, .hour = hour, .n = 1};
}

/* ---- answering ------------------------------------------------------------------- */

/* One item of a header list like Accept-Language or Accept-Encoding
 * ("zh-CN,zh;q=0.9,en;q=0.8"): its token and its q (1 when absent, 0 when
 * malformed). Returns where the next item starts. */
static const char *list_item(const char *p, const char **tag, size_t *tl, double *q) {
  while(*p == ' ' || *p == '\t')
    p++;
  *tag = p;
  while(*p && *p != ';' && *p != ',' && *p != ' ')
    p++;
  *tl = (size_t)(p - *tag);
  *q = 1.0;
  while(*p && *p != ',') {
    if(*p == ';') {
      p++;
      while(*p == ' ')
        p++;
      if((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
        char *end;
        *q = strtod(p + 2, &end);
        if(end == p + 2 || !(*q >= 0 && *q <= 1)) *q = 0;
        p = end;
        continue;
      }
    }
    if(*p) p++;
  }
  return *p == ',' ? p + 1 : p;
}

/* 1 if the client takes gzip: "gzip" or "*" with q > 0, and no "gzip;q=0"
 * after a "*". */
static int accepts_gzip(struct MHD_Connection *c) {
  const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
  if(!ae) return 0;
  int gzip = -1, any = -1;
  for(int items = 0; *ae && items < 64; items++) {
    const char *tag;
    size_t tl;
    double q;
    ae = list_item(ae, &tag, &tl, &q);
    if(tl == 4 && strncasecmp(tag, "gzip", 4) == 0)
      gzip = q > 0;
    else if(tl == 1 && tag[0] == '*')
      any = q > 0;
  }
  return gzip >= 0 ? gzip : any > 0;
}

static int lang_of(struct MHD_Connection *c) {
  const char *al = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Language");
  if(!al) return LANG_ZH;
  double best[NLANG] = {-1, -1};
  int pos[NLANG] = {0, 0}, n = 0;
  const char *p = al;
  for(int items = 0; *p && items < 64; items++, n++) {
    const char *tag;
    size_t tl;
    double q;
    p = list_item(p, &tag, &tl, &q);
    int l = -1;
    if(tl >= 2 && strncasecmp(tag, "zh", 2) == 0 && (tl == 2 || tag[2] == '-')) l = LANG_ZH;
    if(tl >= 2 && strncasecmp(tag, "en", 2) == 0 && (tl == 2 || tag[2] == '-')) l = LANG_EN;
    if(l >= 0 && q > 0 && q > best[l]) {
      best[l] = q;
      pos[l] = n;
    }
  }
  if(best[LANG_EN] < 0) return LANG_ZH;
  if(best[LANG_ZH] < 0) return LANG_EN;
  if(best[LANG_EN] != best[LANG_ZH]) return best[LANG_EN] > best[LANG_ZH] ? LANG_EN : LANG_ZH;
  return pos[LANG_EN] < pos[LANG_ZH] ? LANG_EN : LANG_ZH;
}

static page *static_answer(int kind, int lang) {
  pthread_mutex_lock(&R.lock);
  page *p = resolve__static_page(kind, lang);
  pthread_mutex_unlock(&R.lock);
  return p;
}

/* The group page (or the staff contact page) of a store whose entry is
 * held with R.lock; counts the shopper as sent when count is set.
 * Releases R.lock. */
static page *group_page_locked(rstore *e, int lang, int count, int64_t now) {
  page *p = NULL;
  int campaign = campaign_now(e, now);
  rgroup *g = choose_group(e, now);
  if(count) counters_add_scan(g ? "sent" : "all_full");
  if(g) {
    if(count) g->sent_mem++;
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
      R.alerts_due = 1;
      pthread_cond_signal(&R.cond);
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
  pthread_mutex_unlock(&R.lock);
  return p;
}

/* The answer to a scan (a held page), or NULL when storage failed. */
static page *route_j(hq *h, const char *path, int get, int lang) {
  char sid[HQ_ID_MAX];
  const char *slash = strchr(path, '/');
  size_t sl = slash ? (size_t)(slash - path) : strlen(path);
  if(sl == 0 || sl >= sizeof sid) {
    return static_answer(PG_NO_STORE, lang);
  }
  memcpy(sid, path, sl);
  sid[sl] = '\0';
  if(!livecode_store_id_valid(sid)) {
    counters_add_scan("unknown_store");
    return static_answer(PG_NO_STORE, lang);
  }
  const char *token = slash ? slash + 1 : "";
  sqr_rc rc;
  rstore *e = get_store(h, sid, 0, &rc);
  if(!e) {
    log_error("resolve", "store %s: storage failed: %s", sid, sqr_strerror(rc));
    return NULL;
  }
  if(e->missing) {
    pthread_mutex_unlock(&R.lock);
    counters_add_scan("unknown_store");
    return static_answer(PG_NO_STORE, lang);
  }
  int64_t now_ms = hq_now_ms(), now = now_ms / 1000;
  livecode_claim claim;
  /* Constant time over the MAC; a forged token and an old one are told
   * apart only after the MAC checked. */
  rc = strlen(token) == LIVECODE_TOKEN_LEN
           ? livecode_verify(&e->key, 1, sid, token, now, e->period, e->skew, &claim)
           : SQR_EINVAL;
  if(rc) {
    page *p = resolve__static_page(rc == SQR_EEXPIRED ? PG_EXPIRED : PG_BAD_TOKEN, lang);
    pthread_mutex_unlock(&R.lock);
    counters_add_scan(rc == SQR_EEXPIRED ? "expired" : rc == SQR_EAUTH ? "forged" : "malformed");
    return p;
  }
  if(get) {
    count_scan(e, claim.kiosk, now_ms / 3600000);
    if(++R.pending >= RESOLVE_FLUSH_SCANS) pthread_cond_signal(&R.cond);
  }
  return group_page_locked(e, lang, get, now);
}

/* ---- /N/<BRAND> ----------------------------------------------------------------- */

/* The brand's entry with R.lock held (loaded when absent or stale), or
 * NULL without the lock (storage error or no such brand: *rc). */
static rbrand *get_brand(hq *h, const char *id, sqr_rc *rc) {
  *rc = SQR_OK;
  pthread_mutex_lock(&R.lock);
  rbrand *b = R.brands;
  while(b && strcmp(b->id, id) != 0)
    b = b->next;
  if(b && !b->stale) return b;
  pthread_mutex_unlock(&R.lock);
  resolve_brand_store *stores = NULL;
  size_t n = 0;
  db_lock();
  *rc = hq_scan_brand_stores(h, id, &stores, &n);
  db_unlock();
  if(*rc) return NULL;
  if(n == 0) {
    free(stores);
    *rc = SQR_ENOTFOUND; /* not cached: brands only exist through their stores */
    return NULL;
  }
  pthread_mutex_lock(&R.lock);
  b = R.brands;
  while(b && strcmp(b->id, id) != 0)
    b = b->next;
  if(!b) {
    if(!(b = calloc(1, sizeof *b))) {
      pthread_mutex_unlock(&R.lock);
      free(stores);
      *rc = SQR_ENOMEM;
      return NULL;
    }
    snprintf(b->id, sizeof b->id, "%s", id);
    b->next = R.brands;
    R.brands = b;
  }
  free(b->stores);
  for(int l = 0; l < NLANG; l++) {
    resolve__page_unref(b->pages[l]);
    b->pages[l] = NULL;
  }
  b->stores = stores;
  b->n = n;
  b->stale = 0;
  return b;
}

/* Strict decimal degrees: optional '-', 1..3 digits, optionally '.' and
 * 1..12 digits; nothing else (no exponent, spaces, '+', hex, inf, nan). */
static int parse_degrees(const char *s, double max, double *out) {
  const char *p = s;
  if(!s || strlen(s) > 20) return 0;
  if(*p == '-') p++;
  size_t d = 0;
  while(isdigit((unsigned char)p[d]))
    d++;
  if(d < 1 || d > 3) return 0;
  p += d;
  if(*p == '.') {
    p++;
    d = 0;
    while(isdigit((unsigned char)p[d]))
      d++;
    if(d < 1 || d > 12) return 0;
    p += d;
  }
  if(*p) return 0;
  double v = strtod(s, NULL);
  if(!(v >= -max && v <= max)) return 0;
  *out = v;
  return 1;
}

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
static page *route_n(hq *h, struct MHD_Connection *c, const char *brand, int get, int lang) {
  if(!livecode_store_id_valid(brand)) {
    return static_answer(PG_NO_STORE, lang);
  }
  const char *lat_s = query_arg(c, "lat"), *lon_s = query_arg(c, "lon");
  const char *store_s = query_arg(c, "store");
  sqr_rc rc;
  rbrand *b = get_brand(h, brand, &rc);
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
      pthread_mutex_unlock(&R.lock);
      return static_answer(PG_NO_STORE, lang);
    }
  } else if(lat_s || lon_s) {
    double lat, lon, best = INFINITY;
    if(!parse_degrees(lat_s, 90, &lat) || !parse_degrees(lon_s, 180, &lon)) {
      static const char *const note[NLANG] = {"无法识别的位置，请从列表中选择门店。",
                                              "Location not understood: please choose a store."};
      page *p = resolve__render_brand(b, lang, 400, note[lang]);
      pthread_mutex_unlock(&R.lock);
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
    pthread_mutex_unlock(&R.lock);
    return p;
  }
  pthread_mutex_unlock(&R.lock);
  rstore *e = get_store(h, target, 0, &rc);
  if(!e) {
    return NULL;
  }
  if(e->missing) {
    pthread_mutex_unlock(&R.lock);
    return static_answer(PG_NO_STORE, lang);
  }
  if(get) R.pending++;
  return group_page_locked(e, lang, get, hq_now_ms() / 1000);
}

/* The page for a /J or /N request (held: page_unref it), or NULL when
 * storage failed. 0 when the URL is not the resolver's. */
static int resolve_page(hq *h, struct MHD_Connection *c, const char *method, const char *url,
                        page **out) {
  *out = NULL;
  int j = strncmp(url, "/J/", 3) == 0, n = strncmp(url, "/N/", 3) == 0;
  if(!j && !n) return 0;
  int lang = lang_of(c);
  int get = strcmp(method, "GET") == 0;
  if(!get && strcmp(method, "HEAD") != 0)
    *out = static_answer(PG_METHOD, lang);
  else if(strlen(url) > URL_MAX)
    *out = static_answer(PG_TOO_LONG, lang);
  else if(j)
    *out = route_j(h, url + 3, get, lang);
  else
    *out = route_n(h, c, url + 3, get, lang);
  return 1;
}

int resolve_serve(hq *h, struct MHD_Connection *c, const char *method, const char *url,
                  int *status) {
  page *p;
  *status = 0;
  if(!resolve_page(h, c, method, url, &p)) return 0;
  if(!p) return -1;
  *status = p->status;
  /* libmicrohttpd takes its own reference; ours goes at once */
  struct MHD_Response *r = p->gz && accepts_gzip(c) ? p->gz : p->resp;
  int ok = MHD_queue_response(c, (unsigned)p->status, r) == MHD_YES;
  resolve__page_unref(p);
  return ok ? 1 : -2;
}

/* ---- state for the dashboard and metrics ------------------------------------------- */

sqr_rc resolve_groups_state(hq *h, const char *store, resolve_group_state *out, size_t max,
                            size_t *n) {
  if(!h || !store || !n || (max && !out)) return SQR_EINVAL;
  *n = 0;
  if(!livecode_store_id_valid(store)) return SQR_ENOTFOUND;
  int64_t now = hq_now_ms() / 1000;
  rstore tmp, *e;
  sqr_rc rc = SQR_OK;
  int cached = R.running;
  if(cached) {
    /* The caller holds db_lock (server.c's dispatcher). */
    if(!(e = get_store(h, store, 1, &rc))) return rc ? rc : SQR_EIO;
  } else {
    if((rc = load_store(h, store, &tmp))) {
      store_clear_content(&tmp);
      return rc;
    }
    e = &tmp;
  }
  if(e->missing) {
    rc = SQR_ENOTFOUND;
  } else {
    int exhausted = choose_group(e, now) == NULL;
    for(size_t i = 0; i < e->ngroups && *n < max; i++) {
      const rgroup *g = &e->groups[i];
      if(g->retired) continue;
      resolve_group_state *s = &out[(*n)++];
      memset(s, 0, sizeof *s);
      snprintf(s->id, sizeof s->id, "%s", g->id);
      snprintf(s->name, sizeof s->name, "%s", g->name);
      s->capacity = g->capacity;
      s->joins = g->joins;
      s->scans_sent = g->sent_db + g->sent_mem;
      s->expires_at = g->expires_at;
      group_state st = state_of(g);
      group_rule rule = rule_of(e);
      s->full = group_is_full(&st, &rule);
      s->usable = group_is_usable(&st, &rule, now);
      int cap = g->capacity < GROUP_SCAN_LIMIT ? g->capacity : GROUP_SCAN_LIMIT;
      s->near_full = s->full || st.count * 10 >= (int64_t)cap * 9;
      s->near_expiry = g->expires_at && g->expires_at - now < 86400;
      s->exhausted = exhausted;
    }
  }
  if(cached)
    pthread_mutex_unlock(&R.lock);
  else
    store_clear_content(&tmp);
  return rc;
}

/* ---- flushing and noticing changes --------------------------------------------------- */

typedef struct version_row {
  char id[HQ_ID_MAX];
  int64_t config_version, events;
} version_row;
typedef struct version_list {
  version_row *rows;
  size_t n, cap;
  int failed;
} version_list;

static void collect_version(void *arg, const char *id, int64_t cv, int64_t ev) {
  version_list *l = arg;
  if(l->failed) return;
  if(l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 256;
    version_row *nr = realloc(l->rows, cap * sizeof *nr);
    if(!nr) {
      l->failed = 1;
      return;
    }
    l->rows = nr;
    l->cap = cap;
  }
  version_row *r = &l->rows[l->n++];
  snprintf(r->id, sizeof r->id, "%s", id);
  r->config_version = cv;
  r->events = ev;
}

/* Writes the counters; marks stores that changed elsewhere stale and
 * recounts joins of stores whose kiosks uploaded. Runs with db_lock. */
static sqr_rc flush_locked(hq *h, int poll, int reread_sent) {
  resolve_scan_delta *sd = NULL;
  resolve_sent_delta *gd = NULL;
  char(*alerts)[HQ_ID_MAX] = NULL;
  size_t ns = 0, ng = 0, na = 0, cs = 0, cg = 0, ca = 0;
  sqr_rc rc = SQR_OK;

  pthread_mutex_lock(&R.lock);
  for(size_t b = 0; b < NBUCKETS; b++)
    for(rstore *e = R.buckets[b]; e; e = e->next) {
      cs += e->nscans;
      for(size_t i = 0; i < e->ngroups; i++)
        cg += e->groups[i].sent_mem != 0;
      ca += e->alert_due;
    }
  if((cs && !(sd = calloc(cs, sizeof *sd))) || (cg && !(gd = calloc(cg, sizeof *gd))) ||
     (ca && !(alerts = calloc(ca, sizeof *alerts)))) {
    pthread_mutex_unlock(&R.lock);
    rc = SQR_ENOMEM;
    goto out;
  }
  for(size_t b = 0; b < NBUCKETS; b++)
    for(rstore *e = R.buckets[b]; e; e = e->next) {
      for(size_t i = 0; i < e->nscans; i++) {
        resolve_scan_delta *d = &sd[ns++];
        snprintf(d->store, sizeof d->store, "%s", e->id);
        d->kiosk = e->scans[i].kiosk;
        d->hour = e->scans[i].hour;
        d->n = e->scans[i].n;
      }
      e->nscans = 0;
      for(size_t i = 0; i < e->ngroups; i++) {
        rgroup *g = &e->groups[i];
        if(!g->sent_mem) continue;
        resolve_sent_delta *d = &gd[ng++];
        snprintf(d->store, sizeof d->store, "%s", e->id);
        snprintf(d->grp, sizeof d->grp, "%s", g->id);
        d->n = g->sent_mem;
        g->sent_db += g->sent_mem;
        g->sent_mem = 0;
      }
      if(e->alert_due) snprintf(alerts[na++], HQ_ID_MAX, "%s", e->id);
      e->alert_due = 0;
    }
  R.pending = 0;
  R.alerts_due = 0;
  pthread_mutex_unlock(&R.lock);

  rc = hq_scan_flush(h, sd, ns, gd, ng);
  if(rc) {
    /* Keep the counts for the next try: entries cannot have been reloaded
     * meanwhile (that needs db_lock, which we hold). */
    log_error("resolve", "writing scan counters failed: %s", hq_storage_error(h));
    pthread_mutex_lock(&R.lock);
    for(size_t i = 0; i < ns; i++) {
      rstore *e = find_store(sd[i].store);
      if(!e) continue;
      for(int64_t k = 0; k < sd[i].n; k++)
        count_scan(e, sd[i].kiosk, sd[i].hour);
      R.pending += sd[i].n;
    }
    for(size_t i = 0; i < ng; i++) {
      rstore *e = find_store(gd[i].store);
      rgroup *g = e ? find_group(e, gd[i].grp) : NULL;
      if(g) {
        g->sent_db -= gd[i].n;
        g->sent_mem += gd[i].n;
      }
    }
    pthread_mutex_unlock(&R.lock);
  }
  for(size_t i = 0; i < na; i++) {
    int recorded = 0;
    if(hq_scan_alert(h, alerts[i], "groups_exhausted",
                     "every group is full or expired: shoppers see the staff contact code",
                     hq_now_ms(), ALERT_WINDOW_MS, &recorded))
      log_error("resolve", "cannot record an alert: %s", hq_storage_error(h));
  }
  if(!poll) goto out;

  version_list vl = {0};
  sqr_rc prc = hq_scan_versions(h, collect_version, &vl);
  if(!prc && !vl.failed) {
    pthread_mutex_lock(&R.lock);
    for(size_t i = 0; i < vl.n; i++) {
      rstore *e = find_store(vl.rows[i].id);
      if(!e) continue;
      if(e->missing || e->config_version != vl.rows[i].config_version) e->stale = 1;
      if(e->events != vl.rows[i].events) {
        e->events = vl.rows[i].events;
        e->joins_dirty = 1;
      }
    }
    pthread_mutex_unlock(&R.lock);
  }
  free(vl.rows);
  /* Joins of stores whose kiosks uploaded, and (PostgreSQL, several HQ
   * processes) every cached group's sent count: ids copied out so R.lock
   * is not held during the queries. Every delta of ours was written just
   * above under the same db_lock, so the database's sent is the whole
   * flushed count and sent_mem only what came after. */
  typedef struct recount {
    char sid[HQ_ID_MAX], gid[HQ_ID_MAX];
    int joins;
    int64_t njoins, nsent;
    int full, ok;
  } recount;
  recount *rl = NULL;
  size_t nr = 0, cr = 0;
  pthread_mutex_lock(&R.lock);
  for(size_t b = 0; b < NBUCKETS; b++)
    for(rstore *e = R.buckets[b]; e; e = e->next)
      if(!e->missing && !e->stale && (e->joins_dirty || reread_sent)) cr += e->ngroups;
  if(cr && (rl = calloc(cr, sizeof *rl)))
    for(size_t b = 0; b < NBUCKETS; b++)
      for(rstore *e = R.buckets[b]; e; e = e->next) {
        if(e->missing || e->stale || !(e->joins_dirty || reread_sent)) continue;
        for(size_t i = 0; i < e->ngroups && nr < cr; i++) {
          snprintf(rl[nr].sid, HQ_ID_MAX, "%s", e->id);
          snprintf(rl[nr].gid, HQ_ID_MAX, "%s", e->groups[i].id);
          rl[nr++].joins = e->joins_dirty;
        }
        e->joins_dirty = 0;
      }
  pthread_mutex_unlock(&R.lock);
  for(size_t i = 0; i < nr; i++) {
    rl[i].ok =
        !(rl[i].joins && hq_scan_joins(h, rl[i].sid, rl[i].gid, &rl[i].njoins, &rl[i].full)) &&
        !(reread_sent && hq_scan_sent(h, rl[i].sid, rl[i].gid, &rl[i].nsent));
    if(!rl[i].ok) log_error("resolve", "recounting store %s: %s", rl[i].sid, hq_storage_error(h));
  }
  pthread_mutex_lock(&R.lock);
  for(size_t i = 0; i < nr; i++) {
    rstore *e = find_store(rl[i].sid);
    rgroup *g = e && !e->stale ? find_group(e, rl[i].gid) : NULL;
    if(!g || !rl[i].ok) continue;
    if(rl[i].joins) {
      g->joins = rl[i].njoins;
      g->marked_full = rl[i].full;
    }
    if(reread_sent) g->sent_db = rl[i].nsent;
  }
  pthread_mutex_unlock(&R.lock);
  free(rl);
out:
  free(sd);
  free(gd);
  free(alerts);
  return rc;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *flusher(void *arg) {
  (void)arg;
  int64_t last_poll = mono_ms(), last_sent = last_poll;
  int pg = strcmp(hq_backend(R.h), "postgresql") == 0;
  for(;;) {
    pthread_mutex_lock(&R.lock);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += (long)(RESOLVE_FLUSH_MS % 1000) * 1000000L;
    until.tv_sec += RESOLVE_FLUSH_MS / 1000 + until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    while(!R.stopping && R.pending < RESOLVE_FLUSH_SCANS && !R.alerts_due) {
      if(pthread_cond_timedwait(&R.cond, &R.lock, &until)) break;
    }
    int stopping = R.stopping;
    pthread_mutex_unlock(&R.lock);
    int64_t now = mono_ms();
    int poll = now - last_poll >= RESOLVE_FLUSH_MS;
    int sent = pg && now - last_sent >= SENT_REREAD_MS;
    if(poll) last_poll = now;
    if(sent) last_sent = now;
    db_lock();
    sqr_rc rc = flush_locked(R.h, poll && !stopping, sent && !stopping);
    db_unlock();
    (void)rc;
    if(stopping) break;
  }
  return NULL;
}

/* hq_subscribe's listener: a store or its groups changed in this process. */
static void on_change(void *arg, hq_change change, const char *store) {
  (void)arg;
  (void)change;
  resolve_invalidate(store);
}

sqr_rc resolve_start(hq *h, pthread_mutex_t *lock) {
  if(hq_subscribe(h, on_change, NULL)) return SQR_ENOMEM;
  pthread_mutex_lock(&R.lock);
  if(R.running) {
    pthread_mutex_unlock(&R.lock);
    hq_unsubscribe(h, on_change, NULL);
    return SQR_EINVAL;
  }
  R.h = h;
  R.db_lock = lock;
  R.stopping = 0;
  R.running = 1;
  pthread_mutex_unlock(&R.lock);
  if(pthread_create(&R.thread, NULL, flusher, NULL)) {
    pthread_mutex_lock(&R.lock);
    R.running = 0;
    pthread_mutex_unlock(&R.lock);
    hq_unsubscribe(h, on_change, NULL);
    return SQR_EIO;
  }
  return SQR_OK;
}

sqr_rc resolve_flush(void) {
  if(!R.running) return SQR_OK;
  db_lock();
  sqr_rc rc = flush_locked(R.h, 0, 0);
  db_unlock();
  return rc;
}

static void free_all(void) {
  for(size_t b = 0; b < NBUCKETS; b++) {
    rstore *e = R.buckets[b];
    while(e) {
      rstore *next = e->next;
      store_clear_content(e);
      free(e->scans);
      free(e);
      e = next;
    }
    R.buckets[b] = NULL;
  }
  while(R.brands) {
    rbrand *next = R.brands->next;
    free(R.brands->stores);
    for(int l = 0; l < NLANG; l++)
      resolve__page_unref(R.brands->pages[l]);
    free(R.brands);
    R.brands = next;
  }
  resolve__static_pages_free();
  R.nnegative = 0;
}

void resolve_stop(void) {
  pthread_mutex_lock(&R.lock);
  if(!R.running) {
    pthread_mutex_unlock(&R.lock);
    return;
  }
  R.stopping = 1;
  pthread_cond_signal(&R.cond);
  pthread_mutex_unlock(&R.lock);
  pthread_join(R.thread, NULL); /* its last pass writes what is left */
  hq_unsubscribe(R.h, on_change, NULL);
  pthread_mutex_lock(&R.lock);
  free_all();
  R.running = 0;
  R.h = NULL;
  R.db_lock = NULL;
  pthread_mutex_unlock(&R.lock);
}

void resolve_invalidate(const char *store) {
  pthread_mutex_lock(&R.lock);
  for(size_t b = 0; b < NBUCKETS; b++)
    for(rstore *e = R.buckets[b]; e; e = e->next)
      if(!store || strcmp(e->id, store) == 0) {
        e->stale = 1;
        drop_pages(e);
      }
  /* A store's name, city, place or brand shows on its brand's page. */
  for(rbrand *br = R.brands; br; br = br->next)
    br->stale = 1;
  pthread_mutex_unlock(&R.lock);
}
