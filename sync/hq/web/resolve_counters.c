/* resolve_counters.c — the scan resolver's counters and their flusher
 * (see resolve.h and resolve_int.h).
 *
 * The hot path writes to the database only to lease a block of seats
 * (below), never per scan: a scan is counted in the cache's entries
 * (resolve__count_scan: per store, kiosk and hour; per group sent) and
 * the flusher thread writes the counts in one transaction every
 * RESOLVE_FLUSH_MS, sooner after RESOLVE_FLUSH_SCANS scans that crowd on
 * few stores (resolve__flush_due), and at stop. A crash loses at most
 * that window of scan counts (never a sign-up: those are
 * kiosk events). A write that fails (the database restarting or out of
 * reach) puts the counts back and is tried again after a backoff, so an
 * outage costs no count unless it outlasts RESOLVE_MAX_CELLS cells of
 * memory or the process stops during it (resolve.h; both are counted in
 * resolve__R.dropped and shown on /metrics). Seats of a group are leased
 * in blocks from the database (resolve__lease, hq_scan_lease) when a
 * process has spent its own, so several processes never send more than
 * the group's limit between them; the flusher gives back the seats left
 * unspent with the counts. The flusher also records groups_exhausted
 * alerts (hq_alert_raise),
 * marks stores changed by another process stale (config_version),
 * recounts the joins of stores whose kiosks uploaded, and on PostgreSQL
 * re-reads what other HQ processes sent.
 *
 * Owns the seat leases (resolve__lease), the flusher thread,
 * resolve_start/stop/flush and the hq_subscribe
 * listener; the counts themselves live in resolve__R (resolve_cache.c).
 *
 * Locks: every write runs under db_lock, taken before resolve__R.lock,
 * never while holding it; resolve__R.lock is held only to copy counts out
 * or back, never across a query. Never logs a token or a key.
 */
#include "resolve.h"
#include "resolve_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "counters.h"
#include "log.h"
#include "scan.h"

#define SENT_REREAD_MS 5000 /* other HQ processes' group_scans (PostgreSQL) */

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

/* Whether a flush has anything to write for group g: shoppers sent,
 * or seats held that go back (idle, or keep 0) or whose row is due for
 * renewal (a quarter of the TTL old). A group in use with seats and
 * nothing sent since the last flush costs no statement. */
static int group_due(const rgroup *g, int keep, int64_t now_s) {
  if(g->sent_mem) return 1;
  if(g->waiting && (!keep || now_s - g->waiting_s >= RESOLVE_WAITING_S)) return 1;
  if(!g->lease) return 0;
  return !keep || !g->used_s || now_s - g->used_s >= RESOLVE_LEASE_IDLE_S ||
         (now_s - g->renewed_s) * 4000 >= resolve__R.lease_ttl_ms;
}

/* The group store e sends shoppers to once the one sending them now is
 * spent, when that is near (a block or less of room left, as the
 * database last said) and it holds no seats yet: the flush leases it a
 * block in its own transaction, so the shopper who finds the first group
 * full does not wait for a transaction of his own (with scans spread over
 * 5,000 stores their first groups fill within seconds of each other, and
 * a transaction each on the request threads halved the resolver's rate).
 * A group leased that way stays in use while the store is: its used_s
 * follows the sending group's, set here. NULL: none to lease. Caller
 * holds resolve__R.lock; keep as flush_locked's. */
static rgroup *next_to_fill(rstore *e, int keep, int64_t now_s) {
  if(!keep || e->missing || e->stale) return NULL;
  rgroup *g = resolve__choose_group(e, now_s), *next = NULL;
  if(!g || !g->used_s || now_s - g->used_s >= RESOLVE_LEASE_IDLE_S) return NULL;
  group_rule r = resolve__rule_of(e);
  for(rgroup *n = g + 1; n < e->groups + e->ngroups && !next; n++) {
    group_state st = resolve__state_of(n);
    if(group_is_usable(&st, &r, now_s)) next = n;
  }
  if(!next) return NULL;
  /* Near full (as the last ask read it) a group is leased ahead of no
   * one: the flush's ask wants RESOLVE_KEEP_ROOM unclaimed, so it would
   * be refused every second, and seats held ahead there would be the
   * ones another process's shoppers need. */
  int near_full = next->seats_left >= 0 && next->seats_left < RESOLVE_KEEP_ROOM;
  if(next->prefetched && next->lease) {
    if(near_full && next->others)
      next->used_s = 0; /* shared and near full now: back at this flush */
    else if(next->used_s < g->used_s)
      next->used_s = g->used_s;
    return NULL;
  }
  if(g->seats_left < 0 || g->lease + g->seats_left > RESOLVE_LEASE_MAX) return NULL;
  /* one that holds seats, waits for some, or had none is asked by scans */
  if(next->lease || next->waiting || next->sent_mem || next->no_seats_ms || near_full) return NULL;
  return next;
}

