/* pages_dash.c — see pages_dash.h. The views of templates/dash_*.html
 * and the formatting they show. */
#include "pages_dash.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "view.h"

#define CHART_W      600
#define CHART_H      160
#define CHART_TOP    14
#define CHART_BOTTOM 18

/* The sortable columns of the stores table by their ?sort= key (dash.c
 * parses the same keys); numbers sort largest first on the first click. */
static const struct {
  const char *key;
  int desc_first;
} columns[] = {{"id", 0},        {"name", 0},   {"signups", 1}, {"signups7", 1},
               {"checkins7", 1}, {"scans7", 1}, {"sync", 1}};

static void fmt_conv(char out[16], int64_t signups, int64_t scans) {
  if(scans > 0)
    snprintf(out, 16, "%.0f%%", 100.0 * (double)signups / (double)scans);
  else
    snprintf(out, 16, "–");
}

/* "3 h ago", "never" — relative, so no long digit runs reach the page. */
static void fmt_age(char out[32], int64_t last_ms, int64_t now) {
  if(!last_ms) {
    snprintf(out, 32, "never");
    return;
  }
  int64_t s = (now - last_ms) / 1000;
  if(s < 0) s = 0;
  if(s < 120)
    snprintf(out, 32, "%llds ago", (long long)s);
  else if(s < 7200)
    snprintf(out, 32, "%lld min ago", (long long)(s / 60));
  else if(s < 172800)
    snprintf(out, 32, "%lld h ago", (long long)(s / 3600));
  else
    snprintf(out, 32, "%lld d ago", (long long)(s / 86400));
}

/* How far a clock jumped: "+1 h 5 min", "-2 d 3 h", "+3 min 10 s". */
static void fmt_jump(char out[32], int64_t ms) {
  long long s = (long long)(ms < 0 ? -(ms / 1000) : ms / 1000);
  const char *sign = ms < 0 ? "-" : "+";
  if(s >= 86400)
    snprintf(out, 32, "%s%lld d %lld h", sign, s / 86400, s % 86400 / 3600);
  else if(s >= 3600)
    snprintf(out, 32, "%s%lld h %lld min", sign, s / 3600, s % 3600 / 60);
  else
    snprintf(out, 32, "%s%lld min %lld s", sign, s / 60, s % 60);
}

/* A new view with the head's and the header's fields. */
static void page_view(view *v, const char *title, const char *admin) {
  view_init(v);
  view_str(v, v->root, "title", title ? title : "");
  view_str(v, v->root, "admin", admin);
}

static void figures(view *v, const char *key, const dash_figures *f) {
  char conv[16];
  cJSON *o = view_obj(v, v->root, key);
  view_int(v, o, "signups", f->signups);
  view_int(v, o, "checkins", f->checkins);
  view_int(v, o, "scans", f->scans);
  fmt_conv(conv, f->signups, f->scans);
  view_str(v, o, "conversion", conv);
}

/* dash_bar.html's fields, as obj's "bar". */
static void fill_bar(view *v, cJSON *obj, const dash_fill *f) {
  char pct[32];
  snprintf(pct, sizeof pct, "%.0f", f->fill * 100);
  cJSON *b = view_obj(v, obj, "bar");
  view_str(v, b, "pct", pct);
  view_str(v, b, "cls", f->full ? "full" : f->near_full ? "near" : "");
}

/* dash_chart.html's fields: bars of sign-ups and a line of scans per
 * day, scaled to the largest. */
