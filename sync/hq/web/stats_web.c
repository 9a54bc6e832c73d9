/* stats_web.c — GET /v1/stats (JSON) and /v1/stats.csv, and the figures
 * the dashboard and /metrics share (stats_web.h).
 *
 * One row per store and Shanghai day with any activity in the range:
 * sign-ups, check-ins, sign-ups per staff member, scans, conversion
 * (sign-ups / scans of that day; none without scans), plus the store's
 * figures as of now on each row: distinct members, the live group and its
 * fill, groups near full / near expiry / exhausted, last sync, the sync
 * lag and the events its kiosks last said they still hold. Never a phone
 * number: HQ's stats tables hold none.
 *
 * Every JSON row and store is a cJSON object printed into the answer one
 * at a time (a year of 5,000 stores never sits in memory as a tree);
 * every CSV row goes through csv.h's writer. Both stop at the answer's
 * 64 MiB limit (413).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"
#include "dynbuf.h"
#include "login.h"
#include "livecode.h"
#include "log.h"
#include "resolve.h"
#include "stats_web.h"
#include "group.h"
#include "scan.h"

void stats_time_format(int64_t ms, char out[26]) {
  int64_t local = ms + STATS_TZ_OFFSET_MS;
  int64_t day = stats_day_of_ms(ms);
  int64_t sec = (local - day * STATS_DAY_MS) / 1000;
  char d[11];
  stats_day_format(day, d);
  unsigned hh = (unsigned)(sec / 3600) % 24u, mm = (unsigned)(sec / 60 % 60),
           ss = (unsigned)(sec % 60);
  char tmp[48];
  snprintf(tmp, sizeof tmp, "%.10sT%02u:%02u:%02u+08:00", d, hh, mm, ss);
  memcpy(out, tmp, 25);
  out[25] = '\0';
}

static int64_t rollup_every_ms(void) {
  const char *env = getenv("SQR_HQ_ROLLUP_MS");
  return env && *env ? atoll(env) : 30000;
}

static int64_t rollup_last_ms; /* under the server's storage lock */

sqr_rc stats_rollup(hq *h) {
  int64_t every = rollup_every_ms(), now = hq_now_ms();
  int64_t last = rollup_last_ms;
  if(last && every > 0 && now - last < every && now >= last) return SQR_OK;
  sqr_rc rc = hq_stats_rollup(h, now);
  if(rc) {
    log_error("stats", "scan roll-up: %s", hq_storage_error(h));
    return rc;
  }
  rollup_last_ms = now;
  return SQR_OK;
}

struct stats_roller {
  hq *h;
  pthread_mutex_t *lock; /* the server's storage lock */
  pthread_mutex_t mu;    /* guards stopping, with wake */
  pthread_cond_t wake;
  pthread_t thread;
  int stopping;
  int64_t period_ms;
};

/* One roll-up, under the server's storage lock; a failure is logged and
 * left to the next turn (or to a reader that finds it overdue). */
static void roll_once(stats_roller *r) {
  pthread_mutex_lock(r->lock);
  int64_t now = hq_now_ms();
  if(hq_stats_rollup(r->h, now))
    log_warn("stats", "scan roll-up: %s; tried again in %lld s", hq_storage_error(r->h),
             (long long)(r->period_ms / 1000));
  else
    rollup_last_ms = now;
  pthread_mutex_unlock(r->lock);
}

static void *roll(void *arg) {
  stats_roller *r = arg;
  pthread_mutex_lock(&r->mu);
  while(!r->stopping) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += (time_t)(r->period_ms / 1000);
    t.tv_nsec += (long)(r->period_ms % 1000) * 1000000L;
    if(t.tv_nsec >= 1000000000L) {
      t.tv_sec++;
      t.tv_nsec -= 1000000000L;
    }
    while(!r->stopping && pthread_cond_timedwait(&r->wake, &r->mu, &t) == 0)
      ;
    if(r->stopping) break;
    pthread_mutex_unlock(&r->mu);
    roll_once(r);
    pthread_mutex_lock(&r->mu);
  }
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

