/* hqdb_stats.c — the stats module's tables and statements (stats.h; see
 * hqdb_int.h for how statements run). Written once with $N parameters
 * for both backends.
 *
 *   daily_stats   per store and Shanghai day: sign-ups, check-ins (one
 *                 upsert per day touched by an upload batch, ingest.c);
 *   daily_staff   per store, day and staff member: sign-ups;
 *   scan_days     per store and day: the resolver's hourly scans table
 *                 rolled up (hqdb_stats_rollup), so a year of figures
 *                 reads 365 rows per store, not 8,760;
 *   kiosk_sync    per kiosk: last upload HQ accepted, its last seq;
 *   kiosk_behind  per kiosk: the events it said it still held after its
 *                 last accepted batch that carried "behind", and when (a
 *                 table of its own so databases from before it need no
 *                 migration; no row: the kiosk never said);
 *   kiosk_clock   per kiosk: the clock_jump events it uploaded (count,
 *                 the newest one's time, size and source), kept by ingest
 *                 so /metrics and the store page never scan events;
 *   stats_meta    the roll-up's watermark.
 *
 * PostgreSQL's SUM over BIGINT is NUMERIC; the backends hand it back as
 * text, which cell_int reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hqdb_int.h"
#include "hqdb_stats.h"

const char *const hqdb_stats_schema[] = {
    "CREATE TABLE IF NOT EXISTS daily_stats(store TEXT NOT NULL, day BIGINT NOT NULL,"
    " signups BIGINT NOT NULL, checkins BIGINT NOT NULL, PRIMARY KEY(store, day))",
    /* every-store ranges (dashboard totals, the 7-day board, the 30-day
     * chart) read by day; covering, so they never touch the table (a plain
     * index on day made the chart 350 ms with 5,000 stores) */
    "CREATE INDEX IF NOT EXISTS daily_stats_day_cover ON daily_stats(day, store, signups, "
    "checkins)",
    "CREATE TABLE IF NOT EXISTS daily_staff(store TEXT NOT NULL, day BIGINT NOT NULL,"
    " staff TEXT NOT NULL, signups BIGINT NOT NULL, PRIMARY KEY(store, day, staff))",
    "CREATE TABLE IF NOT EXISTS scan_days(store TEXT NOT NULL, day BIGINT NOT NULL,"
    " scans BIGINT NOT NULL, PRIMARY KEY(store, day))",
    "CREATE INDEX IF NOT EXISTS scan_days_day_cover ON scan_days(day, store, scans)",
    /* the roll-up reads only the newest hours of the resolver's table */
    "CREATE INDEX IF NOT EXISTS scans_hour ON scans(hour)",
    "CREATE TABLE IF NOT EXISTS kiosk_sync(kiosk TEXT PRIMARY KEY, store TEXT NOT NULL,"
    " last_ms BIGINT NOT NULL, last_seq BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS kiosk_sync_store ON kiosk_sync(store)",
    "CREATE TABLE IF NOT EXISTS kiosk_behind(kiosk TEXT PRIMARY KEY, store TEXT NOT NULL,"
    " behind BIGINT NOT NULL, at_ms BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS kiosk_behind_store ON kiosk_behind(store)",
    /* a store's kiosks (hqdb.c's table has no index but its key) */
    "CREATE INDEX IF NOT EXISTS kiosks_store ON kiosks(store)",
    "CREATE TABLE IF NOT EXISTS stats_meta(k TEXT PRIMARY KEY, v BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS kiosk_clock(kiosk TEXT PRIMARY KEY, store TEXT NOT NULL,"
    " jumps BIGINT NOT NULL, last_ts_ms BIGINT NOT NULL, last_jump_ms BIGINT NOT NULL,"
    " last_source TEXT NOT NULL, at_ms BIGINT NOT NULL)",
    NULL,
};

/* ---- days ------------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t stats_day_of_ms(int64_t ms) {
  return floor_div(ms + STATS_TZ_OFFSET_MS, STATS_DAY_MS);
}
int64_t stats_day_of_hour(int64_t hour) {
  return floor_div(hour + 8, 24);
}

/* Howard Hinnant's civil-from-days and days-from-civil (proleptic
 * Gregorian), exact for every day number we can meet. */
