/* resolve_int.h — what the scan resolver's files share. Not for other
 * modules: the rest of HQ sees resolve.h.
 *
 * The resolver is one module in several files, each owning one part and
 * calling only the parts below it:
 *   resolve_routes.c   GET /J/ and /N/: the request, the answer
 *   resolve_parse.c    the path, lat/lon and Accept-* lists, as pure functions
 *   resolve_counters.c scan counters, their flusher thread, start and stop
 *   resolve_cache.c    the state (resolve__R): stores and brands
 *   resolve_pages.c    rendered pages with their prebuilt responses
 *   qrpng.c            QR codes as PNG data: URIs (a module of its own)
 * Functions the files share are named resolve__*; the static inline ones
 * here are on every scan's path.
 *
 * Locks: the resolver's lock (resolve__R.lock) guards all of its memory,
 * the cache, the counters and the pages, and is held only for memory work
 * (no I/O but rendering a page the first time). db_lock (server.c's) is
 * taken before it whenever both are needed, never the other way round.
 */
#ifndef SQR_RESOLVE_INT_H
#define SQR_RESOLVE_INT_H

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <microhttpd.h>

#include "config.h"
#include "group.h"
#include "hq.h"
#include "livecode.h"
#include "pages_shopper.h"
#include "resolve.h"

#define NBUCKETS_MIN    1024    /* the stores' hash table to start with (grows, resolve_cache.c) */
#define ALERT_WINDOW_MS 3600000 /* groups_exhausted: once per store per hour */

enum { LANG_ZH = SHOPPER_LANG_ZH, LANG_EN = SHOPPER_LANG_EN, NLANG = SHOPPER_NLANG };
enum {
  PG_BAD_TOKEN = SHOPPER_BAD_TOKEN,
  PG_EXPIRED = SHOPPER_EXPIRED,
  PG_NO_STORE = SHOPPER_NO_STORE,
  PG_BAD_REQUEST = SHOPPER_BAD_REQUEST,
  PG_TOO_LONG = SHOPPER_TOO_LONG,
  PG_METHOD = SHOPPER_METHOD,
  PG_UNAVAILABLE = SHOPPER_UNAVAILABLE, /* storage failed: 503 + Retry-After */
  NSTATIC = SHOPPER_NNOTICE
};

/* A rendered answer, shared by every request that shows it. */
typedef struct page {
  int refs; /* atomic */
  int status;
  int lang;
  size_t len;
  /* Built once with every header, queued on every connection that shows
   * this page (libmicrohttpd counts its users); it frees the page when
   * the last of them is done. gz is the same page gzipped, for the
   * phones that accept it (all do): a third smaller, so less to encrypt
   * and send per scan. NULL if it would not be smaller. */
  struct MHD_Response *resp, *gz;
  /* Bytes libmicrohttpd sends at least for resp and for gz: the body and
   * the header lines set here (it adds its own), for server.c, which
   * needs to know whether an answer is under libmicrohttpd's threshold
   * for corking the socket (resolve_serve). */
  size_t resp_min, gz_min;
  char body[];
} page;