sqr_rc stats_roller_start(hq *h, pthread_mutex_t *lock, stats_roller **out) {
  *out = NULL;
  int64_t every = rollup_every_ms();
  if(every <= 0) return SQR_OK; /* every read rolls up */
  stats_roller *r = calloc(1, sizeof *r);
  if(!r) return SQR_ENOMEM;
  r->h = h;
  r->lock = lock;
  r->period_ms = every * 3 / 4 > 0 ? every * 3 / 4 : 1;
  if(pthread_mutex_init(&r->mu, NULL)) {
    free(r);
    return SQR_ENOMEM;
  }
  if(pthread_cond_init(&r->wake, NULL)) {
    pthread_mutex_destroy(&r->mu);
    free(r);
    return SQR_ENOMEM;
  }
  /* The first before HQ listens: a start is then a little longer, and
   * the first page after it does not wait behind the roll-up. */
  roll_once(r);
  if(pthread_create(&r->thread, NULL, roll, r)) {
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->mu);
    free(r);
    return SQR_ENOMEM;
  }
  *out = r;
  return SQR_OK;
}

void stats_roller_stop(stats_roller *r) {
  if(!r) return;
  pthread_mutex_lock(&r->mu);
  r->stopping = 1;
  pthread_cond_signal(&r->wake);
  pthread_mutex_unlock(&r->mu);
  pthread_join(r->thread, NULL);
  pthread_cond_destroy(&r->wake);
  pthread_mutex_destroy(&r->mu);
  free(r);
}

double stats_group_fill(const resolve_group_state *g) {
  group_state st = {.capacity = g->capacity, .count = g->joins + g->scans_sent};
  return group_fill_ratio(&st);
}

/* The summary of out->g[0..n). */
static void summarise(stats_groups *out) {
  out->live = -1;
  out->near_full = out->near_expiry = out->full = out->exhausted = 0;
  for(size_t i = 0; i < out->n; i++) {
    const resolve_group_state *g = &out->g[i];
    out->near_full += g->near_full && !g->full;
    out->near_expiry += g->near_expiry;
    out->full += g->full;
    out->exhausted = g->exhausted;
    /* the group shoppers go to now: the rule's choice, expiry included */
    if(out->live < 0 && g->usable) out->live = (int)i;
  }
  out->live_fill = out->live >= 0 ? stats_group_fill(&out->g[out->live]) : out->n ? 1 : 0;
}

sqr_rc stats_groups_get(hq *h, const char *store, stats_groups *out) {
  memset(out, 0, sizeof *out);
  out->live = -1;
  sqr_rc rc = resolve_groups_state(h, store, out->g, SQR_ARRAY_LEN(out->g), &out->n);
  if(rc == SQR_ENOTFOUND) return SQR_OK; /* no store, no groups */
  if(rc) return rc;
  summarise(out);
  return SQR_OK;
}

typedef struct each_ctx {
  stats_groups *g;
  void (*fn)(void *arg, const char *store, const stats_groups *g);
  void *arg;
} each_ctx;

/* g is already g->g: resolve_groups_state_each filled it in place */
static void each_store(void *arg, const char *store, const resolve_group_state *g, size_t n) {
  each_ctx *x = arg;
  (void)g;
  x->g->n = n;
  summarise(x->g);
  x->fn(x->arg, store, x->g);
}

sqr_rc stats_groups_each(hq *h, void (*fn)(void *arg, const char *store, const stats_groups *g),
                         void *arg) {
  each_ctx x = {malloc(sizeof *x.g), fn, arg};
  if(!x.g) return SQR_ENOMEM;
  memset(x.g, 0, sizeof *x.g);
  sqr_rc rc = resolve_groups_state_each(h, x.g->g, SQR_ARRAY_LEN(x.g->g), each_store, &x);
  free(x.g);
  return rc;
}

/* ---- /v1/stats ------------------------------------------------------------------ */