static void civil(int64_t z, int *y, int *m, int *d) {
  z += 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void stats_day_format(int64_t day, char out[11]) {
  int y, m, d;
  char tmp[40];
  civil(day, &y, &m, &d);
  snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", y, m, d);
  memcpy(out, tmp, 10);
  out[10] = '\0';
}

sqr_rc stats_day_parse(const char *s, int64_t *day) {
  if(!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return SQR_EINVAL;
  for(int i = 0; i < 10; i++)
    if(i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return SQR_EINVAL;
  int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
  if(y < 2000 || y > 2099 || m < 1 || m > 12 || d < 1 || d > 31) return SQR_EINVAL;
  int64_t z = days_from_civil(y, m, d);
  int yy, mm, dd;
  civil(z, &yy, &mm, &dd); /* 2026-02-30 comes back as March: refused */
  if(yy != y || mm != m || dd != d) return SQR_EINVAL;
  *day = z;
  return SQR_OK;
}

/* ---- ingest ------------------------------------------------------------------ */

sqr_rc hqdb_stats_ingest(hqdb *db, const char *store, const char *kiosk_id, const stats_delta *d,
                         size_t n, int64_t last_seq, int64_t now_ms) {
  sqr_rc rc = SQR_OK;
  /* deltas come grouped by day (ingest.c adds them in event order and
   * keeps one entry per day and staff); sum a day's entries first so each
   * day costs one upsert */
  for(size_t i = 0; !rc && i < n; i++) {
    int dup = 0;
    for(size_t j = 0; j < i && !dup; j++)
      dup = d[j].day == d[i].day;
    if(dup) continue;
    int64_t su = 0, ci = 0;
    for(size_t j = i; j < n; j++)
      if(d[j].day == d[i].day) su += d[j].signups, ci += d[j].checkins;
    if(!su && !ci) continue;
    hqv p[] = {T(store), I(d[i].day), I(su), I(ci)};
    rc = hqdb_exec(db,
                   "INSERT INTO daily_stats(store, day, signups, checkins) VALUES($1, $2, $3, $4)"
                   " ON CONFLICT (store, day) DO UPDATE SET"
                   " signups = daily_stats.signups + excluded.signups,"
                   " checkins = daily_stats.checkins + excluded.checkins",
                   p, 4, NULL, NULL);
  }
  for(size_t i = 0; !rc && i < n; i++) {
    if(!d[i].staff[0] || !d[i].signups) continue;
    hqv p[] = {T(store), I(d[i].day), T(d[i].staff), I(d[i].signups)};
    rc = hqdb_exec(db,
                   "INSERT INTO daily_staff(store, day, staff, signups) VALUES($1, $2, $3, $4)"
                   " ON CONFLICT (store, day, staff) DO UPDATE SET"
                   " signups = daily_staff.signups + excluded.signups",
                   p, 4, NULL, NULL);
  }
  if(!rc) {
    hqv p[] = {T(kiosk_id), T(store), I(now_ms), I(last_seq)};
    rc = hqdb_exec(db,
                   "INSERT INTO kiosk_sync(kiosk, store, last_ms, last_seq) VALUES($1, $2, $3, $4)"
                   " ON CONFLICT (kiosk) DO UPDATE SET last_ms = excluded.last_ms,"
                   " last_seq = excluded.last_seq",
                   p, 4, NULL, NULL);
  }
  return rc;
}

sqr_rc hqdb_stats_behind(hqdb *db, const char *store, const char *kiosk_id, int64_t behind,
                         int64_t now_ms) {
  hqv p[] = {T(kiosk_id), T(store), I(behind), I(now_ms)};
  return hqdb_exec(db,
                   "INSERT INTO kiosk_behind(kiosk, store, behind, at_ms) VALUES($1, $2, $3, $4)"
                   " ON CONFLICT (kiosk) DO UPDATE SET behind = excluded.behind,"
                   " at_ms = excluded.at_ms",
                   p, 4, NULL, NULL);
}

sqr_rc hqdb_stats_clock(hqdb *db, const char *store, const char *kiosk_id,
                        const stats_clock_jump *j, int64_t now_ms) {
  hqv p[] = {T(kiosk_id),        T(store),          I(j->jumps), I(j->last_ts_ms),
             I(j->last_jump_ms), T(j->last_source), I(now_ms)};
  /* a batch's events are newer than the kiosk's earlier batches' */
  return hqdb_exec(db,
                   "INSERT INTO kiosk_clock(kiosk, store, jumps, last_ts_ms, last_jump_ms,"
                   " last_source, at_ms) VALUES($1, $2, $3, $4, $5, $6, $7)"
                   " ON CONFLICT (kiosk) DO UPDATE SET jumps = kiosk_clock.jumps + excluded.jumps,"
                   " last_ts_ms = excluded.last_ts_ms, last_jump_ms = excluded.last_jump_ms,"
                   " last_source = excluded.last_source, at_ms = excluded.at_ms",
                   p, 7, NULL, NULL);
}

/* ---- reads ---------------------------------------------------------------------- */

/* A store's events behind: the sum of its kiosks' last reports, NULL when
 * none of them ever said. A revoked kiosk is left out: what it still holds
 * can never arrive (and it is not in the store's kiosk count either).
 * BEHIND_OF_S for one store s in a correlated column, BEHIND_BY_STORE for
 * all of them at once; the rule is written once, in BEHIND_FROM. */
#define BEHIND_FROM     " FROM kiosk_behind b JOIN kiosks k ON k.id = b.kiosk WHERE k.revoked = 0"
#define BEHIND_OF_S     "(SELECT SUM(b.behind)" BEHIND_FROM " AND b.store = s.id)"
#define BEHIND_BY_STORE "SELECT b.store, SUM(b.behind) behind" BEHIND_FROM " GROUP BY b.store"

sqr_rc hqdb_stats_rollup(hqdb *db, int64_t now_ms) {
  hqres r = {0};
  sqr_rc rc = hqdb_begin(db);
  if(rc) return rc;
  hqv k[] = {T("scan_rollup_day")};
  rc = hqdb_exec(db, "SELECT v FROM stats_meta WHERE k = $1", k, 1, &r, NULL);
  int64_t from_day = !rc && r.nrows ? cell_int(&r, 0, 0) : 0;
  hqres_free(&r);
  int64_t today = stats_day_of_ms(now_ms);
  if(from_day > today) from_day = today; /* a clock set back */
  if(!rc) {
    /* the whole of every day from the watermark's on is summed again, so
     * an hour still being counted is always read complete */
    hqv p[] = {I(from_day * 24 - 8)};
    rc = hqdb_exec(db,
                   "INSERT INTO scan_days(store, day, scans)"
                   " SELECT store, (hour + 8) / 24, SUM(scans) FROM scans WHERE hour >= $1"
                   " GROUP BY store, (hour + 8) / 24"
                   " ON CONFLICT (store, day) DO UPDATE SET scans = excluded.scans"
                   " WHERE scan_days.scans <> excluded.scans",
                   p, 1, NULL, NULL);
  }
  if(!rc) {
    hqv p[] = {T("scan_rollup_day"), I(today)};
    rc = hqdb_exec(db,
                   "INSERT INTO stats_meta(k, v) VALUES($1, $2)"
                   " ON CONFLICT (k) DO UPDATE SET v = excluded.v",
                   p, 2, NULL, NULL);
  }
  if(!rc) return hqdb_commit(db);
  hqdb_rollback(db);
  return rc;
}

sqr_rc hqdb_stats_days(hqdb *db, const char *store, int64_t from, int64_t to, stats_day_row **days,
                       size_t *ndays, stats_staff_row **staff, size_t *nstaff) {
  hqres r = {0}, s = {0};
  *days = NULL;
  *staff = NULL;
  *ndays = *nstaff = 0;
  hqv p[] = {I(from), I(to), T(store ? store : "")};
  /* two texts rather than "($3 = '' OR store = $3)", which would keep
   * SQLite off the (store, day) key */
  sqr_rc rc = hqdb_exec(db,
                        store ? "SELECT store, day, SUM(su), SUM(ci), SUM(sc) FROM ("
                                " SELECT store, day, signups su, checkins ci, 0 sc FROM daily_stats"
                                " WHERE store = $3 AND day >= $1 AND day <= $2"
                                " UNION ALL SELECT store, day, 0, 0, scans FROM scan_days"
                                " WHERE store = $3 AND day >= $1 AND day <= $2) u"
                                " GROUP BY store, day ORDER BY store, day"
                              : "SELECT store, day, SUM(su), SUM(ci), SUM(sc) FROM ("
                                " SELECT store, day, signups su, checkins ci, 0 sc FROM daily_stats"
                                " WHERE day >= $1 AND day <= $2"
                                " UNION ALL SELECT store, day, 0, 0, scans FROM scan_days"
                                " WHERE day >= $1 AND day <= $2) u"
                                " GROUP BY store, day ORDER BY store, day",
                        p, store ? 3 : 2, &r, NULL);
  if(!rc)
    rc =
        hqdb_exec(db,
                  store ? "SELECT store, day, staff, signups FROM daily_staff"
                          " WHERE store = $3 AND day >= $1 AND day <= $2 ORDER BY store, day, staff"
                        : "SELECT store, day, staff, signups FROM daily_staff"
                          " WHERE day >= $1 AND day <= $2 ORDER BY store, day, staff",
                  p, store ? 3 : 2, &s, NULL);
  if(!rc && r.nrows && !(*days = calloc((size_t)r.nrows, sizeof **days))) rc = SQR_ENOMEM;
  if(!rc && s.nrows && !(*staff = calloc((size_t)s.nrows, sizeof **staff))) rc = SQR_ENOMEM;
  for(int i = 0; !rc && i < r.nrows; i++) {
    stats_day_row *d = &(*days)[i];
    cell_text(&r, i, 0, d->store, sizeof d->store);
    d->day = cell_int(&r, i, 1);
    d->signups = cell_int(&r, i, 2);
    d->checkins = cell_int(&r, i, 3);
    d->scans = cell_int(&r, i, 4);
  }
  for(int i = 0; !rc && i < s.nrows; i++) {
    stats_staff_row *d = &(*staff)[i];
    cell_text(&s, i, 0, d->store, sizeof d->store);
    d->day = cell_int(&s, i, 1);
    cell_text(&s, i, 2, d->staff, sizeof d->staff);
    d->signups = cell_int(&s, i, 3);
  }
  if(!rc) {
    *ndays = (size_t)r.nrows;
    *nstaff = (size_t)s.nrows;
  } else {
    free(*days);
    free(*staff);
    *days = NULL;
    *staff = NULL;
  }
  hqres_free(&r);
  hqres_free(&s);
  return rc;
}

sqr_rc hqdb_stats_stores(hqdb *db, const char *store, stats_store_row **out, size_t *n) {
  hqres r = {0};
  *out = NULL;
  *n = 0;
  hqv p[] = {T(store ? store : "")};
  sqr_rc rc =
      hqdb_exec(db,
                store ? "SELECT s.id, s.name, s.city,"
                        " (SELECT COUNT(*) FROM member_links m WHERE m.store = s.id),"
                        " (SELECT MAX(last_ms) FROM kiosk_sync k WHERE k.store = s.id),"
                        " (SELECT COUNT(*) FROM kiosks k WHERE k.store = s.id AND k.revoked = 0),"
                        " " BEHIND_OF_S " FROM stores s WHERE s.id = $1"
                      : "SELECT s.id, s.name, s.city,"
                        " (SELECT COUNT(*) FROM member_links m WHERE m.store = s.id),"
                        " (SELECT MAX(last_ms) FROM kiosk_sync k WHERE k.store = s.id),"
                        " (SELECT COUNT(*) FROM kiosks k WHERE k.store = s.id AND k.revoked = 0),"
                        " " BEHIND_OF_S " FROM stores s ORDER BY s.id",
                p, store ? 1 : 0, &r, NULL);
  if(!rc && r.nrows && !(*out = calloc((size_t)r.nrows, sizeof **out))) rc = SQR_ENOMEM;
  for(int i = 0; !rc && i < r.nrows; i++) {
    stats_store_row *s = &(*out)[i];
    cell_text(&r, i, 0, s->id, sizeof s->id);
    cell_text(&r, i, 1, s->name, sizeof s->name);
    cell_text(&r, i, 2, s->city, sizeof s->city);
    s->members = cell_int(&r, i, 3);
    s->last_sync_ms = cell_int(&r, i, 4);
    s->kiosks = cell_int(&r, i, 5);
    s->events_behind = cell(&r, i, 6)->k == HQV_NULL ? -1 : cell_int(&r, i, 6);
  }
  if(!rc) *n = (size_t)r.nrows;
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_stats_board(hqdb *db, int64_t today, stats_sort sort, int desc, int64_t limit,
                        int64_t offset, stats_board_row **out, size_t *n) {
  /* ORDER BY comes from this fixed list only (never from the request),
   * always ending in the id so pages do not overlap */
  static const char *const order[STATS_SORT_COUNT][2] = {
      {"1 ASC", "1 DESC"},        {"2 ASC, 1", "2 DESC, 1"}, {"4 ASC, 1", "4 DESC, 1"},
      {"7 ASC, 1", "7 DESC, 1"},  {"8 ASC, 1", "8 DESC, 1"}, {"9 ASC, 1", "9 DESC, 1"},
      {"10 ASC, 1", "10 DESC, 1"}};
  static const char *const page_order[2][2] = {{"id ASC", "id DESC"},
                                               {"name ASC, id", "name DESC, id"}};
  if((int)sort < 0 || sort >= STATS_SORT_COUNT) sort = STATS_SORT_ID;
  /* The SQLite backend caches prepared statements by the text's address,
   * so each of the 14 texts is built once and kept for the process's life
   * (callers hold the server's storage lock). */
  static char *texts[STATS_SORT_COUNT][2];
  char **slot = &texts[sort][desc ? 1 : 0];
  if(!*slot && !(*slot = malloc(2000))) return SQR_ENOMEM;
  char *sql = *slot;
  const size_t sqlsize = 2000;
  if(sort == STATS_SORT_ID || sort == STATS_SORT_NAME) {
    /* sorted by what the stores table holds: pick the page first, then
     * add up only its 100 stores (key range reads per store) */
    const char *po = page_order[sort == STATS_SORT_NAME][desc ? 1 : 0];
    snprintf(
        sql, sqlsize,
        "SELECT s.id, s.name, s.city,"
        " COALESCE((SELECT signups FROM daily_stats d WHERE d.store = s.id AND d.day = $1), 0),"
        " COALESCE((SELECT checkins FROM daily_stats d WHERE d.store = s.id AND d.day = $1), 0),"
        " COALESCE((SELECT scans FROM scan_days c WHERE c.store = s.id AND c.day = $1), 0),"
        " COALESCE((SELECT SUM(signups) FROM daily_stats d WHERE d.store = s.id"
        "  AND d.day >= $2 AND d.day <= $1), 0),"
        " COALESCE((SELECT SUM(checkins) FROM daily_stats d WHERE d.store = s.id"
        "  AND d.day >= $2 AND d.day <= $1), 0),"
        " COALESCE((SELECT SUM(scans) FROM scan_days c WHERE c.store = s.id"
        "  AND c.day >= $2 AND c.day <= $1), 0),"
        " COALESCE((SELECT MAX(last_ms) FROM kiosk_sync k WHERE k.store = s.id), 0),"
        " " BEHIND_OF_S " FROM (SELECT id, name, city FROM stores ORDER BY %s LIMIT $3 OFFSET $4) s"
        " ORDER BY %s",
        po, order[sort][desc ? 1 : 0]);
  } else {
    snprintf(
        sql, sqlsize,
        "SELECT s.id, s.name, s.city, COALESCE(d.st, 0), COALESCE(d.ct, 0), COALESCE(c.sct, 0),"
        " COALESCE(d.s7, 0), COALESCE(d.c7, 0), COALESCE(c.sc7, 0), COALESCE(k.last_ms, 0),"
        " w.behind FROM stores s"
        " LEFT JOIN (SELECT store, SUM(CASE WHEN day = $1 THEN signups ELSE 0 END) st,"
        " SUM(CASE WHEN day = $1 THEN checkins ELSE 0 END) ct, SUM(signups) s7,"
        " SUM(checkins) c7 FROM daily_stats WHERE day >= $2 AND day <= $1 GROUP BY store) d"
        " ON d.store = s.id"
        " LEFT JOIN (SELECT store, SUM(CASE WHEN day = $1 THEN scans ELSE 0 END) sct,"
        " SUM(scans) sc7 FROM scan_days WHERE day >= $2 AND day <= $1 GROUP BY store) c"
        " ON c.store = s.id"
        " LEFT JOIN (SELECT store, MAX(last_ms) last_ms FROM kiosk_sync GROUP BY store) k"
        " ON k.store = s.id"
        " LEFT JOIN (" BEHIND_BY_STORE ") w"
        " ON w.store = s.id ORDER BY %s LIMIT $3 OFFSET $4",
        order[sort][desc ? 1 : 0]);
  }
  hqres r = {0};
  hqv p[] = {I(today), I(today - 6), I(limit), I(offset)};
  *out = NULL;
  *n = 0;
  sqr_rc rc = hqdb_exec(db, sql, p, 4, &r, NULL);
  if(!rc && r.nrows && !(*out = calloc((size_t)r.nrows, sizeof **out))) rc = SQR_ENOMEM;
  for(int i = 0; !rc && i < r.nrows; i++) {
    stats_board_row *b = &(*out)[i];
    cell_text(&r, i, 0, b->id, sizeof b->id);
    cell_text(&r, i, 1, b->name, sizeof b->name);
    cell_text(&r, i, 2, b->city, sizeof b->city);
    b->signups_today = cell_int(&r, i, 3);
    b->checkins_today = cell_int(&r, i, 4);
    b->scans_today = cell_int(&r, i, 5);
    b->signups_7d = cell_int(&r, i, 6);
    b->checkins_7d = cell_int(&r, i, 7);
    b->scans_7d = cell_int(&r, i, 8);
    b->last_sync_ms = cell_int(&r, i, 9);
    b->events_behind = cell(&r, i, 10)->k == HQV_NULL ? -1 : cell_int(&r, i, 10);
  }
  if(!rc) *n = (size_t)r.nrows;
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_stats_totals(hqdb *db, int64_t today, int64_t stale_before_ms, stats_totals *out) {
  memset(out, 0, sizeof *out);
  hqres r = {0};
  hqv p[] = {I(today), I(today - 6), I(stale_before_ms)};
  sqr_rc rc = hqdb_exec(db,
                        "SELECT (SELECT COUNT(*) FROM stores),"
                        " (SELECT COUNT(*) FROM (SELECT store FROM kiosk_sync GROUP BY store"
                        "  HAVING MAX(last_ms) < $3) x),"
                        " (SELECT COUNT(*) FROM stores s WHERE NOT EXISTS"
                        "  (SELECT 1 FROM kiosk_sync k WHERE k.store = s.id)),"
                        " (SELECT COALESCE(SUM(CASE WHEN day = $1 THEN signups ELSE 0 END), 0)"
                        "  FROM daily_stats WHERE day >= $2 AND day <= $1),"
                        " (SELECT COALESCE(SUM(CASE WHEN day = $1 THEN checkins ELSE 0 END), 0)"
                        "  FROM daily_stats WHERE day >= $2 AND day <= $1),"
                        " (SELECT COALESCE(SUM(CASE WHEN day = $1 THEN scans ELSE 0 END), 0)"
                        "  FROM scan_days WHERE day >= $2 AND day <= $1),"
                        " (SELECT COALESCE(SUM(signups), 0) FROM daily_stats"
                        "  WHERE day >= $2 AND day <= $1),"
                        " (SELECT COALESCE(SUM(checkins), 0) FROM daily_stats"
                        "  WHERE day >= $2 AND day <= $1),"
                        " (SELECT COALESCE(SUM(scans), 0) FROM scan_days"
                        "  WHERE day >= $2 AND day <= $1)",
                        p, 3, &r, NULL);
  if(!rc && r.nrows) {
    out->stores = cell_int(&r, 0, 0);
    out->stale_stores = cell_int(&r, 0, 1);
    out->never_synced = cell_int(&r, 0, 2);
    out->signups_today = cell_int(&r, 0, 3);
    out->checkins_today = cell_int(&r, 0, 4);
    out->scans_today = cell_int(&r, 0, 5);
    out->signups_7d = cell_int(&r, 0, 6);
    out->checkins_7d = cell_int(&r, 0, 7);
    out->scans_7d = cell_int(&r, 0, 8);
  }
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_stats_series(hqdb *db, const char *store, int64_t from, int64_t to, int64_t *signups,
                         int64_t *scans) {
  hqv p[] = {I(from), I(to), T(store ? store : "")};
  hqres r = {0};
  sqr_rc rc = hqdb_exec(db,
                        store ? "SELECT day, signups FROM daily_stats"
                                " WHERE store = $3 AND day >= $1 AND day <= $2"
                              : "SELECT day, SUM(signups) FROM daily_stats"
                                " WHERE day >= $1 AND day <= $2 GROUP BY day",
                        p, store ? 3 : 2, &r, NULL);
  for(int i = 0; !rc && i < r.nrows; i++) {
    int64_t d = cell_int(&r, i, 0);
    if(d >= from && d <= to) signups[d - from] = cell_int(&r, i, 1);
  }
  hqres_free(&r);
  if(!rc)
    rc = hqdb_exec(db,
                   store ? "SELECT day, scans FROM scan_days"
                           " WHERE store = $3 AND day >= $1 AND day <= $2"
                         : "SELECT day, SUM(scans) FROM scan_days"
                           " WHERE day >= $1 AND day <= $2 GROUP BY day",
                   p, store ? 3 : 2, &r, NULL);
  for(int i = 0; !rc && i < r.nrows; i++) {
    int64_t d = cell_int(&r, i, 0);
    if(d >= from && d <= to) scans[d - from] = cell_int(&r, i, 1);
  }
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_stats_kiosks(hqdb *db, const char *store, stats_kiosk_row **out, size_t *n) {
  hqres r = {0};
  hqv p[] = {T(store)};
  *out = NULL;
  *n = 0;
  sqr_rc rc = hqdb_exec(db,
                        "SELECT k.number, k.revoked, k.acked_seq, COALESCE(s.last_ms, 0),"
                        " COALESCE(b.behind, -1), COALESCE(c.jumps, 0), COALESCE(c.last_ts_ms, 0),"
                        " COALESCE(c.last_jump_ms, 0), COALESCE(c.last_source, '')"
                        " FROM kiosks k LEFT JOIN kiosk_sync s ON s.kiosk = k.id"
                        " LEFT JOIN kiosk_behind b ON b.kiosk = k.id"
                        " LEFT JOIN kiosk_clock c ON c.kiosk = k.id"
                        " WHERE k.store = $1 ORDER BY k.number",
                        p, 1, &r, NULL);
  if(!rc && r.nrows && !(*out = calloc((size_t)r.nrows, sizeof **out))) rc = SQR_ENOMEM;
  for(int i = 0; !rc && i < r.nrows; i++) {
    stats_kiosk_row *k = &(*out)[i];
    k->number = (int)cell_int(&r, i, 0);
    k->revoked = cell_int(&r, i, 1) != 0;
    k->acked_seq = cell_int(&r, i, 2);
    k->last_sync_ms = cell_int(&r, i, 3);
    k->behind = cell_int(&r, i, 4);
    k->clock_jumps = cell_int(&r, i, 5);
    k->last_jump_ts_ms = cell_int(&r, i, 6);
    k->last_jump_ms = cell_int(&r, i, 7);
    cell_text(&r, i, 8, k->last_jump_source, sizeof k->last_jump_source);
  }
  if(!rc) *n = (size_t)r.nrows;
  hqres_free(&r);
  return rc;
}

/* fn(store, figure) for each row of a "SELECT store, figure" query. */
static sqr_rc store_figure_each(hqdb *db, const char *sql,
                                void (*fn)(void *arg, const char *store, int64_t v), void *arg) {
  hqres r = {0};
  sqr_rc rc = hqdb_exec(db, sql, NULL, 0, &r, NULL);
  for(int i = 0; !rc && i < r.nrows; i++) {
    char id[HQ_ID_MAX];
    cell_text(&r, i, 0, id, sizeof id);
    fn(arg, id, cell_int(&r, i, 1));
  }
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_stats_sync_each(hqdb *db, void (*fn)(void *arg, const char *store, int64_t last_ms),
                            void *arg) {
  return store_figure_each(
      db, "SELECT store, MAX(last_ms) FROM kiosk_sync GROUP BY store ORDER BY store", fn, arg);
}

sqr_rc hqdb_stats_behind_each(hqdb *db, void (*fn)(void *arg, const char *store, int64_t behind),
                              void *arg) {
  return store_figure_each(db, BEHIND_BY_STORE " ORDER BY b.store", fn, arg);
}

sqr_rc hqdb_stats_group_stores(hqdb *db, char (**out)[HQ_ID_MAX], size_t *n) {
  hqres r = {0};
  *out = NULL;
  *n = 0;
  sqr_rc rc =
      hqdb_exec(db, "SELECT DISTINCT store FROM store_groups WHERE retired = 0 ORDER BY store",
                NULL, 0, &r, NULL);
  if(!rc && r.nrows && !(*out = calloc((size_t)r.nrows, sizeof **out))) rc = SQR_ENOMEM;
  for(int i = 0; !rc && i < r.nrows; i++)
    cell_text(&r, i, 0, (*out)[i], HQ_ID_MAX);
  if(!rc) *n = (size_t)r.nrows;
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_stats_exhausted(hqdb *db, int64_t since_ms, stats_alert_row *out, size_t max,
                            size_t *n) {
  hqres r = {0};
  hqv p[] = {I(since_ms), I((int64_t)max)};
  *n = 0;
  /* the resolver records these with alerts.kiosk = the store id */
  sqr_rc rc = hqdb_exec(db,
                        "SELECT kiosk, MAX(at_ms) FROM alerts WHERE kind = 'groups_exhausted'"
                        " AND at_ms >= $1 GROUP BY kiosk ORDER BY 2 DESC, 1 LIMIT $2",
                        p, 2, &r, NULL);
  for(int i = 0; !rc && i < r.nrows && (size_t)i < max; i++) {
    cell_text(&r, i, 0, out[i].store, sizeof out[i].store);
    out[i].at_ms = cell_int(&r, i, 1);
    (*n)++;
  }
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_stats_alerts(hqdb *db, int64_t since_ms, const char *except_kind, stats_alert_item *out,
                         size_t max, size_t *n) {
  hqres r = {0};
  hqv p[] = {I(since_ms), T(except_kind ? except_kind : ""), I((int64_t)max)};
  *n = 0;
  sqr_rc rc = hqdb_exec(db,
                        "SELECT kind, kiosk, seq, message, at_ms FROM alerts"
                        " WHERE at_ms >= $1 AND kind <> $2 ORDER BY at_ms DESC, kiosk LIMIT $3",
                        p, 3, &r, NULL);
  for(int i = 0; !rc && i < r.nrows && (size_t)i < max; i++) {
    stats_alert_item *a = &out[i];
    char subject[HQ_ID_MAX];
    cell_text(&r, i, 0, a->kind, sizeof a->kind);
    cell_text(&r, i, 1, subject, sizeof subject);
    /* "STORE/N" names a kiosk; a bare store id (resolver alerts) none */
    char *slash = strchr(subject, '/');
    a->kiosk = slash ? (int)strtol(slash + 1, NULL, 10) : 0;
    if(slash) *slash = '\0';
    snprintf(a->store, sizeof a->store, "%s", subject);
    a->seq = cell_int(&r, i, 2);
    cell_text(&r, i, 3, a->message, sizeof a->message);
    a->at_ms = cell_int(&r, i, 4);
    (*n)++;
  }
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_stats_alert_kinds_each(hqdb *db, void (*fn)(void *arg, const char *kind, int64_t n),
                                   void *arg) {
  return store_figure_each(db, "SELECT kind, COUNT(*) FROM alerts GROUP BY kind ORDER BY kind", fn,
                           arg);
}

sqr_rc hqdb_stats_clock_each(hqdb *db,
                             void (*fn)(void *arg, const char *store, const char *kiosk_id,
                                        int64_t jumps),
                             void *arg) {
  hqres r = {0};
  sqr_rc rc = hqdb_exec(db, "SELECT store, kiosk, jumps FROM kiosk_clock ORDER BY store, kiosk",
                        NULL, 0, &r, NULL);
  for(int i = 0; !rc && i < r.nrows; i++) {
    char store[HQ_ID_MAX], kiosk[HQ_ID_MAX];
    cell_text(&r, i, 0, store, sizeof store);
    cell_text(&r, i, 1, kiosk, sizeof kiosk);
    fn(arg, store, kiosk, cell_int(&r, i, 2));
  }
  hqres_free(&r);
  return rc;
}