/* The QR images of groups next_to_fill leased, made by the flusher after
 * its write, outside both locks: a first page rendered by a request
 * thread holds resolve__R.lock through libqrencode's ~0.1 ms, and
 * every other scan waits on it. Only the flusher thread touches these. */
typedef struct qr_ahead {
  char sid[HQ_ID_MAX], gid[HQ_ID_MAX];
  char *link;
} qr_ahead;
static qr_ahead *ahead;
static size_t nahead, cahead;
#define QR_AHEAD_BUDGET_MS 250 /* a flush's worth; the rest render on first use */

/* Notes group g of e for make_qr_ahead. Caller holds resolve__R.lock. */
static void want_qr(const rstore *e, const rgroup *g) {
  if(g->qr_src || !g->link[0]) return;
  if(nahead == cahead) {
    size_t cap = cahead ? cahead * 2 : 64;
    qr_ahead *n = realloc(ahead, cap * sizeof *n);
    if(!n) return; /* rendered with its first page instead */
    ahead = n;
    cahead = cap;
  }
  qr_ahead *a = &ahead[nahead];
  if(!(a->link = strdup(g->link))) return;
  snprintf(a->sid, sizeof a->sid, "%s", e->id);
  snprintf(a->gid, sizeof a->gid, "%s", g->id);
  nahead++;
}

/* Makes the noted images, for at most QR_AHEAD_BUDGET_MS, and hands each
 * to its group if it is still there with the same link and no image. */
static void make_qr_ahead(void) {
  int64_t until = resolve__mono_ms() + QR_AHEAD_BUDGET_MS;
  for(size_t i = 0; i < nahead; i++) {
    char *src = NULL;
    if(resolve__mono_ms() < until) resolve__qr_make(ahead[i].link, &src);
    if(src) {
      pthread_mutex_lock(&resolve__R.lock);
      rstore *e = resolve__find_store(ahead[i].sid);
      rgroup *g = e && !e->missing ? resolve__find_group(e, ahead[i].gid) : NULL;
      if(g && !g->qr_src && strcmp(g->link, ahead[i].link) == 0) {
        g->qr_src = src;
        src = NULL;
      }
      pthread_mutex_unlock(&resolve__R.lock);
      free(src);
    }
    free(ahead[i].link);
  }
  nahead = 0;
}

/* resolve__R.ncells from the entries (only dirty ones hold cells).
 * Caller holds resolve__R.lock. */
static void recount_cells(void) {
  size_t n = 0;
  for(rstore *e = resolve__R.dirty; e; e = e->dirty_next)
    n += e->nscans;
  resolve__R.ncells = n;
}

/* Scans counted in memory and not yet written. Caller holds resolve__R.lock. */
static uint64_t unflushed_scans(void) {
  uint64_t n = 0;
  for(rstore *e = resolve__R.dirty; e; e = e->dirty_next)
    for(size_t i = 0; i < e->nscans; i++)
      n += (uint64_t)e->scans[i].n;
  return n;
}

void resolve_counts_state(uint64_t *unflushed, uint64_t *dropped) {
  pthread_mutex_lock(&resolve__R.lock);
  *unflushed = unflushed_scans();
  *dropped = resolve__R.dropped;
  pthread_mutex_unlock(&resolve__R.lock);
}

/* Every process writes a flush's rows in one order, (store, kiosk, hour)
 * and (store, group): on PostgreSQL two flushes locking the same rows in
 * different orders would deadlock until deadlock_timeout aborted one,
 * with the storage lock (and so the process's uploads) held meanwhile. */
