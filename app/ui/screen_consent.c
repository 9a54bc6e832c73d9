/* screen_consent.c — join, step 2: the privacy policy (scrollable) and
 * the shopper's own ticks, each starting unticked every time the screen
 * is shown: the service consent, "I am 14 or older" (while
 * cfg->age_required), and, only when the configuration offers one
 * (cfg->marketing_version), the marketing consent. Continue needs the
 * first two; the marketing box never gates anything (PIPL: consent to
 * marketing is not bundled with the service). Nothing is recorded without
 * the service consent and the age (member_signup refuses too). */
#include <string.h>

#include "widget.h"

static const char *pick(ui_app *app, const char *zh, const char *en) {
  return app->lang == UI_LANG_EN && en[0] ? en : zh;
}

static int may_continue(ui_app *app) {
  const sqr_config *cfg = store_config(app->st);
  return app->flow.consented && (app->flow.age_confirmed || (cfg && !cfg->age_required));
}

/* A tick box under the last one (y grows down), ticked again after a
 * relayout when the flow says so. */
static void add_check(ui_app *app, ui_screen *s, const char *name, const char *label, int on,
                      int *y) {
  int u = app->u, w = app->w, font = 5 * u;
  int h = ui_check_height(app, label, w - 12 * u, font);
  ui_widget *c = ui_check_new(name, label, (SDL_Rect){6 * u, *y, w - 12 * u, h}, font);
  ui_screen_add(s, c);
  if(on) ui_check_toggle(c);
  *y += h;
}

static void layout(ui_app *app, ui_screen *s) {
  int u = app->u, w = app->w, h = app->h;
  const sqr_config *cfg = store_config(app->st);
  const char *text = cfg ? pick(app, cfg->consent_zh, cfg->consent_en) : "";
  const char *agree = ui_str(app->lang, S_CONSENT_AGREE);
  const char *age = cfg && cfg->age_required ? pick(app, cfg->age_zh, cfg->age_en) : NULL;
  const char *mkt =
      cfg && cfg->marketing_version[0] ? pick(app, cfg->marketing_zh, cfg->marketing_en) : NULL;
  /* The boxes sit over the buttons; the policy takes what is left. */
  int checks = ui_check_height(app, agree, w - 12 * u, 5 * u);
  if(age) checks += ui_check_height(app, age, w - 12 * u, 5 * u);
  if(mkt) checks += ui_check_height(app, mkt, w - 12 * u, 5 * u);
  int y = h - 25 * u - checks;
  int bw = app->portrait ? (w - 16 * u - 4 * u) / 2 : 40 * u;
  SDL_Rect tv = {6 * u, 14 * u, w - 12 * u - 14 * u, y - 2 * u - 14 * u};
  if(tv.h < 24 * u) tv.h = 24 * u;
  ui_screen_add(s, ui_textview_new("policy", text, tv, 4 * u));
  ui_screen_add(s, ui_button_new("up", "\xE2\x96\xB2",
                                 (SDL_Rect){tv.x + tv.w + 2 * u, tv.y, 12 * u, 12 * u}, 5 * u,
                                 UI_PANEL, UI_FG));
  ui_screen_add(s,
                ui_button_new("down", "\xE2\x96\xBC",
                              (SDL_Rect){tv.x + tv.w + 2 * u, tv.y + tv.h - 12 * u, 12 * u, 12 * u},
                              5 * u, UI_PANEL, UI_FG));
  add_check(app, s, "agree", agree, app->flow.consented, &y);
  if(age) add_check(app, s, "age", age, app->flow.age_confirmed, &y);
  if(mkt) add_check(app, s, "marketing", mkt, app->flow.marketing, &y);
  ui_widget *cont =
      ui_button_new("continue", ui_str(app->lang, S_CONTINUE),
                    (SDL_Rect){w - 8 * u - bw, h - 22 * u, bw, 14 * u}, 6 * u, UI_ACCENT, UI_WHITE);
  cont->disabled = !may_continue(app);
  ui_screen_add(s, cont);
  ui_screen_add(s,
                ui_button_new("back", ui_str(app->lang, S_BACK),
                              (SDL_Rect){8 * u, h - 22 * u, bw, 14 * u}, 6 * u, UI_PANEL, UI_FG));
}

static int drag_y = -1;

/* Where the flow keeps a tick box's value; NULL for other widgets. */
static int *tick_of(ui_app *app, const char *name) {
  return strcmp(name, "agree") == 0       ? &app->flow.consented
         : strcmp(name, "age") == 0       ? &app->flow.age_confirmed
         : strcmp(name, "marketing") == 0 ? &app->flow.marketing
                                          : NULL;
}

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
  else if(tick_of(app, w->name)) {
    ui_check_toggle(w);
    *tick_of(app, w->name) = ui_check_value(w);
    ui_screen_find(s, "continue")->disabled = !may_continue(app);
  } else if(strcmp(w->name, "continue") == 0 && may_continue(app)) {
    next(app);
  } else if(strcmp(w->name, "back") == 0) {
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
  /* Every time the policy is shown, every tick is the shopper's again. */
  app->flow.consented = 0;
  app->flow.age_confirmed = 0;
  app->flow.marketing = 0;
  drag_y = -1;
}

const ui_screen_ops screen_consent_ops = {"consent", enter, layout, event, NULL, draw, NULL, NULL};
