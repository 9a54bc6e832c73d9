/* screen_manager.c — the store manager's view, behind the PIN: members,
 * today's sign-ups and check-ins, a 7-day chart, each group's fill and
 * expiry, sign-ups per staff today, sync health, HQ's clock offset and
 * the last clock jump, version, disk space, enrolment; actions: mark a
 * group full, next group, sync now.
 *
 * Reads everything through store_status_get / store_group_fill; writes only
 * through store_group_mark_full. Sync runs as its own process
 * (storeqr-sync --once, child.c): the kiosk never touches the network. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "live.h"
#include "log.h"
#include "widget.h"

#ifndef SQR_VERSION
#define SQR_VERSION "dev"
#endif

static struct {
  store_status ss;
  group_fill fill[CONFIG_MAX_GROUPS];
  store_live live;
  int have;
  long long disk_mb;
} M;

static void load(ui_app *app) {
  const sqr_config *cfg = store_config(app->st);
  M.have = 0;
  if(!cfg) return;
  sqr_rc rc = store_status_get(app->st, &M.ss);
  if(!rc) rc = store_group_fill(app->st, M.fill, cfg->ngroups);
  if(!rc) rc = store_live_group(app->st, &M.live);
  if(rc) {
    log_error("ui", "manager screen: %s", sqr_strerror(rc));
    return;
  }
  M.have = 1;
  M.disk_mb = ui_disk_free_mb(app);
}

static void enter(ui_app *app, ui_screen *s) {
  (void)s;
  if(!(app->child.pid > 0 && app->child.kind == UI_CHILD_SYNC)) app->sync_msg[0] = '\0';
  load(app);
}

static SDL_Rect col_rect(ui_app *app, int col) {
  int u = app->u;
  if(app->portrait) return (SDL_Rect){5 * u, 0, app->w - 10 * u, app->h};
  int cw = (app->w - 15 * u) / 2;
  return (SDL_Rect){5 * u + col * (cw + 5 * u), 0, cw, app->h};
}

/* Group rows start here (the "mark full" buttons sit on them). */
static int groups_y(ui_app *app) {
  return app->portrait ? 74 * app->u : 14 * app->u;
}

static void layout(ui_app *app, ui_screen *s) {
  int u = app->u;
  const sqr_config *cfg = store_config(app->st);
  SDL_Rect c1 = col_rect(app, 1);
  ui_screen_add(s, ui_button_new("close", ui_str(app->lang, S_MGR_CLOSE),
                                 (SDL_Rect){app->w - 25 * u, 2 * u, 22 * u, 8 * u}, 4 * u, UI_PANEL,
                                 UI_FG));
  if(!cfg) return;
  char name[UI_NAME_MAX];
  int y = groups_y(app) + 5 * u;
  for(size_t i = 0; i < cfg->ngroups; i++) {
    snprintf(name, sizeof name, "full.%s", cfg->groups[i].id);
    ui_widget *b =
        ui_button_new(name, ui_str(app->lang, S_MGR_MARK_FULL),
                      (SDL_Rect){c1.x + c1.w - 22 * u, y, 22 * u, 6 * u}, 3 * u, UI_PANEL, UI_FG);
    b->tag = (int)i;
    b->disabled = M.have && M.fill[i].marked_full;
    ui_screen_add(s, b);
    y += 10 * u;
  }
  y += 2 * u;
  int bw = (c1.w - 4 * u) / 3;
  ui_screen_add(s, ui_button_new("next", ui_str(app->lang, S_MGR_NEXT_GROUP),
                                 (SDL_Rect){c1.x, y, bw, 9 * u}, 3 * u, UI_ACCENT, UI_WHITE));
  ui_screen_add(s, ui_button_new("sync", ui_str(app->lang, S_MGR_SYNC_NOW),
                                 (SDL_Rect){c1.x + bw + 2 * u, y, bw, 9 * u}, 3 * u, UI_ACCENT2,
                                 UI_WHITE));
}

