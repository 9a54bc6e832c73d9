/* hqdb_resolve.c — the scan resolver's tables and statements (see
 * hqdb_int.h). Read by the stats and dashboard code too:
 *   scans        one row per store, kiosk and hour (unix ms / 3,600,000):
 *                scans answered with a valid token;
 *   group_scans  per store and group: shoppers sent to the group's join
 *                link by the resolver (counts toward the group's fill).
 *   group_seats  per store and group: seats the resolver processes claimed
 *                (shoppers sent plus seats leased and not yet spent);
 *                one conditional UPDATE grants a process a block of
 *                them, so processes sharing the database never send
 *                more than the group's limit between them;
 *   seat_leases  per store, group and owner (one per open handle, a
 *                random name): the seats granted and not yet flushed,
 *                and when the owner last took some. A flush deletes the
 *                owner's row; a row older than the lease TTL belongs to
 *                a process that died without flushing (kill -9, power
 *                loss): the next lease of the group by any process gives
 *                its seats back (hqdb_resolve_lease).
 *   store_brands which brand (GET /N/<BRAND>) a store belongs to; a store
 *                without a row is in no brand.
 * The resolver keeps its counters in memory and writes them here in one
 * transaction per flush (resolve_counters.c), in multi-row upserts, the
 * leases it keeps settled in multi-row updates; nothing here runs per
 * scan (a lease runs once per block of seats).
 * Statements are written once with $N parameters for both backends. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hqdb_int.h"
#include "hqdb_resolve.h"

const char *const hqdb_resolve_schema[] = {
    "CREATE TABLE IF NOT EXISTS scans(store TEXT NOT NULL, kiosk BIGINT NOT NULL,"
    " hour BIGINT NOT NULL, scans BIGINT NOT NULL, PRIMARY KEY(store, kiosk, hour))",
    "CREATE TABLE IF NOT EXISTS group_scans(store TEXT NOT NULL, grp TEXT NOT NULL,"
    " sent BIGINT NOT NULL, PRIMARY KEY(store, grp))",
    "CREATE TABLE IF NOT EXISTS group_seats(store TEXT NOT NULL, grp TEXT NOT NULL,"
    " claimed BIGINT NOT NULL, last_grant BIGINT NOT NULL, PRIMARY KEY(store, grp))",
    /* Added after group_seats: a database of an older HQ gets it at open
     * (the schema transaction, under the schema lock); the seats older
     * processes leased have no row and come back with their flush. */
    "CREATE TABLE IF NOT EXISTS seat_leases(store TEXT NOT NULL, grp TEXT NOT NULL,"
    " owner TEXT NOT NULL, seats BIGINT NOT NULL, renewed_ms BIGINT NOT NULL,"
    " PRIMARY KEY(store, grp, owner))",
    "CREATE TABLE IF NOT EXISTS store_brands(store TEXT PRIMARY KEY, brand TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS store_brands_brand ON store_brands(brand)",
    /* Joins per group are counted from a store's sign-up events; without
     * this the count reads every event HQ holds. */
    "CREATE INDEX IF NOT EXISTS events_store_type ON events(store, type)",
    NULL,
};

/* Multi-row upserts: statements of BATCH_MAX, BATCH_MAX / 2, ... 1 rows,
 * their texts made once (pthread_once), so that the SQLite handle's
 * statement cache (keyed by the text's address) prepares each once and
 * PostgreSQL gets a few round trips per flush instead of one per row.
 * Each statement's rows never share a key (one cell per store, kiosk and
 * hour; one delta per group): PostgreSQL refuses an upsert touching a
 * row twice. */
#define BATCH_MAX   64
#define BATCH_SIZES 7 /* 64, 32, ..., 1 */
static char *scans_sql[BATCH_SIZES], *sent_sql[BATCH_SIZES], *keep_sql[BATCH_SIZES];
static char *grant_sql[BATCH_SIZES], *add_sql[BATCH_SIZES], *lock_sql[BATCH_SIZES];
static pthread_once_t batch_once = PTHREAD_ONCE_INIT;

/* The kept leases of a flush, rows of (store, grp, seats kept, seats the
 * row holds now), then the owner and the time: settle()'s usual case for
 * a batch of groups at once. VALUES' columns are column1..4 on both
 * backends; SQLite's RETURNING may not name v, so the caller matches the
 * rows by store and group. */
