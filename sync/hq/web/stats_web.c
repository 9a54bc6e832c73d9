/* stats.c — GET /v1/stats (JSON) and /v1/stats.csv, and the text helpers
 * the dashboard and /metrics share (stats.h).
 *
 * One row per store and Shanghai day with any activity in the range:
 * sign-ups, check-ins, sign-ups per staff member, scans, conversion
 * (sign-ups / scans of that day; none without scans), plus the store's
 * figures as of now on each row: distinct members, the live group and its
 * fill, groups near full / near expiry / exhausted, last sync, the sync
 * lag and the events its kiosks last said they still hold. Never a phone
 * number: HQ's stats tables hold none.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "login.h"
#include "livecode.h"
#include "log.h"
#include "resolve.h"
#include "stats_web.h"
#include "group.h"
#include "scan.h"

/* ---- text --------------------------------------------------------------------- */

static int grow(stats_buf *b, size_t n) {
  if(b->failed || b->too_big) return 0;
  if(b->len + n + 1 <= b->cap) return 1;
  if(b->len + n + 1 > STATS_BUF_MAX) {
    b->too_big = 1;
    return 0;
  }
  size_t cap = b->cap ? b->cap : 4096;
  while(cap < b->len + n + 1)
    cap *= 2;
  if(cap > STATS_BUF_MAX) cap = STATS_BUF_MAX;
  char *p = realloc(b->p, cap);
  if(!p) {
    b->failed = 1;
    return 0;
  }
  b->p = p;
  b->cap = cap;
  return 1;
}

