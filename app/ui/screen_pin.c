/* screen_pin.c — the manager PIN (PBKDF2 hash in config, pin.h). After
 * UI_PIN_MAX_FAILURES wrong PINs the screen locks for UI_PIN_LOCK_MS; the
 * count and the lock live in the app, so leaving and coming back does not
 * reset them (a restart does: the lock is against guessing at the screen). */
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "log.h"
#include "pin.h"
#include "widget.h"

#define UI_PIN_MAX_FAILURES 5
#define UI_PIN_LOCK_MS      (5 * 60 * 1000)

static char msg[160];

static int locked(ui_app *app) {
  return app->pin_locked_until_ms && ui_now_mono(app) < app->pin_locked_until_ms;
}

static void update(ui_app *app, ui_screen *s) {
  ui_widget *pad = ui_screen_find(s, "keypad");
  ui_widget *ok = ui_screen_find(s, "ok");
  int lk = locked(app);
  pad->disabled = lk;
  ok->disabled = lk || !ui_keypad_digits(pad)[0];
  if(lk) {
    int mins = (int)((app->pin_locked_until_ms - ui_now_mono(app) + 59999) / 60000);
    ui_strf(msg, sizeof msg, app->lang, S_PIN_LOCKED, mins);
  }
  ui_keypad_set_hint(pad, msg, UI_WARN);
}

static void enter(ui_app *app, ui_screen *s) {
  (void)s;
  msg[0] = '\0';
  const sqr_config *cfg = store_config(app->st);
  if(!cfg || !cfg->manager_pin_hash[0])
    snprintf(msg, sizeof msg, "%s", ui_str(app->lang, S_PIN_NONE));
}

static void layout(ui_app *app, ui_screen *s) {
  ui_layout_keypad_screen(app, s, 12, 1, ui_str(app->lang, S_OK));
  update(app, s);
}

static void submit(ui_app *app, ui_screen *s) {
  ui_widget *pad = ui_screen_find(s, "keypad");
  if(locked(app)) return;
  const sqr_config *cfg = store_config(app->st);
  sqr_rc rc = pin_verify(cfg ? cfg->manager_pin_hash : "", ui_keypad_digits(pad));
  pad->ops->wipe(pad);
  if(rc == SQR_OK) {
    app->pin_failures = 0;
    app->pin_locked_until_ms = 0;
    ui_go(app, UI_SCREEN_MANAGER);
    return;
  }
  if(rc == SQR_EINVAL) {
    snprintf(msg, sizeof msg, "%s", ui_str(app->lang, S_PIN_NONE));
  } else {
    app->pin_failures++;
    log_warn("ui", "wrong manager PIN (%d in a row)", app->pin_failures);
    if(app->pin_failures >= UI_PIN_MAX_FAILURES) {
      app->pin_locked_until_ms = ui_now_mono(app) + UI_PIN_LOCK_MS;
      app->pin_failures = 0;
    } else {
      ui_strf(msg, sizeof msg, app->lang, S_PIN_WRONG, UI_PIN_MAX_FAILURES - app->pin_failures);
    }
  }
  update(app, s);
}

static void event(ui_app *app, ui_screen *s, const ui_input *in) {
  ui_widget *pad = ui_screen_find(s, "keypad");
  int key = 0;
  if(in->kind == UI_KEY) {
    key = ui_key_to_pad(in->key);
    if(key == UI_PAD_ENTER)
      submit(app, s);
    else if(key == UI_PAD_ESC)
      ui_go(app, UI_SCREEN_LIVE);
    else if(key && !locked(app))
      ui_keypad_key(pad, key);
    if(key == UI_PAD_ENTER || key == UI_PAD_ESC) return;
  } else if(in->kind == UI_RELEASE) {
    ui_widget *w = ui_screen_hit(s, in->x, in->y);
    if(!w) return;
    if(w == pad)
      key = ui_keypad_tap(pad, in->x, in->y);
    else if(strcmp(w->name, "back") == 0) {
      ui_go(app, UI_SCREEN_LIVE);
      return;
    } else if(strcmp(w->name, "ok") == 0) {
      submit(app, s);
      return;
    }
  }
  if(key) update(app, s);
}

static int64_t tick(ui_app *app, ui_screen *s, int64_t mono) {
  if(!app->pin_locked_until_ms) return INT64_MAX;
  if(mono >= app->pin_locked_until_ms) {
    app->pin_locked_until_ms = 0;
    msg[0] = '\0';
    update(app, s);
    app->dirty = 1;
    return INT64_MAX;
  }
  return app->pin_locked_until_ms;
}

static void draw(ui_app *app, ui_screen *s) {
  (void)s;
  ui_keypad_screen_title(app, ui_str(app->lang, S_PIN_TITLE));
}

static void leave(ui_app *app, ui_screen *s) {
  (void)app;
  ui_keypad_screen_wipe(s);
}

const ui_screen_ops screen_pin_ops = {"pin", enter, layout, event, tick, draw, leave, NULL};
