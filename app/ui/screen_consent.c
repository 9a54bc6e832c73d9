/* screen_consent.c — join, step 2: the privacy policy (scrollable) and an
 * explicit agreement that starts unticked. Nothing is recorded without it
 * (member_signup refuses too). */
#include <string.h>

#include "widget.h"

static void layout(ui_app *app, ui_screen *s) {
  int u = app->u, w = app->w, h = app->h;
  const sqr_config *cfg = store_config(app->st);
  const char *text = !cfg                                            ? ""
                     : app->lang == UI_LANG_EN && cfg->consent_en[0] ? cfg->consent_en
                                                                     : cfg->consent_zh;
  int bw = app->portrait ? (w - 16 * u - 4 * u) / 2 : 40 * u;
  SDL_Rect tv = {6 * u, 14 * u, w - 12 * u - 14 * u, h - 14 * u - 40 * u};
  ui_screen_add(s, ui_textview_new("policy", text, tv, 4 * u));
  ui_screen_add(s, ui_button_new("up", "\xE2\x96\xB2",
                                 (SDL_Rect){tv.x + tv.w + 2 * u, tv.y, 12 * u, 12 * u}, 5 * u,
                                 UI_PANEL, UI_FG));
  ui_screen_add(s,
                ui_button_new("down", "\xE2\x96\xBC",
                              (SDL_Rect){tv.x + tv.w + 2 * u, tv.y + tv.h - 12 * u, 12 * u, 12 * u},
                              5 * u, UI_PANEL, UI_FG));
  ui_widget *agree = ui_check_new("agree", ui_str(app->lang, S_CONSENT_AGREE),
                                  (SDL_Rect){6 * u, h - 38 * u, w - 12 * u, 12 * u}, 5 * u);
  ui_screen_add(s, agree);
  if(app->flow.consented) ui_check_toggle(agree);
  ui_widget *cont =
      ui_button_new("continue", ui_str(app->lang, S_CONTINUE),
                    (SDL_Rect){w - 8 * u - bw, h - 22 * u, bw, 14 * u}, 6 * u, UI_ACCENT, UI_WHITE);
  cont->disabled = !app->flow.consented;
  ui_screen_add(s, cont);
  ui_screen_add(s,
                ui_button_new("back", ui_str(app->lang, S_BACK),
                              (SDL_Rect){8 * u, h - 22 * u, bw, 14 * u}, 6 * u, UI_PANEL, UI_FG));
}

static int drag_y = -1;

static void next(ui_app *app) {
  const sqr_config *cfg = store_config(app->st);
  if(cfg && (cfg->ntags || cfg->nstaff))
    ui_go(app, UI_SCREEN_DETAILS);
  else
    ui_flow_signup(app);
}

static void event(ui_app *app, ui_screen *s, const ui_input *in) {
  ui_widget *tv = ui_screen_find(s, "policy");
  if(in->kind == UI_WHEEL) {
    ui_textview_scroll(tv, -in->dy * 6 * app->u);
    return;
  }
  if(in->kind == UI_KEY && in->key == SDLK_ESCAPE) {
    ui_go(app, UI_SCREEN_LIVE);
    return;
  }
  if(in->kind == UI_PRESS) {
    drag_y = ui_widget_contains(tv, in->x, in->y) ? in->y : -1;
    return;
  }
  if(in->kind == UI_MOVE) {
    if(drag_y >= 0) {
      ui_textview_scroll(tv, drag_y - in->y);
      drag_y = in->y;
    }
    return;
  }
  if(in->kind != UI_RELEASE) return;
  int was_drag = drag_y >= 0;
  drag_y = -1;
  if(was_drag) return;
  ui_widget *w = ui_screen_hit(s, in->x, in->y);
  if(!w) return;
  if(strcmp(w->name, "up") == 0)
    ui_textview_scroll(tv, -tv->r.h * 2 / 3);
  else if(strcmp(w->name, "down") == 0)
    ui_textview_scroll(tv, tv->r.h * 2 / 3);
  else if(strcmp(w->name, "agree") == 0) {
    ui_check_toggle(w);
    app->flow.consented = ui_check_value(w);
    ui_screen_find(s, "continue")->disabled = !app->flow.consented;
  } else if(strcmp(w->name, "continue") == 0 && app->flow.consented) {
    next(app);
  } else if(strcmp(w->name, "back") == 0) {
    app->flow.consented = 0;
    ui_go(app, UI_SCREEN_JOIN);
  }
}

static void draw(ui_app *app, ui_screen *s) {
  (void)s;
  ui_label(app, ui_str(app->lang, S_CONSENT_TITLE), 7 * app->u, UI_FG, app->w / 2, 4 * app->u,
           UI_CENTER);
}

static void enter(ui_app *app, ui_screen *s) {
  (void)s;
  app->flow.consented = 0; /* every time the policy is shown, agreement is fresh */
  drag_y = -1;
}

const ui_screen_ops screen_consent_ops = {"consent", enter, layout, event, NULL, draw, NULL, NULL};