static void sync_now(ui_app *app) {
  if(app->child.pid > 0) return;
  char prog[PATH_MAX];
  if(!ui_child_find_sync(prog, sizeof prog)) {
    snprintf(app->sync_msg, sizeof app->sync_msg, "%s", ui_str(app->lang, S_MGR_SYNC_MISSING));
    return;
  }
  char *argv[] = {prog, "--once", "--db", (char *)app->db_path, NULL};
  if(ui_child_start(app, UI_CHILD_SYNC, argv, 0, ui_real_mono_ms()) != SQR_OK) {
    char line[120];
    snprintf(app->sync_msg, sizeof app->sync_msg, "%s", ui_child_last_line(app, line, sizeof line));
    ui_child_release(app);
    return;
  }
  snprintf(app->sync_msg, sizeof app->sync_msg, "%s", ui_str(app->lang, S_MGR_SYNC_RUNNING));
}

static void event(ui_app *app, ui_screen *s, const ui_input *in) {
  if(in->kind == UI_KEY && in->key == SDLK_ESCAPE) {
    ui_go(app, UI_SCREEN_LIVE);
    return;
  }
  if(in->kind != UI_RELEASE) return;
  ui_widget *w = ui_screen_hit(s, in->x, in->y);
  if(!w) return;
  const sqr_config *cfg = store_config(app->st);
  if(strcmp(w->name, "close") == 0) {
    ui_go(app, UI_SCREEN_LIVE);
  } else if(strncmp(w->name, "full.", 5) == 0 && cfg) {
    sqr_rc rc = store_group_mark_full(app->st, cfg->groups[w->tag].id);
    if(rc) {
      ui_fail(app, "mark group full", rc);
      return;
    }
    load(app);
    ui_go(app, UI_SCREEN_MANAGER);
  } else if(strcmp(w->name, "next") == 0 && cfg) {
    /* "Next group" = the live group is done: mark it full and the group
     * choice moves on (recorded as group_marked_full + group_switched). */
    if(M.live.group >= 0) {
      sqr_rc rc = store_group_mark_full(app->st, cfg->groups[M.live.group].id);
      if(rc) {
        ui_fail(app, "switch group", rc);
        return;
      }
    }
    ui_go(app, UI_SCREEN_MANAGER);
  } else if(strcmp(w->name, "sync") == 0) {
    sync_now(app);
  }
}

static void fmt_time(int64_t ms, int utc_off, char *out, size_t n) {
  time_t t = (time_t)(ms / 1000 + (int64_t)utc_off * 60);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, n, "%m-%d %H:%M", &tm);
}

/* How far a clock jumped, in its two largest units ("+1 h 0 min"). */
static void fmt_span(ui_lang lang, int64_t ms, char *out, size_t n) {
  const char *sign = ms < 0 ? "-" : "+";
  long long sec = (long long)(ms < 0 ? -(ms / 1000) : ms / 1000);
  if(sec >= 86400)
    ui_strf(out, n, lang, S_MGR_SPAN_DAYS, sign, sec / 86400, sec % 86400 / 3600);
  else if(sec >= 3600)
    ui_strf(out, n, lang, S_MGR_SPAN_HOURS, sign, sec / 3600, sec % 3600 / 60);
  else
    ui_strf(out, n, lang, S_MGR_SPAN_MINUTES, sign, sec / 60, sec % 60);
}

/* The last clock jump (store_check_clock, or the HQ offset at a sync):
 * when, how far, which way it was seen. In the warning colour for a week,
 * so a manager notices one. */
static int clock_line(ui_app *app, const sqr_config *cfg, char *out, size_t n) {
  char when[64], by[64];
  if(!M.ss.clock_jumps) {
    snprintf(out, n, "%s", ui_str(app->lang, S_MGR_CLOCK_NO_JUMP));
    return 0;
  }
  fmt_time(M.ss.last_clock_jump_ms, cfg->utc_offset_min, when, sizeof when);
  fmt_span(app->lang, M.ss.last_clock_jump_by_ms, by, sizeof by);
  int hq = strcmp(M.ss.last_clock_jump_source, "hq_offset") == 0;
  ui_strf(out, n, app->lang, S_MGR_CLOCK_JUMP, when, by,
          ui_str(app->lang, hq ? S_MGR_CLOCK_SRC_HQ : S_MGR_CLOCK_SRC_WALL),
          (long long)M.ss.clock_jumps);
  return clock_now_ms(app->clock) - M.ss.last_clock_jump_ms < 7 * 86400000LL;
}