static char *keep_text(int rows) {
  char tail[512];
  snprintf(tail, sizeof tail,
           ") AS v WHERE seat_leases.store = v.column1 AND seat_leases.grp = v.column2"
           " AND seat_leases.owner = $%d AND seat_leases.seats = v.column4"
           " RETURNING seat_leases.store, seat_leases.grp, (SELECT claimed FROM group_seats g"
           " WHERE g.store = seat_leases.store AND g.grp = seat_leases.grp),"
           " (SELECT COUNT(*) FROM seat_leases o WHERE o.store = seat_leases.store"
           " AND o.grp = seat_leases.grp AND o.owner <> $%d)",
           rows * 4 + 1, rows * 4 + 1);
  char head[100];
  snprintf(head, sizeof head,
           "UPDATE seat_leases SET seats = v.column3, renewed_ms = $%d FROM (VALUES", rows * 4 + 2);
  return hqdb__batch_text(head, tail, rows, 4);
}

/* The top-ups of kept leases (topup_kept): rows of (store, grp, want,
 * limit, min_left) granted as lease_tx's deciding UPDATE grants one, and
 * rows of (store, grp, granted), then the owner, added to the leases. */
static char *grant_text(int rows) {
  return hqdb__batch_text(
      "UPDATE group_seats SET"
      " last_grant = CASE WHEN claimed + v.column3 <= v.column4 THEN v.column3"
      " ELSE v.column4 - claimed END,"
      " claimed = CASE WHEN claimed + v.column3 <= v.column4 THEN claimed + v.column3"
      " ELSE v.column4 END FROM (VALUES",
      ") AS v WHERE group_seats.store = v.column1 AND group_seats.grp = v.column2"
      " AND v.column4 - group_seats.claimed >= v.column5"
      " RETURNING group_seats.store, group_seats.grp, group_seats.last_grant, group_seats.claimed",
      rows, 5);
}

static char *add_text(int rows) {
  char tail[200];
  snprintf(tail, sizeof tail,
           ") AS v WHERE seat_leases.store = v.column1 AND seat_leases.grp = v.column2"
           " AND seat_leases.owner = $%d",
           rows * 3 + 1);
  return hqdb__batch_text("UPDATE seat_leases SET seats = seats + v.column3 FROM (VALUES", tail,
                          rows, 3);
}

static void batch_init(void) {
  for(int i = 0; i < BATCH_SIZES; i++) {
    keep_sql[i] = keep_text(BATCH_MAX >> i);
    grant_sql[i] = grant_text(BATCH_MAX >> i);
    add_sql[i] = add_text(BATCH_MAX >> i);
    lock_sql[i] = hqdb__batch_text("SELECT 1 FROM group_seats WHERE (store, grp) IN (VALUES",
                                   ") ORDER BY store, grp FOR UPDATE", BATCH_MAX >> i, 2);
    scans_sql[i] = hqdb__batch_text(
        "INSERT INTO scans(store, kiosk, hour, scans) VALUES",
        " ON CONFLICT (store, kiosk, hour) DO UPDATE SET scans = scans.scans + excluded.scans",
        BATCH_MAX >> i, 4);
    sent_sql[i] = hqdb__batch_text(
        "INSERT INTO group_scans(store, grp, sent) VALUES",
        " ON CONFLICT (store, grp) DO UPDATE SET sent = group_scans.sent + excluded.sent",
        BATCH_MAX >> i, 3);
  }
}

/* The biggest batch size index whose rows fit in n (n >= 1). */
static int batch_pick(size_t n) {
  int i = 0;
  while((size_t)(BATCH_MAX >> i) > n)
    i++;
  return i;
}

/* The deltas of sent a flush's statement takes: counted, then gathered
 * a batch at a time, in sent's order (sorted: the row locks' order). */
static size_t count_deltas(const resolve_sent_delta *sent, size_t nsent,
                           int (*pick)(const resolve_sent_delta *d)) {
  size_t n = 0;
  for(size_t j = 0; j < nsent; j++)
    if(pick(&sent[j])) n++;
  return n;
}

/* Puts the next rows deltas pick() takes, from sent[*j] on, in batch
 * (there are that many: count_deltas). */
static void gather_deltas(resolve_sent_delta *sent, size_t *j,
                          int (*pick)(const resolve_sent_delta *d), resolve_sent_delta **batch,
                          int rows) {
  for(int n = 0; n < rows; (*j)++)
    if(pick(&sent[*j])) batch[n++] = &sent[*j];
}

static int has_sent(const resolve_sent_delta *d) {
  return d->n != 0;
}

static int keeps(const resolve_sent_delta *d) {
  return d->keep > 0;
}

static sqr_rc lease_tx(hqdb *db, const char *store, const char *grp, int64_t want, int64_t limit,
                       int64_t min_left, int record_none, int64_t now_ms, int64_t ttl_ms,
                       int64_t *granted, int64_t *left, int64_t *others);

/* Calls fn(d, r, i) for each row i of r (store, grp first) with the
 * delta of batch[0..rows) of that store and group, skipping deltas done
 * already. SQLite's RETURNING may not name the VALUES, so rows are
 * matched by key; they come back in the batch's order as a rule (each a
 * key lookup from VALUES), and the search is for their not being so. */
