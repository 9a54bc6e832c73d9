/* screen_result.c — the end of a flow: joined (group QR, coupon, points,
 * and whether marketing messages were agreed to when the configuration
 * offers them), welcomed back, checked in (points, streak), already
 * checked in today, not a member (offer to join), marketing messages
 * stopped, or nothing to stop (not a member). Shows no phone number. */
#include <stdio.h>
#include <string.h>

#include "widget.h"

static void layout(ui_app *app, ui_screen *s) {
  int u = app->u, w = app->w, h = app->h;
  ui_flow *f = &app->flow;
  int with_qr = (f->result_kind == UI_RESULT_JOINED || f->result_kind == UI_RESULT_WELCOME_BACK) &&
                f->result.group_link[0];
  if(with_qr) {
    SDL_Rect q;
    if(app->portrait) {
      int side = w - 30 * u;
      q = (SDL_Rect){(w - side) / 2, 22 * u, side, side};
    } else {
      int side = h - 30 * u;
      q = (SDL_Rect){8 * u, 14 * u, side, side};
    }
    ui_widget *qr = ui_qr_new("result.qr", q);
    ui_qr_set(qr, f->result.group_link);
    ui_screen_add(s, qr);
  }
  int bw = app->portrait ? (w - 20 * u) / 2 : 40 * u;
  int warn =
      f->result_kind == UI_RESULT_NOT_MEMBER || f->result_kind == UI_RESULT_WITHDRAW_NOT_MEMBER;
  if(f->result_kind == UI_RESULT_NOT_MEMBER)
    ui_screen_add(s, ui_button_new("join", ui_str(app->lang, S_JOIN_NOW),
                                   (SDL_Rect){8 * u, h - 22 * u, bw, 14 * u}, 6 * u, UI_ACCENT,
                                   UI_WHITE));
  ui_screen_add(s, ui_button_new("done", ui_str(app->lang, S_DONE),
                                 (SDL_Rect){w - 8 * u - bw, h - 22 * u, bw, 14 * u}, 6 * u,
                                 warn ? UI_PANEL : UI_ACCENT, warn ? UI_FG : UI_WHITE));
}

static void event(ui_app *app, ui_screen *s, const ui_input *in) {
  if(ui_back_event(app, s, in) || in->kind != UI_RELEASE) return;
  ui_widget *w = ui_screen_hit(s, in->x, in->y);
  if(w && strcmp(w->name, "join") == 0) ui_go(app, UI_SCREEN_CONSENT); /* phone carried over */
}

static void draw(ui_app *app, ui_screen *s) {
  int u = app->u;
  ui_flow *f = &app->flow;
  const member_result *r = &f->result;
  char buf[256];
  ui_widget *qr = ui_screen_find(s, "result.qr");
  int x = app->w / 2, align = UI_CENTER, y;
  if(qr && !app->portrait) {
    x = qr->r.x + qr->r.w + 8 * u;
    align = UI_LEFT;
  }
  y = 5 * u;
  ui_str_id title = f->result_kind == UI_RESULT_JOINED         ? S_JOINED
                    : f->result_kind == UI_RESULT_WELCOME_BACK ? S_WELCOME_BACK
                    : f->result_kind == UI_RESULT_CHECKED_IN   ? S_CHECKED_IN
                    : f->result_kind == UI_RESULT_ALREADY      ? S_ALREADY
                    : f->result_kind == UI_RESULT_WITHDRAWN    ? S_WITHDRAWN
                                                               : S_NOT_MEMBER;
  ui_color tc = f->result_kind == UI_RESULT_NOT_MEMBER || f->result_kind == UI_RESULT_ALREADY ||
                        f->result_kind == UI_RESULT_WITHDRAW_NOT_MEMBER
                    ? UI_WARN
                    : UI_OK;
  ui_label(app, ui_str(app->lang, title), 8 * u, tc, x, y, align);
  if(f->result_kind == UI_RESULT_WITHDRAWN || f->result_kind == UI_RESULT_WITHDRAW_NOT_MEMBER) {
    ui_say(app,
           ui_str(app->lang,
                  f->result_kind == UI_RESULT_WITHDRAWN ? S_WITHDRAWN_HINT : S_WITHDRAW_NOTHING),
           6 * u, UI_FG, 30 * u, app->w - 16 * u);
    return;
  }
  if(qr) {
    ui_label(app, ui_str(app->lang, S_SCAN_GROUP), 5 * u, UI_FG, app->portrait ? x : x,
             app->portrait ? 15 * u : 20 * u, align);
    y = app->portrait ? qr->r.y + qr->r.h + 3 * u : 30 * u;
  } else {
    y = 30 * u;
  }
  if(f->result_kind == UI_RESULT_NOT_MEMBER) return;
  if(f->result_kind == UI_RESULT_JOINED && r->coupon[0]) {
    ui_strf(buf, sizeof buf, app->lang, S_COUPON, r->coupon);
    ui_label(app, buf, 6 * u, UI_ACCENT2, x, y, align);
    y += 9 * u;
  }
  ui_strf(buf, sizeof buf, app->lang, S_POINTS, r->points);
  ui_label(app, buf, 6 * u, UI_FG, x, y, align);
  y += 9 * u;
  if(r->points_added > 0) {
    ui_strf(buf, sizeof buf, app->lang, S_POINTS_ADDED, r->points_added);
    ui_label(app, buf, 5 * u, UI_ACCENT, x, y, align);
    y += 8 * u;
  }
  /* Small, under the rest: whether the optional consent was recorded. */
  const sqr_config *cfg = store_config(app->st);
  if(f->result_kind == UI_RESULT_JOINED && cfg && cfg->marketing_version[0])
    ui_label(app, ui_str(app->lang, r->marketing ? S_MARKETING_YES : S_MARKETING_NO), 4 * u,
             UI_MUTED, x, y, align);
  if(f->result_kind == UI_RESULT_CHECKED_IN || f->result_kind == UI_RESULT_ALREADY) {
    ui_strf(buf, sizeof buf, app->lang, S_STREAK, r->streak);
    ui_label(app, buf, 5 * u, UI_FG, x, y, align);
  }
}

static void leave(ui_app *app, ui_screen *s) {
  (void)s;
  /* "Join now" keeps the phone for the consent screen; anything else drops it. */
  (void)app;
}

const ui_screen_ops screen_result_ops = {"result", NULL, layout, event, NULL, draw, leave, NULL};