static void chart(view *v, const char *id, const dash_day *d, size_t n) {
  if(!n) return;
  int64_t max = 1;
  for(size_t i = 0; i < n; i++) {
    if(d[i].signups > max) max = d[i].signups;
    if(d[i].scans > max) max = d[i].scans;
  }
  double bw = (double)CHART_W / (double)n;
  double scale = (double)(CHART_H - CHART_TOP - CHART_BOTTOM) / (double)max;
  cJSON *c = view_obj(v, v->root, "chart");
  view_str(v, c, "id", id);
  view_int(v, c, "width", CHART_W);
  view_int(v, c, "height", CHART_H);
  cJSON *bars = view_arr(v, c, "bars");
  dynbuf points;
  dynbuf_init(&points, 64 * n + 64);
  for(size_t i = 0; i < n; i++) {
    char x[32], y[32], w[32], h[32];
    double bh = (double)d[i].signups * scale;
    snprintf(x, sizeof x, "%.1f", (double)i * bw + 1);
    snprintf(y, sizeof y, "%.1f", CHART_H - CHART_BOTTOM - bh);
    snprintf(w, sizeof w, "%.1f", bw - 2);
    snprintf(h, sizeof h, "%.1f", bh);
    cJSON *b = view_push(v, bars);
    view_str(v, b, "x", x);
    view_str(v, b, "y", y);
    view_str(v, b, "w", w);
    view_str(v, b, "h", h);
    view_str(v, b, "day", d[i].day ? d[i].day : "");
    view_int(v, b, "signups", d[i].signups);
    view_int(v, b, "scans", d[i].scans);
    dynbuf_addf(&points, "%.1f,%.1f ", (double)i * bw + bw / 2,
                CHART_H - CHART_BOTTOM - (double)d[i].scans * scale);
  }
  if(dynbuf_error(&points)) v->failed = 1;
  view_str(v, c, "points", dynbuf_ptr(&points));
  dynbuf_free(&points);
  view_int(v, c, "label_y", CHART_H - 4);
  view_str(v, c, "first", d[0].day ? d[0].day : "");
  view_int(v, c, "last_x", CHART_W - 2);
  view_str(v, c, "last", d[n - 1].day ? d[n - 1].day : "");
  view_int(v, c, "max", max);
}

sqr_rc dash_login_render(const dash_login_view *vm, dynbuf *out) {
  view v;
  page_view(&v, "Log in", NULL);
  view_str(&v, v.root, "error", vm->error);
  return view_render(&v, "dash_login", out);
}

sqr_rc dash_not_found_render(const dash_not_found_view *vm, dynbuf *out) {
  view v;
  page_view(&v, vm->title, vm->admin);
  view_str(&v, v.root, "message", vm->message ? vm->message : "");
  return view_render(&v, "dash_not_found", out);
}

sqr_rc dash_error_render(dynbuf *out) {
  view v;
  page_view(&v, "Error", NULL);
  return view_render(&v, "dash_error", out);
}

static void home_sort(view *v, const dash_home_view *vm) {
  cJSON *sort = view_obj(v, v->root, "sort");
  for(size_t i = 0; i < SQR_ARRAY_LEN(columns); i++) {
    int cur = vm->sort_key && strcmp(vm->sort_key, columns[i].key) == 0;
    /* a second click on the current column turns the order round */
    int desc = cur ? !vm->desc : columns[i].desc_first;
    cJSON *c = view_obj(v, sort, columns[i].key);
    view_str(v, c, "dir", desc ? "desc" : "asc");
    view_str(v, c, "arrow", cur ? (vm->desc ? " ▼" : " ▲") : "");
  }
  view_str(v, v->root, "sort_key", vm->sort_key ? vm->sort_key : "");
  view_str(v, v->root, "dir", vm->desc ? "desc" : "asc");
}