static void match_rows(hqres *r, resolve_sent_delta **batch, int rows,
                       void (*fn)(resolve_sent_delta *d, hqres *r, int row),
                       int (*done)(const resolve_sent_delta *d)) {
  for(int i = 0, next = 0; i < r->nrows; i++) {
    char store[HQ_ID_MAX], grp[HQ_ID_MAX];
    cell_text(r, i, 0, store, sizeof store);
    cell_text(r, i, 1, grp, sizeof grp);
    for(int t = 0; t < rows; t++) {
      resolve_sent_delta *d = batch[(next + t) % rows];
      if(done(d) || strcmp(d->store, store) != 0 || strcmp(d->grp, grp) != 0) continue;
      fn(d, r, i);
      next = (next + t + 1) % rows;
      break;
    }
  }
}

static int is_kept(const resolve_sent_delta *d) {
  return d->kept != 0;
}

/* A row of settle_kept's statement: the lease was ours, and is kept. */
static void kept_row(resolve_sent_delta *d, hqres *r, int i) {
  d->kept = d->keep;
  /* limit - claimed, NULL (no group_seats row) as 0, as the one-row
   * statement's arithmetic gave */
  d->left = cell(r, i, 2)->k == HQV_NULL ? 0 : d->limit - cell_int(r, i, 2);
  d->others = cell_int(r, i, 3);
}

/* The usual case of settle(), for every delta with keep > 0, in one
 * statement per batch of groups: the row holds what we were granted
 * (spent + unspent); it now holds the seats we keep, renewed, and
 * claimed is unchanged (spent seats stay claimed as sent). kept and left
 * (the group's seats unclaimed, for the caller's next choice of what to
 * keep) are set for the groups whose row held what we expected; settle()
 * takes the others (reclaimed by another process) one by one. At 5,000
 * stores a flush settles thousands of kept leases: one statement each was
 * half of the flusher's time (docs/BENCHMARKS.md). p: room for BATCH_MAX
 * rows of 4 and 2 more. */
static sqr_rc settle_kept(hqdb *db, resolve_sent_delta *sent, size_t nsent, int64_t now_ms,
                          hqv *p) {
  sqr_rc rc = SQR_OK;
  for(size_t j = 0, left = count_deltas(sent, nsent, keeps); !rc && left;) {
    int b = batch_pick(left), rows = BATCH_MAX >> b;
    resolve_sent_delta *batch[BATCH_MAX];
    if(!keep_sql[b]) return SQR_ENOMEM;
    gather_deltas(sent, &j, keeps, batch, rows);
    left -= (size_t)rows;
    for(int i = 0; i < rows; i++) {
      p[i * 4] = T(batch[i]->store);
      p[i * 4 + 1] = T(batch[i]->grp);
      p[i * 4 + 2] = I(batch[i]->keep);
      p[i * 4 + 3] = I(batch[i]->n + batch[i]->unused);
    }
    p[rows * 4] = T(db->owner);
    p[rows * 4 + 1] = I(now_ms);
    hqres r = {0};
    rc = hqdb_exec(db, keep_sql[b], p, rows * 4 + 2, &r, NULL);
    if(!rc) match_rows(&r, batch, rows, kept_row, is_kept);
    hqres_free(&r);
  }
  return rc;
}

/* Locks the group_seats rows of every group in sent, in (store, grp)
 * order, 64 a statement (PostgreSQL; SQLite's writer lock is the whole
 * database's). A flush touches those rows in several passes (the give-
 * backs, the batched top-ups, the leases one by one), each in that order
 * but not the whole. Groups that sent someone are serialised already by
 * their group_scans rows, locked first in order; without this, two
 * processes flushing the same two idle groups, each giving one back and
 * topping the other up, held one row each and waited for the other's
 * until deadlock_timeout aborted one flush, with the storage lock (and
 * so every lease of theirs) held meanwhile (sync.hqdb_resolve). Taken
 * before settle_kept reads who else holds seats, so that no other
 * process's lease of these groups lands between that read and the
 * top-up. Relies on sent being sorted (the caller's). */
static sqr_rc lock_groups(hqdb *db, const resolve_sent_delta *sent, size_t nsent, hqv *p) {
  sqr_rc rc = SQR_OK;
  for(size_t i = 0; !rc && i < nsent;) {
    int b = batch_pick(nsent - i), rows = BATCH_MAX >> b;
    if(!lock_sql[b]) return SQR_ENOMEM;
    for(int r = 0; r < rows; r++) {
      p[r * 2] = T(sent[i + (size_t)r].store);
      p[r * 2 + 1] = T(sent[i + (size_t)r].grp);
    }
    rc = hqdb_exec(db, lock_sql[b], p, rows * 2, NULL, NULL);
    i += (size_t)rows;
  }
  return rc;
}

