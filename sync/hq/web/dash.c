/* dash.c — see web.h: the admin login and the dashboard pages, server-
 * rendered HTML with inline CSS and SVG (no script, no external asset),
 * readable on a laptop and a phone; and /v1/stats(.csv) through stats.c.
 *
 *   GET  /dash/login, POST /dash/login, POST /dash/logout
 *   GET  /dash[?page=N&sort=KEY&dir=asc|desc]    stores, totals, charts, alerts
 *   GET  /dash/store/<ID>                         one store
 *
 * Every page needs a session (or the bearer token); every POST an Origin
 * of this HQ. All text that came from outside (store names, group names,
 * staff ids) goes through stats_buf_html. No phone number is ever read:
 * the pages are built from the stats tables, stores, groups and kiosks.
 * Stable ids and data- attributes are for tests/hqdash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "login.h"
#include "crypto.h"
#include "livecode.h"
#include "log.h"
#include "stats_web.h"
#include "group.h"
#include "dash.h"

#define PAGE_ROWS  100
#define STALE_MS   (24LL * 3600 * 1000) /* a kiosk syncs at least nightly */
#define CHART_DAYS 30

static const char css[] =
    "body{font:15px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#f6f7f9}"
    "header{background:#1f3a5f;color:#fff;padding:.6em 1em;display:flex;flex-wrap:wrap;"
    "align-items:center;gap:.5em 1em}header a{color:#fff}header form{margin-left:auto}"
    "main{padding:1em;max-width:1200px;margin:auto}h1{font-size:1.2em;margin:0}"
    "h2{font-size:1.05em;margin:1.2em 0 .4em}"
    ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:.6em}"
    ".card{background:#fff;border-radius:6px;padding:.6em .8em;box-shadow:0 1px 2px #0002}"
    ".card b{display:block;font-size:1.5em}.card span{color:#555;font-size:.85em}"
    ".scroll{overflow-x:auto;background:#fff;border-radius:6px;box-shadow:0 1px 2px #0002}"
    "table{border-collapse:collapse;width:100%;font-size:.9em}"
    "th,td{padding:.35em .5em;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}"
    "th:first-child,td:first-child,td.name,th.name{text-align:left}"
    "th a{color:inherit}.stale{background:#fde2e1;color:#8a1c12;font-weight:600}"
    ".warn{color:#8a5a00;font-weight:600}.bad{color:#8a1c12;font-weight:600}"
    ".bar{background:#e5e8ee;border-radius:3px;height:.8em;min-width:80px}"
    ".bar i{display:block;height:100%;background:#2e7d32;border-radius:3px}"
    ".bar i.near{background:#e0a000}.bar i.full{background:#c62828}"
    "svg{width:100%;height:auto;background:#fff;border-radius:6px}"
    "ul.alerts{background:#fff;border-radius:6px;padding:.5em 1.5em;margin:0}"
    "nav.pager{margin:.6em 0;display:flex;gap:1em}"
    "form.login{background:#fff;max-width:320px;margin:3em auto;padding:1.2em;border-radius:6px;"
    "box-shadow:0 1px 3px #0003}form.login input{width:100%;box-sizing:border-box;"
    "margin:.3em 0 .8em;padding:.5em;font-size:1em}form.login button{padding:.5em 1.2em}"
    "button{font-size:.95em}.err{color:#8a1c12}"
    "@media (max-width:600px){main{padding:.5em}th,td{padding:.3em}.hide-s{display:none}}";

