/* screen_checkin.c — check-in: phone on the keypad, then member_checkin.
 * Already checked in today and not a member are results, not errors; a
 * failed write is an error screen. */
#include <string.h>

#include "crypto.h"
#include "phone.h"
#include "widget.h"

static void validate(ui_app *app, ui_screen *s) {
  ui_widget *pad = ui_screen_find(s, "keypad");
  const char *d = ui_keypad_digits(pad);
  char norm[PHONE_LEN + 1];
  int valid = phone_normalize(d, norm, NULL) == SQR_OK;
  crypto_wipe(norm, sizeof norm);
  ui_screen_find(s, "ok")->disabled = !valid;
  if(!d[0]) ui_keypad_set_hint(pad, "", UI_MUTED);
  else ui_keypad_set_hint(pad, ui_str(app->lang, valid ? S_PHONE_OK : S_PHONE_BAD),
                          valid ? UI_OK : UI_WARN);
  snprintf(app->flow.phone, sizeof app->flow.phone, "%s", d);
}

static void layout(ui_app *app, ui_screen *s) {
  ui_widget *pad = ui_layout_keypad_screen(app, s, 11, 0, ui_str(app->lang, S_CHECKIN));
  ui_keypad_set(pad, app->flow.phone);
  validate(app, s);
}

static void submit(ui_app *app) {
  member_result r;
  sqr_rc rc = member_checkin(app->st, app->flow.phone, &r);
  if(rc == SQR_OK || rc == SQR_EEXISTS) {
    app->flow.result = r;
    app->flow.result_kind = rc == SQR_OK ? UI_RESULT_CHECKED_IN : UI_RESULT_ALREADY;
    crypto_wipe(app->flow.phone, sizeof app->flow.phone);
    ui_go(app, UI_SCREEN_RESULT);
  } else if(rc == SQR_ENOTFOUND) {
    memset(&app->flow.result, 0, sizeof app->flow.result);
    app->flow.result_kind = UI_RESULT_NOT_MEMBER; /* the phone stays for "join now" */
    ui_go(app, UI_SCREEN_RESULT);
  } else {
    ui_fail(app, "check-in", rc);
  }
}

static void event(ui_app *app, ui_screen *s, const ui_input *in) {
  ui_widget *pad = ui_screen_find(s, "keypad");
  int key = 0;
  if(in->kind == UI_KEY) {
    key = ui_key_to_pad(in->key);
    if(key == 'R') {
      if(!ui_screen_find(s, "ok")->disabled) submit(app);
      return;
    }
    if(key == 'E') {
      ui_go(app, UI_SCREEN_LIVE);
      return;
    }
    if(key) ui_keypad_key(pad, key);
  } else if(in->kind == UI_RELEASE) {
    ui_widget *w = ui_screen_hit(s, in->x, in->y);
    if(!w) return;
    if(w == pad) key = ui_keypad_tap(pad, in->x, in->y);
    else if(strcmp(w->name, "back") == 0) {
      ui_go(app, UI_SCREEN_LIVE);
      return;
    } else if(strcmp(w->name, "ok") == 0) {
      submit(app);
      return;
    }
  }
  if(key) validate(app, s);
}

static void draw(ui_app *app, ui_screen *s) {
  (void)s;
  int x, y;
  ui_layout_title_pos(app, &x, &y);
  ui_label(app, ui_str(app->lang, S_ENTER_PHONE), 6 * app->u, UI_FG, x, y, UI_CENTER);
}

static void leave(ui_app *app, ui_screen *s) {
  (void)app;
  ui_widget *pad = ui_screen_find(s, "keypad");
  if(pad) pad->ops->wipe(pad);
}

const ui_screen_ops screen_checkin_ops = {"checkin", NULL, layout, event, NULL, draw, leave};