/* Whether the flush tops d up by topup_kept: a kept lease wanting more. */
static int topped_up(const resolve_sent_delta *d) {
  return d->want > 0 && d->kept > 0 && d->kept == d->keep;
}

static int is_granted(const resolve_sent_delta *d) {
  return d->granted != 0;
}

/* A row of the grant statement: the group had room. */
static void granted_row(resolve_sent_delta *d, hqres *r, int i) {
  d->granted = cell_int(r, i, 2);
  d->left = d->limit - cell_int(r, i, 3);
}

/* The top-ups of the leases settle_kept renewed, lease_tx's grant in two
 * statements per batch of groups instead of its five per group: a lone
 * process tops up every group in use as often as every flush (thousands
 * a flush at 5,000 stores: five statements each would outnumber the rest
 * of the flush's many times over). Their group_seats and seat_leases rows
 * exist, and settle_kept read who else holds seats. A top-up refused
 * (fewer than keep_room unclaimed) keeps the left settle read. Expired
 * rows of dead processes are left to the next lease_tx of the group (a
 * scan's, once these seats run out), which gives them back. p: room for
 * BATCH_MAX rows of 5. */
static sqr_rc topup_kept(hqdb *db, resolve_sent_delta *sent, size_t nsent, hqv *p) {
  sqr_rc rc = SQR_OK;
  for(size_t j = 0, left = count_deltas(sent, nsent, topped_up); !rc && left;) {
    int b = batch_pick(left), rows = BATCH_MAX >> b;
    resolve_sent_delta *batch[BATCH_MAX];
    if(!grant_sql[b] || !add_sql[b]) return SQR_ENOMEM;
    gather_deltas(sent, &j, topped_up, batch, rows);
    left -= (size_t)rows;
    for(int i = 0; i < rows; i++) {
      resolve_sent_delta *d = batch[i];
      p[i * 5] = T(d->store);
      p[i * 5 + 1] = T(d->grp);
      p[i * 5 + 2] = I(d->want);
      p[i * 5 + 3] = I(d->limit);
      p[i * 5 + 4] = I(d->keep_room < 1 ? 1 : d->keep_room);
    }
    hqres r = {0};
    rc = hqdb_exec(db, grant_sql[b], p, rows * 5, &r, NULL);
    if(!rc) match_rows(&r, batch, rows, granted_row, is_granted);
    hqres_free(&r);
    /* the granted seats join the rows settle_kept renewed, in statements
     * of the sizes there are, as for the grants */
    int ngranted = 0;
    for(int i = 0; i < rows; i++)
      if(batch[i]->granted) batch[ngranted++] = batch[i];
    for(int at = 0; !rc && at < ngranted;) {
      int c = batch_pick((size_t)(ngranted - at)), n = BATCH_MAX >> c;
      for(int i = 0; i < n; i++) {
        p[i * 3] = T(batch[at + i]->store);
        p[i * 3 + 1] = T(batch[at + i]->grp);
        p[i * 3 + 2] = I(batch[at + i]->granted);
      }
      p[n * 3] = T(db->owner);
      rc = hqdb_exec(db, add_sql[c], p, n * 3 + 1, NULL, NULL);
      at += n;
    }
  }
  return rc;
}

/* Settles this handle's lease of one group (see hqdb_resolve_flush), but
 * for a kept one, which settle_kept did. */
static sqr_rc settle(hqdb *db, resolve_sent_delta *d) {
  hqres r = {0};
  sqr_rc rc = SQR_OK;
  if(d->kept) {
    /* kept by settle_kept: the unspent seats beyond keep go back */
    if(d->unused <= d->keep) return SQR_OK;
    hqv u[] = {T(d->store), T(d->grp), I(d->unused - d->keep)};
    rc =
        hqdb_exec(db, "UPDATE group_seats SET claimed = claimed - $3 WHERE store = $1 AND grp = $2",
                  u, 3, NULL, NULL);
    if(!rc) d->left += d->unused - d->keep;
    return rc;
  }
  /* Everything this handle leased of the group is settled now: the
   * spent seats are in sent, the rest go back. claimed held the row's
   * seats; it keeps the n sent. The row is what the database knows we
   * hold: when another process reclaimed it (we did not flush within
   * the TTL) held is 0 and claimed gets the spent seats back, so
   * claimed stays sent + outstanding either way and no seat is given
   * back twice. (Leases and flushes of one process are serialised by
   * its caller, so no grant lands between its snapshot and this.) */
  hqv k[] = {T(d->store), T(d->grp), T(db->owner)};
  rc = hqdb_exec(db,
                 "DELETE FROM seat_leases WHERE store = $1 AND grp = $2 AND owner = $3"
                 " RETURNING seats",
                 k, 3, &r, NULL);
  int64_t held = !rc && r.nrows ? cell_int(&r, 0, 0) : 0;
  hqres_free(&r);
  if(!rc && d->n != held) {
    hqv u[] = {T(d->store), T(d->grp), I(d->n - held)};
    rc =
        hqdb_exec(db, "UPDATE group_seats SET claimed = claimed + $3 WHERE store = $1 AND grp = $2",
                  u, 3, NULL, NULL);
  }
  return rc;
}

