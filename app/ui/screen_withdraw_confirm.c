/* screen_withdraw_confirm.c — stopping marketing messages, step 2: what
 * will happen, and the shopper's confirmation. "Stop them" (or return)
 * calls ui_flow_withdraw; "back" returns to the keypad with the digits;
 * escape to the live code. The number is not shown. */
#include <string.h>

#include "widget.h"

static void layout(ui_app *app, ui_screen *s) {
  int u = app->u, w = app->w, h = app->h;
  int bw = app->portrait ? (w - 16 * u - 4 * u) / 2 : 40 * u;
  ui_screen_add(s, ui_button_new("confirm", ui_str(app->lang, S_WITHDRAW_OK),
                                 (SDL_Rect){w - 8 * u - bw, h - 22 * u, bw, 14 * u}, 6 * u,
                                 UI_ACCENT, UI_WHITE));
  ui_screen_add(s,
                ui_button_new("back", ui_str(app->lang, S_BACK),
                              (SDL_Rect){8 * u, h - 22 * u, bw, 14 * u}, 6 * u, UI_PANEL, UI_FG));
}

static void event(ui_app *app, ui_screen *s, const ui_input *in) {
  if(in->kind == UI_KEY) {
    if(in->key == SDLK_ESCAPE)
      ui_go(app, UI_SCREEN_LIVE);
    else if(in->key == SDLK_RETURN)
      ui_flow_withdraw(app);
    return;
  }
  if(in->kind != UI_RELEASE) return;
  ui_widget *w = ui_screen_hit(s, in->x, in->y);
  if(!w) return;
  if(strcmp(w->name, "confirm") == 0)
    ui_flow_withdraw(app);
  else if(strcmp(w->name, "back") == 0)
    ui_go(app, UI_SCREEN_WITHDRAW);
}

static void draw(ui_app *app, ui_screen *s) {
  (void)s;
  int u = app->u;
  ui_label(app, ui_str(app->lang, S_WITHDRAW_CONFIRM_TITLE), 7 * u, UI_FG, app->w / 2, 14 * u,
           UI_CENTER);
  ui_say(app, ui_str(app->lang, S_WITHDRAW_CONFIRM_HINT), 5 * u, UI_FG, 30 * u, app->w - 16 * u);
}

const ui_screen_ops screen_withdraw_confirm_ops = {
    "withdraw_confirm", NULL, layout, event, NULL, draw, NULL, NULL};
