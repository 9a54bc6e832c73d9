/* dash.c — see dash.h: the admin login and the dashboard pages, rendered
 * from templates (pages_dash.h) as HTML with inline CSS and SVG (no
 * script, no external asset), readable on a laptop and a phone.
 *
 *   GET  /dash/login, POST /dash/login, POST /dash/logout
 *   GET  /dash[?page=N&sort=KEY&dir=asc|desc]    stores, totals, charts, alerts
 *   GET  /dash/store/<ID>                         one store
 *   GET  /dash/audit                              audit_log and erasure_log, newest
 *   GET  /dash/export/members[?store&brand&since&until&format]   the CRM
 *        export (admin.h), recorded under the signed-in admin's name
 *
 * Every page needs a session (or the bearer token); every POST an Origin
 * of this HQ. The pages are rendered by web/pages_dash.c from its
 * templates (sync/hq/templates/dash_*.html), which escape every text that
 * came from outside (store names, group names, staff ids); this file
 * gathers the figures into their view models. No page ever shows a phone
 * number: the pages are built from the stats tables, stores, groups,
 * kiosks and the audit and erasure logs; the numbers of the CRM export
 * go only into its download. Stable ids and data- attributes are for tests/hqdash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "login.h"
#include "crypto.h"
#include "dynbuf.h"
#include "livecode.h"
#include "log.h"
#include "dash.h"
#include "decode.h"
#include "group.h"
#include "pages_dash.h"
#include "sealjob.h"
#include "stats_web.h"
#include "admin.h"
#include "export.h"

#define PAGE_ROWS 100
#define STALE_MS  (24LL * 3600 * 1000) /* a kiosk syncs at least nightly */
/* the tamper and security alerts listed: a week's, the newest 50 */
#define SECURITY_MS   (7 * 24LL * 3600 * 1000)
#define SECURITY_ROWS 50
#define CHART_DAYS    30

/* Hands the page rendered into b (rc: how rendering went) to r, or the
 * error (as hq_reply_text: 413 past the limit, else 500); frees b.
 * Headers every page carries: nothing may load from elsewhere, no
 * framing, no caching of figures. */