static void page_head(stats_buf *b, const char *title) {
  stats_buf_puts(b, "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                    "<title>");
  stats_buf_html(b, title);
  stats_buf_printf(b, " — StoreQR HQ</title><style>%s</style></head><body>", css);
}

static void page_header(stats_buf *b, const char *admin) {
  stats_buf_puts(b, "<header><h1><a href=\"/dash\">StoreQR HQ</a></h1>");
  if(admin && admin[0]) {
    stats_buf_puts(b, "<span id=\"admin\">");
    stats_buf_html(b, admin);
    stats_buf_puts(b, "</span><form method=\"post\" action=\"/dash/logout\">"
                      "<button id=\"logout\" type=\"submit\">Log out</button></form>");
  }
  stats_buf_puts(b, "</header>");
}

/* Headers every page carries: nothing may load from elsewhere, no
 * framing, no caching of figures. */
static void page_reply(stats_buf *b, hq_reply *r, int status) {
  stats_buf_puts(b, "</body></html>\n");
  stats_buf_reply(b, r, status, "text/html; charset=utf-8");
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
  stats_buf b = {0};
  page_head(&b, "Error");
  stats_buf_puts(&b, "<main><p class=\"err\">HQ's database failed; try again.</p></main>");
  page_reply(&b, r, rc == SQR_EBUSY ? 503 : 500);
}

static void fmt_int(char *out, size_t size, int64_t v) {
  snprintf(out, size, "%lld", (long long)v);
}

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

/* A kiosk's last reported backlog; "–" when it never said. */
static void fmt_behind(char out[24], int64_t behind) {
  if(behind >= 0)
    snprintf(out, 24, "%lld", (long long)behind);
  else
    snprintf(out, 24, "–");
}

static void card(stats_buf *b, const char *id, const char *value, const char *what) {
  stats_buf_printf(b, "<div class=\"card\"><b id=\"%s\">", id);
  stats_buf_html(b, value);
  stats_buf_puts(b, "</b><span>");
  stats_buf_html(b, what);
  stats_buf_puts(b, "</span></div>");
}

static void card_int(stats_buf *b, const char *id, int64_t v, const char *what) {
  char s[32];
  fmt_int(s, sizeof s, v);
  card(b, id, s, what);
}

/* Bars of n days (sign-ups) with a line of scans, scaled to the largest. */
static void chart(stats_buf *b, const char *id, int64_t from, const int64_t *signups,
                  const int64_t *scans, int n) {
  const int w = 600, hgt = 160, top = 14, bottom = 18;
  int64_t max = 1;
  for(int i = 0; i < n; i++) {
    if(signups[i] > max) max = signups[i];
    if(scans[i] > max) max = scans[i];
  }
  double bw = (double)w / n, scale = (double)(hgt - top - bottom) / (double)max;
  stats_buf_printf(b,
                   "<svg id=\"%s\" viewBox=\"0 0 %d %d\" role=\"img\" "
                   "aria-label=\"sign-ups (bars) and scans (line) per day\">",
                   id, w, hgt);
  for(int i = 0; i < n; i++) {
    char day[11];
    stats_day_format(from + i, day);
    double bh = (double)signups[i] * scale;
    stats_buf_printf(b,
                     "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                     "fill=\"#1f3a5f\" data-day=\"%s\" data-signups=\"%lld\"><title>%s: %lld "
                     "sign-ups, %lld scans</title></rect>",
                     i * bw + 1, hgt - bottom - bh, bw - 2, bh, day, (long long)signups[i], day,
                     (long long)signups[i], (long long)scans[i]);
  }
  stats_buf_puts(b, "<polyline fill=\"none\" stroke=\"#e0a000\" stroke-width=\"2\" points=\"");
  for(int i = 0; i < n; i++)
    stats_buf_printf(b, "%.1f,%.1f ", i * bw + bw / 2, hgt - bottom - (double)scans[i] * scale);
  char first[11], last[11];
  stats_day_format(from, first);
  stats_day_format(from + n - 1, last);
  stats_buf_printf(b,
                   "\"/><text x=\"2\" y=\"%d\" font-size=\"11\">%s</text>"
                   "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%s</text>"
                   "<text x=\"2\" y=\"11\" font-size=\"11\">max %lld</text></svg>",
                   hgt - 4, first, w - 2, hgt - 4, last, (long long)max);
}

static void fill_bar(stats_buf *b, const resolve_group_state *g) {
  double f = stats_group_fill(g);
  const char *cls = g->full ? "full" : g->near_full ? "near" : "";
  stats_buf_printf(b,
                   "<div class=\"bar\" title=\"%.0f%%\"><i class=\"%s\" style=\"width:%.0f%%\">"
                   "</i></div>",
                   f * 100, cls, f * 100);
}

/* ---- login -------------------------------------------------------------------- */

static void login_page(hq_reply *r, int status, const char *msg) {
  stats_buf b = {0};
  page_head(&b, "Log in");
  page_header(&b, NULL);
  stats_buf_puts(&b, "<main><form class=\"login\" id=\"login\" method=\"post\" "
                     "action=\"/dash/login\"><h2>Log in</h2>");
  if(msg) {
    stats_buf_puts(&b, "<p class=\"err\" id=\"login-error\">");
    stats_buf_html(&b, msg);
    stats_buf_puts(&b, "</p>");
  }
  stats_buf_puts(&b, "<label>User<input name=\"user\" autocomplete=\"username\" required "
                     "maxlength=\"32\"></label><label>Password<input name=\"password\" "
                     "type=\"password\" autocomplete=\"current-password\" required></label>"
                     "<button type=\"submit\">Log in</button></form></main>");
  page_reply(&b, r, status);
}

/* One application/x-www-form-urlencoded field, decoded into out. 0 when
 * absent, malformed or too long. */
static int form_field(const char *body, size_t len, const char *name, char *out, size_t size) {
  size_t nl = strlen(name);
  for(size_t i = 0; i < len;) {
    size_t end = i;
    while(end < len && body[end] != '&')
      end++;
    if(end - i > nl && memcmp(body + i, name, nl) == 0 && body[i + nl] == '=') {
      size_t o = 0;
      for(size_t k = i + nl + 1; k < end; k++) {
        int ch = (unsigned char)body[k];
        if(ch == '+') {
          ch = ' ';
        } else if(ch == '%') {
          if(k + 2 >= end) return 0;
          char hx[3] = {body[k + 1], body[k + 2], 0};
          char *e;
          long v = strtol(hx, &e, 16);
          if(*e || v <= 0) return 0; /* %00 and junk refused */
          ch = (int)v;
          k += 2;
        }
        if(o + 1 >= size) return 0;
        out[o++] = (char)ch;
      }
      out[o] = '\0';
      return 1;
    }
    i = end + 1;
  }
  return 0;
}

static void post_login(hq *h, struct MHD_Connection *c, const char *body, size_t len, hq_reply *r) {
  char user[64], pass[AUTH_PASSWORD_MAX + 2], client[64], sid[65];
  int64_t retry = 0;
  if(!form_field(body, len, "user", user, sizeof user) ||
     !form_field(body, len, "password", pass, sizeof pass)) {
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

static const char *const sort_keys[STATS_SORT_COUNT] = {
    "id", "name", "signups", "signups7", "checkins7", "scans7", "sync"};

static int64_t arg_int(struct MHD_Connection *c, const char *name, int64_t def, int64_t lo,
                       int64_t hi) {
  const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
  if(!v || !*v || strlen(v) > 9) return def;
  char *e;
  long long n = strtoll(v, &e, 10);
  return *e || n < lo || n > hi ? def : n;
}

static void sort_link(stats_buf *b, int key, int cur, int desc, const char *label,
                      const char *cls) {
  /* a second click on the current column turns the order round */
  int d = key == cur ? !desc : key != STATS_SORT_ID && key != STATS_SORT_NAME;
  stats_buf_printf(b, "<th class=\"%s\"><a href=\"/dash?sort=%s&amp;dir=%s\">%s%s</a></th>", cls,
                   sort_keys[key], d ? "desc" : "asc", label,
                   key == cur ? (desc ? " ▼" : " ▲") : "");
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
  size_t nalerts = 0;
  stats_groups *g = malloc(sizeof *g);
  stats_buf b = {0};
  sqr_rc rc = g ? stats_rollup(h) : SQR_ENOMEM;
  if(!rc) rc = hq_stats_totals(h, today, now - STALE_MS, &t);
  if(!rc)
    rc = hq_stats_board(h, today, (stats_sort)sort, desc, PAGE_ROWS, (page - 1) * PAGE_ROWS, &rows,
                        &n);
  if(!rc) rc = hq_stats_series(h, NULL, today - CHART_DAYS + 1, today, su, sc);
  if(!rc)
    rc = hq_stats_exhausted(h, now - 24 * 3600 * 1000LL, alerts, SQR_ARRAY_LEN(alerts), &nalerts);
  if(rc) {
    free(rows);
    free(g);
    storage_error(h, r, rc);
    return;
  }
  page_head(&b, "Stores");
  page_header(&b, admin);
  stats_buf_puts(&b, "<main><h2>Today and the last 7 days (Asia/Shanghai)</h2>"
                     "<div class=\"cards\" id=\"totals\">");
  char conv[16], s7[64];
  card_int(&b, "total-stores", t.stores, "stores");
  card_int(&b, "total-signups-today", t.signups_today, "sign-ups today");
  card_int(&b, "total-checkins-today", t.checkins_today, "check-ins today");
  card_int(&b, "total-scans-today", t.scans_today, "scans today");
  fmt_conv(conv, t.signups_today, t.scans_today);
  card(&b, "total-conversion-today", conv, "sign-ups / scans today");
  card_int(&b, "total-signups-7d", t.signups_7d, "sign-ups, 7 days");
  card_int(&b, "total-checkins-7d", t.checkins_7d, "check-ins, 7 days");
  card_int(&b, "total-scans-7d", t.scans_7d, "scans, 7 days");
  fmt_conv(conv, t.signups_7d, t.scans_7d);
  card(&b, "total-conversion-7d", conv, "sign-ups / scans, 7 days");
  snprintf(s7, sizeof s7, "%lld", (long long)(t.stale_stores + t.never_synced));
  card(&b, "total-stale", s7, "stores not synced for 24 h (or never)");
  stats_buf_puts(&b, "</div><h2>Sign-ups (bars) and scans (line), 30 days</h2>");
  chart(&b, "chart-signups", today - CHART_DAYS + 1, su, sc, CHART_DAYS);

  stats_buf_puts(&b, "<h2>Exhausted groups (last 24 h)</h2><ul class=\"alerts\" id=\"alerts\">");
  for(size_t i = 0; i < nalerts; i++) {
    char age[32];
    fmt_age(age, alerts[i].at_ms, now);
    stats_buf_puts(&b, "<li class=\"bad\" data-store=\"");
    stats_buf_html(&b, alerts[i].store);
    stats_buf_puts(&b, "\"><a href=\"/dash/store/");
    stats_buf_html(&b, alerts[i].store);
    stats_buf_puts(&b, "\">");
    stats_buf_html(&b, alerts[i].store);
    stats_buf_printf(&b, "</a>: every group full or expired (%s) — add a group link</li>", age);
  }
  if(!nalerts) stats_buf_puts(&b, "<li>none</li>");
  stats_buf_puts(&b, "</ul>");

  /* group warnings for the stores on this page (the resolver's state;
   * the full list across stores is in /metrics and /v1/stats) */
  stats_buf warn = {0};
  for(size_t i = 0; !rc && i < n; i++) {
    if((rc = stats_groups_get(h, rows[i].id, g))) break;
    for(size_t k = 0; k < g->n; k++) {
      const resolve_group_state *s = &g->g[k];
      if(!s->near_full && !s->near_expiry) continue;
      stats_buf_puts(&warn, "<li class=\"warn\" data-store=\"");
      stats_buf_html(&warn, rows[i].id);
      stats_buf_puts(&warn, "\" data-group=\"");
      stats_buf_html(&warn, s->id);
      stats_buf_puts(&warn, "\"><a href=\"/dash/store/");
      stats_buf_html(&warn, rows[i].id);
      stats_buf_puts(&warn, "\">");
      stats_buf_html(&warn, rows[i].name);
      stats_buf_puts(&warn, "</a> · ");
      stats_buf_html(&warn, s->name[0] ? s->name : s->id);
      stats_buf_printf(&warn, ": %s%s%s</li>",
                       s->full        ? "full"
                       : s->near_full ? "nearly full"
                                      : "",
                       (s->full || s->near_full) && s->near_expiry ? ", " : "",
                       s->near_expiry ? "expires within 24 h" : "");
    }
  }
  stats_buf_puts(&b, "<h2>Group warnings (stores on this page)</h2>"
                     "<ul class=\"alerts\" id=\"group-warnings\">");
  stats_buf_puts(&b, warn.p ? warn.p : "<li>none</li>");
  if(warn.failed || warn.too_big) b.failed = 1;
  free(warn.p);
  stats_buf_puts(&b, "</ul>");

  int64_t pages = (t.stores + PAGE_ROWS - 1) / PAGE_ROWS;
  stats_buf_printf(&b,
                   "<h2>Stores (page %lld of %lld)</h2><div class=\"scroll\">"
                   "<table id=\"stores\"><thead><tr>",
                   (long long)page, (long long)(pages ? pages : 1));
  sort_link(&b, STATS_SORT_ID, sort, desc, "Store", "");
  sort_link(&b, STATS_SORT_NAME, sort, desc, "Name", "name");
  sort_link(&b, STATS_SORT_SIGNUPS_TODAY, sort, desc, "Sign-ups today", "");
  stats_buf_puts(&b,
                 "<th class=\"hide-s\">Check-ins today</th><th class=\"hide-s\">Scans today</th>");
  sort_link(&b, STATS_SORT_SIGNUPS_7D, sort, desc, "Sign-ups 7 d", "");
  sort_link(&b, STATS_SORT_CHECKINS_7D, sort, desc, "Check-ins 7 d", "hide-s");
  sort_link(&b, STATS_SORT_SCANS_7D, sort, desc, "Scans 7 d", "hide-s");
  stats_buf_puts(&b, "<th>Conv. 7 d</th><th>Group fill</th>");
  sort_link(&b, STATS_SORT_SYNC, sort, desc, "Last sync", "");
  stats_buf_puts(&b, "</tr></thead><tbody>");
  for(size_t i = 0; !rc && i < n; i++) {
    const stats_board_row *s = &rows[i];
    char age[32], c7[16];
    fmt_age(age, s->last_sync_ms, now);
    fmt_conv(c7, s->signups_7d, s->scans_7d);
    if((rc = stats_groups_get(h, s->id, g))) break;
    stats_buf_puts(&b, "<tr data-store=\"");
    stats_buf_html(&b, s->id);
    stats_buf_puts(&b, "\"><td class=\"id\"><a href=\"/dash/store/");
    stats_buf_html(&b, s->id);
    stats_buf_puts(&b, "\">");
    stats_buf_html(&b, s->id);
    stats_buf_puts(&b, "</a></td><td class=\"name\">");
    stats_buf_html(&b, s->name);
    stats_buf_printf(&b,
                     "</td><td class=\"signups-today\">%lld</td>"
                     "<td class=\"checkins-today hide-s\">%lld</td>"
                     "<td class=\"scans-today hide-s\">%lld</td>"
                     "<td class=\"signups-7d\">%lld</td><td class=\"checkins-7d hide-s\">%lld</td>"
                     "<td class=\"scans-7d hide-s\">%lld</td><td class=\"conversion-7d\">%s</td>"
                     "<td class=\"group-fill\">",
                     (long long)s->signups_today, (long long)s->checkins_today,
                     (long long)s->scans_today, (long long)s->signups_7d, (long long)s->checkins_7d,
                     (long long)s->scans_7d, c7);
    if(g->live >= 0) {
      fill_bar(&b, &g->g[g->live]);
    } else if(g->n) {
      stats_buf_puts(&b, "<span class=\"bad\">all full</span>");
    } else {
      stats_buf_puts(&b, "–");
    }
    int stale = !s->last_sync_ms || now - s->last_sync_ms > STALE_MS;
    /* the backlog goes under the sync time, and only when there is one:
     * another column would push the sync time off a laptop's screen */
    stats_buf_printf(&b, "</td><td class=\"last-sync%s\"", stale ? " stale" : "");
    if(s->events_behind >= 0)
      stats_buf_printf(&b, " data-events-behind=\"%lld\"", (long long)s->events_behind);
    stats_buf_printf(&b, ">%s", age);
    if(s->events_behind > 0)
      stats_buf_printf(&b,
                       "<br><span class=\"events-behind warn\" title=\"events its kiosks "
                       "still held at their last upload\">%lld behind</span>",
                       (long long)s->events_behind);
    stats_buf_puts(&b, "</td></tr>");
  }
  free(rows);
  free(g);
  if(rc) {
    free(b.p);
    storage_error(h, r, rc);
    return;
  }
  stats_buf_puts(&b, "</tbody></table></div><nav class=\"pager\" id=\"pager\">");
  if(page > 1)
    stats_buf_printf(
        &b, "<a rel=\"prev\" href=\"/dash?page=%lld&amp;sort=%s&amp;dir=%s\">‹ previous</a>",
        (long long)(page - 1), sort_keys[sort], desc ? "desc" : "asc");
  if(page < pages)
    stats_buf_printf(&b,
                     "<a rel=\"next\" href=\"/dash?page=%lld&amp;sort=%s&amp;dir=%s\">next ›</a>",
                     (long long)(page + 1), sort_keys[sort], desc ? "desc" : "asc");
  stats_buf_puts(&b, "</nav><p><a href=\"/v1/stats.csv\" download>Download the last 30 days "
                     "(CSV)</a></p></main>");
  page_reply(&b, r, 200);
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
  stats_buf b = {0};
  sqr_rc rc = g ? SQR_OK : SQR_ENOMEM;
  if(!rc && !livecode_store_id_valid(id)) rc = SQR_ENOTFOUND;
  if(!rc) rc = hq_stats_stores(h, id, &st, &nst);
  if(!rc && !nst) rc = SQR_ENOTFOUND;
  if(!rc) rc = stats_rollup(h);
  if(!rc) rc = hq_stats_days(h, id, from, today, &days, &ndays, &staff, &nstaff);
  if(!rc) rc = hq_stats_kiosks(h, id, &kiosks, &nk);
  if(!rc) rc = stats_groups_get(h, id, g);
  if(rc == SQR_ENOTFOUND) {
    page_head(&b, "Unknown store");
    page_header(&b, admin);
    stats_buf_puts(&b, "<main><p class=\"err\" id=\"not-found\">No such store.</p></main>");
    page_reply(&b, r, 404);
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
  page_head(&b, st->name);
  page_header(&b, admin);
  stats_buf_puts(&b, "<main><p><a href=\"/dash\">‹ all stores</a></p><h2 id=\"store-name\">");
  stats_buf_html(&b, st->name);
  stats_buf_puts(&b, " <small>");
  stats_buf_html(&b, st->id);
  stats_buf_puts(&b, " · ");
  stats_buf_html(&b, st->city);
  stats_buf_puts(&b, "</small></h2><div class=\"cards\" id=\"store-totals\">");
  int64_t s7 = 0, c7 = 0, k7 = 0;
  for(int i = CHART_DAYS - 7; i < CHART_DAYS; i++)
    s7 += su[i], c7 += ci[i], k7 += sc[i];
  char conv[16];
  card_int(&b, "store-members", st->members, "members");
  card_int(&b, "store-signups-today", su[CHART_DAYS - 1], "sign-ups today");
  card_int(&b, "store-checkins-today", ci[CHART_DAYS - 1], "check-ins today");
  card_int(&b, "store-scans-today", sc[CHART_DAYS - 1], "scans today");
  card_int(&b, "store-signups-7d", s7, "sign-ups, 7 days");
  card_int(&b, "store-checkins-7d", c7, "check-ins, 7 days");
  card_int(&b, "store-scans-7d", k7, "scans, 7 days");
  fmt_conv(conv, s7, k7);
  card(&b, "store-conversion-7d", conv, "sign-ups / scans, 7 days");
  stats_buf_puts(&b, "</div><h2>Sign-ups (bars) and scans (line), 30 days</h2>");
  chart(&b, "chart-store", from, su, sc, CHART_DAYS);

  stats_buf_puts(&b, "<h2>Groups</h2>");
  if(g->exhausted)
    stats_buf_puts(&b, "<p class=\"bad\" id=\"exhausted\">Every group is full or expired: "
                       "shoppers see the staff contact. Add a group link.</p>");
  stats_buf_puts(&b, "<div class=\"scroll\"><table id=\"groups\"><thead><tr><th>Group</th>"
                     "<th class=\"name\">Name</th><th>Joins</th><th>Sent by scans</th>"
                     "<th>Limit</th><th>Fill</th><th>Expires</th></tr></thead><tbody>");
  for(size_t i = 0; i < g->n; i++) {
    const resolve_group_state *s = &g->g[i];
    int cap = s->capacity < GROUP_SCAN_LIMIT ? s->capacity : GROUP_SCAN_LIMIT;
    char exp[32] = "never";
    if(s->expires_at) {
      stats_day_format(stats_day_of_ms(s->expires_at * 1000), exp);
    }
    stats_buf_puts(&b, "<tr data-group=\"");
    stats_buf_html(&b, s->id);
    stats_buf_puts(&b, "\"><td>");
    stats_buf_html(&b, s->id);
    stats_buf_puts(&b, (int)i == g->live ? " <b>(live)</b></td><td class=\"name\">"
                                         : "</td><td class=\"name\">");
    stats_buf_html(&b, s->name);
    stats_buf_printf(&b,
                     "</td><td class=\"joins\">%lld</td><td class=\"sent\">%lld</td>"
                     "<td>%d</td><td class=\"fill\">",
                     (long long)s->joins, (long long)s->scans_sent, cap);
    fill_bar(&b, s);
    stats_buf_printf(&b, "</td><td class=\"expires%s\">%s%s</td></tr>",
                     s->near_expiry ? " warn" : "", exp, s->near_expiry ? " (soon)" : "");
  }
  if(!g->n) stats_buf_puts(&b, "<tr><td colspan=\"7\">no live-code groups</td></tr>");
  stats_buf_puts(&b, "</tbody></table></div>");

  stats_buf_puts(&b, "<h2>Kiosks</h2><div class=\"scroll\"><table id=\"kiosks\"><thead><tr>"
                     "<th>Kiosk</th><th>Events acknowledged</th><th>Last sync</th>"
                     "<th title=\"events the kiosk still held at its last upload\">"
                     "Events behind</th></tr></thead><tbody>");
  for(size_t i = 0; i < nk; i++) {
    char age[32], behind[24];
    fmt_age(age, kiosks[i].last_sync_ms, now);
    fmt_behind(behind, kiosks[i].behind);
    int stale = !kiosks[i].last_sync_ms || now - kiosks[i].last_sync_ms > STALE_MS;
    stats_buf_printf(&b,
                     "<tr data-kiosk=\"%d\"><td>%d%s</td><td class=\"acked\">%lld</td>"
                     "<td class=\"last-sync%s\">%s</td>"
                     "<td class=\"events-behind\">%s</td></tr>",
                     kiosks[i].number, kiosks[i].number, kiosks[i].revoked ? " (revoked)" : "",
                     (long long)kiosks[i].acked_seq, stale && !kiosks[i].revoked ? " stale" : "",
                     age, behind);
  }
  if(!nk) stats_buf_puts(&b, "<tr><td colspan=\"4\">no kiosk enrolled</td></tr>");
  stats_buf_puts(&b, "</tbody></table></div>");

  /* staff sign-ups over the 30 days */
  stats_buf_puts(&b, "<h2>Sign-ups by staff member, 30 days</h2><div class=\"scroll\">"
                     "<table id=\"staff\"><thead><tr><th>Staff</th><th>Sign-ups</th></tr>"
                     "</thead><tbody>");
  for(size_t i = 0; i < nstaff; i++) {
    int seen = 0;
    for(size_t j = 0; j < i && !seen; j++)
      seen = strcmp(staff[j].staff, staff[i].staff) == 0;
    if(seen) continue;
    int64_t sum = 0;
    for(size_t j = i; j < nstaff; j++)
      if(strcmp(staff[j].staff, staff[i].staff) == 0) sum += staff[j].signups;
    stats_buf_puts(&b, "<tr data-staff=\"");
    stats_buf_html(&b, staff[i].staff);
    stats_buf_puts(&b, "\"><td>");
    stats_buf_html(&b, staff[i].staff);
    stats_buf_printf(&b, "</td><td class=\"signups\">%lld</td></tr>", (long long)sum);
  }
  if(!nstaff) stats_buf_puts(&b, "<tr><td colspan=\"2\">none</td></tr>");
  stats_buf_puts(&b, "</tbody></table></div>");

  stats_buf_puts(&b, "<h2>Daily figures, 30 days</h2><div class=\"scroll\"><table id=\"daily\">"
                     "<thead><tr><th>Day</th><th>Sign-ups</th><th>Check-ins</th><th>Scans</th>"
                     "<th>Conversion</th></tr></thead><tbody>");
  for(int i = CHART_DAYS - 1; i >= 0; i--) {
    char day[11], cv[16];
    stats_day_format(from + i, day);
    fmt_conv(cv, su[i], sc[i]);
    stats_buf_printf(&b,
                     "<tr data-day=\"%s\"><td>%s</td><td class=\"signups\">%lld</td>"
                     "<td class=\"checkins\">%lld</td><td class=\"scans\">%lld</td>"
                     "<td class=\"conversion\">%s</td></tr>",
                     day, day, (long long)su[i], (long long)ci[i], (long long)sc[i], cv);
  }
  stats_buf_puts(&b, "</tbody></table></div>");
  stats_buf_puts(&b, "<p><a href=\"/v1/stats.csv?store=");
  stats_buf_html(&b, st->id);
  stats_buf_puts(&b, "\" download>Download 30 days (CSV)</a></p></main>");
  page_reply(&b, r, 200);
out:
  free(g);
  free(st);
  free(days);
  free(staff);
  free(kiosks);
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
  }
  if(strcmp(url, "/dash") == 0 || strcmp(url, "/dash/") == 0) {
    dash_home(h, c, admin, r);
  } else if(strncmp(url, "/dash/store/", 12) == 0) {
    dash_store(h, admin, url + 12, r);
  } else {
    stats_buf b = {0};
    page_head(&b, "Not found");
    page_header(&b, admin);
    stats_buf_puts(&b, "<main><p class=\"err\" id=\"not-found\">No such page.</p></main>");
    page_reply(&b, r, 404);
  }
  return 1;
}
