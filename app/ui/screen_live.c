/* screen_live.c — the attract screen: the live QR code, store name, group
 * and fill, countdown to the next rotation, the campaign of the hour, and
 * the join / check-in buttons.
 *
 * Asks live_current at each window boundary (HQ-corrected clock) and when
 * it is entered (a sign-up may have filled a group). A rotation that only
 * changes the code redraws the QR's square and the countdown line, nothing
 * else; the countdown alone redraws its line every 5 s; the configuration
 * is looked at again just after a rotation's frame is out, not before it.
 * Otherwise it sleeps. A long press in the top-left corner opens the
 * manager PIN screen. While the disk is full (disk.c) the code stays, the
 * join and check-in buttons turn grey under a "paused" badge and lead to
 * the paused screen instead of a keypad: a shopper should not type a
 * number that cannot be kept. While the configuration offers a marketing
 * consent, a small "stop marketing messages" button under them leads to
 * its withdrawal (screen_withdraw.c): as near as the consent was. */
#include <stdio.h>
#include <string.h>

#include "image.h"
#include "live.h"
#include "log.h"
#include "widget.h"

#define LIVE_HOLD_MS         3000
#define LIVE_STATUS_EVERY_MS 60000
/* The countdown moves in 5 s steps: a redraw a second cost ~0.5 % of a core
 * under X (a full-window present each time); every 5 s costs a fifth. */
#define LIVE_COUNTDOWN_STEP_S 5

static struct {
  live_view lv;
  sqr_rc rc;
  int64_t shown_second;  /* countdown step (wall time) last drawn */
  int64_t status_at;     /* mono ms of the last status read */
  int stale_hours;       /* >0: show the offline badge */
  int pressing;          /* a press in the corner is held */
  int64_t press_at;      /* its monotonic ms */
  SDL_Rect qr, info;     /* layout */
  SDL_Rect countdown;    /* where draw put the countdown line (w == 0: none) */
  SDL_Rect paused;       /* the "paused: disk full" badge, over the buttons */
  int campaign;          /* campaign index drawn, -1 = none */
  int reload_due;        /* look at the configuration at the next tick */
  const sqr_config *cfg; /* the configuration drawn */
  int64_t offset_ms;     /* the HQ clock offset the code was minted with */
} L;

enum { LIVE_SAME = 0, LIVE_NEW_CODE, LIVE_NEW_VIEW };

static void read_status(ui_app *app, int64_t mono) {
  const sqr_config *cfg = store_config(app->st);
  store_status ss;
  L.status_at = mono;
  L.stale_hours = 0;
  if(!cfg || store_status_get(app->st, &ss) != SQR_OK) return;
  int limit = cfg->sync_stale_hours > 0 ? cfg->sync_stale_hours : 36;
  int64_t now = clock_now_ms(app->clock);
  int64_t age_h = ss.last_sync_ok_ms ? (now - ss.last_sync_ok_ms) / 3600000 : -1;
  if(age_h < 0 || age_h >= limit) L.stale_hours = age_h < 0 ? limit : (int)age_h;
}

/* Reads what the QR says now: LIVE_SAME, LIVE_NEW_CODE when only the code
 * changed (same group, same fill), else LIVE_NEW_VIEW. */
static int refresh(ui_app *app, ui_screen *s) {
  live_view lv;
  sqr_rc rc = live_current(app->st, &lv);
  int view = rc != L.rc || lv.group.group != L.lv.group.group ||
             lv.group.joined != L.lv.group.joined || lv.mode != L.lv.mode;
  int code = strcmp(lv.text, L.lv.text) != 0;
  if(rc && rc != L.rc) log_error("ui", "live code: %s", sqr_strerror(rc));
  /* Recording a group switch found the disk full. */
  if(rc == SQR_ENOSPC && !ui_disk_full(app)) ui_disk_refused(app);
  L.lv = lv;
  L.rc = rc;
  L.offset_ms = clock_offset_ms(app->clock);
  ui_widget *qr = ui_screen_find(s, "live.qr");
  if(qr) {
    ui_qr_set(qr, rc ? "" : L.lv.text);
    qr->hidden = rc != SQR_OK || !L.lv.text[0];
  }
  return view ? LIVE_NEW_VIEW : code ? LIVE_NEW_CODE : LIVE_SAME;
}

/* The withdrawal is offered exactly while a marketing consent is. */
static void offer_withdrawal(ui_app *app, ui_screen *s) {
  const sqr_config *cfg = store_config(app->st);
  ui_widget *w = ui_screen_find(s, "withdraw");
  if(w) w->hidden = !cfg || !cfg->marketing_version[0];
}