static void page_reply(dynbuf *b, sqr_rc rc, hq_reply *r, int status) {
  size_t len = 0;
  char *body = rc ? NULL : dynbuf_take(b, &len);
  dynbuf_free(b);
  if(rc == SQR_ETOOBIG) {
    hq_reply_error(r, 413, "too_large", "the page would pass 64 MiB", NULL, 0);
  } else if(!body) {
    if(rc && rc != SQR_ENOMEM) log_error("dash", "rendering a page: %s", sqr_strerror(rc));
    hq_reply_error(r, 500, "internal", "out of memory", NULL, 0);
  } else {
    free(r->body);
    r->body = body;
    r->len = len;
    r->status = status;
    r->type = "text/html; charset=utf-8";
  }
  if(hq_reply_header(r, "Content-Security-Policy",
                     "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                     "form-action 'self'; frame-ancestors 'none'; base-uri 'none'") ||
     hq_reply_header(r, "X-Content-Type-Options", "nosniff") ||
     hq_reply_header(r, "Referrer-Policy", "same-origin") ||
     hq_reply_header(r, "Cache-Control", "no-store"))
    log_warn("dash", "cannot add a header: out of memory");
}

static void redirect(hq_reply *r, const char *to) {
  hq_reply_clear(r);
  r->status = 303;
  r->type = "text/html; charset=utf-8";
  r->body = strdup("");
  if(hq_reply_header(r, "Location", to) || hq_reply_header(r, "Cache-Control", "no-store"))
    log_warn("dash", "cannot add a header: out of memory");
}

static void storage_error(hq *h, hq_reply *r, sqr_rc rc) {
  log_error("dash", "storage: %s", hq_storage_error(h));
  dynbuf b;
  dynbuf_init(&b, STATS_ANSWER_MAX);
  int unavailable = rc == SQR_ENET || rc == SQR_EBUSY;
  page_reply(&b, dash_error_render(&b), r, unavailable ? 503 : 500);
  if(unavailable && hq_reply_header(r, "Retry-After", rc == SQR_ENET ? "2" : "1"))
    log_warn("dash", "cannot add a header: out of memory");
}

static void not_found(hq_reply *r, const char *admin, const char *title, const char *message) {
  dash_not_found_view vm = {.admin = admin, .title = title, .message = message};
  dynbuf b;
  dynbuf_init(&b, STATS_ANSWER_MAX);
  page_reply(&b, dash_not_found_render(&vm, &b), r, 404);
}

/* A group as the fill bars show it. */
static dash_fill fill_of(const resolve_group_state *g) {
  return (dash_fill){.fill = stats_group_fill(g), .full = g->full, .near_full = g->near_full};
}

/* ---- login -------------------------------------------------------------------- */

static void login_page(hq_reply *r, int status, const char *msg) {
  dash_login_view vm = {.error = msg};
  dynbuf b;
  dynbuf_init(&b, STATS_ANSWER_MAX);
  page_reply(&b, dash_login_render(&vm, &b), r, status);
}

static void post_login(hq *h, struct MHD_Connection *c, const char *body, size_t len, hq_reply *r) {
  char user[64], pass[AUTH_PASSWORD_MAX + 2], client[64], sid[65];
  int64_t retry = 0;
  if(!decode_form_field(body, len, "user", user, sizeof user) ||
     !decode_form_field(body, len, "password", pass, sizeof pass)) {
    login_page(r, 400, "Enter a user name and a password.");
    return;
  }
  login_client(c, client, sizeof client);
  sqr_rc rc = auth_login(h, user, pass, client, sid, &retry);
  crypto_wipe(pass, sizeof pass);
  if(rc == SQR_EBUSY) {
    char msg[128], ra[24];
    snprintf(msg, sizeof msg, "Too many failed logins: try again in %lld minutes.",
             (long long)((retry + 59) / 60));
    login_page(r, 429, msg);
    snprintf(ra, sizeof ra, "%lld", (long long)retry);
    if(hq_reply_header(r, "Retry-After", ra)) log_warn("dash", "cannot add a header");
    return;
  }
  if(rc == SQR_EAUTH) {
    login_page(r, 401, "Wrong user name or password.");
    return;
  }
  if(rc) {
    storage_error(h, r, rc);
    return;
  }
  char cookie[200];
  snprintf(cookie, sizeof cookie,
           AUTH_COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=%lld", sid,
           (long long)(AUTH_SESSION_MS / 1000));
  redirect(r, "/dash");
  if(hq_reply_header(r, "Set-Cookie", cookie))
    hq_reply_error(r, 500, "internal", "out of memory", NULL, 0);
  crypto_wipe(cookie, sizeof cookie);
  crypto_wipe(sid, sizeof sid);
}

/* ---- the stores page ---------------------------------------------------------- */

/* ?sort= keys by stats_sort (web/pages_dash.c's sort links use the same). */
static const char *const sort_keys[STATS_SORT_COUNT] = {
    "id", "name", "signups", "signups7", "checkins7", "scans7", "sync"};

static int64_t arg_int(struct MHD_Connection *c, const char *name, int64_t def, int64_t lo,
                       int64_t hi) {
  return decode_arg_int(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name), def, lo, hi);
}