sqr_rc dash_home_render(const dash_home_view *vm, dynbuf *out) {
  if((vm->ndays && !vm->days) || (vm->nalerts && !vm->alerts) || (vm->nwarnings && !vm->warnings) ||
     (vm->nrows && !vm->rows) || (vm->nsecurity && !vm->security))
    return SQR_EINVAL;
  char s[32];
  view v;
  page_view(&v, "Stores", vm->admin);
  cJSON *root = v.root;
  view_int(&v, root, "stores", vm->stores);
  view_int(&v, root, "stale_stores", vm->stale_stores);
  view_int(&v, root, "seal_backlog", vm->seal_backlog);
  fmt_age(s, vm->seal_oldest_ms, vm->now_ms);
  view_str(&v, root, "seal_age", vm->seal_backlog ? s : "none waiting");
  figures(&v, "today", &vm->today);
  figures(&v, "week", &vm->week);
  chart(&v, "chart-signups", vm->days, vm->ndays);

  cJSON *alerts = view_arr(&v, root, "alerts");
  for(size_t i = 0; i < vm->nalerts; i++) {
    cJSON *a = view_push(&v, alerts);
    fmt_age(s, vm->alerts[i].at_ms, vm->now_ms);
    view_str(&v, a, "store", vm->alerts[i].store ? vm->alerts[i].store : "");
    view_str(&v, a, "age", s);
  }
  cJSON *security = view_arr(&v, root, "security");
  for(size_t i = 0; i < vm->nsecurity; i++) {
    const dash_security_alert *a = &vm->security[i];
    cJSON *o = view_push(&v, security);
    fmt_age(s, a->at_ms, vm->now_ms);
    view_str(&v, o, "kind", a->kind ? a->kind : "");
    view_str(&v, o, "store", a->store ? a->store : "");
    view_bool(&v, o, "has_kiosk", a->kiosk > 0);
    view_int(&v, o, "kiosk", a->kiosk);
    view_str(&v, o, "age", s);
    view_str(&v, o, "message", a->message ? a->message : "");
  }
  cJSON *warnings = view_arr(&v, root, "warnings");
  for(size_t i = 0; i < vm->nwarnings; i++) {
    const dash_warning *w = &vm->warnings[i];
    char state[64];
    snprintf(state, sizeof state, "%s%s%s",
             w->full        ? "full"
             : w->near_full ? "nearly full"
                            : "",
             (w->full || w->near_full) && w->near_expiry ? ", " : "",
             w->near_expiry ? "expires within 24 h" : "");
    cJSON *o = view_push(&v, warnings);
    view_str(&v, o, "store", w->store ? w->store : "");
    view_str(&v, o, "store_name", w->store_name ? w->store_name : "");
    view_str(&v, o, "group", w->group ? w->group : "");
    view_str(&v, o, "group_label", w->group_label ? w->group_label : "");
    view_str(&v, o, "state", state);
  }

  view_int(&v, root, "page", vm->page);
  view_int(&v, root, "pages", vm->pages ? vm->pages : 1);
  home_sort(&v, vm);
  /* Every key of a row is set, true or false: a key missing from a row
   * would be looked up in the page's scope. */
  cJSON *rows = view_arr(&v, root, "rows");
  for(size_t i = 0; i < vm->nrows; i++) {
    const dash_store_row *r = &vm->rows[i];
    cJSON *o = view_push(&v, rows);
    view_str(&v, o, "id", r->id ? r->id : "");
    view_str(&v, o, "name", r->name ? r->name : "");
    view_int(&v, o, "signups_today", r->today.signups);
    view_int(&v, o, "checkins_today", r->today.checkins);
    view_int(&v, o, "scans_today", r->today.scans);
    view_int(&v, o, "signups_7d", r->week.signups);
    view_int(&v, o, "checkins_7d", r->week.checkins);
    view_int(&v, o, "scans_7d", r->week.scans);
    fmt_conv(s, r->week.signups, r->week.scans);
    view_str(&v, o, "conversion_7d", s);
    if(r->groups == DASH_GROUPS_LIVE)
      fill_bar(&v, o, &r->fill);
    else
      view_bool(&v, o, "bar", 0);
    view_bool(&v, o, "all_full", r->groups == DASH_GROUPS_ALL_FULL);
    view_bool(&v, o, "no_groups", r->groups == DASH_GROUPS_NONE);
    view_bool(&v, o, "stale", r->stale);
    fmt_age(s, r->last_sync_ms, vm->now_ms);
    view_str(&v, o, "age", s);
    view_int(&v, o, "behind", r->events_behind);
    view_bool(&v, o, "behind_known", r->events_behind >= 0);
    view_bool(&v, o, "behind_shown", r->events_behind > 0);
  }
  if(vm->page > 1) view_int(&v, root, "prev", vm->page - 1);
  if(vm->page < vm->pages) view_int(&v, root, "next", vm->page + 1);
  return view_render(&v, "dash_home", out);
}