typedef struct rgroup {
  char id[HQ_ID_MAX];
  /* name and link are malloc'ed, never NULL once loaded: fixed arrays of
   * their maxima took 770 bytes a group, most of a cached store. */
  char *name;
  char *link;
  int capacity;
  int64_t expires_at;
  int retired;
  int64_t joins;    /* sign-ups the kiosks reported into it */
  int marked_full;  /* a manager said so (group_marked_full event) */
  int64_t sent_db;  /* shoppers sent, as in group_scans (incl. what we flushed) */
  int64_t sent_mem; /* sent since the last flush */
  /* Seats group_seats granted this process and not yet spent: a scan
   * sends a shopper here only by spending one, so the processes sharing
   * the database never send more than the limit between them. The
   * flusher keeps what is left while the group is in use (renewing the
   * lease: a store scanned now and then would otherwise lease again on
   * nearly every scan) and gives it back once a flush finds it idle. */
  int64_t lease;
  /* Monotonic ms when the database last had no seats for us: full for
   * RESOLVE_NO_SEATS_MS, then asked again (others give seats back at
   * their flushes). 0: not full. */
  int64_t no_seats_ms;
  int64_t seats_left; /* seats no process held after the last ask (-1: not asked yet) */
  /* Other processes holding seats of the group (or waiting for some) at
   * that ask: with none, seats this one keeps near full turn nobody's
   * shopper away (resolve_counters.c). */
  int64_t others;
  /* A scan's lease granted nothing: the database holds a row of 0 seats
   * for us (that is how a process keeping seats learns a shopper here
   * went without). It stays while we keep asking, so the keeper sees it
   * at whichever of its flushes comes next; a flush deletes it once we
   * have not asked for RESOLVE_WAITING_S (waiting_s: unix seconds of the
   * last ask that got nothing). */
  int waiting;
  int64_t waiting_s;
  int64_t used_s; /* unix seconds of the last shopper sent here (lease kept while recent) */
  /* Leased by the flusher before the group sending shoppers now ran out
   * (resolve_counters.c, next_to_fill): its used_s follows that group's,
   * so the seats stay ours while the store is in use, not only after a
   * shopper of its own. */
  int prefetched;
  int64_t renewed_s; /* unix seconds its seat_leases row was last written (lease, flush) */
  /* Seats taken without the database since the last lease it answered
   * (resolve__lease: at most RESOLVE_OUTAGE_SEATS, within seats_left). */
  int64_t outage_spent;
  char *qr_src; /* data: URI of the link's QR code */
  page *pages[NLANG];
  int page_campaign[NLANG];
} rgroup;

typedef struct rcampaign {
  int start_min, end_min;
  char offer[NLANG][CONFIG_TEXT_MAX];
} rcampaign;

typedef struct rscan {
  int kiosk;
  int64_t hour;
  int64_t n;
} rscan;

/* One token key a store's tokens may name (keys.h). */
typedef struct rkey {
  int number;               /* kiosk number */
  int64_t retire_ms;        /* 0: active */
  char kiosk_id[HQ_ID_MAX]; /* the incarnation, for the retired_token alert */
  livecode_key key;         /* version inside */
} rkey;

typedef struct rstore {
  struct rstore *next;
  uint32_t hash; /* of id (resolve_cache.c), checked before the id is compared */
  /* On resolve__R.dirty (dirty set) from its first count, alert or lease
   * until a flush has written it: the flusher visits only these, not
   * every cached store. Every entry with unflushed scans, sent shoppers,
   * leased seats or an alert due is on it. */
  struct rstore *dirty_next;
  int dirty;
  /* On resolve__R.leased (leased set) while it keeps seats with nothing
   * to write: the flusher looks at these once a second, to renew their
   * rows before the TTL or give idle groups' seats back. */
  struct rstore *leased_next;
  /* The flusher's next_to_fill for this entry, chosen once per flush and
   * kept between its two passes (resolve_counters.c); NULL otherwise. */
  struct rgroup *fill_next;
  int leased;
  char id[HQ_ID_MAX];
  int missing;     /* no such store (negative entry) */
  int stale;       /* reload before use */
  int joins_dirty; /* the store's kiosks uploaded: recount joins */
  int64_t config_version, events;
  char *name; /* malloc'ed, as fallback (NULL only in a negative entry) */
  char city[64];
  double lat, lon;
  char brand[HQ_ID_MAX];
  rkey *keys; /* every key version of its kiosks, by number and version */
  size_t nkeys;
  uint32_t period, skew;
  int reserve;
  int64_t margin_s;
  int utc_offset_min;
  char *fallback;    /* the staff contact's link ("" without one) */
  char *fallback_qr; /* data: URI of the staff contact's QR code */
  rcampaign *campaigns;
  size_t ncampaigns;
  rgroup *groups; /* store and welfare groups, fill order */
  size_t ngroups;
  rscan *scans; /* unflushed scan counts */
  size_t nscans, capscans;
  page *exhausted[NLANG];
  int exh_campaign[NLANG];
  int64_t last_alert_ms;
  int alert_due;
  char retired_due[HQ_ID_MAX]; /* a kiosk whose retired key a token used, for the flusher */
} rstore;