static void dash_home(hq *h, struct MHD_Connection *c, const char *admin, hq_reply *r) {
  int64_t now = hq_now_ms(), today = stats_day_of_ms(now);
  int sort = STATS_SORT_ID, desc = 0;
  const char *sv = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sort");
  const char *dv = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "dir");
  for(int i = 0; sv && i < STATS_SORT_COUNT; i++)
    if(strcmp(sv, sort_keys[i]) == 0) sort = i;
  if(dv && strcmp(dv, "desc") == 0) desc = 1;
  int64_t page = arg_int(c, "page", 1, 1, 1000000);
  stats_board_row *rows = NULL;
  size_t n = 0;
  stats_totals t;
  int64_t su[CHART_DAYS] = {0}, sc[CHART_DAYS] = {0};
  stats_alert_row alerts[20];
  size_t nalerts = 0, nsec = 0;
  stats_groups *g = malloc(sizeof *g);
  stats_alert_item *sec = malloc(SECURITY_ROWS * sizeof *sec);
  sqr_rc rc = g && sec ? stats_rollup(h) : SQR_ENOMEM;
  if(!rc) rc = hq_stats_totals(h, today, now - STALE_MS, &t);
  int64_t backlog = 0, oldest = 0;
  if(!rc) rc = hq_seal_backlog(h, &backlog, &oldest);
  if(!rc)
    rc = hq_stats_board(h, today, (stats_sort)sort, desc, PAGE_ROWS, (page - 1) * PAGE_ROWS, &rows,
                        &n);
  if(!rc) rc = hq_stats_series(h, NULL, today - CHART_DAYS + 1, today, su, sc);
  if(!rc)
    rc = hq_stats_exhausted(h, now - 24 * 3600 * 1000LL, alerts, SQR_ARRAY_LEN(alerts), &nalerts);
  /* every other kind (exhausted groups have their own list above) */
  if(!rc) rc = hq_stats_alerts(h, now - SECURITY_MS, "groups_exhausted", sec, SECURITY_ROWS, &nsec);
  if(rc) {
    free(rows);
    free(g);
    free(sec);
    storage_error(h, r, rc);
    return;
  }

  /* The view: each store's groups as the resolver sees them give its
   * fill, and the warnings for the stores on this page (the full list
   * across stores is in /metrics and /v1/stats). g is reused per store,
   * so a warning keeps its own copy of the group. */
  typedef struct warning {
    size_t row;
    char id[HQ_ID_MAX], name[HQ_TEXT_MAX];
    int full, near_full, near_expiry;
  } warning;
  warning *warn = NULL;
  size_t nwarn = 0, capwarn = 0;
  char day[CHART_DAYS][11];
  dash_day chart[CHART_DAYS];
  dash_alert valerts[SQR_ARRAY_LEN(alerts)];
  dash_security_alert vsec[SECURITY_ROWS];
  dash_warning *vwarn = NULL;
  dash_store_row *vrows = n ? calloc(n, sizeof *vrows) : NULL;
  if(n && !vrows) rc = SQR_ENOMEM;
  for(int i = 0; i < CHART_DAYS; i++) {
    stats_day_format(today - CHART_DAYS + 1 + i, day[i]);
    chart[i] = (dash_day){.day = day[i], .signups = su[i], .scans = sc[i]};
  }
  for(size_t i = 0; i < nalerts; i++)
    valerts[i] = (dash_alert){.store = alerts[i].store, .at_ms = alerts[i].at_ms};
  for(size_t i = 0; i < nsec; i++)
    vsec[i] = (dash_security_alert){.kind = sec[i].kind,
                                    .store = sec[i].store,
                                    .kiosk = sec[i].kiosk,
                                    .at_ms = sec[i].at_ms,
                                    .message = sec[i].message};
  for(size_t i = 0; !rc && i < n; i++) {
    const stats_board_row *s = &rows[i];
    if((rc = stats_groups_get(h, s->id, g))) break;
    for(size_t k = 0; k < g->n && !rc; k++) {
      const resolve_group_state *gs = &g->g[k];
      if(!gs->near_full && !gs->near_expiry) continue;
      if(nwarn == capwarn) {
        size_t cap = capwarn ? capwarn * 2 : 16;
        warning *nw = realloc(warn, cap * sizeof *nw);
        if(!nw) {
          rc = SQR_ENOMEM;
          break;
        }
        warn = nw;
        capwarn = cap;
      }
      warning *w = &warn[nwarn++];
      w->row = i;
      snprintf(w->id, sizeof w->id, "%s", gs->id);
      snprintf(w->name, sizeof w->name, "%s", gs->name);
      w->full = gs->full;
      w->near_full = gs->near_full;
      w->near_expiry = gs->near_expiry;
    }
    vrows[i] = (dash_store_row){.id = s->id,
                                .name = s->name,
                                .today = {s->signups_today, s->checkins_today, s->scans_today},
                                .week = {s->signups_7d, s->checkins_7d, s->scans_7d},
                                .groups = g->live >= 0 ? DASH_GROUPS_LIVE
                                          : g->n       ? DASH_GROUPS_ALL_FULL
                                                       : DASH_GROUPS_NONE,
                                .fill = g->live >= 0 ? fill_of(&g->g[g->live]) : (dash_fill){0},
                                .last_sync_ms = s->last_sync_ms,
                                .stale = !s->last_sync_ms || now - s->last_sync_ms > STALE_MS,
                                .events_behind = s->events_behind};
  }
  if(!rc && nwarn && !(vwarn = calloc(nwarn, sizeof *vwarn))) rc = SQR_ENOMEM;
  for(size_t i = 0; !rc && i < nwarn; i++) {
    const warning *w = &warn[i];
    vwarn[i] = (dash_warning){.store = rows[w->row].id,
                              .store_name = rows[w->row].name,
                              .group = w->id,
                              .group_label = w->name[0] ? w->name : w->id,
                              .full = w->full,
                              .near_full = w->near_full,
                              .near_expiry = w->near_expiry};
  }
  if(rc) {
    storage_error(h, r, rc);
  } else {
    dash_home_view vm = {.admin = admin,
                         .now_ms = now,
                         .stores = t.stores,
                         .stale_stores = t.stale_stores + t.never_synced,
                         .seal_backlog = backlog,
                         .seal_oldest_ms = oldest,
                         .today = {t.signups_today, t.checkins_today, t.scans_today},
                         .week = {t.signups_7d, t.checkins_7d, t.scans_7d},
                         .days = chart,
                         .ndays = CHART_DAYS,
                         .alerts = valerts,
                         .nalerts = nalerts,
                         .security = vsec,
                         .nsecurity = nsec,
                         .warnings = vwarn,
                         .nwarnings = nwarn,
                         .rows = vrows,
                         .nrows = n,
                         .sort_key = sort_keys[sort],
                         .desc = desc,
                         .page = page,
                         .pages = (t.stores + PAGE_ROWS - 1) / PAGE_ROWS};
    dynbuf b;
    dynbuf_init(&b, STATS_ANSWER_MAX);
    page_reply(&b, dash_home_render(&vm, &b), r, 200);
  }
  free(vwarn);
  free(warn);
  free(vrows);
  free(rows);
  free(g);
  free(sec);
}