static void draw(ui_app *app, ui_screen *s) {
  (void)s;
  int u = app->u, fs = 3 * u + u / 2, lh = 5 * u;
  const sqr_config *cfg = store_config(app->st);
  char buf[512], t[64];
  ui_label(app, ui_str(app->lang, S_MGR_TITLE), 6 * u, UI_FG, 5 * u, 3 * u, UI_LEFT);
  if(!cfg || !M.have) return;
  SDL_Rect c0 = col_rect(app, 0), c1 = col_rect(app, 1);
  int x = c0.x, y = 12 * u;
  ui_strf(buf, sizeof buf, app->lang, S_MGR_MEMBERS, (long long)M.ss.members);
  ui_label(app, buf, 5 * u, UI_FG, x, y, UI_LEFT);
  y += 7 * u;
  ui_strf(buf, sizeof buf, app->lang, S_MGR_SIGNUPS, M.ss.signups_today);
  ui_label(app, buf, fs, UI_FG, x, y, UI_LEFT);
  ui_strf(buf, sizeof buf, app->lang, S_MGR_CHECKINS, M.ss.checkins_today);
  ui_label(app, buf, fs, UI_FG, x + c0.w / 2, y, UI_LEFT);
  y += lh + u;
  /* 7-day chart: green sign-ups, blue check-ins, scaled to the week's max. */
  ui_label(app, ui_str(app->lang, S_MGR_7DAYS), 3 * u, UI_MUTED, x, y, UI_LEFT);
  y += 4 * u;
  int ch = 18 * u, maxv = 1;
  for(int d = 0; d < STORE_DAYS; d++) {
    if(M.ss.signups_by_day[d] > maxv) maxv = M.ss.signups_by_day[d];
    if(M.ss.checkins_by_day[d] > maxv) maxv = M.ss.checkins_by_day[d];
  }
  int slot = c0.w / STORE_DAYS, bw = slot / 3;
  for(int d = 0; d < STORE_DAYS; d++) {
    int hs = ch * M.ss.signups_by_day[d] / maxv, hc = ch * M.ss.checkins_by_day[d] / maxv;
    ui_fill(app, (SDL_Rect){x + d * slot, y + ch - hs, bw, hs}, UI_ACCENT);
    ui_fill(app, (SDL_Rect){x + d * slot + bw, y + ch - hc, bw, hc}, UI_ACCENT2);
  }
  ui_fill(app, (SDL_Rect){x, y + ch, c0.w, 2}, UI_MUTED);
  y += ch + 4 * u;
  ui_label(app, ui_str(app->lang, S_MGR_STAFF), 3 * u, UI_MUTED, x, y, UI_LEFT);
  y += 4 * u;
  for(size_t i = 0; i < M.ss.nstaff && i < 6; i++) {
    const config_staff *st = config_staff_find(cfg, M.ss.staff_today[i].staff);
    snprintf(buf, sizeof buf, "%s: %d", st ? st->name : M.ss.staff_today[i].staff,
             M.ss.staff_today[i].signups);
    ui_label(app, buf, fs, UI_FG, x + (int)(i % 2) * c0.w / 2, y + (int)(i / 2) * lh, UI_LEFT);
  }
  /* groups */
  int gy = groups_y(app);
  ui_label(app, ui_str(app->lang, S_MGR_GROUPS), 3 * u, UI_MUTED, c1.x, gy, UI_LEFT);
  if(M.live.group < 0)
    ui_label(app, ui_str(app->lang, S_MGR_ALERT_NO_GROUP), 3 * u, UI_WARN, c1.x + 12 * u, gy,
             UI_LEFT);
  gy += 5 * u;
  for(size_t i = 0; i < cfg->ngroups; i++) {
    const config_group *g = &cfg->groups[i];
    t[0] = '\0';
    if(g->expires_at) fmt_time(g->expires_at * 1000, cfg->utc_offset_min, t, sizeof t);
    char exp[96] = "";
    if(t[0]) ui_strf(exp, sizeof exp, app->lang, S_MGR_EXPIRES, t);
    snprintf(buf, sizeof buf, "%s%s %d/%d %s%s", (int)i == M.live.group ? "▶ " : "", g->name,
             M.fill[i].joined, g->capacity, exp,
             M.fill[i].marked_full ? ui_str(app->lang, S_MGR_FULL) : "");
    ui_label(app, buf, 3 * u, (int)i == M.live.group ? UI_ACCENT : UI_FG, c1.x, gy + u, UI_LEFT);
    gy += 10 * u;
  }
  /* sync and device, under the actions */
  y = gy + 14 * u;
  if(app->sync_msg[0])
    ui_label(app, app->sync_msg, 3 * u, UI_ACCENT2, c1.x, gy + 12 * u - 3 * u, UI_LEFT);
  if(M.ss.last_sync_ok_ms)
    fmt_time(M.ss.last_sync_ok_ms, cfg->utc_offset_min, t, sizeof t);
  else
    snprintf(t, sizeof t, "%s", ui_str(app->lang, S_MGR_SYNC_NEVER));
  ui_strf(buf, sizeof buf, app->lang, S_MGR_SYNC, t);
  ui_label(app, buf, fs, UI_FG, c1.x, y, UI_LEFT);
  y += lh;
  ui_strf(buf, sizeof buf, app->lang, S_MGR_PENDING, (long long)M.ss.pending_events);
  ui_label(app, buf, fs, UI_FG, c1.x, y, UI_LEFT);
  y += lh;
  if(M.ss.last_sync_error[0]) {
    ui_strf(buf, sizeof buf, app->lang, S_MGR_LAST_ERROR, M.ss.last_sync_error);
    ui_label(app, buf, 3 * u, UI_WARN, c1.x, y, UI_LEFT);
    y += lh;
  }
  ui_strf(buf, sizeof buf, app->lang, S_MGR_OFFSET, (long long)M.ss.hq_offset_ms);
  ui_label(app, buf, fs, UI_FG, c1.x, y, UI_LEFT);
  y += lh;
  int recent = clock_line(app, cfg, buf, sizeof buf);
  ui_label(app, buf, 3 * u, recent ? UI_WARN : UI_FG, c1.x, y, UI_LEFT);
  y += lh;
  char en[200];
  if(cfg->has_hq_pub)
    ui_strf(en, sizeof en, app->lang, S_MGR_ENROLLED, cfg->store_id, cfg->kiosk_number,
            cfg->key_version);
  else
    snprintf(en, sizeof en, "%s", ui_str(app->lang, S_MGR_NOT_ENROLLED));
  ui_strf(buf, sizeof buf, app->lang, S_MGR_ENROL, en);
  ui_label(app, buf, 3 * u, UI_FG, c1.x, y, UI_LEFT);
  y += lh;
  ui_strf(buf, sizeof buf, app->lang, S_MGR_VERSION, SQR_VERSION, (long long)M.ss.config_version);
  ui_label(app, buf, 3 * u, UI_MUTED, c1.x, y, UI_LEFT);
  y += lh;
  ui_strf(buf, sizeof buf, app->lang, S_MGR_DISK, M.disk_mb);
  int full = ui_disk_full(app);
  ui_label(app, buf, 3 * u, full ? UI_WARN : UI_MUTED, c1.x, y, UI_LEFT);
  if(full) {
    y += lh;
    ui_label(app, ui_str(app->lang, S_MGR_DISK_FULL), 4 * u, UI_WARN, c1.x, y, UI_LEFT);
  }
}

static int64_t tick(ui_app *app, ui_screen *s, int64_t mono) {
  (void)s;
  (void)mono;
  static int had_pid;
  /* When the sync child ends, show fresh figures. */
  int running = app->child.pid > 0 && app->child.kind == UI_CHILD_SYNC;
  if(had_pid && !running) {
    load(app);
    app->dirty = 1;
  }
  had_pid = running;
  return INT64_MAX;
}

const ui_screen_ops screen_manager_ops = {"manager", enter, layout, event, tick, draw, NULL, NULL};