sqr_rc hqdb_resolve_flush(hqdb *db, const resolve_scan_delta *scans, size_t nscans,
                          resolve_sent_delta *sent, size_t nsent, int64_t now_ms, int64_t ttl_ms) {
  for(size_t i = 0; i < nsent; i++)
    sent[i].kept = sent[i].granted = sent[i].left = sent[i].others = 0;
  if(!nscans && !nsent) return SQR_OK;
  pthread_once(&batch_once, batch_init);
  hqv *p = malloc((BATCH_MAX * 5 + 2) * sizeof *p); /* the widest batch: topup_kept's */
  if(!p) return SQR_ENOMEM;
  sqr_rc rc = hqdb_begin(db);
  if(rc) {
    free(p);
    return rc;
  }
  for(size_t i = 0; !rc && i < nscans;) {
    int b = batch_pick(nscans - i), rows = BATCH_MAX >> b;
    if(!scans_sql[b]) rc = SQR_ENOMEM;
    for(int r = 0; !rc && r < rows; r++) {
      const resolve_scan_delta *s = &scans[i + (size_t)r];
      p[r * 4] = T(s->store);
      p[r * 4 + 1] = I(s->kiosk);
      p[r * 4 + 2] = I(s->hour);
      p[r * 4 + 3] = I(s->n);
    }
    if(!rc) rc = hqdb_exec(db, scans_sql[b], p, rows * 4, NULL, NULL);
    i += (size_t)rows;
  }
  /* group_scans: only the groups that sent someone */
  for(size_t j = 0, left = count_deltas(sent, nsent, has_sent); !rc && left;) {
    int b = batch_pick(left), rows = BATCH_MAX >> b;
    resolve_sent_delta *batch[BATCH_MAX];
    if(!sent_sql[b]) {
      rc = SQR_ENOMEM;
      break;
    }
    gather_deltas(sent, &j, has_sent, batch, rows);
    left -= (size_t)rows;
    for(int i = 0; i < rows; i++) {
      p[i * 3] = T(batch[i]->store);
      p[i * 3 + 1] = T(batch[i]->grp);
      p[i * 3 + 2] = I(batch[i]->n);
    }
    rc = hqdb_exec(db, sent_sql[b], p, rows * 3, NULL, NULL);
  }
  if(!rc && db->ops->for_update[0]) rc = lock_groups(db, sent, nsent, p);
  if(!rc) rc = settle_kept(db, sent, nsent, now_ms, p);
  for(size_t i = 0; !rc && i < nsent; i++)
    rc = settle(db, &sent[i]);
  /* Seats for groups in use, leased in this transaction (one commit for
   * every group topped up) rather than by a scan that ran out: the kept
   * leases in batches, the others (a group leased ahead, a lease given
   * back whole) one by one. Every give-back is settled before. */
  if(!rc) rc = topup_kept(db, sent, nsent, p);
  free(p);
  for(size_t i = 0; !rc && i < nsent; i++) {
    resolve_sent_delta *d = &sent[i];
    if(d->want > 0 && d->kept == d->keep && !d->kept)
      rc = lease_tx(db, d->store, d->grp, d->want, d->limit, d->keep_room, 0, now_ms, ttl_ms,
                    &d->granted, &d->left, &d->others);
  }
  if(!rc)
    rc = hqdb_commit(db);
  else
    hqdb_rollback(db);
  for(size_t i = 0; rc && i < nsent; i++)
    sent[i].kept = sent[i].granted = sent[i].left = sent[i].others = 0;
  return rc;
}

/* LIKE pattern matching `"group":"ID"` in a compact JSON payload; '!' is
 * the escape character (a backslash would mean different things to the
 * two backends' string literals). */
static void group_pattern(const char *grp, char *out, size_t size) {
  size_t n = 0;
  const char *head = "%\"group\":\"";
  for(const char *s = head; *s && n + 1 < size; s++)
    out[n++] = *s;
  for(const char *s = grp; *s && n + 3 < size; s++) {
    if(*s == '%' || *s == '_' || *s == '!') out[n++] = '!';
    out[n++] = *s;
  }
  if(n + 3 < size) {
    out[n++] = '"';
    out[n++] = '%';
  }
  out[n] = '\0';
}