/* ---- one store ------------------------------------------------------------------ */

static void dash_store(hq *h, const char *admin, const char *id, hq_reply *r) {
  int64_t now = hq_now_ms(), today = stats_day_of_ms(now), from = today - CHART_DAYS + 1;
  stats_store_row *st = NULL;
  stats_day_row *days = NULL;
  stats_staff_row *staff = NULL;
  stats_kiosk_row *kiosks = NULL;
  size_t nst = 0, ndays = 0, nstaff = 0, nk = 0;
  int64_t su[CHART_DAYS] = {0}, sc[CHART_DAYS] = {0}, ci[CHART_DAYS] = {0};
  stats_groups *g = malloc(sizeof *g);
  dash_kiosk_row *vkiosks = NULL;
  dash_staff_row *vstaff = NULL;
  sqr_rc rc = g ? SQR_OK : SQR_ENOMEM;
  if(!rc && !livecode_store_id_valid(id)) rc = SQR_ENOTFOUND;
  if(!rc) rc = hq_stats_stores(h, id, &st, &nst);
  if(!rc && !nst) rc = SQR_ENOTFOUND;
  if(!rc) rc = stats_rollup(h);
  if(!rc) rc = hq_stats_days(h, id, from, today, &days, &ndays, &staff, &nstaff);
  if(!rc) rc = hq_stats_kiosks(h, id, &kiosks, &nk);
  if(!rc) rc = stats_groups_get(h, id, g);
  if(rc == SQR_ENOTFOUND) {
    not_found(r, admin, "Unknown store", "No such store.");
    goto out;
  }
  if(rc) {
    storage_error(h, r, rc);
    goto out;
  }
  for(size_t i = 0; i < ndays; i++) {
    int64_t k = days[i].day - from;
    if(k < 0 || k >= CHART_DAYS) continue;
    su[k] = days[i].signups;
    sc[k] = days[i].scans;
    ci[k] = days[i].checkins;
  }
  int64_t s7 = 0, c7 = 0, k7 = 0;
  for(int i = CHART_DAYS - 7; i < CHART_DAYS; i++)
    s7 += su[i], c7 += ci[i], k7 += sc[i];
  char day[CHART_DAYS][11], expires[SQR_ARRAY_LEN(g->g)][11];
  dash_day vdays[CHART_DAYS];
  dash_group_row vgroups[SQR_ARRAY_LEN(g->g)];
  for(int i = 0; i < CHART_DAYS; i++) {
    stats_day_format(from + i, day[i]);
    vdays[i] = (dash_day){.day = day[i], .signups = su[i], .checkins = ci[i], .scans = sc[i]};
  }
  for(size_t i = 0; i < g->n; i++) {
    const resolve_group_state *s = &g->g[i];
    if(s->expires_at) stats_day_format(stats_day_of_ms(s->expires_at * 1000), expires[i]);
    vgroups[i] =
        (dash_group_row){.id = s->id,
                         .name = s->name,
                         .live = (int)i == g->live,
                         .joins = s->joins,
                         .sent = s->scans_sent,
                         .limit = s->capacity < GROUP_SCAN_LIMIT ? s->capacity : GROUP_SCAN_LIMIT,
                         .fill = fill_of(s),
                         .expires = s->expires_at ? expires[i] : NULL,
                         .near_expiry = s->near_expiry};
  }
  if((nk && !(vkiosks = calloc(nk, sizeof *vkiosks))) ||
     (nstaff && !(vstaff = calloc(nstaff, sizeof *vstaff)))) {
    storage_error(h, r, SQR_ENOMEM);
    goto out;
  }
  for(size_t i = 0; i < nk; i++)
    vkiosks[i] = (dash_kiosk_row){
        .number = kiosks[i].number,
        .revoked = kiosks[i].revoked,
        .stale = !kiosks[i].last_sync_ms || now - kiosks[i].last_sync_ms > STALE_MS,
        .acked = kiosks[i].acked_seq,
        .last_sync_ms = kiosks[i].last_sync_ms,
        .behind = kiosks[i].behind,
        .clock_jumps = kiosks[i].clock_jumps,
        .last_jump_ts_ms = kiosks[i].last_jump_ts_ms,
        .last_jump_ms = kiosks[i].last_jump_ms,
        .last_jump_hq = strcmp(kiosks[i].last_jump_source, "hq_offset") == 0};
  /* staff sign-ups over the 30 days, in the order each first appears */
  size_t nvstaff = 0;
  for(size_t i = 0; i < nstaff; i++) {
    int seen = 0;
    for(size_t j = 0; j < i && !seen; j++)
      seen = strcmp(staff[j].staff, staff[i].staff) == 0;
    if(seen) continue;
    int64_t sum = 0;
    for(size_t j = i; j < nstaff; j++)
      if(strcmp(staff[j].staff, staff[i].staff) == 0) sum += staff[j].signups;
    vstaff[nvstaff++] = (dash_staff_row){.staff = staff[i].staff, .signups = sum};
  }
  dash_store_view vm = {.admin = admin,
                        .now_ms = now,
                        .id = st->id,
                        .name = st->name,
                        .city = st->city,
                        .members = st->members,
                        .today = {su[CHART_DAYS - 1], ci[CHART_DAYS - 1], sc[CHART_DAYS - 1]},
                        .week = {s7, c7, k7},
                        .days = vdays,
                        .ndays = CHART_DAYS,
                        .exhausted = g->exhausted,
                        .groups = vgroups,
                        .ngroups = g->n,
                        .kiosks = vkiosks,
                        .nkiosks = nk,
                        .staff = vstaff,
                        .nstaff = nvstaff};
  dynbuf b;
  dynbuf_init(&b, STATS_ANSWER_MAX);
  page_reply(&b, dash_store_render(&vm, &b), r, 200);
out:
  free(vkiosks);
  free(vstaff);
  free(g);
  free(st);
  free(days);
  free(staff);
  free(kiosks);
}