static int cmp_scan(const void *a, const void *b) {
  const resolve_scan_delta *x = a, *y = b;
  int c = strcmp(x->store, y->store);
  if(c) return c;
  if(x->kiosk != y->kiosk) return x->kiosk < y->kiosk ? -1 : 1;
  return (x->hour > y->hour) - (x->hour < y->hour);
}

typedef struct sent_ref {
  resolve_sent_delta d;
  rstore *e;
  rgroup *g;
} sent_ref;

static int cmp_sent(const void *a, const void *b) {
  const sent_ref *x = a, *y = b;
  int c = strcmp(x->d.store, y->d.store);
  return c ? c : strcmp(x->d.grp, y->d.grp);
}

/* Sorts gd with ge and gg beside it; left as they are without memory
 * (the order only spares a deadlock's wait). */
static void sort_sent(resolve_sent_delta *gd, rstore **ge, rgroup **gg, size_t n) {
  sent_ref *r = n > 1 ? malloc(n * sizeof *r) : NULL;
  if(!r) return;
  for(size_t i = 0; i < n; i++)
    r[i] = (sent_ref){gd[i], ge[i], gg[i]};
  qsort(r, n, sizeof *r, cmp_sent);
  for(size_t i = 0; i < n; i++) {
    gd[i] = r[i].d;
    ge[i] = r[i].e;
    gg[i] = r[i].g;
  }
  free(r);
}

/* Writes the counters; marks stores that changed elsewhere stale and
 * recounts joins of stores whose kiosks uploaded. keep: groups that sent
 * someone since the last flush keep their unspent seats (the flusher;
 * the last flush and resolve_flush give them all back). Runs with
 * db_lock. */