sqr_rc hqdb_resolve_joins(hqdb *db, const char *store, const char *grp, int64_t *joins,
                          int *marked_full) {
  char pat[HQ_ID_MAX * 2 + 16];
  group_pattern(grp, pat, sizeof pat);
  hqres r = {0};
  hqv p[] = {T(store), T(pat)};
  sqr_rc rc = hqdb_exec(db,
                        "SELECT COALESCE(SUM(CASE WHEN type = 'signup' THEN 1 ELSE 0 END), 0),"
                        " COALESCE(SUM(CASE WHEN type = 'group_marked_full' THEN 1 ELSE 0 END), 0)"
                        " FROM events WHERE store = $1 AND type IN ('signup', 'group_marked_full')"
                        " AND payload LIKE $2 ESCAPE '!'",
                        p, 2, &r, NULL);
  if(!rc) {
    *joins = r.nrows ? cell_int(&r, 0, 0) : 0;
    *marked_full = r.nrows ? cell_int(&r, 0, 1) > 0 : 0;
  }
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_resolve_group_counts(hqdb *db, const char *store, resolve_group_count **out,
                                 size_t *n) {
  *out = NULL;
  *n = 0;
  hqres r = {0};
  hqv p[] = {T(store ? store : "")};
  /* GP is group_pattern() in SQL: '!' escaped first, then '%' and '_'.
   * Correlated counts, each by the index on (store, type) as the
   * per-group statements, in the order of store_groups' key: no sort, no
   * grouping (twice as fast as a grouped join here). Two texts, so that
   * one store's is a key lookup (an OR of both would scan every group). */
#define GP                                                                                         \
  "'%\"group\":\"' || REPLACE(REPLACE(REPLACE(g.id, '!', '!!'), '%', '!%'), '_', '!_') || '\"%'"
#define GROUP_COUNTS                                                                               \
  "SELECT g.store, g.id, g.name, g.capacity, g.expires_at, g.retired,"                             \
  " (SELECT COUNT(*) FROM events e WHERE e.store = g.store AND e.type = 'signup'"                  \
  "  AND e.payload LIKE " GP " ESCAPE '!'),"                                                       \
  " (SELECT COUNT(*) FROM events e WHERE e.store = g.store AND e.type = 'group_marked_full'"       \
  "  AND e.payload LIKE " GP " ESCAPE '!'),"                                                       \
  " COALESCE((SELECT s.sent FROM group_scans s WHERE s.store = g.store AND s.grp = g.id), 0)"      \
  " FROM store_groups g WHERE g.kind <> 'interest'"
  sqr_rc rc = store ? hqdb_exec(db, GROUP_COUNTS " AND g.store = $1 ORDER BY g.id", p, 1, &r, NULL)
                    : hqdb_exec(db, GROUP_COUNTS " ORDER BY g.store, g.id", NULL, 0, &r, NULL);
  if(!rc && r.nrows && !(*out = calloc((size_t)r.nrows, sizeof **out))) rc = SQR_ENOMEM;
  for(int i = 0; !rc && i < r.nrows; i++) {
    resolve_group_count *g = &(*out)[i];
    cell_text(&r, i, 0, g->store, sizeof g->store);
    cell_text(&r, i, 1, g->id, sizeof g->id);
    cell_text(&r, i, 2, g->name, sizeof g->name);
    g->capacity = (int)cell_int(&r, i, 3);
    g->expires_at = cell_int(&r, i, 4);
    g->retired = (int)cell_int(&r, i, 5);
    g->joins = cell_int(&r, i, 6);
    g->marked_full = cell_int(&r, i, 7) > 0;
    g->sent = cell_int(&r, i, 8);
  }
  if(!rc) *n = (size_t)r.nrows;
  hqres_free(&r);
  return rc;
#undef GROUP_COUNTS
#undef GP
}

sqr_rc hqdb_resolve_sent(hqdb *db, const char *store, const char *grp, int64_t *sent) {
  hqres r = {0};
  hqv p[] = {T(store), T(grp)};
  sqr_rc rc =
      hqdb_exec(db, "SELECT sent FROM group_scans WHERE store = $1 AND grp = $2", p, 2, &r, NULL);
  if(!rc) *sent = r.nrows ? cell_int(&r, 0, 0) : 0;
  hqres_free(&r);
  return rc;
}

/* hqdb_resolve_lease inside the caller's transaction; grants nothing
 * unless at least min_left (>= 1) seats of limit are unclaimed, and then
 * leaves a row of 0 seats only with record_none (a shopper went without;
 * a flush's top-up that got nothing is no such news). */
static sqr_rc lease_tx(hqdb *db, const char *store, const char *grp, int64_t want, int64_t limit,
                       int64_t min_left, int record_none, int64_t now_ms, int64_t ttl_ms,
                       int64_t *granted, int64_t *left, int64_t *others) {
  hqres r = {0};
  sqr_rc rc = SQR_OK;
  *granted = 0; /* *left and *others too, but only where the group was read */
  /* First lease of a group: its claims start at what was sent before
   * leases existed. Two processes racing here both read the same sent;
   * the second insert does nothing. (WHERE: SQLite's parser needs it
   * before ON CONFLICT after a SELECT.) */
  hqv k[] = {T(store), T(grp)};
  rc = hqdb_exec(db,
                 "INSERT INTO group_seats(store, grp, claimed, last_grant)"
                 " SELECT $1, $2, COALESCE((SELECT sent FROM group_scans"
                 " WHERE store = $1 AND grp = $2), 0), 0 WHERE 1 = 1"
                 " ON CONFLICT (store, grp) DO NOTHING",
                 k, 2, NULL, NULL);
  /* Seats of owners that stopped flushing: a process killed before it
   * could give them back. DELETE first, then subtract what it returned:
   * two processes reclaiming at once each get only the rows they deleted
   * (PostgreSQL skips a row another transaction deleted), so nothing is
   * given back twice. Our own row is never ours to reclaim. */
  hqres x = {0};
  hqv o[] = {T(store), T(grp), T(db->owner), I(now_ms - ttl_ms)};
  if(!rc)
    rc = hqdb_exec(db,
                   "DELETE FROM seat_leases WHERE store = $1 AND grp = $2 AND owner <> $3"
                   " AND renewed_ms < $4 RETURNING seats",
                   o, 4, &x, NULL);
  int64_t expired = 0;
  for(int i = 0; !rc && i < x.nrows; i++)
    expired += cell_int(&x, i, 0);
  hqres_free(&x);
  if(!rc && expired) {
    hqv u[] = {T(store), T(grp), I(expired)};
    rc =
        hqdb_exec(db, "UPDATE group_seats SET claimed = claimed - $3 WHERE store = $1 AND grp = $2",
                  u, 3, NULL, NULL);
  }
  /* The one statement that decides: the row lock serialises processes
   * (PostgreSQL; SQLite's writer lock anyway) and the WHERE is checked
   * on the row as it is after the one before committed. Both SET
   * expressions read the old row: the grant is want, or what is left. */
  hqv p[] = {T(store), T(grp), I(want), I(limit), I(min_left < 1 ? 1 : min_left)};
  if(!rc)
    rc = hqdb_exec(
        db,
        "UPDATE group_seats SET"
        " last_grant = CASE WHEN claimed + $3 <= $4 THEN $3 ELSE $4 - claimed END,"
        " claimed = CASE WHEN claimed + $3 <= $4 THEN claimed + $3 ELSE $4 END"
        " WHERE store = $1 AND grp = $2 AND $4 - claimed >= $5 RETURNING last_grant, $4 - claimed",
        p, 5, &r, NULL);
  int refused = !rc && !r.nrows;
  if(!rc && r.nrows) {
    *granted = cell_int(&r, 0, 0);
    *left = cell_int(&r, 0, 1);
  }
  hqres_free(&r);
  /* Refused: what is unclaimed all the same, so the caller's next choice
   * (what to keep, whether to top up) starts from the group as it is. */
  if(refused) {
    hqv q[] = {T(store), T(grp), I(limit)};
    rc = hqdb_exec(db, "SELECT $3 - claimed FROM group_seats WHERE store = $1 AND grp = $2", q, 3,
                   &r, NULL);
    if(!rc && r.nrows) *left = cell_int(&r, 0, 0);
    hqres_free(&r);
  }
  /* The grant is this handle's until its next flush: renewed now. A
   * scan's ask that got nothing (record_none) leaves a row of 0 seats all
   * the same: another process keeping seats of the group near full
   * because nobody else held any (*others) learns at its next flush that
   * a shopper here went without, and gives its unspent seats back. The
   * caller's flush deletes the row (settle) once it has not asked for a
   * while (resolve_int.h, RESOLVE_WAITING_S). */
  hqv l[] = {T(store), T(grp), T(db->owner), I(*granted), I(now_ms)};
  if(!rc && (*granted || record_none))
    rc = hqdb_exec(
        db,
        "INSERT INTO seat_leases(store, grp, owner, seats, renewed_ms)"
        " VALUES($1, $2, $3, $4, $5) ON CONFLICT (store, grp, owner) DO UPDATE"
        " SET seats = seat_leases.seats + excluded.seats, renewed_ms = excluded.renewed_ms",
        l, 5, NULL, NULL);
  /* Who else holds seats of the group (the expired are gone), counted
   * after the UPDATE: on PostgreSQL a process that leased the group just
   * before us has committed its row by the time our UPDATE got the row
   * lock. The caller keeps seats near full only while nobody does. */
  if(!rc)
    rc = hqdb_exec(db,
                   "SELECT COUNT(*) FROM seat_leases WHERE store = $1 AND grp = $2"
                   " AND owner <> $3",
                   o, 3, &x, NULL);
  if(!rc) *others = x.nrows ? cell_int(&x, 0, 0) : 0;
  hqres_free(&x);
  if(rc) {
    *granted = 0;
    *left = 0;
    *others = 0;
  }
  return rc;
}

sqr_rc hqdb_resolve_lease(hqdb *db, const char *store, const char *grp, int64_t want, int64_t limit,
                          int64_t now_ms, int64_t ttl_ms, int64_t *granted, int64_t *left,
                          int64_t *others) {
  *granted = 0;
  *left = 0;
  *others = 0;
  if(want < 1) return SQR_EINVAL;
  /* Lazy: decided (and seen by every process) at commit, but the scan
   * waiting for it does not wait for the disk. A power loss within a
   * second of it (before the flusher's next commit syncs it) may lose
   * the grant: the group then looks up to one block emptier, as a crash
   * before a flush already allows. */
  sqr_rc rc = hqdb_begin_lazy(db);
  if(!rc) rc = lease_tx(db, store, grp, want, limit, 1, 1, now_ms, ttl_ms, granted, left, others);
  if(!rc)
    rc = hqdb_commit(db);
  else
    hqdb_rollback(db);
  if(rc) *granted = *left = *others = 0;
  return rc;
}

sqr_rc hqdb_resolve_versions(hqdb *db,
                             void (*fn)(void *arg, const char *store, int64_t config_version,
                                        int64_t events),
                             void *arg) {
  hqres r = {0};
  sqr_rc rc = hqdb_exec(db, "SELECT id, config_version, events FROM stores", NULL, 0, &r, NULL);
  for(int i = 0; !rc && i < r.nrows; i++) {
    char id[HQ_ID_MAX];
    cell_text(&r, i, 0, id, sizeof id);
    fn(arg, id, cell_int(&r, i, 1), cell_int(&r, i, 2));
  }
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_resolve_brand_set(hqdb *db, const char *store, const char *brand) {
  hqv p[] = {T(store), T(brand)};
  sqr_rc rc = hqdb_begin(db);
  if(rc) return rc;
  hqres r = {0};
  rc = hqdb_exec(db, "SELECT 1 FROM stores WHERE id = $1", p, 1, &r, NULL);
  if(!rc && r.nrows == 0) rc = SQR_ENOTFOUND;
  hqres_free(&r);
  if(!rc)
    rc = hqdb_exec(db,
                   "INSERT INTO store_brands(store, brand) VALUES($1, $2)"
                   " ON CONFLICT (store) DO UPDATE SET brand = excluded.brand",
                   p, 2, NULL, NULL);
  if(!rc) return hqdb_commit(db);
  hqdb_rollback(db);
  return rc;
}

sqr_rc hqdb_resolve_brand_of(hqdb *db, const char *store, char brand[HQ_ID_MAX]) {
  hqres r = {0};
  hqv p[] = {T(store)};
  brand[0] = '\0';
  sqr_rc rc = hqdb_exec(db, "SELECT brand FROM store_brands WHERE store = $1", p, 1, &r, NULL);
  if(!rc && r.nrows) cell_text(&r, 0, 0, brand, HQ_ID_MAX);
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_resolve_brand_stores(hqdb *db, const char *brand, resolve_brand_store **out,
                                 size_t *n) {
  hqres r = {0};
  hqv p[] = {T(brand)};
  *out = NULL;
  *n = 0;
  sqr_rc rc = hqdb_exec(db,
                        "SELECT s.id, s.name, s.city, s.lat, s.lon FROM store_brands b"
                        " JOIN stores s ON s.id = b.store WHERE b.brand = $1 ORDER BY s.city, s.id",
                        p, 1, &r, NULL);
  if(!rc && r.nrows) {
    *out = calloc((size_t)r.nrows, sizeof **out);
    if(!*out) rc = SQR_ENOMEM;
  }
  for(int i = 0; !rc && i < r.nrows; i++) {
    resolve_brand_store *s = &(*out)[i];
    cell_text(&r, i, 0, s->id, sizeof s->id);
    cell_text(&r, i, 1, s->name, sizeof s->name);
    cell_text(&r, i, 2, s->city, sizeof s->city);
    s->lat = cell_real(&r, i, 3);
    s->lon = cell_real(&r, i, 4);
  }
  if(!rc) *n = (size_t)r.nrows;
  hqres_free(&r);
  return rc;
}
