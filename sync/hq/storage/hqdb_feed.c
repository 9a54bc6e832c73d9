/* hqdb_feed.c — see hqdb_feed.h. Statements written once for both
 * backends, as in hqdb.c. */
#include "hqdb_feed.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hqdb_int.h"

const char *const hqdb_feed_schema[] = {
    "CREATE TABLE IF NOT EXISTS feed_heads(store TEXT PRIMARY KEY, head BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS feed(store TEXT NOT NULL, seq BIGINT NOT NULL,"
    " kind INTEGER NOT NULL, origin TEXT NOT NULL, member TEXT NOT NULL, day BIGINT NOT NULL,"
    " points BIGINT NOT NULL, streak BIGINT NOT NULL, ts_ms BIGINT NOT NULL,"
    " kiosk TEXT NOT NULL, PRIMARY KEY(store, seq))",
    "CREATE TABLE IF NOT EXISTS store_members(store TEXT NOT NULL, member TEXT NOT NULL,"
    " origin TEXT NOT NULL, blind BYTEA NOT NULL, index_kind INTEGER NOT NULL,"
    " created_ms BIGINT NOT NULL, consent TEXT NOT NULL, staff TEXT NOT NULL,"
    " grp TEXT NOT NULL, tags TEXT NOT NULL, points BIGINT NOT NULL, seq BIGINT NOT NULL,"
    " PRIMARY KEY(store, member))",
    /* Keyed by day first: an upload's check-ins are of a day or two, so
     * they land on a few pages; keyed by member (random ids) every one
     * dirtied a page of its own, and the commit wrote them all. A
     * member's days are read by scanning the store's rows (page reads,
     * erasures), which is rare next to check-ins. */
    "CREATE TABLE IF NOT EXISTS checkin_days(store TEXT NOT NULL, day BIGINT NOT NULL,"
    " member TEXT NOT NULL, kiosk TEXT NOT NULL, ts_ms BIGINT NOT NULL, points BIGINT NOT NULL,"
    " streak BIGINT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY(store, day, member))",
    "CREATE TABLE IF NOT EXISTS feed_readers(kiosk_id TEXT PRIMARY KEY, since_ms BIGINT NOT NULL)",
    NULL,
};

/* Multi-row statements of up to BATCH rows (fewer where the columns
 * would pass the backends' parameter limit: PostgreSQL's is 640, the
 * event insert's), then half, ... 1, made once (the SQLite handle caches
 * statements by the text's address). */
#define BATCH      64
#define SIZES      7   /* 64, 32, ..., 1 */
#define MAX_PARAMS 640 /* hqdb_pg.c */

enum { ST_SHARED, ST_ADD, ST_DAYS, ST_PUT, ST_APPEND, ST_COUNT };
static const int st_cols[ST_COUNT] = {2, 12, 3, 8, 10};
static const int st_first[ST_COUNT] = {0, 1, 0, 0, 0}; /* ST_ADD: from 32 rows */
_Static_assert((BATCH >> 1) * 12 <= MAX_PARAMS && BATCH * 10 <= MAX_PARAMS,
               "a statement's parameters fit PostgreSQL's limit");
static char *st_sql[ST_COUNT][SIZES];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void) {
  static const char *const head[ST_COUNT] = {
      /* A join with the rows, not "(store, member) IN (VALUES ...)":
       * SQLite answers that one by scanning the whole table. */
      "WITH v(s, m) AS (VALUES",
      "INSERT INTO store_members(store, member, origin, blind, index_kind, created_ms, consent,"
      " staff, grp, tags, points, seq) VALUES",
      "WITH v(s, m, d) AS (VALUES",
      "INSERT INTO checkin_days(store, member, day, kiosk, ts_ms, points, streak, seq) VALUES",
      "INSERT INTO feed(store, seq, kind, origin, member, day, points, streak, ts_ms, kiosk)"
      " VALUES",
  };
  static const char *const tail[ST_COUNT] = {
      ") SELECT c.member FROM v JOIN store_members c ON c.store = v.s AND c.member = v.m",
      " ON CONFLICT DO NOTHING RETURNING member",
      ") SELECT c.member, c.day, c.kiosk, c.ts_ms, c.points, c.streak, c.seq FROM v"
      " JOIN checkin_days c ON c.store = v.s AND c.day = v.d AND c.member = v.m",
      " ON CONFLICT (store, day, member) DO UPDATE SET kiosk = excluded.kiosk,"
      " ts_ms = excluded.ts_ms, points = excluded.points, streak = excluded.streak,"
      " seq = excluded.seq",
      "",
  };
  for(int s = 0; s < ST_COUNT; s++)
    for(int i = st_first[s]; i < SIZES; i++)
      st_sql[s][i] = hqdb__batch_text(head[s], tail[s], BATCH >> i, st_cols[s]);
}