/* ---- the audit log, the CRM export ---------------------------------------------- */

#define AUDIT_ROWS 200

static void dash_audit(hq *h, const char *admin, hq_reply *r) {
  hq_audit_row *audit = malloc(AUDIT_ROWS * sizeof *audit);
  hq_erasure_row *er = malloc(AUDIT_ROWS * sizeof *er);
  dash_audit_row *va = malloc(AUDIT_ROWS * sizeof *va);
  dash_erasure_row *ve = malloc(AUDIT_ROWS * sizeof *ve);
  size_t na = 0, ne = 0;
  hq_err e = {0};
  sqr_rc rc = audit && er && va && ve ? hq_audit_recent(h, AUDIT_ROWS, audit, &na, er, &ne, &e)
                                      : SQR_ENOMEM;
  if(rc) {
    storage_error(h, r, rc);
  } else {
    for(size_t i = 0; i < na; i++)
      va[i] = (dash_audit_row){.at_ms = audit[i].at_ms,
                               .who = audit[i].who,
                               .what = audit[i].what,
                               .rows = audit[i].rows};
    for(size_t i = 0; i < ne; i++)
      ve[i] = (dash_erasure_row){.at_ms = er[i].at_ms,
                                 .store = er[i].store,
                                 .member = er[i].member,
                                 .reason = er[i].reason,
                                 .asked_by = er[i].asked_by};
    dash_audit_view vm = {.admin = admin,
                          .limit = AUDIT_ROWS,
                          .audit = va,
                          .naudit = na,
                          .erasures = ve,
                          .nerasures = ne};
    dynbuf b;
    dynbuf_init(&b, STATS_ANSWER_MAX);
    page_reply(&b, dash_audit_render(&vm, &b), r, 200);
  }
  free(audit);
  free(er);
  free(va);
  free(ve);
}