typedef struct rbrand {
  struct rbrand *next;
  char id[HQ_ID_MAX];
  resolve_brand_store *stores;
  size_t n;
  int stale;
  page *pages[NLANG];
} rbrand;

/* ---- pages (resolve_pages.c) ---------------------------------------------------- */

/* A reference more to p (NULL passes). */
static inline page *resolve__page_ref(page *p) {
  if(p) __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
  return p;
}

/* A reference less; the last one frees the page (NULL passes). */
static inline void resolve__page_unref(page *p) {
  if(p && __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0) {
    if(p->gz) MHD_destroy_response(p->gz); /* its own copy of the bytes */
    if(p->resp)
      MHD_destroy_response(p->resp); /* frees p once no connection uses it */
    else
      free(p);
  }
}

/* The static notice of kind (SHOPPER_BAD_TOKEN ...) in lang, held (a
 * reference for the caller), or NULL when it cannot be rendered. Caller
 * holds the resolver's lock, which guards the notices. */
page *resolve__static_page(int kind, int lang);
/* Drops the static notices (resolve_stop, with the resolver's lock). */
void resolve__static_pages_free(void);
/* A store's page sending the shopper to group g; the staff contact page
 * when every group is full or expiring; a brand's store finder (status
 * 200, or 400 with a note saying why the list shows). campaign: index of
 * the campaign running now in e->campaigns, or -1. Each a new page (one
 * reference, the caller's), or NULL when rendering failed. */
page *resolve__render_group(const rstore *e, rgroup *g, int campaign, int lang);
page *resolve__render_exhausted(rstore *e, int campaign, int lang);
/* *src := link's QR image as a data: URI (malloc'ed), unless it has one
 * or link is not a join link; left NULL when it cannot be made (no
 * memory, a link too long for a QR code): the page then shows the link's
 * button alone. The page renderers call it for a group's or the staff
 * contact's first page; the cache for the group in use at a load. */
void resolve__qr_make(const char *link, char **src);
page *resolve__render_brand(const rbrand *br, int lang, int status, const char *note);

/* ---- the cache (resolve_cache.c) ------------------------------------------------ */

/* The resolver's state, one per process (resolve_cache.c). lock guards
 * every field and everything reachable from them. */
typedef struct resolve__state {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  hq *h;
  pthread_mutex_t *db_lock;
  pthread_t thread;
  int running, stopping;
  /* nbuckets chains (a power of two, 0 before the first entry) of
   * nstores entries, negative ones included: doubled whenever nstores
   * passes nbuckets, so a scan's lookup walks about one entry whatever
   * the chain's size (a fixed 1,024 chains of five at 5,000 stores made
   * each lookup miss the cache several times, a few per cent of a scan). */
  rstore **buckets;
  size_t nbuckets, nstores;
  size_t nnegative;
  rbrand *brands;
  rstore *dirty;   /* the entries a flush must visit (rstore.dirty_next) */
  size_t ndirty;   /* how many are on it */
  rstore *leased;  /* entries holding seats, visited once a second (rstore.leased_next) */
  int64_t pending; /* scans since the last flush */
  int alerts_due;
  /* (store, kiosk, hour) cells of unflushed scan counts in memory, those
   * of a write in flight included: at most RESOLVE_MAX_CELLS. */
  size_t ncells;
  uint64_t dropped;     /* scans never counted: the bound, memory, or stop */
  int64_t lease_ttl_ms; /* RESOLVE_LEASE_TTL_MS, or SQR_HQ_LEASE_TTL_S (resolve_start) */
} resolve__state;
extern resolve__state resolve__R;

/* db_lock (resolve_start's; none from the command line), to be taken
 * before resolve__R.lock, never while holding it. */
void resolve__db_lock(void);
void resolve__db_unlock(void);
/* The table's entry for a store or a group of it, or NULL. Caller holds
 * resolve__R.lock. */