static int campaign_now(const sqr_config *cfg, int64_t now_ms) {
  if(!cfg) return -1;
  const config_campaign *c =
      config_campaign_at(cfg, clock_local_minute(now_ms, cfg->utc_offset_min));
  return c ? (int)(c - cfg->campaigns) : -1;
}

static void enter(ui_app *app, ui_screen *s) {
  (void)s;
  memset(&L, 0, sizeof L);
  L.rc = SQR_ENOTFOUND;
  L.campaign = -1;
  read_status(app, ui_now_mono(app));
}

static void layout(ui_app *app, ui_screen *s) {
  int u = app->u, w = app->w, h = app->h;
  SDL_Rect join, check, lang;
  if(app->portrait) {
    int side = w - 16 * u;
    if(side > h * 48 / 100) side = h * 48 / 100;
    L.qr = (SDL_Rect){(w - side) / 2, 16 * u, side, side};
    L.info = (SDL_Rect){6 * u, L.qr.y + side + 2 * u, w - 12 * u, h - (L.qr.y + side) - 24 * u};
    int bw = (w - 15 * u) / 2;
    join = (SDL_Rect){5 * u, h - 20 * u, bw, 15 * u};
    check = (SDL_Rect){w - 5 * u - bw, h - 20 * u, bw, 15 * u};
  } else {
    int side = h - 12 * u;
    if(side > w / 2) side = w / 2;
    L.qr = (SDL_Rect){6 * u, (h - side) / 2, side, side};
    int x0 = L.qr.x + side + 6 * u;
    L.info = (SDL_Rect){x0, 14 * u, w - x0 - 6 * u, h - 14 * u - 26 * u};
    int bw = (L.info.w - 4 * u) / 2;
    join = (SDL_Rect){x0, h - 22 * u, bw, 15 * u};
    check = (SDL_Rect){x0 + bw + 4 * u, h - 22 * u, bw, 15 * u};
  }
  lang = (SDL_Rect){w - 22 * u, 2 * u, 19 * u, 8 * u};
  L.paused = (SDL_Rect){join.x, join.y - 6 * u, check.x + check.w - join.x, 5 * u};
  /* Full disk: grey, but still tappable (they explain themselves). */
  int full = ui_disk_full(app);
  ui_screen_add(s, ui_qr_new("live.qr", L.qr));
  ui_screen_add(s, ui_button_new("join", ui_str(app->lang, S_JOIN), join, 7 * u,
                                 full ? UI_DISABLED : UI_ACCENT, full ? UI_FG : UI_WHITE));
  ui_screen_add(s, ui_button_new("checkin", ui_str(app->lang, S_CHECKIN), check, 7 * u,
                                 full ? UI_DISABLED : UI_ACCENT2, full ? UI_FG : UI_WHITE));
  ui_screen_add(
      s, ui_button_new("lang", ui_str(app->lang, S_LANG_OTHER), lang, 4 * u, UI_PANEL, UI_FG));
  SDL_Rect withdraw = {join.x, join.y + join.h + u / 2, check.x + check.w - join.x, 4 * u};
  ui_screen_add(s, ui_button_new("withdraw", ui_str(app->lang, S_WITHDRAW_LINK), withdraw, 3 * u,
                                 UI_BG, UI_MUTED));
  offer_withdrawal(app, s);
  L.rc = SQR_ENOTFOUND;
  L.lv.text[0] = '\0';
  refresh(app, s);
}

static int in_corner(ui_app *app, int x, int y) {
  return x < 14 * app->u && y < 14 * app->u;
}

static void event(ui_app *app, ui_screen *s, const ui_input *in) {
  if(in->kind == UI_PRESS && in_corner(app, in->x, in->y)) {
    L.press_at = ui_now_mono(app);
    L.pressing = 1;
    return;
  }
  if(in->kind == UI_RELEASE || in->kind == UI_MOVE) {
    if(in->kind == UI_MOVE && in_corner(app, in->x, in->y)) return;
    L.pressing = 0;
  }
  if(in->kind != UI_RELEASE) return;
  ui_widget *w = ui_screen_hit(s, in->x, in->y);
  if(!w) return;
  int full = ui_disk_full(app);
  if(strcmp(w->name, "join") == 0)
    ui_go(app, full ? UI_SCREEN_PAUSED : UI_SCREEN_JOIN);
  else if(strcmp(w->name, "checkin") == 0)
    ui_go(app, full ? UI_SCREEN_PAUSED : UI_SCREEN_CHECKIN);
  else if(strcmp(w->name, "withdraw") == 0)
    ui_go(app, full ? UI_SCREEN_PAUSED : UI_SCREEN_WITHDRAW);
  else if(strcmp(w->name, "lang") == 0) {
    app->lang = app->lang == UI_LANG_ZH ? UI_LANG_EN : UI_LANG_ZH;
    ui_go(app, UI_SCREEN_LIVE);
  }
}