/* The download, under the admin's name ("admin-token" through the bearer
 * token, as on /v1/admin). */
static void dash_export(struct MHD_Connection *c, hq *h, const char *who, hq_reply *r) {
  hq_export_req q = {.store = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "store"),
                     .brand = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "brand"),
                     .since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since"),
                     .until = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "until"),
                     .format = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format")};
  admin_export_members(h, &q, who, r);
}

/* ---- dispatch -------------------------------------------------------------------- */

int dash_route(hq *h, struct MHD_Connection *c, const char *method, const char *url,
               const char *body, size_t len, hq_reply *r) {
  if(strcmp(url, "/dash") != 0 && strncmp(url, "/dash/", 6) != 0) return 0;
  int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
  int post = strcmp(method, "POST") == 0;
  if(post && !login_origin_ok(c)) {
    hq_reply_error(r, 403, "origin", "Origin: this form must be sent from HQ's own pages", NULL, 0);
    return 1;
  }
  char admin[HQ_ID_MAX];
  int token = 0;
  if(strcmp(url, "/dash/login") == 0) {
    if(post)
      post_login(h, c, body, len, r);
    else if(get && login_session(h, c, admin))
      redirect(r, "/dash");
    else if(get)
      login_page(r, 200, NULL);
    else
      hq_reply_error(r, 405, "method", "GET or POST", NULL, 0);
    return 1;
  }
  if(strcmp(url, "/dash/logout") == 0) {
    if(!post) {
      hq_reply_error(r, 405, "method", "POST only", NULL, 0);
      return 1;
    }
    login_logout(h, c);
    redirect(r, "/dash/login");
    if(hq_reply_header(r, "Set-Cookie",
                       AUTH_COOKIE "=; Path=/; Secure; HttpOnly; "
                                   "SameSite=Strict; Max-Age=0"))
      log_warn("dash", "cannot add a header: out of memory");
    return 1;
  }
  if(!get) {
    hq_reply_error(r, 405, "method", "GET only", NULL, 0);
    return 1;
  }
  if(!login_session(h, c, admin)) {
    const char *bearer = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if(!bearer || !hq_admin_ok(h, bearer)) {
      redirect(r, "/dash/login");
      return 1;
    }
    snprintf(admin, sizeof admin, "(token)");
    token = 1;
  }
  if(strcmp(url, "/dash") == 0 || strcmp(url, "/dash/") == 0) {
    dash_home(h, c, admin, r);
  } else if(strncmp(url, "/dash/store/", 12) == 0) {
    dash_store(h, admin, url + 12, r);
  } else if(strcmp(url, "/dash/audit") == 0) {
    dash_audit(h, admin, r);
  } else if(strcmp(url, "/dash/export/members") == 0) {
    /* GET only: a HEAD would open the sealed phones and audit an export
     * nobody received */
    if(strcmp(method, "GET") != 0)
      hq_reply_error(r, 405, "method", "GET only", NULL, 0);
    else
      dash_export(c, h, token ? "admin-token" : admin, r);
  } else {
    not_found(r, admin, "Not found", "No such page.");
  }
  return 1;
}