static sqr_rc flush_locked(hq *h, int poll, int reread_sent, int keep) {
  resolve_scan_delta *sd = NULL;
  resolve_sent_delta *gd = NULL;
  /* The entry and group of each gd[i]: stable until we let go of
   * db_lock, since replacing or freeing an entry needs it. */
  rstore **ge = NULL;
  rgroup **gg = NULL;
  char(*alerts)[HQ_ID_MAX] = NULL, (*retired)[HQ_ID_MAX] = NULL;
  size_t ns = 0, ng = 0, na = 0, nret = 0, cs = 0, cg = 0, ca = 0, cret = 0;
  sqr_rc rc = SQR_OK;

  /* Only the dirty entries, taken off the list: scans from here on put
   * their store back on it for the next flush. */
  int64_t now_s = hq_now_ms() / 1000;
  pthread_mutex_lock(&resolve__R.lock);
  /* Once a second (and at the last flush) the stores only holding seats
   * too: a renewal may be due, or an idle group's seats go back. */
  if(poll || !keep) {
    for(rstore *e = resolve__R.leased, *next; e; e = next) {
      next = e->leased_next;
      e->leased = 0;
      e->leased_next = NULL;
      resolve__mark_dirty(e);
    }
    resolve__R.leased = NULL;
  }
  rstore *list = resolve__R.dirty;
  resolve__R.dirty = NULL;
  resolve__R.ndirty = 0;
  for(rstore *e = list; e; e = e->dirty_next) {
    cs += e->nscans;
    /* Once, here: it reads the monotonic clock (resolve__choose_group),
     * so asked again below it could name a group not counted in cg. */
    e->fill_next = next_to_fill(e, keep, now_s);
    cg += e->fill_next != NULL;
    for(size_t i = 0; i < e->ngroups; i++)
      if(group_due(&e->groups[i], keep, now_s)) cg++;
    ca += e->alert_due != 0;
    cret += e->retired_due[0] != 0;
  }
  if((cs && !(sd = calloc(cs, sizeof *sd))) || (cg && !(gd = calloc(cg, sizeof *gd))) ||
     (cg && !(ge = calloc(cg, sizeof *ge))) || (cg && !(gg = calloc(cg, sizeof *gg))) ||
     (ca && !(alerts = calloc(ca, sizeof *alerts))) ||
     (cret && !(retired = calloc(cret, sizeof *retired)))) {
    /* everything stays where it was, on the list */
    for(rstore *e = list, *next; e; e = next) {
      next = e->dirty_next;
      e->dirty = 0;
      resolve__mark_dirty(e);
    }
    pthread_mutex_unlock(&resolve__R.lock);
    rc = SQR_ENOMEM;
    goto out;
  }
  for(rstore *e = list, *next; e; e = next) {
    next = e->dirty_next;
    e->dirty = 0;
    e->dirty_next = NULL;
    for(size_t i = 0; i < e->nscans; i++) {
      resolve_scan_delta *d = &sd[ns++];
      snprintf(d->store, sizeof d->store, "%s", e->id);
      d->kiosk = e->scans[i].kiosk;
      d->hour = e->scans[i].hour;
      d->n = e->scans[i].n;
    }
    e->nscans = 0;
    rgroup *pf = e->fill_next; /* chosen before the loop changes leases */
    e->fill_next = NULL;
    int held = 0;
    for(size_t i = 0; i < e->ngroups; i++) {
      rgroup *g = &e->groups[i];
      if(!group_due(g, keep, now_s)) {
        held |= g->lease != 0 || g->waiting; /* looked at again: a 0-seat row goes in time */
        continue;
      }
      ge[ng] = e;
      gg[ng] = g;
      resolve_sent_delta *d = &gd[ng++];
      snprintf(d->store, sizeof d->store, "%s", e->id);
      snprintf(d->grp, sizeof d->grp, "%s", g->id);
      d->n = g->sent_mem;
      d->unused = g->lease;
      g->waiting = 0; /* settle deletes a 0-seat row with the rest */
      /* In use: up to a block of its unspent seats stays ours (renewed),
       * so the next shopper needs no lease, and less than half a block
       * left is topped up in the flush's transaction; idle: all back.
       * Near full (fewer than RESOLVE_KEEP_ROOM seats unclaimed at the
       * last flush or lease) both only while no other process held
       * seats of the group then: where others do, every process gives
       * back what it did not spend at each flush and leases only when it
       * runs out, so seats kept by one never turn another's shoppers
       * away. Alone, a process keeps at most a block (an eighth of the
       * room, at least RESOLVE_ALONE_BLOCK; scanned faster, what it sends
       * in two flushes, up to half the room; the last few seats whole):
       * one that starts on the group meanwhile finds the rest, and if it
       * finds none its 0-seat row
       * (hqdb_resolve_lease) makes the group shared at our next flush of
       * it, which gives the kept seats back. */
      int shared = g->others != 0;
      int used = keep && g->used_s && now_s - g->used_s < RESOLVE_LEASE_IDLE_S &&
                 (g->seats_left >= RESOLVE_KEEP_ROOM || (!shared && g->seats_left >= 0));
      int64_t want = 0, limit = 0;
      if(used) resolve__lease_want(e, g, &want, &limit);
      /* Alone on the group, a block lasts until the next flush: twice
       * what it sent since the last one, up to half the room (so a
       * process starting on the group meanwhile still finds some of it).
       * Near full the blocks shrink to RESOLVE_ALONE_BLOCK, and a store
       * scanned more often than that a second spent them between
       * flushes, each time on a request thread's transaction (38 % of
       * HQ's CPU while 5,000 stores' first groups filled); capped at a
       * quarter of the room, a store sending ten a flush still ran out
       * once the room was under forty. */
      int64_t avail = g->seats_left + g->lease, rate = 2 * g->sent_mem;
      if(rate > avail / 2) rate = avail / 2;
      if(rate > RESOLVE_LEASE_MAX) rate = RESOLVE_LEASE_MAX;
      if(used && !shared && want < rate) want = rate;
      /* Alone, the group's last seats, when the store would send them
       * within about two flushes, are taken whole: in blocks, the last
       * of them ran out between flushes and cost a lease on a request
       * thread per store and group (5,000 in a few seconds while the
       * stores' groups filled, each waiting for this flush's storage
       * lock). A process that starts on the group meanwhile leaves its
       * 0-seat row, which makes it shared at our next flush of it. */
      int last = used && !shared && g->seats_left >= 0 && avail <= RESOLVE_LEASE_MAX &&
                 avail <= 2 * g->sent_mem + RESOLVE_ALONE_BLOCK;
      if(last) want = avail;
      d->keep = used ? (g->lease < want ? g->lease : want) : 0;
      d->keep_room = shared ? RESOLVE_KEEP_ROOM : 1;
      d->limit = limit;
      g->sent_db += g->sent_mem;
      g->sent_mem = 0;
      g->lease = d->keep;
      if(!g->lease) g->prefetched = 0;
      /* Topped up below half a block; alone, also when what is kept
       * would not last two flushes at the rate of the last one (the
       * store's next shopper would otherwise lease on his own). */
      if(used && d->keep < want &&
         (last || d->keep < (want + 1) / 2 || (!shared && d->keep < 2 * d->n)))
        d->want = want - d->keep;
      held |= d->keep != 0 || d->want != 0;
    }
    if(pf && ng < cg) { /* nothing sent, nothing held: settle has nothing to do but lease */
      ge[ng] = e;
      gg[ng] = pf;
      resolve_sent_delta *d = &gd[ng++];
      snprintf(d->store, sizeof d->store, "%s", e->id);
      snprintf(d->grp, sizeof d->grp, "%s", pf->id);
      resolve__lease_want(e, pf, &d->want, &d->limit);
      d->keep_room = RESOLVE_KEEP_ROOM; /* ahead of need only into room to spare */
      pf->prefetched = -1;              /* asked: the answer below says whether it holds seats */
      held = 1;
    }
    if(e->alert_due) snprintf(alerts[na++], HQ_ID_MAX, "%s", e->id);
    e->alert_due = 0;
    if(e->retired_due[0]) snprintf(retired[nret++], HQ_ID_MAX, "%s", e->retired_due);
    e->retired_due[0] = '\0';
    if(held && !e->leased) { /* looked at again within a second */
      e->leased = 1;
      e->leased_next = resolve__R.leased;
      resolve__R.leased = e;
    }
  }
  resolve__R.pending = 0;
  resolve__R.alerts_due = 0;
  pthread_mutex_unlock(&resolve__R.lock);

  if(ns > 1) qsort(sd, ns, sizeof *sd, cmp_scan);
  sort_sent(gd, ge, gg, ng);
  rc = hq_scan_flush(h, sd, ns, gd, ng, resolve__R.lease_ttl_ms);
  for(size_t i = 0; !rc && i < ng; i++)
    if(gd[i].want && gd[i].kept == gd[i].keep) counters_add_lease(0); /* the asks that ran */
  pthread_mutex_lock(&resolve__R.lock);
  /* The cells copied out stayed in ncells while the write was in flight,
   * so scans meanwhile could not push memory past the bound. */
  recount_cells();
  /* Seats we meant to keep whose lease another process reclaimed (we
   * had not flushed within the TTL): no longer ours. Those spent since
   * are claimed again by the next flush, as for any reclaimed lease.
   * A kept or topped-up lease read the group's unclaimed seats. */
  for(size_t i = 0; !rc && i < ng; i++) {
    rstore *e = ge[i];
    rgroup *g = gg[i];
    if(gd[i].kept || (gd[i].want && gd[i].kept == gd[i].keep)) {
      /* the settle or the top-up (granted or not) read the group */
      g->seats_left = gd[i].left;
      g->others = gd[i].others;
    }
    if(gd[i].kept) g->renewed_s = now_s;
    if(g->prefetched < 0) {
      g->prefetched = gd[i].granted != 0;
      if(gd[i].granted) {
        g->used_s = now_s; /* kept while the store is in use (next_to_fill) */
        want_qr(e, g);
      }
    }
    if(gd[i].kept == gd[i].keep && !gd[i].granted) continue;
    g->lease -= gd[i].keep - gd[i].kept;
    if(g->lease < 0) g->lease = 0;
    if(gd[i].granted) {
      g->lease += gd[i].granted; /* settled by the next flush */
      g->renewed_s = now_s;
      resolve__mark_dirty(e);
    }
  }
  pthread_mutex_unlock(&resolve__R.lock);
  if(rc) {
    /* Keep the counts for the next try: entries cannot have been reloaded
     * meanwhile (that needs db_lock, which we hold), so ge/gg still point
     * at them. */
    log_error("resolve", "writing scan counters failed: %s", hq_storage_error(h));
    pthread_mutex_lock(&resolve__R.lock);
    for(size_t i = 0; i < ns; i++) {
      rstore *e = resolve__find_store(sd[i].store);
      if(!e) {
        resolve__R.dropped += (uint64_t)sd[i].n;
        continue;
      }
      resolve__count_scans(e, sd[i].kiosk, sd[i].hour, sd[i].n);
      resolve__R.pending += sd[i].n;
    }
    for(size_t i = 0; i < ng; i++) {
      rgroup *g = gg[i];
      g->sent_db -= gd[i].n;
      g->sent_mem += gd[i].n;
      g->lease += gd[i].unused - gd[i].keep; /* the kept part never left */
      if(g->prefetched < 0)
        g->prefetched = 0; /* asked ahead: it had no row */
      else
        g->waiting = 1; /* a 0-seat row it may have had is still there */
      resolve__mark_dirty(ge[i]);
    }
    pthread_mutex_unlock(&resolve__R.lock);
  }
  /* Alerts any operation raised while storage was down: written now it
   * is back, even when nothing raises another. */
  if(!rc && hq_alert_flush(h))
    log_error("resolve", "alerts kept during an outage still wait: %s", hq_storage_error(h));
  /* Once per store per hour across processes: hq_alert_raise's one
   * upsert on alert_gate decides (the entry's last_alert_ms only spares
   * this process the round trip). */
  for(size_t i = 0; i < na; i++)
    (void)hq_alert_raise(h, alerts[i], "groups_exhausted",
                         "every group is full or expired: shoppers see the staff contact code");
  /* Keyed by the kiosk, so once per kiosk per hour however many photos
   * of a revoked kiosk's screen are scanned, in however many processes. */
  for(size_t i = 0; i < nret; i++)
    (void)hq_alert_raise(h, retired[i], "retired_token",
                         "a code made with a retired key was scanned: a revoked or replaced kiosk,"
                         " or a copy of its database");
  if(!poll) goto out;

  version_list vl = {0};
  sqr_rc prc = hq_scan_versions(h, collect_version, &vl);
  if(!prc && !vl.failed) {
    pthread_mutex_lock(&resolve__R.lock);
    for(size_t i = 0; i < vl.n; i++) {
      rstore *e = resolve__find_store(vl.rows[i].id);
      if(!e) continue;
      if(e->missing || e->config_version != vl.rows[i].config_version) e->stale = 1;
      if(e->events != vl.rows[i].events) {
        e->events = vl.rows[i].events;
        e->joins_dirty = 1;
      }
    }
    pthread_mutex_unlock(&resolve__R.lock);
  }
  free(vl.rows);
  /* Joins of stores whose kiosks uploaded, and (PostgreSQL, several HQ
   * processes) every cached group's sent count: ids copied out so resolve__R.lock
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
  pthread_mutex_lock(&resolve__R.lock);
  for(size_t b = 0; b < resolve__R.nbuckets; b++)
    for(rstore *e = resolve__R.buckets[b]; e; e = e->next)
      if(!e->missing && !e->stale && (e->joins_dirty || reread_sent)) cr += e->ngroups;
  if(cr && (rl = calloc(cr, sizeof *rl)))
    for(size_t b = 0; b < resolve__R.nbuckets; b++)
      for(rstore *e = resolve__R.buckets[b]; e; e = e->next) {
        if(e->missing || e->stale || !(e->joins_dirty || reread_sent)) continue;
        for(size_t i = 0; i < e->ngroups && nr < cr; i++) {
          snprintf(rl[nr].sid, HQ_ID_MAX, "%s", e->id);
          snprintf(rl[nr].gid, HQ_ID_MAX, "%s", e->groups[i].id);
          rl[nr++].joins = e->joins_dirty;
        }
        e->joins_dirty = 0;
      }
  pthread_mutex_unlock(&resolve__R.lock);
  for(size_t i = 0; i < nr; i++) {
    rl[i].ok =
        !(rl[i].joins && hq_scan_joins(h, rl[i].sid, rl[i].gid, &rl[i].njoins, &rl[i].full)) &&
        !(reread_sent && hq_scan_sent(h, rl[i].sid, rl[i].gid, &rl[i].nsent));
    if(!rl[i].ok) log_error("resolve", "recounting store %s: %s", rl[i].sid, hq_storage_error(h));
  }
  pthread_mutex_lock(&resolve__R.lock);
  for(size_t i = 0; i < nr; i++) {
    rstore *e = resolve__find_store(rl[i].sid);
    rgroup *g = e && !e->stale ? resolve__find_group(e, rl[i].gid) : NULL;
    if(!g || !rl[i].ok) continue;
    if(rl[i].joins) {
      g->joins = rl[i].njoins;
      g->marked_full = rl[i].full;
    }
    if(reread_sent) g->sent_db = rl[i].nsent;
  }
  pthread_mutex_unlock(&resolve__R.lock);
  free(rl);
out:
  free(sd);
  free(gd);
  free(ge);
  free(gg);
  free(alerts);
  free(retired);
  return rc;
}

rstore *resolve__lease(hq *h, const char *sid, const char *gid, int64_t want, int64_t limit,
                       sqr_rc *rc) {
  char s[HQ_ID_MAX], g[HQ_ID_MAX];
  int64_t granted = 0, left = 0, others = 0;
  snprintf(s, sizeof s, "%s", sid); /* sid and gid live in the entry */
  snprintf(g, sizeof g, "%s", gid);
  pthread_mutex_unlock(&resolve__R.lock);
  counters_add_lease(1);
  resolve__db_lock();
  *rc = hq_scan_lease(h, s, g, want, limit, resolve__R.lease_ttl_ms, &granted, &left, &others);
  if(*rc) {
    log_error("resolve", "store %s: leasing seats of a group failed: %s", s, hq_storage_error(h));
    resolve__db_unlock();
    /* The database is out of reach: a shopper at a cached store still
     * gets a group while it had room (RESOLVE_OUTAGE_SEATS). */
    pthread_mutex_lock(&resolve__R.lock);
    rstore *e = resolve__find_store(s);
    rgroup *grp = e && !e->missing ? resolve__find_group(e, g) : NULL;
    if(grp && grp->seats_left > grp->outage_spent && grp->outage_spent < RESOLVE_OUTAGE_SEATS) {
      grp->lease++;
      grp->outage_spent++;
      return e;
    }
    pthread_mutex_unlock(&resolve__R.lock);
    return NULL;
  }
  /* still under db_lock: no flush runs between the grant and adding it,
   * so no seat is given back twice or lost */
  rstore *e = resolve__get_store(h, s, 1, rc);
  resolve__db_unlock();
  /* The grant stays in this process's seat_leases row: a later flush of
   * the group settles it, and a row never flushed expires (TTL). */
  if(!e) return NULL;
  rgroup *grp = e->missing ? NULL : resolve__find_group(e, g);
  if(grp) {
    grp->lease += granted;
    grp->no_seats_ms = granted == 0 ? resolve__mono_ms() : 0;
    if(granted) grp->renewed_s = hq_now_ms() / 1000;
    grp->seats_left = left;
    grp->others = others;
    grp->outage_spent = 0;
    if(!granted) grp->waiting_s = hq_now_ms() / 1000;
    grp->waiting = granted == 0; /* a grant made the row a lease like any other */
    resolve__mark_dirty(e);      /* the flusher settles the grant, or the 0-seat row */
  }
  return e;
}

