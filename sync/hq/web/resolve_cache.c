/* resolve_cache.c — the scan resolver's cache and state (see
 * resolve_int.h).
 *
 * Owns resolve__R, the resolver's one process-wide state: the table of
 * stores (its kiosks' token keys, every version with its retire time, rotation, group policy, staff
 * contact link and its QR image, campaigns, the live-code groups with their fill, QR images and
 * rendered pages), unknown store ids as negative entries (at most MAX_NEGATIVE, so a flood of bad
 * URLs does not reach the database), the brands with their stores, and the fields the counters and
 * their flusher keep there. An entry is read through the operations layer (scan.h, configdoc.h) on
 * a miss or when stale; resolve_invalidate makes it stale after a change in this process, the
 * flusher after one in another process. Also answers the dashboard's and /metrics' questions about
 * a store's groups (resolve_groups_state), by the one group rule of app/core/group.h.
 *
 * Locks: resolve__R.lock guards everything in resolve__R and is held only
 * for memory work. db_lock (server.c's) is taken before resolve__R.lock
 * whenever both are needed, never the other way round: a miss lets go of
 * resolve__R.lock, takes db_lock, reads, and takes resolve__R.lock again
 * to install the entry. Never writes to the database; never logs a token
 * or a key.
 */
#include "resolve.h"
#include "resolve_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "configdoc.h"
#include "crypto.h"
#include "group.h"
#include "joinlink.h"
#include "keys.h"
#include "livecode.h"
#include "log.h"
#include "scan.h"

#define MAX_NEGATIVE 4096 /* unknown store ids remembered (hostile URLs) */

resolve__state resolve__R = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

void resolve__db_lock(void) {
  if(resolve__R.db_lock) pthread_mutex_lock(resolve__R.db_lock);
}
void resolve__db_unlock(void) {
  if(resolve__R.db_lock) pthread_mutex_unlock(resolve__R.db_lock);
}

/* FNV-1a, then mixed so that the low bits the table uses depend on every
 * character (ids differ mostly in their last digits). */