/* The biggest statement size index of kind s whose rows fit in n (n >= 1). */
static int pick(int s, size_t n) {
  int i = st_first[s];
  while((size_t)(BATCH >> i) > n)
    i++;
  return i;
}

typedef void (*fill_fn)(const void *ctx, size_t i, hqv *p);
/* The result of the statement that carried rows first..first+count-1. */
typedef void (*rows_fn)(void *ctx, size_t first, size_t count, const hqres *r);

/* Runs statement kind s over n rows, BATCH at a time; each result goes to
 * got (when not NULL). */
static sqr_rc run_batched(hqdb *db, int s, size_t n, fill_fn fill, rows_fn got, void *ctx) {
  pthread_once(&once, init);
  int cols = st_cols[s];
  hqv *p = malloc(BATCH * (size_t)cols * sizeof *p);
  sqr_rc rc = p ? SQR_OK : SQR_ENOMEM;
  for(size_t j = 0; !rc && j < n;) {
    int b = pick(s, n - j), nr = BATCH >> b;
    if(!st_sql[s][b]) {
      rc = SQR_ENOMEM;
      break;
    }
    for(int r = 0; r < nr; r++)
      fill(ctx, j + (size_t)r, p + r * cols);
    hqres res = {0};
    rc = hqdb_exec(db, st_sql[s][b], p, nr * cols, got ? &res : NULL, NULL);
    if(!rc && got) got(ctx, j, (size_t)nr, &res);
    hqres_free(&res);
    j += (size_t)nr;
  }
  free(p);
  return rc;
}