static void *flusher(void *arg) {
  (void)arg;
  int64_t last_poll = resolve__mono_ms(), last_sent = last_poll;
  int64_t backoff = 0, stop_until = 0; /* ms after a failed write; monotonic deadline */
  int pg = strcmp(hq_backend(resolve__R.h), "postgresql") == 0;
  for(;;) {
    pthread_mutex_lock(&resolve__R.lock);
    int64_t wait_ms = backoff ? backoff : RESOLVE_FLUSH_MS;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    until.tv_sec += wait_ms / 1000 + until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    /* After a failed write, wait the backoff out whatever piles up: the
     * counts put back keep pending high, and retrying at once would spin
     * against a database that is down. */
    while(!resolve__R.stopping && (backoff || (!resolve__flush_due() && !resolve__R.alerts_due))) {
      if(pthread_cond_timedwait(&resolve__R.cond, &resolve__R.lock, &until)) break;
    }
    int stopping = resolve__R.stopping;
    pthread_mutex_unlock(&resolve__R.lock);
    int64_t now = resolve__mono_ms();
    /* A little early rather than a whole period late: another process's
     * revocation must reach this one within two periods (keys.h). */
    int poll = now - last_poll >= RESOLVE_FLUSH_MS - 100;
    int sent = pg && now - last_sent >= SENT_REREAD_MS;
    if(poll) last_poll = now;
    if(sent) last_sent = now;
    resolve__db_lock();
    sqr_rc rc = flush_locked(resolve__R.h, poll && !stopping, sent && !stopping, !stopping);
    resolve__db_unlock();
    make_qr_ahead();
    if(stopping) {
      /* The last write: a database restarting just then gets a few
       * seconds; what is still unwritten after them resolve_stop drops. */
      if(!stop_until) stop_until = resolve__mono_ms() + RESOLVE_STOP_RETRY_MS;
      if(!rc || resolve__mono_ms() >= stop_until) break;
      struct timespec pause = {0, 250 * 1000000L};
      nanosleep(&pause, NULL);
      continue;
    }
    backoff = !rc ? 0 : !backoff ? RESOLVE_FLUSH_MS : backoff * 2;
    if(backoff > RESOLVE_RETRY_MAX_MS) backoff = RESOLVE_RETRY_MAX_MS;
  }
  return NULL;
}