sqr_rc dash_store_render(const dash_store_view *vm, dynbuf *out) {
  if((vm->ndays && !vm->days) || (vm->ngroups && !vm->groups) || (vm->nkiosks && !vm->kiosks) ||
     (vm->nstaff && !vm->staff))
    return SQR_EINVAL;
  char s[32];
  view v;
  page_view(&v, vm->name, vm->admin);
  cJSON *root = v.root;
  view_str(&v, root, "id", vm->id ? vm->id : "");
  view_str(&v, root, "name", vm->name ? vm->name : "");
  view_str(&v, root, "city", vm->city ? vm->city : "");
  view_int(&v, root, "members", vm->members);
  figures(&v, "today", &vm->today);
  figures(&v, "week", &vm->week);
  chart(&v, "chart-store", vm->days, vm->ndays);
  view_bool(&v, root, "exhausted", vm->exhausted);

  cJSON *groups = view_arr(&v, root, "groups");
  for(size_t i = 0; i < vm->ngroups; i++) {
    const dash_group_row *g = &vm->groups[i];
    cJSON *o = view_push(&v, groups);
    view_str(&v, o, "id", g->id ? g->id : "");
    view_str(&v, o, "name", g->name ? g->name : "");
    view_bool(&v, o, "live", g->live);
    view_int(&v, o, "joins", g->joins);
    view_int(&v, o, "sent", g->sent);
    view_int(&v, o, "limit", g->limit);
    fill_bar(&v, o, &g->fill);
    view_str(&v, o, "expires", g->expires ? g->expires : "never");
    view_bool(&v, o, "near_expiry", g->near_expiry);
  }
  cJSON *kiosks = view_arr(&v, root, "kiosks");
  for(size_t i = 0; i < vm->nkiosks; i++) {
    const dash_kiosk_row *k = &vm->kiosks[i];
    cJSON *o = view_push(&v, kiosks);
    view_int(&v, o, "number", k->number);
    view_bool(&v, o, "revoked", k->revoked);
    view_int(&v, o, "acked", k->acked);
    view_bool(&v, o, "stale", k->stale && !k->revoked); /* a revoked kiosk is not missed */
    fmt_age(s, k->last_sync_ms, vm->now_ms);
    view_str(&v, o, "age", s);
    if(k->behind >= 0)
      snprintf(s, sizeof s, "%lld", (long long)k->behind);
    else
      snprintf(s, sizeof s, "–");
    view_str(&v, o, "behind", s);
    view_int(&v, o, "clock_jumps", k->clock_jumps);
    view_bool(&v, o, "jumped", k->clock_jumps > 0);
    fmt_age(s, k->last_jump_ts_ms, vm->now_ms);
    view_str(&v, o, "jump_age", s);
    fmt_jump(s, k->last_jump_ms);
    view_str(&v, o, "jump_by", s);
    view_str(&v, o, "jump_seen", k->last_jump_hq ? "against HQ's time" : "box clock set");
  }
  cJSON *staff = view_arr(&v, root, "staff");
  for(size_t i = 0; i < vm->nstaff; i++) {
    cJSON *o = view_push(&v, staff);
    view_str(&v, o, "staff", vm->staff[i].staff ? vm->staff[i].staff : "");
    view_int(&v, o, "signups", vm->staff[i].signups);
  }
  cJSON *daily = view_arr(&v, root, "daily");
  for(size_t i = vm->ndays; i-- > 0;) {
    const dash_day *d = &vm->days[i];
    cJSON *o = view_push(&v, daily);
    view_str(&v, o, "day", d->day ? d->day : "");
    view_int(&v, o, "signups", d->signups);
    view_int(&v, o, "checkins", d->checkins);
    view_int(&v, o, "scans", d->scans);
    fmt_conv(s, d->signups, d->scans);
    view_str(&v, o, "conversion", s);
  }
  return view_render(&v, "dash_store", out);
}

/* "YYYY-MM-DD HH:MM" in Shanghai (UTC+8, no daylight saving). */
static void fmt_when(char out[32], int64_t ms) {
  time_t t = (time_t)((ms + 8LL * 3600 * 1000) / 1000);
  struct tm tm;
  if(!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M", &tm)) snprintf(out, 32, "?");
}

sqr_rc dash_audit_render(const dash_audit_view *vm, dynbuf *out) {
  if((vm->naudit && !vm->audit) || (vm->nerasures && !vm->erasures)) return SQR_EINVAL;
  char s[32];
  view v;
  page_view(&v, "Audit log", vm->admin);
  cJSON *root = v.root;
  view_int(&v, root, "limit", vm->limit);
  cJSON *audit = view_arr(&v, root, "audit");
  for(size_t i = 0; i < vm->naudit; i++) {
    const dash_audit_row *a = &vm->audit[i];
    cJSON *o = view_push(&v, audit);
    fmt_when(s, a->at_ms);
    view_str(&v, o, "when", s);
    view_str(&v, o, "who", a->who ? a->who : "");
    view_str(&v, o, "what", a->what ? a->what : "");
    if(a->rows >= 0)
      snprintf(s, sizeof s, "%lld", (long long)a->rows);
    else
      snprintf(s, sizeof s, "–");
    view_str(&v, o, "rows", s);
  }
  cJSON *erasures = view_arr(&v, root, "erasures");
  for(size_t i = 0; i < vm->nerasures; i++) {
    const dash_erasure_row *a = &vm->erasures[i];
    cJSON *o = view_push(&v, erasures);
    char member[9];
    snprintf(member, sizeof member, "%s", a->member ? a->member : "");
    fmt_when(s, a->at_ms);
    view_str(&v, o, "when", s);
    view_str(&v, o, "store", a->store ? a->store : "");
    view_str(&v, o, "member", member);
    view_str(&v, o, "reason", a->reason ? a->reason : "");
    view_str(&v, o, "asked_by", a->asked_by ? a->asked_by : "");
  }
  return view_render(&v, "dash_audit", out);
}