sqr_rc hqdb_feed_lock(hqdb *db, const char *store, int64_t *head) {
  /* DO UPDATE takes the row lock on PostgreSQL, made or not; on SQLite
   * the write transaction is the lock. */
  hqres r = {0};
  hqv p[] = {T(store)};
  sqr_rc rc = hqdb_exec(db,
                        "INSERT INTO feed_heads(store, head) VALUES($1, 0) ON CONFLICT (store)"
                        " DO UPDATE SET head = feed_heads.head RETURNING head",
                        p, 1, &r, NULL);
  if(!rc && r.nrows != 1) rc = SQR_ECORRUPT;
  if(!rc) *head = cell_int(&r, 0, 0);
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_feed_set_head(hqdb *db, const char *store, int64_t head) {
  hqv p[] = {T(store), I(head)};
  return hqdb_exec(db, "UPDATE feed_heads SET head = $2 WHERE store = $1", p, 2, NULL, NULL);
}

sqr_rc hqdb_feed_head(hqdb *db, const char *store, int64_t *head) {
  hqres r = {0};
  hqv p[] = {T(store)};
  sqr_rc rc = hqdb_exec(db, "SELECT head FROM feed_heads WHERE store = $1", p, 1, &r, NULL);
  *head = !rc && r.nrows == 1 ? cell_int(&r, 0, 0) : 0;
  hqres_free(&r);
  return rc;
}

/* ---- shared members ------------------------------------------------------ */

typedef struct by_member {
  const char *store;
  const char *const *members; /* for ST_SHARED */
  const hq_feed_member *m;    /* for ST_ADD */
  uint8_t *flags;
} by_member;

static void fill_shared(const void *ctx, size_t i, hqv *p) {
  const by_member *c = ctx;
  p[0] = T(c->store);
  p[1] = T(c->members[i]);
}

/* Marks the rows of this statement that a result names, the first of
 * each id only (an id may repeat within a request). */
static void mark(const char *const *ids, uint8_t *flags, size_t first, size_t count,
                 const hqres *r) {
  for(int k = 0; k < r->nrows; k++) {
    char m[HQ_FEED_MEMBER_HEX];
    cell_text(r, k, 0, m, sizeof m);
    for(size_t i = first; i < first + count; i++)
      if(strcmp(ids[i], m) == 0) {
        flags[i] = 1;
        break;
      }
  }
}

static void got_shared(void *ctx, size_t first, size_t count, const hqres *r) {
  by_member *c = ctx;
  /* every request row with a named id is shared, repeats included */
  for(int k = 0; k < r->nrows; k++) {
    char m[HQ_FEED_MEMBER_HEX];
    cell_text(r, k, 0, m, sizeof m);
    for(size_t i = first; i < first + count; i++)
      if(strcmp(c->members[i], m) == 0) c->flags[i] = 1;
  }
}

sqr_rc hqdb_feed_shared(hqdb *db, const char *store, const char *const *members, size_t n,
                        uint8_t *shared) {
  memset(shared, 0, n);
  by_member c = {.store = store, .members = members, .flags = shared};
  return run_batched(db, ST_SHARED, n, fill_shared, got_shared, &c);
}

static void fill_add(const void *ctx, size_t i, hqv *p) {
  const by_member *c = ctx;
  const hq_feed_member *m = &c->m[i];
  p[0] = T(c->store);
  p[1] = T(m->member);
  p[2] = T(m->origin);
  p[3] = B(m->blind, HQ_FEED_BLIND_LEN);
  p[4] = I(m->index_kind);
  p[5] = I(m->created_ms);
  p[6] = T(m->consent);
  p[7] = T(m->staff);
  p[8] = T(m->group);
  p[9] = T(m->tags);
  p[10] = I(m->points);
  p[11] = I(m->seq);
}

static void got_added(void *ctx, size_t first, size_t count, const hqres *r) {
  by_member *c = ctx;
  mark(c->members, c->flags, first, count, r);
}

sqr_rc hqdb_feed_members_add(hqdb *db, const char *store, const hq_feed_member *m, size_t n,
                             uint8_t *added) {
  const char **ids = malloc((n ? n : 1) * sizeof *ids);
  if(!ids) return SQR_ENOMEM;
  for(size_t i = 0; i < n; i++)
    ids[i] = m[i].member;
  memset(added, 0, n);
  /* RETURNING names the rows that went in; an id twice in one statement
   * goes in once and is marked once. */
  by_member c = {.store = store, .members = ids, .m = m, .flags = added};
  sqr_rc rc = run_batched(db, ST_ADD, n, fill_add, got_added, &c);
  free(ids);
  return rc;
}

/* ---- kept check-ins ------------------------------------------------------ */

typedef struct days_ctx {
  const char *store;
  const char *const *members;
  const int64_t *days;
  const hq_feed_day *put;
  hq_feed_day *out;
  size_t nout, cap;
  sqr_rc rc;
} days_ctx;

static void fill_days(const void *ctx, size_t i, hqv *p) {
  const days_ctx *c = ctx;
  p[0] = T(c->store);
  p[1] = T(c->members[i]);
  p[2] = I(c->days[i]);
}

static void day_of(const hqres *r, int k, hq_feed_day *d) {
  cell_text(r, k, 0, d->member, sizeof d->member);
  d->day = cell_int(r, k, 1);
  cell_text(r, k, 2, d->kiosk, sizeof d->kiosk);
  d->ts_ms = cell_int(r, k, 3);
  d->points = cell_int(r, k, 4);
  d->streak = cell_int(r, k, 5);
  d->seq = cell_int(r, k, 6);
}

static void got_days(void *ctx, size_t first, size_t count, const hqres *r) {
  days_ctx *c = ctx;
  (void)first;
  (void)count;
  if(c->rc || r->nrows == 0) return;
  if(c->nout + (size_t)r->nrows > c->cap) {
    size_t cap = c->nout + (size_t)r->nrows + 16;
    hq_feed_day *n = realloc(c->out, cap * sizeof *n);
    if(!n) {
      c->rc = SQR_ENOMEM;
      return;
    }
    c->out = n;
    c->cap = cap;
  }
  for(int k = 0; k < r->nrows; k++)
    day_of(r, k, &c->out[c->nout++]);
}

sqr_rc hqdb_feed_days(hqdb *db, const char *store, const char *const *members, const int64_t *days,
                      size_t n, hq_feed_day **out, size_t *nout) {
  days_ctx c = {.store = store, .members = members, .days = days};
  sqr_rc rc = run_batched(db, ST_DAYS, n, fill_days, got_days, &c);
  if(!rc) rc = c.rc;
  if(rc) {
    free(c.out);
    c.out = NULL;
    c.nout = 0;
  }
  *out = c.out;
  *nout = c.nout;
  return rc;
}

static void fill_put(const void *ctx, size_t i, hqv *p) {
  const days_ctx *c = ctx;
  const hq_feed_day *d = &c->put[i];
  p[0] = T(c->store);
  p[1] = T(d->member);
  p[2] = I(d->day);
  p[3] = T(d->kiosk);
  p[4] = I(d->ts_ms);
  p[5] = I(d->points);
  p[6] = I(d->streak);
  p[7] = I(d->seq);
}

sqr_rc hqdb_feed_days_put(hqdb *db, const char *store, const hq_feed_day *d, size_t n) {
  days_ctx c = {.store = store, .put = d};
  return run_batched(db, ST_PUT, n, fill_put, NULL, &c);
}

/* ---- entries ------------------------------------------------------------- */

typedef struct append_ctx {
  const char *store;
  const hq_feed_row *rows;
} append_ctx;

static void fill_append(const void *ctx, size_t i, hqv *p) {
  const append_ctx *c = ctx;
  const hq_feed_row *f = &c->rows[i];
  p[0] = T(c->store);
  p[1] = I(f->seq);
  p[2] = I(f->kind);
  p[3] = T(f->origin);
  p[4] = T(f->member);
  p[5] = I(f->day);
  p[6] = I(f->points);
  p[7] = I(f->streak);
  p[8] = I(f->ts_ms);
  p[9] = T(f->kiosk);
}

sqr_rc hqdb_feed_append(hqdb *db, const char *store, const hq_feed_row *rows, size_t n) {
  append_ctx c = {store, rows};
  return run_batched(db, ST_APPEND, n, fill_append, NULL, &c);
}

sqr_rc hqdb_feed_forget(hqdb *db, const char *store, const char *member, int *found) {
  hqv p[] = {T(store), T(member)};
  int64_t gone = 0;
  sqr_rc rc = hqdb_exec(db, "DELETE FROM store_members WHERE store = $1 AND member = $2", p, 2,
                        NULL, &gone);
  if(!rc)
    rc = hqdb_exec(db, "DELETE FROM checkin_days WHERE store = $1 AND member = $2", p, 2, NULL,
                   NULL);
  /* No index on (store, member): one more random page for every entry
   * appended, for a scan of the store's entries at an erasure, which is
   * rare (and batched when retention erases many). */
  /* Erase entries stay: a kiosk that has not read them yet must. */
  if(!rc)
    rc = hqdb_exec(db, "DELETE FROM feed WHERE store = $1 AND member = $2 AND kind <> 4", p, 2,
                   NULL, NULL);
  *found = gone > 0;
  return rc;
}

/* ---- readers --------------------------------------------------------------- */

/* A member row's 12 columns from `at` (its state is added by states()),
 * its marketing consent from MEMBER_CONSENT's join. */
#define MEMBER_COLS                                                                                \
  "m.member, m.origin, m.blind, m.index_kind, m.created_ms, m.consent, m.staff, m.grp, m.tags,"    \
  " m.points, m.seq, coalesce(c.version, '')"
#define MEMBER_CONSENT " LEFT JOIN consents c ON c.store = m.store AND c.member = m.member"

static void member_of(const hqres *r, int k, int at, hq_feed_member *m) {
  cell_text(r, k, at, m->member, sizeof m->member);
  cell_text(r, k, at + 1, m->origin, sizeof m->origin);
  if(!cell_blob32(r, k, at + 2, m->blind)) memset(m->blind, 0, sizeof m->blind);
  m->index_kind = (int)cell_int(r, k, at + 3);
  m->created_ms = cell_int(r, k, at + 4);
  cell_text(r, k, at + 5, m->consent, sizeof m->consent);
  cell_text(r, k, at + 6, m->staff, sizeof m->staff);
  cell_text(r, k, at + 7, m->group, sizeof m->group);
  cell_text(r, k, at + 8, m->tags, sizeof m->tags);
  m->points = cell_int(r, k, at + 9);
  m->seq = cell_int(r, k, at + 10);
  cell_text(r, k, at + 11, m->marketing, sizeof m->marketing);
  m->last_day = 0;
  m->streak = 0;
  m->state_seq = m->seq;
}

static int member_order(const void *a, const void *b) {
  return strcmp((*(hq_feed_member *const *)a)->member, (*(hq_feed_member *const *)b)->member);
}

/* Adds to each of n members its kept check-ins: points, last day and its
 * streak, state_seq. One read of the store's check-ins between the
 * smallest and the largest id (checkin_days is keyed by day). */
static sqr_rc states(hqdb *db, const char *store, hq_feed_member **m, size_t n) {
  if(n == 0) return SQR_OK;
  qsort(m, n, sizeof *m, member_order);
  hqres r = {0};
  hqv p[] = {T(store), T(m[0]->member), T(m[n - 1]->member)};
  sqr_rc rc = hqdb_exec(db,
                        "SELECT member, day, points, streak, seq FROM checkin_days"
                        " WHERE store = $1 AND member >= $2 AND member <= $3",
                        p, 3, &r, NULL);
  for(int k = 0; !rc && k < r.nrows; k++) {
    char id[HQ_FEED_MEMBER_HEX];
    cell_text(&r, k, 0, id, sizeof id);
    size_t lo = 0, hi = n; /* the first member >= id */
    while(lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if(strcmp(m[mid]->member, id) < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
    int64_t day = cell_int(&r, k, 1), seq = cell_int(&r, k, 4);
    /* every copy of the id (a log page may name a member twice) */
    for(; lo < n && strcmp(m[lo]->member, id) == 0; lo++) {
      hq_feed_member *t = m[lo];
      t->points += cell_int(&r, k, 2);
      if(day > t->last_day) {
        t->last_day = day;
        t->streak = cell_int(&r, k, 3);
      }
      if(seq > t->state_seq) t->state_seq = seq;
    }
  }
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_feed_members(hqdb *db, const char *store, const char *after, size_t max,
                         hq_feed_member **out, size_t *n) {
  hqres r = {0};
  hqv p[] = {T(store), T(after), I((int64_t)max)};
  hq_feed_member **ptr = NULL;
  *out = NULL;
  *n = 0;
  sqr_rc rc = hqdb_exec(db,
                        "SELECT " MEMBER_COLS " FROM store_members m" MEMBER_CONSENT
                        " WHERE m.store = $1 AND m.member > $2 ORDER BY m.member LIMIT $3",
                        p, 3, &r, NULL);
  if(!rc && r.nrows > 0 &&
     (!(*out = calloc((size_t)r.nrows, sizeof **out)) ||
      !(ptr = malloc((size_t)r.nrows * sizeof *ptr))))
    rc = SQR_ENOMEM;
  for(int k = 0; !rc && k < r.nrows; k++) {
    member_of(&r, k, 0, &(*out)[k]);
    ptr[k] = &(*out)[k];
  }
  size_t rows = (size_t)r.nrows;
  hqres_free(&r);
  if(!rc) rc = states(db, store, ptr, rows);
  free(ptr);
  if(rc) {
    free(*out);
    *out = NULL;
  } else {
    *n = rows;
  }
  return rc;
}

sqr_rc hqdb_feed_log(hqdb *db, const char *store, int64_t after, size_t max, hq_feed_row **out,
                     size_t *n) {
  hqres r = {0};
  hqv p[] = {T(store), I(after), I((int64_t)max)};
  hq_feed_member **ptr = NULL;
  size_t nm = 0;
  *out = NULL;
  *n = 0;
  /* The member's row only for member entries: the join finds none for
   * the others (and none for a member erased since). */
  sqr_rc rc = hqdb_exec(
      db,
      "SELECT f.seq, f.kind, f.origin, f.member, f.day, f.points, f.streak, f.ts_ms, f.kiosk,"
      " CASE WHEN m.member IS NULL THEN 0 ELSE 1 END, " MEMBER_COLS
      " FROM feed f LEFT JOIN store_members m"
      " ON f.kind = 1 AND m.store = f.store AND m.member = f.member" MEMBER_CONSENT
      " WHERE f.store = $1 AND f.seq > $2 ORDER BY f.seq LIMIT $3",
      p, 3, &r, NULL);
  if(!rc && r.nrows > 0 &&
     (!(*out = calloc((size_t)r.nrows, sizeof **out)) ||
      !(ptr = malloc((size_t)r.nrows * sizeof *ptr))))
    rc = SQR_ENOMEM;
  for(int k = 0; !rc && k < r.nrows; k++) {
    hq_feed_row *f = &(*out)[k];
    f->seq = cell_int(&r, k, 0);
    f->kind = (int)cell_int(&r, k, 1);
    cell_text(&r, k, 2, f->origin, sizeof f->origin);
    cell_text(&r, k, 3, f->member, sizeof f->member);
    f->day = cell_int(&r, k, 4);
    f->points = cell_int(&r, k, 5);
    f->streak = cell_int(&r, k, 6);
    f->ts_ms = cell_int(&r, k, 7);
    cell_text(&r, k, 8, f->kiosk, sizeof f->kiosk);
    f->has_member = cell_int(&r, k, 9) != 0;
    if(f->has_member) {
      member_of(&r, k, 10, &f->m);
      ptr[nm++] = &f->m;
    }
  }
  size_t rows = (size_t)r.nrows;
  hqres_free(&r);
  if(!rc) rc = states(db, store, ptr, nm);
  free(ptr);
  if(rc) {
    free(*out);
    *out = NULL;
  } else {
    *n = rows;
  }
  return rc;
}

/* ---- readers of the feed, and erasures from before it -------------------- */

sqr_rc hqdb_feed_reader(hqdb *db, const char *kiosk_id, int *reads) {
  hqres r = {0};
  hqv p[] = {T(kiosk_id)};
  sqr_rc rc = hqdb_exec(db, "SELECT 1 FROM feed_readers WHERE kiosk_id = $1", p, 1, &r, NULL);
  *reads = !rc && r.nrows > 0;
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_feed_reader_mark(hqdb *db, const char *kiosk_id, int64_t now_ms) {
  hqv p[] = {T(kiosk_id), I(now_ms)};
  return hqdb__run1(db,
                    "INSERT INTO feed_readers(kiosk_id, since_ms) VALUES($1, $2)"
                    " ON CONFLICT (kiosk_id) DO NOTHING",
                    p, 2, NULL);
}

sqr_rc hqdb_feed_erasures_missing(hqdb *db, size_t max, char (*store)[HQ_ID_MAX],
                                  char (*member)[HQ_FEED_MEMBER_HEX], size_t *n) {
  hqres r = {0};
  hqv p[] = {I((int64_t)max)};
  *n = 0;
  sqr_rc rc = hqdb_exec(db,
                        "SELECT e.store, e.member FROM erasures e WHERE e.confirmed_ms IS NULL"
                        " AND NOT EXISTS (SELECT 1 FROM feed f WHERE f.store = e.store"
                        " AND f.member = e.member AND f.kind = 4) ORDER BY e.store, e.member"
                        " LIMIT $1",
                        p, 1, &r, NULL);
  for(int k = 0; !rc && k < r.nrows; k++) {
    cell_text(&r, k, 0, store[k], HQ_ID_MAX);
    cell_text(&r, k, 1, member[k], HQ_FEED_MEMBER_HEX);
  }
  if(!rc) *n = (size_t)r.nrows;
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_feed_has_origin(hqdb *db, const char *store, const char *kiosk_id, int *has) {
  hqres r = {0};
  hqv p[] = {T(store), T(kiosk_id)};
  sqr_rc rc = hqdb_exec(db, "SELECT 1 FROM store_members WHERE store = $1 AND origin = $2 LIMIT 1",
                        p, 2, &r, NULL);
  *has = !rc && r.nrows > 0;
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_feed_erase_entries(hqdb *db, const char *store, int64_t after, int64_t upto, size_t max,
                               hq_feed_row **out, size_t *n) {
  hqres r = {0};
  hqv p[] = {T(store), I(after), I(upto), I((int64_t)max)};
  *out = NULL;
  *n = 0;
  sqr_rc rc = hqdb_exec(db,
                        "SELECT seq, origin, member FROM feed WHERE store = $1 AND seq > $2"
                        " AND seq <= $3 AND kind = 4 ORDER BY seq LIMIT $4",
                        p, 4, &r, NULL);
  if(!rc && r.nrows > 0 && !(*out = calloc((size_t)r.nrows, sizeof **out))) rc = SQR_ENOMEM;
  for(int k = 0; !rc && k < r.nrows; k++) {
    hq_feed_row *f = &(*out)[k];
    f->seq = cell_int(&r, k, 0);
    f->kind = HQ_FEED_ERASE;
    cell_text(&r, k, 1, f->origin, sizeof f->origin);
    cell_text(&r, k, 2, f->member, sizeof f->member);
  }
  if(!rc) *n = (size_t)r.nrows;
  hqres_free(&r);
  return rc;
}