rstore *resolve__find_store(const char *id);
rgroup *resolve__find_group(rstore *e, const char *id);
/* The entry for sid with resolve__R.lock held, loading it when absent or
 * stale (a negative entry when there is no such store). NULL with
 * resolve__R.lock NOT held on a storage error (*rc set). have_db: the
 * caller already holds db_lock; otherwise it is taken for the load. */
rstore *resolve__get_store(hq *h, const char *sid, int have_db, sqr_rc *rc);
/* The brand's entry with resolve__R.lock held (loaded when absent or
 * stale), or NULL without the lock (storage error or no such brand:
 * *rc). Takes db_lock for the load: call without holding it. */
rbrand *resolve__get_brand(hq *h, const char *id, sqr_rc *rc);
/* Frees every entry and the static notices (resolve_stop, with
 * resolve__R.lock held). */
void resolve__cache_free(void);

/* How long a group the database had no seats for is passed over before
 * it is asked again: long enough that a full group costs a process a
 * few statements a second, short enough that seats another process gave
 * back at its flush reach the next shopper rather than a staff code. */
#define RESOLVE_NO_SEATS_MS 100
/* How long a 0-seat row outlives the last ask that got nothing (above):
 * a keeper that is sending shoppers flushes every second. */
#define RESOLVE_WAITING_S 3

static inline int64_t resolve__mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The one group rule (app/core/group.h) over what the resolver counts:
 * joins the kiosks reported plus shoppers it sent, flushed or not. */
static inline group_state resolve__state_of(const rgroup *g) {
  return (group_state){.capacity = g->capacity,
                       .count = g->joins + g->sent_db + g->sent_mem,
                       .expires_at = g->expires_at,
                       .marked_full = g->marked_full,
                       .retired = g->retired};
}

/* The group policy of the store. */
static inline group_rule resolve__rule_of(const rstore *e) {
  return (group_rule){.reserve = e->reserve, .expiry_margin_s = e->margin_s};
}

/* The first group of e, in fill order, the rule would send a shopper to
 * now, or NULL (every one full or expiring, or without seats left across
 * processes). */
static inline rgroup *resolve__choose_group(rstore *e, int64_t now) {
  group_rule r = resolve__rule_of(e);
  for(size_t i = 0; i < e->ngroups; i++) {
    const rgroup *g = &e->groups[i];
    if(g->no_seats_ms && !g->lease && resolve__mono_ms() - g->no_seats_ms < RESOLVE_NO_SEATS_MS)
      continue;
    group_state st = resolve__state_of(&e->groups[i]);
    if(group_is_usable(&st, &r, now)) return &e->groups[i];
  }
  return NULL;
}

/* ---- the counters (resolve_counters.c) ------------------------------------------ */

/* Seats asked for at a time: an eighth of the room left (what the
 * database said at the last ask, or this process's view before that),
 * a sixteenth below RESOLVE_KEEP_ROOM while other processes hold seats
 * of the group, at least RESOLVE_ALONE_BLOCK (or the room) while none
 * does, 1..RESOLVE_LEASE_MAX, so blocks
 * shrink as the group nears full and a process holds few seats another
 * could have used. *limit: the seats everyone may claim, the group's
 * limit less the kiosks' joins. */
#define RESOLVE_LEASE_MAX 32
/* Seats a group must have unclaimed for a process to keep unspent seats
 * across a flush, or be topped up before it runs out (resolve_counters.c),
 * while other processes hold seats of it too: four blocks. Below it
 * leases are taken only when spent and given back at each flush, so near
 * full no process sits on the last seats another's shoppers need. */
#define RESOLVE_KEEP_ROOM (4 * RESOLVE_LEASE_MAX)
/* The smallest block of a group no other process holds seats of: an
 * eighth of the last 60 seats would mean a lease every scan or two, and
 * a process that starts on the group meanwhile is turned away only for
 * the last few (until the flush after its 0-seat row gives them back). */
