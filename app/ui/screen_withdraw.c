/* screen_withdraw.c — stopping marketing messages, step 1: the phone on
 * the keypad, validated and its blind index derived ahead as on the
 * check-in screen (layout.c, prefetch.h). "Next" asks for confirmation
 * (screen_withdraw_confirm.c); nothing is written here. Offered from the
 * live screen only while the configuration has a marketing consent. */
#include "widget.h"

static void layout(ui_app *app, ui_screen *s) {
  ui_keypad_screen_phone_layout(app, s, ui_str(app->lang, S_NEXT));
}

static void submit(ui_app *app, ui_screen *s) {
  (void)s;
  ui_go(app, UI_SCREEN_WITHDRAW_CONFIRM); /* the number and its index stay in the flow */
}

static void event(ui_app *app, ui_screen *s, const ui_input *in) {
  int key = ui_keypad_screen_event(app, s, in, submit);
  if(key) ui_keypad_screen_validate_phone(app, s);
}

static void draw(ui_app *app, ui_screen *s) {
  (void)s;
  ui_keypad_screen_title(app, ui_str(app->lang, S_WITHDRAW_TITLE));
}

static void leave(ui_app *app, ui_screen *s) {
  (void)app;
  ui_keypad_screen_wipe(s);
}

const ui_screen_ops screen_withdraw_ops = {"withdraw", NULL, layout, event,
                                           NULL,       draw, leave,  NULL};
