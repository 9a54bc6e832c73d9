/* screen_error.c — a write failed: say so, say nothing was saved, and go
 * back to the live code. Never shows "done". */
#include "widget.h"

static void layout(ui_app *app, ui_screen *s) {
  ui_layout_back_button(app, s, UI_PANEL, UI_FG);
}

static void event(ui_app *app, ui_screen *s, const ui_input *in) {
  ui_back_event(app, s, in);
}

static void draw(ui_app *app, ui_screen *s) {
  (void)s;
  int u = app->u;
  ui_label(app, ui_str(app->lang, S_ERROR_TITLE), 7 * u, UI_WARN, app->w / 2, 20 * u, UI_CENTER);
  ui_label(app, ui_str(app->lang, S_ERROR_HINT), 5 * u, UI_FG, app->w / 2, 32 * u, UI_CENTER);
  /* The technical line is for staff; it never holds a phone number. */
  ui_label(app, app->flow.error, 3 * u, UI_MUTED, app->w / 2, 42 * u, UI_CENTER);
}

const ui_screen_ops screen_error_ops = {"error", NULL, layout, event, NULL, draw, NULL, NULL};