static uint32_t hash_id(const char *s) {
  uint32_t h = 2166136261u;
  for(; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  h ^= h >> 16;
  h *= 0x7feb352du;
  h ^= h >> 15;
  return h;
}

rstore *resolve__find_store(const char *id) {
  if(!resolve__R.nbuckets) return NULL;
  uint32_t h = hash_id(id);
  for(rstore *e = resolve__R.buckets[h & (resolve__R.nbuckets - 1)]; e; e = e->next)
    if(e->hash == h && strcmp(e->id, id) == 0) return e;
  return NULL;
}

/* Room in the table for one entry more: the chains doubled (rehashed)
 * once entries outnumber them. 0, or -1 when there is no table and no
 * memory for one; a failed doubling keeps the table as it is (longer
 * chains, still correct). Caller holds resolve__R.lock. */
static int table_make_room(void) {
  if(resolve__R.nstores < resolve__R.nbuckets) return 0;
  size_t n = resolve__R.nbuckets ? resolve__R.nbuckets * 2 : NBUCKETS_MIN;
  rstore **nb = calloc(n, sizeof *nb);
  if(!nb) return resolve__R.nbuckets ? 0 : -1;
  for(size_t b = 0; b < resolve__R.nbuckets; b++)
    for(rstore *e = resolve__R.buckets[b], *next; e; e = next) {
      next = e->next;
      e->next = nb[e->hash & (n - 1)];
      nb[e->hash & (n - 1)] = e;
    }
  free(resolve__R.buckets);
  resolve__R.buckets = nb;
  resolve__R.nbuckets = n;
  return 0;
}

rgroup *resolve__find_group(rstore *e, const char *id) {
  for(size_t i = 0; i < e->ngroups; i++)
    if(strcmp(e->groups[i].id, id) == 0) return &e->groups[i];
  return NULL;
}

/* ---- loading a store ------------------------------------------------------------ */

static void free_groups(rgroup *g, size_t n) {
  for(size_t i = 0; i < n; i++) {
    free(g[i].name);
    free(g[i].link);
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
  free(e->fallback);
  e->fallback = NULL;
  free(e->name);
  e->name = NULL;
  for(int l = 0; l < NLANG; l++) {
    resolve__page_unref(e->exhausted[l]);
    e->exhausted[l] = NULL;
  }
  if(e->keys) crypto_wipe(e->keys, e->nkeys * sizeof *e->keys);
  free(e->keys);
  e->keys = NULL;
  e->nkeys = 0;
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
static sqr_rc load_groups(hq *h, const char *sid, rstore *e);

static sqr_rc load_store(hq *h, const char *sid, rstore *e) {
  memset(e, 0, sizeof *e);
  snprintf(e->id, sizeof e->id, "%s", sid);
  e->hash = hash_id(e->id);
  e->events = -1;
  hq_store st;
  sqr_rc rc = hq_scan_store(h, sid, &st);
  if(rc == SQR_ENOTFOUND) {
    e->missing = 1;
    return rc;
  }
  if(rc) return rc;
  if(!(e->name = strdup(st.name))) return SQR_ENOMEM;
  snprintf(e->city, sizeof e->city, "%s", st.city);
  e->lat = st.lat;
  e->lon = st.lon;
  e->config_version = st.config_version;
  e->period = LIVECODE_DEFAULT_PERIOD;
  e->skew = 1;
  e->reserve = 10;
  e->margin_s = 43200;
  e->utc_offset_min = 480;
  /* Every key version of the store's kiosks, retired ones too: a token of
   * a retired version is refused by name, and raises an alert. */
  hq_token_key *tk = NULL;
  size_t ntk = 0;
  if((rc = hq_token_keys(h, sid, &tk, &ntk))) return rc;
  if(ntk && !(e->keys = calloc(ntk, sizeof *e->keys))) rc = SQR_ENOMEM;
  for(size_t i = 0; !rc && i < ntk; i++) {
    rkey *k = &e->keys[e->nkeys++];
    k->number = tk[i].number;
    k->retire_ms = tk[i].retire_ms;
    snprintf(k->kiosk_id, sizeof k->kiosk_id, "%s", tk[i].kiosk_id);
    rc = livecode_key_set(&k->key, tk[i].mac_key, (uint8_t)tk[i].version);
  }
  hq_token_keys_free(tk, ntk);
  if(rc) return rc;
  if((rc = hq_scan_brand_of(h, sid, e->brand))) return rc;

  /* Rotation, group policy and campaigns come from the store's document,
   * exactly as its kiosks get them; groups straight from the table. */
  char *doc = NULL, err[300];
  int64_t version;
  sqr_config *cfg = NULL;
  if(!hq_config_doc(h, sid, NULL, 0, &doc, &version, err, sizeof err) &&
     !config_parse(doc, strlen(doc), &cfg, err, sizeof err)) {
    e->period = cfg->period_s;
    e->skew = cfg->skew;
    e->reserve = cfg->group_reserve;
    e->margin_s = cfg->expiry_margin_s;
    e->utc_offset_min = cfg->utc_offset_min;
    e->fallback = strdup(cfg->fallback_link);
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
  free(doc); /* the store's own view: no key in it */
  config_free(cfg);
  if(!e->fallback && !(e->fallback = strdup(""))) return SQR_ENOMEM;
  /* The staff contact's QR image is made with its page (resolve_pages.c),
   * if ever: most stores never run out of groups. */

  return load_groups(h, sid, e);
}

/* e's live-code groups with their counts in the database: the part of a
 * store's entry the group rule reads. */
static sqr_rc load_groups(hq *h, const char *sid, rstore *e) {
  hq_group *gs = calloc(CONFIG_MAX_GROUPS, sizeof *gs);
  size_t ng = 0;
  sqr_rc rc;
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
    if(!(g->name = strdup(gs[i].name)) || !(g->link = strdup(gs[i].link))) {
      rc = SQR_ENOMEM;
      goto out;
    }
    g->capacity = gs[i].capacity;
    g->expires_at = gs[i].expires_at;
    g->retired = gs[i].retired;
    g->seats_left = -1;
    if((rc = hq_scan_joins(h, sid, g->id, &g->joins, &g->marked_full)) ||
       (rc = hq_scan_sent(h, sid, g->id, &g->sent_db)))
      goto out;
  }
out:
  free(gs);
  return rc;
}

/* Puts a freshly loaded store in the table, keeping what the old entry
 * held that the database does not have yet (unflushed counts, alert
 * time) and QR images of unchanged links. Caller holds db_lock and
 * resolve__R.lock. Takes over fresh's content; returns the entry or NULL (ENOMEM). */
static rstore *install(rstore *fresh) {
  rstore *e = resolve__find_store(fresh->id);
  if(!e) {
    if(fresh->missing && resolve__R.nnegative >= MAX_NEGATIVE) return NULL;
    if(table_make_room()) return NULL;
    e = malloc(sizeof *e);
    if(!e) return NULL;
    *e = *fresh;
    size_t b = e->hash & (resolve__R.nbuckets - 1);
    e->next = resolve__R.buckets[b];
    resolve__R.buckets[b] = e;
    resolve__R.nstores++;
    if(e->missing) resolve__R.nnegative++;
    return e;
  }
  for(size_t i = 0; i < fresh->ngroups; i++) {
    rgroup *ng = &fresh->groups[i], *og = resolve__find_group(e, ng->id);
    if(!og) continue;
    ng->sent_mem = og->sent_mem;
    og->sent_mem = 0;
    ng->lease = og->lease; /* granted in the database: still ours to spend or give back */
    og->lease = 0;
    ng->no_seats_ms = og->no_seats_ms;
    ng->waiting = og->waiting; /* its 0-seat row is still in the database */
    ng->waiting_s = og->waiting_s;
    ng->others = og->others;
    ng->used_s = og->used_s; /* a lease kept by the flusher stays in use */
    ng->prefetched = og->prefetched;
    ng->renewed_s = og->renewed_s;
    if(strcmp(ng->link, og->link) == 0 && !ng->qr_src) {
      ng->qr_src = og->qr_src;
      og->qr_src = NULL;
    }
  }
  /* A group that vanished keeps no unflushed count: HQ never deletes
   * groups (retired ones stay), so this does not happen. */
  if(e->missing && !fresh->missing && resolve__R.nnegative) resolve__R.nnegative--;
  if(!e->missing && fresh->missing) resolve__R.nnegative++;
  store_clear_content(e);
  rstore *next = e->next, *dirty_next = e->dirty_next, *leased_next = e->leased_next;
  int dirty = e->dirty, leased = e->leased;
  rscan *scans = e->scans;
  size_t nscans = e->nscans, capscans = e->capscans;
  int64_t last_alert = e->last_alert_ms;
  int alert_due = e->alert_due;
  char retired_due[HQ_ID_MAX];
  memcpy(retired_due, e->retired_due, sizeof retired_due);
  *e = *fresh;
  e->next = next;
  e->dirty_next = dirty_next;
  e->dirty = dirty;
  e->leased_next = leased_next;
  e->leased = leased;
  e->scans = scans;
  e->nscans = nscans;
  e->capscans = capscans;
  e->last_alert_ms = last_alert;
  e->alert_due = alert_due;
  memcpy(e->retired_due, retired_due, sizeof retired_due);
  return e;
}

/* The QR image of the group a shopper would be sent to now, made here,
 * under db_lock but not the resolver's lock; the other groups' (and the
 * staff contact's) are made with their first page (resolve_pages.c), so a
 * cold load renders one QR code, not one per group. */
static void make_qr_images(rstore *e) {
  group_rule r = resolve__rule_of(e);
  int64_t now = hq_now_ms() / 1000;
  for(size_t i = 0; i < e->ngroups; i++) {
    rgroup *g = &e->groups[i];
    group_state st = resolve__state_of(g);
    if(!group_is_usable(&st, &r, now)) continue;
    resolve__qr_make(g->link, &g->qr_src);
    return;
  }
}

/* The entry for sid with resolve__R.lock held, loading it when absent or stale.
 * NULL with resolve__R.lock NOT held on a storage error (*rc set). have_db: the
 * caller already holds db_lock. */
rstore *resolve__get_store(hq *h, const char *sid, int have_db, sqr_rc *rc) {
  *rc = SQR_OK;
  pthread_mutex_lock(&resolve__R.lock);
  rstore *e = resolve__find_store(sid);
  if(e && !e->stale) return e;
  pthread_mutex_unlock(&resolve__R.lock);
  /* db_lock stays held until the new entry is in: a flush cannot run
   * between reading group_scans and installing, so no count is lost. */
  if(!have_db) resolve__db_lock();
  rstore fresh;
  *rc = load_store(h, sid, &fresh);
  if(*rc == SQR_ENOTFOUND) *rc = SQR_OK;
  if(!*rc) make_qr_images(&fresh);
  pthread_mutex_lock(&resolve__R.lock);
  e = *rc ? NULL : install(&fresh);
  if(!have_db) resolve__db_unlock();
  if(!e) {
    store_clear_content(&fresh);
    pthread_mutex_unlock(&resolve__R.lock);
    if(!*rc && fresh.missing) {
      /* too many unknown ids remembered: answer without caching */
      static rstore unknown = {.missing = 1};
      pthread_mutex_lock(&resolve__R.lock);
      return &unknown;
    }
    if(!*rc) *rc = SQR_ENOMEM;
    return NULL;
  }
  return e;
}

/* The brand's entry with resolve__R.lock held (loaded when absent or stale), or
 * NULL without the lock (storage error or no such brand: *rc). */
rbrand *resolve__get_brand(hq *h, const char *id, sqr_rc *rc) {
  *rc = SQR_OK;
  pthread_mutex_lock(&resolve__R.lock);
  rbrand *b = resolve__R.brands;
  while(b && strcmp(b->id, id) != 0)
    b = b->next;
  if(b && !b->stale) return b;
  pthread_mutex_unlock(&resolve__R.lock);
  resolve_brand_store *stores = NULL;
  size_t n = 0;
  resolve__db_lock();
  *rc = hq_scan_brand_stores(h, id, &stores, &n);
  resolve__db_unlock();
  if(*rc) return NULL;
  if(n == 0) {
    free(stores);
    *rc = SQR_ENOTFOUND; /* not cached: brands only exist through their stores */
    return NULL;
  }
  pthread_mutex_lock(&resolve__R.lock);
  b = resolve__R.brands;
  while(b && strcmp(b->id, id) != 0)
    b = b->next;
  if(!b) {
    if(!(b = calloc(1, sizeof *b))) {
      pthread_mutex_unlock(&resolve__R.lock);
      free(stores);
      *rc = SQR_ENOMEM;
      return NULL;
    }
    snprintf(b->id, sizeof b->id, "%s", id);
    b->next = resolve__R.brands;
    resolve__R.brands = b;
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

/* ---- state for the dashboard and metrics ------------------------------------------- */

/* tmp (its groups array holding j - i) takes the groups of rows[i..j),
 * one store's, with the store template's policy: the state of a store
 * that has nothing in memory. */
static void take_counts(hq *h, rstore *tmp, const resolve_group_count *rows, size_t i, size_t j) {
  snprintf(tmp->id, sizeof tmp->id, "%s", rows[i].store);
  hq_scan_group_policy(h, &tmp->reserve, &tmp->margin_s);
  tmp->ngroups = 0;
  for(size_t k = i; k < j && tmp->ngroups < CONFIG_MAX_GROUPS; k++) {
    rgroup *g = &tmp->groups[tmp->ngroups++];
    memset(g, 0, sizeof *g);
    snprintf(g->id, sizeof g->id, "%s", rows[k].id);
    /* borrowed from rows, which outlive tmp; a temporary entry's strings
     * are never freed (it never enters the table) */
    g->name = (char *)rows[k].name;
    g->capacity = rows[k].capacity;
    g->expires_at = rows[k].expires_at;
    g->retired = rows[k].retired;
    g->seats_left = -1;
    g->joins = rows[k].joins;
    g->marked_full = rows[k].marked_full;
    g->sent_db = rows[k].sent;
  }
}

/* e's live-code groups as the rule sees them now, into out. */
static void fill_states(rstore *e, int64_t now, resolve_group_state *out, size_t max, size_t *n) {
  int exhausted = resolve__choose_group(e, now) == NULL;
  group_rule rule = resolve__rule_of(e);
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
    group_state st = resolve__state_of(g);
    s->full = group_is_full(&st, &rule);
    s->usable = group_is_usable(&st, &rule, now);
    int cap = g->capacity < GROUP_SCAN_LIMIT ? g->capacity : GROUP_SCAN_LIMIT;
    s->near_full = s->full || st.count * 10 >= (int64_t)cap * 9;
    s->near_expiry = g->expires_at && g->expires_at - now < 86400;
    s->exhausted = exhausted;
  }
}

sqr_rc resolve_groups_state(hq *h, const char *store, resolve_group_state *out, size_t max,
                            size_t *n) {
  if(!h || !store || !n || (max && !out)) return SQR_EINVAL;
  *n = 0;
  if(!livecode_store_id_valid(store)) return SQR_ENOTFOUND;
  int64_t now = hq_now_ms() / 1000;
  rstore tmp, *e = NULL;
  resolve_group_count *rows = NULL; /* tmp's group names point into it */
  sqr_rc rc = SQR_OK;
  int cached = 0;
  if(resolve__R.running) {
    /* The caller holds db_lock (server.c's dispatcher), so no flush and no
     * load can change the store's counts while this reads them. An entry
     * in the table holds counts not yet written (and seats leased): use
     * it, reloaded when stale, as a scan would. */
    pthread_mutex_lock(&resolve__R.lock);
    e = resolve__find_store(store);
    if(e) {
      pthread_mutex_unlock(&resolve__R.lock);
      if(!(e = resolve__get_store(h, store, 1, &rc))) return rc ? rc : SQR_EIO;
      cached = 1;
    } else {
      pthread_mutex_unlock(&resolve__R.lock);
    }
  }
  if(!e) {
    /* Not in the table: nothing of it is in memory, and the database has
     * all of it. Read only the groups and their counts, not the whole
     * entry a scan needs (its document, keys, QR images): the dashboard
     * and /metrics ask this of every store, and loading 5,000 entries
     * made the first /metrics after a start take 1.9 s (issue 13). */
    size_t nrows = 0;
    memset(&tmp, 0, sizeof tmp);
    if((rc = hq_scan_group_counts(h, store, &rows, &nrows))) return rc;
    size_t cap = nrows < CONFIG_MAX_GROUPS ? nrows : CONFIG_MAX_GROUPS;
    if(cap && !(tmp.groups = calloc(cap, sizeof *tmp.groups))) {
      free(rows);
      return SQR_ENOMEM;
    }
    if(nrows) take_counts(h, &tmp, rows, 0, nrows); /* tmp's names point into rows */
    /* a store without groups may be no store at all */
    hq_store st;
    if(!nrows && (rc = hq_scan_store(h, store, &st))) {
      free(tmp.groups);
      free(rows);
      return rc;
    }
    e = &tmp;
  }
  if(e->missing)
    rc = SQR_ENOTFOUND;
  else
    fill_states(e, now, out, max, n);
  if(cached)
    pthread_mutex_unlock(&resolve__R.lock);
  else
    free(tmp.groups); /* names borrowed from rows; no QR image, no page */
  free(rows);         /* after fill_states: tmp's names point into it */
  return rc;
}

sqr_rc resolve_groups_state_each(hq *h, resolve_group_state *out, size_t max,
                                 void (*fn)(void *arg, const char *store,
                                            const resolve_group_state *g, size_t n),
                                 void *arg) {
  if(!h || !fn || (max && !out)) return SQR_EINVAL;
  int64_t now = hq_now_ms() / 1000;
  resolve_group_count *rows = NULL;
  size_t nrows = 0;
  sqr_rc rc = hq_scan_group_counts(h, NULL, &rows, &nrows);
  rstore tmp;
  memset(&tmp, 0, sizeof tmp);
  /* one store's groups at a time: at most CONFIG_MAX_GROUPS (take_counts) */
  size_t cap = nrows < CONFIG_MAX_GROUPS ? nrows : CONFIG_MAX_GROUPS;
  if(!rc && cap && !(tmp.groups = calloc(cap, sizeof *tmp.groups))) rc = SQR_ENOMEM;
  for(size_t i = 0, j; !rc && i < nrows; i = j) {
    const char *sid = rows[i].store;
    for(j = i; j < nrows && strcmp(rows[j].store, sid) == 0; j++)
      ;
    size_t n = 0;
    rstore *e = NULL;
    if(resolve__R.running) {
      /* As in resolve_groups_state: a store in the table may hold counts
       * not yet written; the caller holds db_lock. */
      pthread_mutex_lock(&resolve__R.lock);
      int in_table = resolve__find_store(sid) != NULL;
      pthread_mutex_unlock(&resolve__R.lock);
      if(in_table && !(e = resolve__get_store(h, sid, 1, &rc))) break;
    }
    if(e) {
      if(!e->missing) fill_states(e, now, out, max, &n);
      pthread_mutex_unlock(&resolve__R.lock);
    } else {
      take_counts(h, &tmp, rows, i, j); /* rows i..j-1: the store's groups, in fill order */
      fill_states(&tmp, now, out, max, &n);
    }
    fn(arg, sid, out, n);
  }
  free(tmp.groups); /* names borrowed from rows; no QR image, no page */
  free(rows);
  return rc;
}

/* ---- invalidating and freeing ----------------------------------------------------- */

void resolve_invalidate(const char *store) {
  pthread_mutex_lock(&resolve__R.lock);
  for(size_t b = 0; b < resolve__R.nbuckets; b++)
    for(rstore *e = resolve__R.buckets[b]; e; e = e->next)
      if(!store || strcmp(e->id, store) == 0) {
        e->stale = 1;
        drop_pages(e);
      }
  /* A store's name, city, place or brand shows on its brand's page. */
  for(rbrand *br = resolve__R.brands; br; br = br->next)
    br->stale = 1;
  pthread_mutex_unlock(&resolve__R.lock);
}

void resolve__cache_free(void) {
  for(size_t b = 0; b < resolve__R.nbuckets; b++) {
    rstore *e = resolve__R.buckets[b];
    while(e) {
      rstore *next = e->next;
      store_clear_content(e);
      free(e->scans);
      free(e);
      e = next;
    }
  }
  free(resolve__R.buckets);
  resolve__R.buckets = NULL;
  resolve__R.nbuckets = 0;
  resolve__R.nstores = 0;
  while(resolve__R.brands) {
    rbrand *next = resolve__R.brands->next;
    free(resolve__R.brands->stores);
    for(int l = 0; l < NLANG; l++)
      resolve__page_unref(resolve__R.brands->pages[l]);
    free(resolve__R.brands);
    resolve__R.brands = next;
  }
  resolve__static_pages_free();
  resolve__R.nnegative = 0;
  resolve__R.dirty = NULL;
  resolve__R.ndirty = 0;
  resolve__R.leased = NULL;
}