void stats_buf_put(stats_buf *b, const char *s, size_t n) {
  if(!grow(b, n)) return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void stats_buf_puts(stats_buf *b, const char *s) {
  stats_buf_put(b, s, strlen(s));
}

void stats_buf_printf(stats_buf *b, const char *fmt, ...) {
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if(n < 0) {
    b->failed = 1;
    return;
  }
  if((size_t)n < sizeof small) {
    stats_buf_put(b, small, (size_t)n);
    return;
  }
  if(!grow(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (1..4), 0 if invalid. */
static size_t utf8_len(const unsigned char *s) {
  unsigned c = s[0];
  if(c < 0x80) return 1;
  if(c >= 0xC2 && c <= 0xDF) return (s[1] & 0xC0) == 0x80 ? 2 : 0;
  if(c >= 0xE0 && c <= 0xEF) {
    if((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
    if(c == 0xE0 && s[1] < 0xA0) return 0; /* overlong */
    if(c == 0xED && s[1] > 0x9F) return 0; /* surrogates */
    return 3;
  }
  if(c >= 0xF0 && c <= 0xF4) {
    if((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
    if(c == 0xF0 && s[1] < 0x90) return 0;
    if(c == 0xF4 && s[1] > 0x8F) return 0;
    return 4;
  }
  return 0;
}

#define REPLACEMENT "\xEF\xBF\xBD"

void stats_buf_json(stats_buf *b, const char *s) {
  for(const unsigned char *p = (const unsigned char *)s; *p;) {
    size_t n = utf8_len(p);
    if(n == 0) {
      stats_buf_puts(b, REPLACEMENT);
      p++;
    } else if(n > 1) {
      stats_buf_put(b, (const char *)p, n);
      p += n;
    } else {
      if(*p == '"' || *p == '\\') {
        char e[2] = {'\\', (char)*p};
        stats_buf_put(b, e, 2);
      } else if(*p < 0x20 || *p == 0x7F) {
        stats_buf_printf(b, "\\u%04x", *p);
      } else {
        stats_buf_put(b, (const char *)p, 1);
      }
      p++;
    }
  }
}

void stats_buf_html(stats_buf *b, const char *s) {
  for(const unsigned char *p = (const unsigned char *)s; *p;) {
    size_t n = utf8_len(p);
    if(n == 0) {
      stats_buf_puts(b, REPLACEMENT);
      p++;
      continue;
    }
    switch(n == 1 ? *p : 0) {
    case '&':
      stats_buf_puts(b, "&amp;");
      break;
    case '<':
      stats_buf_puts(b, "&lt;");
      break;
    case '>':
      stats_buf_puts(b, "&gt;");
      break;
    case '"':
      stats_buf_puts(b, "&quot;");
      break;
    case '\'':
      stats_buf_puts(b, "&#39;");
      break;
    default:
      if(n == 1 && (*p < 0x20 || *p == 0x7F) && *p != '\t' && *p != '\n')
        stats_buf_puts(b, REPLACEMENT);
      else
        stats_buf_put(b, (const char *)p, n);
    }
    p += n;
  }
}

void stats_buf_csv(stats_buf *b, const char *s) {
  /* RFC 4180: quote a field holding a comma, quote, CR or LF; double the
   * quotes. A leading = + - @ is prefixed with ' so a spreadsheet does not
   * run a store name as a formula. */
  int quote = strpbrk(s, ",\"\r\n") != NULL;
  int formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@';
  if(quote) stats_buf_put(b, "\"", 1);
  if(formula) stats_buf_put(b, "'", 1);
  for(const unsigned char *p = (const unsigned char *)s; *p;) {
    size_t n = utf8_len(p);
    if(n == 0) {
      stats_buf_puts(b, REPLACEMENT);
      p++;
    } else {
      if(*p == '"') stats_buf_put(b, "\"", 1);
      stats_buf_put(b, (const char *)p, n);
      p += n;
    }
  }
  if(quote) stats_buf_put(b, "\"", 1);
}

void stats_buf_reply(stats_buf *b, hq_reply *r, int status, const char *type) {
  if(b->too_big) {
    free(b->p);
    hq_reply_error(r, 413, "too_large",
                   "the answer would pass 64 MiB: ask for fewer days or one store", NULL, 0);
    return;
  }
  if(b->failed || !b->p) {
    free(b->p);
    hq_reply_error(r, 500, "internal", "out of memory", NULL, 0);
    return;
  }
  free(r->body);
  r->body = b->p;
  r->len = b->len;
  r->status = status;
  r->type = type;
  memset(b, 0, sizeof *b);
}

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

sqr_rc stats_rollup(hq *h) {
  static int64_t last_ms; /* under the server's storage lock */
  int64_t every = 30000, now = hq_now_ms();
  const char *env = getenv("SQR_HQ_ROLLUP_MS");
  if(env && *env) every = atoll(env);
  if(last_ms && every > 0 && now - last_ms < every && now >= last_ms) return SQR_OK;
  sqr_rc rc = hq_stats_rollup(h, now);
  if(rc) {
    log_error("stats", "scan roll-up: %s", hq_storage_error(h));
    return rc;
  }
  last_ms = now;
  return SQR_OK;
}

double stats_group_fill(const resolve_group_state *g) {
  group_state st = {.capacity = g->capacity, .count = g->joins + g->scans_sent};
  return group_fill_ratio(&st);
}

sqr_rc stats_groups_get(hq *h, const char *store, stats_groups *out) {
  memset(out, 0, sizeof *out);
  out->live = -1;
  sqr_rc rc = resolve_groups_state(h, store, out->g, SQR_ARRAY_LEN(out->g), &out->n);
  if(rc == SQR_ENOTFOUND) return SQR_OK; /* no store, no groups */
  if(rc) return rc;
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
  return SQR_OK;
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
      hq_reply_error(r, 500, "storage", "HQ's database failed; try again", NULL, 0);
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

static void fmt_conversion(char out[24], int64_t signups, int64_t scans) {
  if(scans > 0)
    snprintf(out, 24, "%.4f", (double)signups / (double)scans);
  else
    out[0] = '\0';
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
  stats_buf b = {0};
  int64_t now = hq_now_ms();
  sqr_rc rc = stats_rollup(h);
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
    hq_reply_error(r, rc == SQR_EBUSY ? 503 : 500, "storage", "HQ's database failed; try again",
                   NULL, 0);
    goto out;
  }
  char f[11], t[11];
  stats_day_format(from, f);
  stats_day_format(to, t);
  if(csv)
    stats_buf_puts(&b, "store,name,day,signups,checkins,scans,conversion,staff_signups,members,"
                       "live_group,group_fill,groups_near_full,groups_near_expiry,"
                       "groups_exhausted,last_sync,sync_lag_s,events_behind\r\n");
  else
    stats_buf_printf(&b, "{\"tz\":\"Asia/Shanghai\",\"from\":\"%s\",\"to\":\"%s\",\"rows\":[", f,
                     t);
  size_t si = 0;
  for(size_t i = 0; i < ndays; i++) {
    const stats_day_row *d = &days[i];
    const store_info *s = find_store(info, nstores, d->store);
    char day[11], conv[24], sync[26] = "", fill[16] = "";
    stats_day_format(d->day, day);
    fmt_conversion(conv, d->signups, d->scans);
    if(s && s->s.last_sync_ms) stats_time_format(s->s.last_sync_ms, sync);
    if(s && s->g.n) snprintf(fill, sizeof fill, "%.3f", s->g.live_fill);
    const char *live = s ? s->g.live_id : "";
    int64_t lag = s && s->s.last_sync_ms ? (now - s->s.last_sync_ms) / 1000 : -1;
    while(si < nstaff && (strcmp(staff[si].store, d->store) < 0 ||
                          (strcmp(staff[si].store, d->store) == 0 && staff[si].day < d->day)))
      si++;
    if(csv) {
      stats_buf_csv(&b, d->store);
      stats_buf_puts(&b, ",");
      stats_buf_csv(&b, s ? s->s.name : "");
      stats_buf_printf(&b, ",%s,%lld,%lld,%lld,%s,", day, (long long)d->signups,
                       (long long)d->checkins, (long long)d->scans, conv);
      stats_buf b2 = {0};
      for(size_t k = si; k < nstaff && staff[k].day == d->day && !strcmp(staff[k].store, d->store);
          k++)
        stats_buf_printf(&b2, "%s%s:%lld", k > si ? ";" : "", staff[k].staff,
                         (long long)staff[k].signups);
      stats_buf_csv(&b, b2.p ? b2.p : "");
      free(b2.p);
      stats_buf_printf(&b, ",%lld,", (long long)(s ? s->s.members : 0));
      stats_buf_csv(&b, live);
      stats_buf_printf(&b, ",%s,%d,%d,%d,%s,", fill, s ? s->g.near_full : 0,
                       s ? s->g.near_expiry : 0, s ? s->g.exhausted : 0, sync);
      if(lag >= 0) stats_buf_printf(&b, "%lld", (long long)lag);
      stats_buf_puts(&b, ",");
      if(s && s->s.events_behind >= 0) stats_buf_printf(&b, "%lld", (long long)s->s.events_behind);
      stats_buf_puts(&b, "\r\n");
    } else {
      stats_buf_printf(&b, "%s{\"store\":\"", i ? "," : "");
      stats_buf_json(&b, d->store);
      stats_buf_printf(&b,
                       "\",\"day\":\"%s\",\"signups\":%lld,\"checkins\":%lld,\"scans\":%lld,"
                       "\"conversion\":%s,\"staff\":{",
                       day, (long long)d->signups, (long long)d->checkins, (long long)d->scans,
                       conv[0] ? conv : "null");
      for(size_t k = si; k < nstaff && staff[k].day == d->day && !strcmp(staff[k].store, d->store);
          k++) {
        stats_buf_puts(&b, k > si ? ",\"" : "\"");
        stats_buf_json(&b, staff[k].staff);
        stats_buf_printf(&b, "\":%lld", (long long)staff[k].signups);
      }
      stats_buf_printf(&b, "},\"members\":%lld}", (long long)(s ? s->s.members : 0));
    }
  }
  if(!csv) {
    /* the stores' figures as of now, once each */
    stats_buf_puts(&b, "],\"stores\":[");
    for(size_t i = 0; i < nstores; i++) {
      const store_info *s = &info[i];
      char sync[26] = "";
      if(s->s.last_sync_ms) stats_time_format(s->s.last_sync_ms, sync);
      stats_buf_printf(&b, "%s{\"store\":\"", i ? "," : "");
      stats_buf_json(&b, s->s.id);
      stats_buf_puts(&b, "\",\"name\":\"");
      stats_buf_json(&b, s->s.name);
      stats_buf_puts(&b, "\",\"city\":\"");
      stats_buf_json(&b, s->s.city);
      stats_buf_printf(&b, "\",\"members\":%lld,\"kiosks\":%lld,", (long long)s->s.members,
                       (long long)s->s.kiosks);
      if(s->s.last_sync_ms)
        stats_buf_printf(&b, "\"last_sync_ms\":%lld,\"last_sync\":\"%s\",\"sync_lag_s\":%lld,",
                         (long long)s->s.last_sync_ms, sync,
                         (long long)((now - s->s.last_sync_ms) / 1000));
      else
        stats_buf_puts(&b, "\"last_sync_ms\":null,\"last_sync\":null,\"sync_lag_s\":null,");
      if(s->s.events_behind >= 0)
        stats_buf_printf(&b, "\"events_behind\":%lld,", (long long)s->s.events_behind);
      else
        stats_buf_puts(&b, "\"events_behind\":null,");
      stats_buf_puts(&b, "\"live_group\":");
      if(s->g.live >= 0) {
        stats_buf_puts(&b, "\"");
        stats_buf_json(&b, s->g.live_id);
        stats_buf_puts(&b, "\"");
      } else {
        stats_buf_puts(&b, "null");
      }
      stats_buf_printf(&b, ",\"group_fill\":%.3f,\"groups_exhausted\":%s,\"groups\":[",
                       s->g.live_fill, s->g.exhausted ? "true" : "false");
      if(s->g.n && stats_groups_get(h, s->s.id, gs)) gs->n = 0;
      for(size_t k = 0; s->g.n && k < gs->n; k++) {
        const resolve_group_state *g = &gs->g[k];
        stats_buf_puts(&b, k ? ",{\"id\":\"" : "{\"id\":\"");
        stats_buf_json(&b, g->id);
        stats_buf_puts(&b, "\",\"name\":\"");
        stats_buf_json(&b, g->name);
        stats_buf_printf(&b,
                         "\",\"capacity\":%d,\"joins\":%lld,\"scans_sent\":%lld,"
                         "\"fill\":%.3f,\"expires_at\":%lld,\"full\":%s,\"near_full\":%s,"
                         "\"near_expiry\":%s}",
                         g->capacity, (long long)g->joins, (long long)g->scans_sent,
                         stats_group_fill(g), (long long)g->expires_at, g->full ? "true" : "false",
                         g->near_full ? "true" : "false", g->near_expiry ? "true" : "false");
      }
      stats_buf_puts(&b, "]}");
    }
    stats_buf_printf(&b, "],\"hq_time_ms\":%lld}", (long long)now);
  }
  stats_buf_reply(&b, r, 200, csv ? "text/csv; charset=utf-8" : "application/json");
  if(csv && r->status == 200) {
    char disp[96];
    snprintf(disp, sizeof disp, "attachment; filename=\"storeqr-stats-%s-%s.csv\"", f, t);
    if(hq_reply_header(r, "Content-Disposition", disp))
      log_warn("stats", "cannot add a header: out of memory");
  }
out:
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