#define RESOLVE_ALONE_BLOCK 8
static inline void resolve__lease_want(const rstore *e, const rgroup *g, int64_t *want,
                                       int64_t *limit) {
  group_rule r = resolve__rule_of(e);
  group_state st = resolve__state_of(g);
  int64_t lim = group_limit(&st, &r), room = lim - st.count;
  if(g->seats_left >= 0 && g->seats_left < room) room = g->seats_left;
  int64_t w = room >= RESOLVE_KEEP_ROOM || !g->others ? room / 8 : room / 16;
  if(!g->others && w < RESOLVE_ALONE_BLOCK)
    w = room < RESOLVE_ALONE_BLOCK ? room : RESOLVE_ALONE_BLOCK;
  *want = w < 1 ? 1 : w > RESOLVE_LEASE_MAX ? RESOLVE_LEASE_MAX : w;
  *limit = lim - g->joins;
}

/* Puts e on the flusher's list. Caller holds resolve__R.lock. */
static inline void resolve__mark_dirty(rstore *e) {
  if(e->dirty) return;
  e->dirty = 1;
  e->dirty_next = resolve__R.dirty;
  resolve__R.dirty = e;
  resolve__R.ndirty++;
}

/* Whether the scans waiting call for a flush before RESOLVE_FLUSH_MS is
 * up: RESOLVE_FLUSH_SCANS of them, RESOLVE_FLUSH_DENSITY or more per
 * store to write (resolve.h). Caller holds resolve__R.lock. */
static inline int resolve__flush_due(void) {
  return resolve__R.pending >= RESOLVE_FLUSH_SCANS &&
         (uint64_t)resolve__R.pending >= (uint64_t)resolve__R.ndirty * RESOLVE_FLUSH_DENSITY;
}

/* Asks the database for more seats of group gid of store sid (its lease
 * is spent), want of them at most. Called with resolve__R.lock held and
 * without db_lock; lets go of resolve__R.lock, takes db_lock, asks, and
 * returns the store's entry (possibly reloaded: the caller looks its
 * group up again) with resolve__R.lock held again, or NULL with it NOT
 * held on a storage error (*rc). */
rstore *resolve__lease(hq *h, const char *sid, const char *gid, int64_t want, int64_t limit,
                       sqr_rc *rc);
/* While the database cannot be reached, a cached group still takes
 * shoppers: one seat at a time, at most this many per group and outage,
 * and never more than the room the database last reported (seats_left).
 * Counted as sent like any other, so the next flush settles them; across
 * processes an outage can overshoot a group by at most this many per
 * process that was sending to it. */
#define RESOLVE_OUTAGE_SEATS 32

/* Counts n scans of kiosk in hour (unix ms / 3,600,000) into the store's
 * unflushed counts; the flusher writes them. Caller holds resolve__R.lock.
 * On every scan, hence inline; allocates only when the store's array is
 * full (a new kiosk or hour).
 *
 * While the database is unreachable the counts stay here until it is
 * back. Memory is bounded by cells, not scans: a cell that exists counts
 * every further scan of its kiosk and hour, but once RESOLVE_MAX_CELLS
 * cells are held, scans that would need a new one (another kiosk, the
 * next hour) are dropped and counted in resolve__R.dropped (/metrics). */
static inline void resolve__count_scans(rstore *e, int kiosk, int64_t hour, int64_t n) {
  resolve__mark_dirty(e);
  for(size_t i = 0; i < e->nscans; i++)
    if(e->scans[i].kiosk == kiosk && e->scans[i].hour == hour) {
      e->scans[i].n += n;
      return;
    }
  if(resolve__R.ncells >= RESOLVE_MAX_CELLS) {
    resolve__R.dropped += (uint64_t)n;
    return;
  }
  if(e->nscans == e->capscans) {
    size_t cap = e->capscans ? e->capscans * 2 : 4;
    rscan *ns = realloc(e->scans, cap * sizeof *ns);
    if(!ns) { /* out of memory: these scans go uncounted */
      resolve__R.dropped += (uint64_t)n;
      return;
    }
    e->scans = ns;
    e->capscans = cap;
  }
  e->scans[e->nscans++] = (rscan){.kiosk = kiosk, .hour = hour, .n = n};
  resolve__R.ncells++;
}

static inline void resolve__count_scan(rstore *e, int kiosk, int64_t hour) {
  resolve__count_scans(e, kiosk, hour, 1);
}

#endif