static int64_t tick(ui_app *app, ui_screen *s, int64_t mono) {
  int64_t now_ms = clock_now_ms(app->clock);
  if(L.pressing && mono - L.press_at >= LIVE_HOLD_MS) {
    L.pressing = 0;
    ui_go(app, UI_SCREEN_PIN);
    return mono;
  }
  if(L.reload_due) {
    /* Another process (sync) may have stored a new configuration. Looked
     * at here, right after a rotation's frame went out, not on its way. */
    L.reload_due = 0;
    if(store_reload_config(app->st) != SQR_OK) log_warn("ui", "config reload failed");
    if(store_config(app->st) != L.cfg) {
      (void)refresh(app, s);
      offer_withdrawal(app, s);
      app->dirty = 1;
    }
  }
  const sqr_config *cfg = store_config(app->st);
  int64_t period_ms = cfg ? (int64_t)cfg->period_s * 1000 : 30000;
  /* hq mode changes at the window boundary; direct mode is looked at every
   * period too, as another process (sync) may have changed the groups. */
  int64_t change_at =
      L.lv.next_change_ms ? L.lv.next_change_ms : (now_ms / period_ms + 1) * period_ms;
  /* A new HQ offset (app.c picks it up from the sync daemon's record)
   * moves HQ's time: the code is minted again at once, either way. */
  int rotation = now_ms >= change_at || clock_offset_ms(app->clock) != L.offset_ms;
  if(rotation || (L.rc == SQR_ENOTFOUND && cfg)) {
    ui__qr_changing(app);
    int what = refresh(app, s);
    if(what == LIVE_NEW_VIEW)
      app->dirty = 1;
    else if(what == LIVE_NEW_CODE) {
      ui_damage(app, L.qr);
      ui_damage(app, L.countdown);
    } else
      app->qr_changed_us = 0; /* nothing new to time */
    L.reload_due = rotation;
    change_at = L.lv.next_change_ms ? L.lv.next_change_ms : (now_ms / period_ms + 1) * period_ms;
  }
  if(mono - L.status_at >= LIVE_STATUS_EVERY_MS) {
    int before = L.stale_hours;
    read_status(app, mono);
    if(before != L.stale_hours) app->dirty = 1;
  }
  if(campaign_now(cfg, now_ms) != L.campaign) app->dirty = 1;
  int64_t step = now_ms / (LIVE_COUNTDOWN_STEP_S * 1000);
  if(step != L.shown_second) {
    if(L.countdown.w > 0)
      ui_damage(app, L.countdown);
    else
      app->dirty = 1;
  }
  /* Next: the countdown's next step, the rotation, a pending long press,
   * or at once for the configuration check after a rotation. */
  int64_t next_ms = (step + 1) * LIVE_COUNTDOWN_STEP_S * 1000;
  if(change_at < next_ms) next_ms = change_at;
  int64_t next = mono + (next_ms - now_ms);
  if(L.reload_due) next = mono;
  if(L.pressing && L.press_at + LIVE_HOLD_MS < next) next = L.press_at + LIVE_HOLD_MS;
  if(L.status_at + LIVE_STATUS_EVERY_MS < next) next = L.status_at + LIVE_STATUS_EVERY_MS;
  return next;
}

/* Over the grey buttons while the disk is full: why they are grey. */
static void draw_paused(ui_app *app) {
  if(!ui_disk_full(app)) return;
  ui_fill(app, L.paused, UI_WARN);
  ui_label_in(app, ui_str(app->lang, S_PAUSED_BADGE), 3 * app->u, UI_WHITE, L.paused);
}

static void draw_info(ui_app *app);

static void draw(ui_app *app, ui_screen *s) {
  (void)s;
  draw_info(app);
  draw_paused(app);
}

