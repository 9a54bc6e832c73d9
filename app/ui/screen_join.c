/* screen_join.c — join, step 1: the phone number on the keypad, validated
 * as it is typed (phone_normalize). The first digit starts the slow half
 * of sealing (member_prepare_seals) so the sign-up itself is quick. A
 * number that is already a member is welcomed back without a new record. */
#include <string.h>

#include "crypto.h"
#include "log.h"
#include "phone.h"
#include "widget.h"

static void layout(ui_app *app, ui_screen *s) {
  ui_keypad_screen_phone_layout(app, s, ui_str(app->lang, S_OK));
}

static void submit(ui_app *app) {
  member_result r;
  member_index idx;
  sqr_rc rc = member_lookup(app->st, app->flow.phone, ui_flow_index(app, "join lookup", &idx), &r);
  crypto_wipe(&idx, sizeof idx);
  if(rc == SQR_OK) {
    app->flow.result = r;
    app->flow.result_kind = UI_RESULT_WELCOME_BACK;
    ui_flow_forget_phone(app);
    ui_go(app, UI_SCREEN_RESULT);
  } else if(rc == SQR_ENOTFOUND) {
    ui_go(app, UI_SCREEN_CONSENT); /* the index stays for the sign-up */
  } else {
    ui_fail(app, "member lookup", rc);
  }
}

static void submit_screen(ui_app *app, ui_screen *s) {
  (void)s;
  submit(app);
}

static void event(ui_app *app, ui_screen *s, const ui_input *in) {
  int key = ui_keypad_screen_event(app, s, in, submit_screen);
  if(key >= '0' && key <= '9' && !app->flow.seals_prepared) {
    /* The ECDH half of sealing does not depend on the number: do it while
     * the shopper types. A failure here only makes the sign-up slower. */
    app->flow.seals_prepared = 1;
    sqr_rc rc = member_prepare_seals(app->st, 1);
    if(rc) log_warn("ui", "preparing a seal: %s", sqr_strerror(rc));
  }
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

const ui_screen_ops screen_join_ops = {"join", NULL, layout, event, NULL, draw, leave, NULL};