/* hq_subscribe's listener: a store or its groups changed in this process. */
static void on_change(void *arg, hq_change change, const char *store) {
  (void)arg;
  if(change != HQ_CHANGE_SEALED) resolve_invalidate(store);
}

sqr_rc resolve_start(hq *h, pthread_mutex_t *lock) {
  if(hq_subscribe(h, on_change, NULL)) return SQR_ENOMEM;
  pthread_mutex_lock(&resolve__R.lock);
  if(resolve__R.running) {
    pthread_mutex_unlock(&resolve__R.lock);
    hq_unsubscribe(h, on_change, NULL);
    return SQR_EINVAL;
  }
  resolve__R.h = h;
  resolve__R.db_lock = lock;
  resolve__R.lease_ttl_ms = RESOLVE_LEASE_TTL_MS;
  const char *ttl = getenv("SQR_HQ_LEASE_TTL_S");
  if(ttl) {
    char *end;
    long v = strtol(ttl, &end, 10);
    if(*end || v < 1 || v > 3600)
      log_error("resolve", "SQR_HQ_LEASE_TTL_S=%s is not 1..3600 seconds: using %d", ttl,
                RESOLVE_LEASE_TTL_MS / 1000);
    else
      resolve__R.lease_ttl_ms = (int64_t)v * 1000;
  }
  resolve__R.stopping = 0;
  resolve__R.running = 1;
  pthread_mutex_unlock(&resolve__R.lock);
  if(pthread_create(&resolve__R.thread, NULL, flusher, NULL)) {
    pthread_mutex_lock(&resolve__R.lock);
    resolve__R.running = 0;
    pthread_mutex_unlock(&resolve__R.lock);
    hq_unsubscribe(h, on_change, NULL);
    return SQR_EIO;
  }
  return SQR_OK;
}