#define STATS_MAX_DAYS 366

typedef struct query {
  const char *from, *to, *store;
  char bad[80];
} query;

static int safe_name(const char *s) {
  if(!s || !*s || strlen(s) > 20) return 0;
  for(; *s; s++)
    if(!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return 0;
  return 1;
}

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value) {
  (void)kind;
  query *q = cls;
  const char **slot = strcmp(key, "from") == 0    ? &q->from
                      : strcmp(key, "to") == 0    ? &q->to
                      : strcmp(key, "store") == 0 ? &q->store
                                                  : NULL;
  if(q->bad[0]) return MHD_YES;
  if(!slot)
    snprintf(q->bad, sizeof q->bad, "%s%s: unknown parameter (from, to, store)",
             safe_name(key) ? key : "a parameter", "");
  else if(*slot)
    snprintf(q->bad, sizeof q->bad, "%s: given twice", key);
  else
    *slot = value ? value : "";
  return MHD_YES;
}

/* Fills from/to/store from the query; on a bad one sets r (400/404). */
static int parse_query(hq *h, struct MHD_Connection *c, int64_t *from, int64_t *to,
                       const char **store, hq_reply *r) {
  query q = {0};
  MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_arg, &q);
  if(q.bad[0]) {
    hq_reply_error(r, 400, "bad_request", q.bad, NULL, 0);
    return 0;
  }
  int64_t today = stats_day_of_ms(hq_now_ms());
  *to = today;
  if(q.to && stats_day_parse(q.to, to)) {
    hq_reply_error(r, 400, "bad_request", "to: must be a date YYYY-MM-DD (2000..2099)", NULL, 0);
    return 0;
  }
  *from = *to - 29;
  if(q.from && stats_day_parse(q.from, from)) {
    hq_reply_error(r, 400, "bad_request", "from: must be a date YYYY-MM-DD (2000..2099)", NULL, 0);
    return 0;
  }
  if(*from > *to) {
    hq_reply_error(r, 400, "bad_request", "from: must not be after to", NULL, 0);
    return 0;
  }
  if(*to - *from + 1 > STATS_MAX_DAYS) {
    hq_reply_error(r, 400, "bad_request", "from..to: at most 366 days", NULL, 0);
    return 0;
  }
  *store = NULL;
  if(q.store) {
    if(!livecode_store_id_valid(q.store)) {
      hq_reply_error(r, 400, "bad_request", "store: must be a store id (A-Z 0-9 -)", NULL, 0);
      return 0;
    }
    hq_store s;
    sqr_rc rc = hq_scan_store(h, q.store, &s);
    if(rc == SQR_ENOTFOUND) {
      hq_reply_error(r, 404, "unknown_store", "store: no such store", NULL, 0);
      return 0;
    }
    if(rc) {
      hq_reply_storage(r, rc);
      return 0;
    }
    *store = q.store;
  }
  return 1;
}

/* A store's row and its groups' summary (the groups themselves are read
 * again, from the resolver's cache, while writing: 5,000 stores times 32
 * groups would not fit a compact answer). */
typedef struct group_summary {
  char live_id[HQ_ID_MAX];
  double live_fill;
  size_t n;
  int live, near_full, near_expiry, full, exhausted;
} group_summary;
typedef struct store_info {
  stats_store_row s;
  group_summary g;
} store_info;

