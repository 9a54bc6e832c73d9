/* screen_checkin.c — check-in: phone on the keypad, then member_checkin.
 * Already checked in today and not a member are results, not errors; a
 * failed write is an error screen. */
#include <string.h>

#include "crypto.h"
#include "phone.h"
#include "widget.h"

static void layout(ui_app *app, ui_screen *s) {
  ui_keypad_screen_phone_layout(app, s, ui_str(app->lang, S_CHECKIN));
}

static void submit(ui_app *app) {
  member_result r;
  member_index idx;
  sqr_rc rc = member_checkin(app->st, app->flow.phone, ui_flow_index(app, "check-in", &idx), &r);
  crypto_wipe(&idx, sizeof idx);
  if(rc == SQR_OK || rc == SQR_EEXISTS) {
    app->flow.result = r;
    app->flow.result_kind = rc == SQR_OK ? UI_RESULT_CHECKED_IN : UI_RESULT_ALREADY;
    ui_flow_forget_phone(app);
    ui_go(app, UI_SCREEN_RESULT);
  } else if(rc == SQR_ENOTFOUND) {
    memset(&app->flow.result, 0, sizeof app->flow.result);
    /* The phone (and its index) stays for "join now". */
    app->flow.result_kind = UI_RESULT_NOT_MEMBER;
    ui_go(app, UI_SCREEN_RESULT);
  } else {
    ui_fail(app, "check-in", rc);
  }
}

static void submit_screen(ui_app *app, ui_screen *s) {
  (void)s;
  submit(app);
}

static void event(ui_app *app, ui_screen *s, const ui_input *in) {
  int key = ui_keypad_screen_event(app, s, in, submit_screen);
  if(key) ui_keypad_screen_validate_phone(app, s);
}

static void draw(ui_app *app, ui_screen *s) {
  (void)s;
  ui_keypad_screen_title(app, ui_str(app->lang, S_ENTER_PHONE));
}

static void leave(ui_app *app, ui_screen *s) {
  (void)app;
  ui_keypad_screen_wipe(s);
}

const ui_screen_ops screen_checkin_ops = {"checkin", NULL, layout, event, NULL, draw, leave, NULL};