sqr_rc resolve_flush(void) {
  if(!resolve__R.running) return SQR_OK;
  resolve__db_lock();
  sqr_rc rc = flush_locked(resolve__R.h, 0, 0, 0);
  resolve__db_unlock();
  return rc;
}

void resolve_stop(void) {
  pthread_mutex_lock(&resolve__R.lock);
  if(!resolve__R.running) {
    pthread_mutex_unlock(&resolve__R.lock);
    return;
  }
  resolve__R.stopping = 1;
  pthread_cond_signal(&resolve__R.cond);
  pthread_mutex_unlock(&resolve__R.lock);
  pthread_join(resolve__R.thread, NULL); /* its last pass writes what is left */
  make_qr_ahead(); /* nothing is noted by the last pass; frees the links of any before */
  free(ahead);
  ahead = NULL;
  cahead = 0;
  hq_unsubscribe(resolve__R.h, on_change, NULL);
  pthread_mutex_lock(&resolve__R.lock);
  uint64_t lost = unflushed_scans();
  if(lost) {
    resolve__R.dropped += lost;
    log_error("resolve", "stopping with the database unavailable: %llu scan counts dropped",
              (unsigned long long)lost);
  }
  resolve__cache_free();
  resolve__R.ncells = 0;
  resolve__R.running = 0;
  resolve__R.h = NULL;
  resolve__R.db_lock = NULL;
  pthread_mutex_unlock(&resolve__R.lock);
}