static const store_info *find_store(const store_info *v, size_t n, const char *id) {
  size_t lo = 0, hi = n; /* v is sorted by id (ORDER BY s.id) */
  while(lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(v[mid].s.id, id);
    if(c == 0) return &v[mid];
    if(c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/* Sorted in C, by byte order: PostgreSQL's ORDER BY follows the
 * database's collation, which may not be strcmp's. */
static int cmp_day(const void *a, const void *b) {
  const stats_day_row *x = a, *y = b;
  int c = strcmp(x->store, y->store);
  return c ? c : (x->day > y->day) - (x->day < y->day);
}
static int cmp_staff(const void *a, const void *b) {
  const stats_staff_row *x = a, *y = b;
  int c = strcmp(x->store, y->store);
  if(c) return c;
  if(x->day != y->day) return (x->day > y->day) - (x->day < y->day);
  return strcmp(x->staff, y->staff);
}
static int cmp_store(const void *a, const void *b) {
  return strcmp(((const stats_store_row *)a)->id, ((const stats_store_row *)b)->id);
}

/* Appends one JSON value (taken and freed); SQR_ENOMEM if it is NULL or
 * cannot be printed. */
static sqr_rc add_json(dynbuf *b, cJSON *v) {
  char *text = v ? cJSON_PrintUnformatted(v) : NULL;
  cJSON_Delete(v);
  if(!text) return SQR_ENOMEM;
  sqr_rc rc = dynbuf_adds(b, text);
  free(text);
  return rc;
}

/* A number printed with the given decimals (raw JSON, so it reads as
 * it did: 0.3330, not 0.33300000000000002). */
static void add_fixed(cJSON *o, const char *name, double v, int decimals) {
  char num[32];
  snprintf(num, sizeof num, "%.*f", decimals, v);
  cJSON_AddRawToObject(o, name, num);
}

/* The staff rows of one store and day: staff[si..] while they match. */
static size_t staff_end(const stats_staff_row *staff, size_t nstaff, size_t si,
                        const stats_day_row *d) {
  size_t k = si;
  while(k < nstaff && staff[k].day == d->day && !strcmp(staff[k].store, d->store))
    k++;
  return k;
}

static sqr_rc csv_day(dynbuf *b, const stats_day_row *d, const store_info *s,
                      const stats_staff_row *staff, size_t si, size_t se, int64_t now) {
  char day[11], sync[26] = "";
  stats_day_format(d->day, day);
  if(s && s->s.last_sync_ms) stats_time_format(s->s.last_sync_ms, sync);
  dynbuf who;
  dynbuf_init(&who, 64 * 1024);
  for(size_t k = si; k < se; k++)
    dynbuf_addf(&who, "%s%s:%lld", k > si ? ";" : "", staff[k].staff, (long long)staff[k].signups);
  csv_row r;
  csv_row_start(&r, b);
  csv_text(&r, d->store);
  csv_text(&r, s ? s->s.name : "");
  csv_text(&r, day);
  csv_int(&r, d->signups);
  csv_int(&r, d->checkins);
  csv_int(&r, d->scans);
  if(d->scans > 0)
    csv_fixed(&r, (double)d->signups / (double)d->scans, 4);
  else
    csv_empty(&r);
  csv_text(&r, dynbuf_ptr(&who));
  dynbuf_free(&who);
  csv_int(&r, s ? s->s.members : 0);
  csv_text(&r, s ? s->g.live_id : "");
  if(s && s->g.n)
    csv_fixed(&r, s->g.live_fill, 3);
  else
    csv_empty(&r);
  csv_int(&r, s ? s->g.near_full : 0);
  csv_int(&r, s ? s->g.near_expiry : 0);
  csv_int(&r, s ? s->g.exhausted : 0);
  csv_text(&r, sync);
  if(s && s->s.last_sync_ms)
    csv_int(&r, (now - s->s.last_sync_ms) / 1000);
  else
    csv_empty(&r);
  if(s && s->s.events_behind >= 0)
    csv_int(&r, s->s.events_behind);
  else
    csv_empty(&r);
  return csv_row_end(&r);
}

/* The JSON of one day row, as a cJSON object made once per answer and
 * filled in place for each row (a year of one store is 366 rows; a chain
 * asks for far more): numbers and strings are set, the staff object is
 * the only part rebuilt, and the row is printed into a reused buffer. */
typedef struct day_json {
  cJSON *o, *store, *day, *signups, *checkins, *scans, *conv, *members;
  char conv_text[32]; /* what conv, a raw value, prints: a number or null */
  char buf[4096];
} day_json;

static sqr_rc day_json_init(day_json *j) {
  memset(j, 0, sizeof *j);
  j->o = cJSON_CreateObject();
  j->conv = cJSON_CreateRaw("null");
  if(!j->o || !j->conv) {
    cJSON_Delete(j->conv);
    j->conv = NULL;
    return SQR_ENOMEM;
  }
  /* conv's text is ours: a raw item prints valuestring as it is */
  cJSON_free(j->conv->valuestring);
  j->conv->valuestring = j->conv_text;
  int ok = cJSON_AddItemToObjectCS(j->o, "store", j->store = cJSON_CreateString("")) &&
           cJSON_AddItemToObjectCS(j->o, "day", j->day = cJSON_CreateString("")) &&
           cJSON_AddItemToObjectCS(j->o, "signups", j->signups = cJSON_CreateNumber(0)) &&
           cJSON_AddItemToObjectCS(j->o, "checkins", j->checkins = cJSON_CreateNumber(0)) &&
           cJSON_AddItemToObjectCS(j->o, "scans", j->scans = cJSON_CreateNumber(0)) &&
           cJSON_AddItemToObjectCS(j->o, "conversion", j->conv) &&
           cJSON_AddItemToObjectCS(j->o, "staff", cJSON_CreateObject()) &&
           cJSON_AddItemToObjectCS(j->o, "members", j->members = cJSON_CreateNumber(0));
  return ok ? SQR_OK : SQR_ENOMEM;
}

static void day_json_free(day_json *j) {
  if(j->conv) j->conv->valuestring = NULL; /* ours, not cJSON's to free */
  if(j->conv && cJSON_GetObjectItemCaseSensitive(j->o, "conversion") != j->conv)
    cJSON_Delete(j->conv); /* init failed before the row took it */
  cJSON_Delete(j->o);
}

/* Appends the row of d (staff[si..se) its staff figures). */
static sqr_rc day_json_add(day_json *j, dynbuf *b, const stats_day_row *d, const store_info *s,
                           const stats_staff_row *staff, size_t si, size_t se) {
  char day[11];
  stats_day_format(d->day, day);
  if(!cJSON_SetValuestring(j->store, d->store) || !cJSON_SetValuestring(j->day, day))
    return SQR_ENOMEM;
  cJSON_SetNumberValue(j->signups, (double)d->signups);
  cJSON_SetNumberValue(j->checkins, (double)d->checkins);
  cJSON_SetNumberValue(j->scans, (double)d->scans);
  cJSON_SetNumberValue(j->members, (double)(s ? s->s.members : 0));
  if(d->scans > 0)
    snprintf(j->conv_text, sizeof j->conv_text, "%.4f", (double)d->signups / (double)d->scans);
  else
    snprintf(j->conv_text, sizeof j->conv_text, "null");
  cJSON *st = cJSON_CreateObject();
  for(size_t k = si; st && k < se; k++)
    if(!cJSON_AddNumberToObject(st, staff[k].staff, (double)staff[k].signups)) {
      cJSON_Delete(st);
      st = NULL;
    }
  if(!st || !cJSON_ReplaceItemInObjectCaseSensitive(j->o, "staff", st)) {
    cJSON_Delete(st);
    return SQR_ENOMEM;
  }
  if(cJSON_PrintPreallocated(j->o, j->buf, (int)sizeof j->buf, 0)) return dynbuf_adds(b, j->buf);
  return add_json(b, cJSON_Duplicate(j->o, 1)); /* a row past 4 KiB: many staff that day */
}

static cJSON *json_store(const store_info *s, const stats_groups *gs, int64_t now) {
  cJSON *o = cJSON_CreateObject(), *ga = cJSON_CreateArray();
  cJSON_AddStringToObject(o, "store", s->s.id);
  cJSON_AddStringToObject(o, "name", s->s.name);
  cJSON_AddStringToObject(o, "city", s->s.city);
  cJSON_AddNumberToObject(o, "members", (double)s->s.members);
  cJSON_AddNumberToObject(o, "kiosks", (double)s->s.kiosks);
  if(s->s.last_sync_ms) {
    char sync[26];
    stats_time_format(s->s.last_sync_ms, sync);
    cJSON_AddNumberToObject(o, "last_sync_ms", (double)s->s.last_sync_ms);
    cJSON_AddStringToObject(o, "last_sync", sync);
    cJSON_AddNumberToObject(o, "sync_lag_s", (double)((now - s->s.last_sync_ms) / 1000));
  } else {
    cJSON_AddNullToObject(o, "last_sync_ms");
    cJSON_AddNullToObject(o, "last_sync");
    cJSON_AddNullToObject(o, "sync_lag_s");
  }
  if(s->s.events_behind >= 0)
    cJSON_AddNumberToObject(o, "events_behind", (double)s->s.events_behind);
  else
    cJSON_AddNullToObject(o, "events_behind");
  if(s->g.live >= 0)
    cJSON_AddStringToObject(o, "live_group", s->g.live_id);
  else
    cJSON_AddNullToObject(o, "live_group");
  add_fixed(o, "group_fill", s->g.live_fill, 3);
  cJSON_AddBoolToObject(o, "groups_exhausted", s->g.exhausted);
  for(size_t k = 0; gs && k < gs->n; k++) {
    const resolve_group_state *g = &gs->g[k];
    cJSON *go = cJSON_CreateObject();
    cJSON_AddStringToObject(go, "id", g->id);
    cJSON_AddStringToObject(go, "name", g->name);
    cJSON_AddNumberToObject(go, "capacity", g->capacity);
    cJSON_AddNumberToObject(go, "joins", (double)g->joins);
    cJSON_AddNumberToObject(go, "scans_sent", (double)g->scans_sent);
    add_fixed(go, "fill", stats_group_fill(g), 3);
    cJSON_AddNumberToObject(go, "expires_at", (double)g->expires_at);
    cJSON_AddBoolToObject(go, "full", g->full);
    cJSON_AddBoolToObject(go, "near_full", g->near_full);
    cJSON_AddBoolToObject(go, "near_expiry", g->near_expiry);
    cJSON_AddItemToArray(ga, go);
  }
  cJSON_AddItemToObject(o, "groups", ga);
  return o;
}

static void stats_answer(hq *h, struct MHD_Connection *c, int csv, hq_reply *r) {
  int64_t from, to;
  const char *store;
  if(!parse_query(h, c, &from, &to, &store, r)) return;
  stats_day_row *days = NULL;
  stats_staff_row *staff = NULL;
  stats_store_row *stores = NULL;
  store_info *info = NULL;
  stats_groups *gs = NULL;
  size_t ndays = 0, nstaff = 0, nstores = 0;
  dynbuf b;
  dynbuf_init(&b, STATS_ANSWER_MAX);
  day_json dj;
  int64_t now = hq_now_ms();
  sqr_rc rc = day_json_init(&dj);
  if(!rc) rc = stats_rollup(h);
  if(!rc) rc = hq_stats_days(h, store, from, to, &days, &ndays, &staff, &nstaff);
  if(!rc) rc = hq_stats_stores(h, store, &stores, &nstores);
  if(!rc) {
    if(ndays) qsort(days, ndays, sizeof *days, cmp_day);
    if(nstaff) qsort(staff, nstaff, sizeof *staff, cmp_staff);
    if(nstores) qsort(stores, nstores, sizeof *stores, cmp_store);
  }
  if(!rc && nstores && !(info = calloc(nstores, sizeof *info))) rc = SQR_ENOMEM;
  if(!rc && !(gs = malloc(sizeof *gs))) rc = SQR_ENOMEM;
  for(size_t i = 0; !rc && i < nstores; i++) {
    info[i].s = stores[i];
    if((rc = stats_groups_get(h, stores[i].id, gs))) break;
    group_summary *g = &info[i].g;
    g->live = gs->live;
    if(gs->live >= 0) snprintf(g->live_id, sizeof g->live_id, "%s", gs->g[gs->live].id);
    g->live_fill = gs->live_fill;
    g->n = gs->n;
    g->near_full = gs->near_full;
    g->near_expiry = gs->near_expiry;
    g->full = gs->full;
    g->exhausted = gs->exhausted;
  }
  if(rc) {
    log_error("stats", "stats: %s", hq_storage_error(h));
    hq_reply_storage(r, rc);
    goto out;
  }
  char f[11], t[11];
  stats_day_format(from, f);
  stats_day_format(to, t);
  /* The envelope is fixed text; every value from outside is in a row. */
  if(csv)
    dynbuf_adds(&b, "store,name,day,signups,checkins,scans,conversion,staff_signups,members,"
                    "live_group,group_fill,groups_near_full,groups_near_expiry,"
                    "groups_exhausted,last_sync,sync_lag_s,events_behind\r\n");
  else
    dynbuf_addf(&b, "{\"tz\":\"Asia/Shanghai\",\"from\":\"%s\",\"to\":\"%s\",\"rows\":[", f, t);
  size_t si = 0;
  for(size_t i = 0; !dynbuf_error(&b) && i < ndays; i++) {
    const stats_day_row *d = &days[i];
    const store_info *s = find_store(info, nstores, d->store);
    while(si < nstaff && (strcmp(staff[si].store, d->store) < 0 ||
                          (strcmp(staff[si].store, d->store) == 0 && staff[si].day < d->day)))
      si++;
    size_t se = staff_end(staff, nstaff, si, d);
    if(csv) {
      csv_day(&b, d, s, staff, si, se, now);
    } else {
      if(i) dynbuf_add(&b, ",", 1);
      if(day_json_add(&dj, &b, d, s, staff, si, se)) rc = SQR_ENOMEM;
    }
  }
  if(!csv) {
    /* the stores' figures as of now, once each */
    dynbuf_adds(&b, "],\"stores\":[");
    for(size_t i = 0; !rc && !dynbuf_error(&b) && i < nstores; i++) {
      const store_info *s = &info[i];
      if(s->g.n && stats_groups_get(h, s->s.id, gs)) gs->n = 0;
      if(i) dynbuf_add(&b, ",", 1);
      if(add_json(&b, json_store(s, s->g.n ? gs : NULL, now))) rc = SQR_ENOMEM;
    }
    dynbuf_addf(&b, "],\"hq_time_ms\":%lld}", (long long)now);
  }
  if(rc) {
    dynbuf_free(&b);
    hq_reply_error(r, 500, "internal", "out of memory", NULL, 0);
    goto out;
  }
  hq_reply_text(r, &b, 200, csv ? "text/csv; charset=utf-8" : "application/json",
                "the answer would pass 64 MiB: ask for fewer days or one store");
  if(csv && r->status == 200) {
    char disp[96];
    snprintf(disp, sizeof disp, "attachment; filename=\"storeqr-stats-%s-%s.csv\"", f, t);
    if(hq_reply_header(r, "Content-Disposition", disp))
      log_warn("stats", "cannot add a header: out of memory");
  }
out:
  day_json_free(&dj);
  free(gs);
  free(days);
  free(staff);
  free(stores);
  free(info);
}

int stats_route(hq *h, struct MHD_Connection *c, const char *method, const char *url, hq_reply *r) {
  int csv = strcmp(url, "/v1/stats.csv") == 0;
  if(!csv && strcmp(url, "/v1/stats") != 0) return 0;
  if(strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
    hq_reply_error(r, 405, "method", "GET only", NULL, 0);
    return 1;
  }
  if(!login_request_ok(h, c)) {
    hq_reply_error(r, 401, "unauthorized",
                   "Authorization: Bearer token or a dashboard session required", NULL, 0);
    return 1;
  }
  stats_answer(h, c, csv, r);
  if(hq_reply_header(r, "Cache-Control", "no-store"))
    log_warn("stats", "cannot add a header: out of memory");
  return 1;
}