static void draw_info(ui_app *app) {
  int u = app->u;
  const sqr_config *cfg = store_config(app->st);
  int64_t now_ms = clock_now_ms(app->clock);
  L.shown_second = now_ms / (LIVE_COUNTDOWN_STEP_S * 1000);
  L.cfg = cfg;
  L.campaign = campaign_now(cfg, now_ms);
  L.countdown = (SDL_Rect){0, 0, 0, 0};
  char buf[512];
  int name_x = app->portrait ? app->w / 2 : L.info.x;
  int align = app->portrait ? UI_CENTER : UI_LEFT;
  ui_label(app, cfg ? cfg->store_name : "StoreQR", 7 * u, UI_FG, name_x, 3 * u, align);
  if(L.stale_hours) {
    ui_strf(buf, sizeof buf, app->lang, S_OFFLINE, L.stale_hours);
    int tw = 0;
    ui_text_measure_px(app, buf, 3 * u, &tw);
    /* Clear of the QR's square, which is drawn over everything under it. */
    SDL_Rect badge = {2 * u, app->portrait ? 11 * u : u, tw + 2 * u, 4 * u};
    ui_fill(app, badge, UI_WARN);
    ui_label_in(app, buf, 3 * u, UI_WHITE, badge);
  }
  if(L.rc) {
    const char *msg = L.rc == SQR_ENOTFOUND ? "No configuration yet: run 'storeqr init' / 未配置"
                                            : sqr_strerror(L.rc);
    ui_label_in(app, msg, 4 * u, UI_WARN, L.qr);
    return;
  }
  int x = app->portrait ? app->w / 2 : L.info.x, y = L.info.y;
  int lh = 6 * u;
  ui_label(app, ui_str(app->lang, L.lv.group.g ? S_SCAN_HINT : S_NO_GROUP), 5 * u,
           L.lv.group.g ? UI_FG : UI_WARN, x, y, align);
  y += lh + u;
  if(L.lv.group.g) {
    ui_strf(buf, sizeof buf, app->lang, S_GROUP, L.lv.group.g->name);
    ui_label(app, buf, 4 * u, UI_MUTED, x, y, align);
    y += lh;
    ui_strf(buf, sizeof buf, app->lang, S_FILL, L.lv.group.joined, L.lv.group.g->capacity);
    ui_label(app, buf, 4 * u, UI_MUTED, x, y, align);
    /* fill bar */
    int bw = app->portrait ? 50 * u : L.info.w * 2 / 3;
    SDL_Rect bar = {align == UI_CENTER ? x - bw / 2 : x, y + lh, bw, u * 2};
    ui_fill(app, bar, UI_DISABLED);
    int cap = L.lv.group.g->capacity > 0 ? L.lv.group.g->capacity : 1;
    SDL_Rect fill = bar;
    fill.w = (int)((int64_t)bar.w * (L.lv.group.joined > cap ? cap : L.lv.group.joined) / cap);
    ui_fill(app, fill, UI_ACCENT);
    y += lh + 3 * u;
  } else {
    ui_label(app, ui_str(app->lang, S_STAFF_CODE), 4 * u, UI_MUTED, x, y, align);
    y += lh;
  }
  if(L.lv.mode == CONFIG_MODE_HQ && L.lv.next_change_ms) {
    int64_t left_ms = L.lv.next_change_ms - now_ms;
    int step_ms = LIVE_COUNTDOWN_STEP_S * 1000;
    int secs = (int)((left_ms + step_ms - 1) / step_ms * LIVE_COUNTDOWN_STEP_S);
    if(secs < 0) secs = 0;
    ui_strf(buf, sizeof buf, app->lang, S_NEXT_CODE, secs);
    /* The line's whole width: the next number may be wider or narrower. */
    L.countdown =
        app->portrait ? (SDL_Rect){L.info.x, y, L.info.w, lh} : (SDL_Rect){x, y, app->w - x, lh};
    ui_label(app, buf, 4 * u, UI_MUTED, x, y, align);
    y += lh;
  }
  const config_campaign *c = L.campaign >= 0 ? &cfg->campaigns[L.campaign] : NULL;
  if(c) {
    const char *t = app->lang == UI_LANG_EN && c->text_en[0] ? c->text_en : c->text_zh;
    ui_label(app, t, 5 * u, UI_ACCENT, x, y + u, align);
    y += lh + 2 * u;
    /* The campaign's picture, scaled to fit what is left of the info area
     * (never larger than twice its size); none readable: text only. */
    int iw = 0, ih = 0, bottom = L.info.y + L.info.h;
    SDL_Texture *img = c->image[0] ? ui_image_get(app->images, c->image, &iw, &ih) : NULL;
    int box_w = L.info.w, box_h = bottom - y;
    if(img && iw > 0 && ih > 0 && box_h > 4 * u) {
      int dw = box_w, dh = (int)((int64_t)ih * dw / iw);
      if(dh > box_h) {
        dh = box_h;
        dw = (int)((int64_t)iw * dh / ih);
      }
      if(dw > 2 * iw) {
        dw = 2 * iw;
        dh = 2 * ih;
      }
      SDL_Rect d = {align == UI_CENTER ? x - dw / 2 : x, y, dw, dh};
      SDL_RenderCopy(app->ren, img, NULL, &d);
    }
  }
}

static void leave(ui_app *app, ui_screen *s) {
  (void)app;
  (void)s;
  L.pressing = 0;
}

static const char *state(ui_app *app, ui_screen *s) {
  (void)s;
  return L.rc ? "no-code" : ui_disk_full(app) ? "paused" : "code";
}

const ui_screen_ops screen_live_ops = {"live", enter, layout, event, tick, draw, leave, state};
