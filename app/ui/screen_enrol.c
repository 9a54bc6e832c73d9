/* screen_enrol.c — first boot. A kiosk with neither a configuration nor a
 * certificate (kiosk.crt beside the database, as storeqr-sync enroll
 * leaves it) shows this instead of the live code: the shop types the
 * one-time code HQ issued (16 Base32 characters, XXXX-XXXX-XXXX-XXXX) on
 * an on-screen keyboard, and the kiosk runs
 *   storeqr-sync enroll --db DB --hq URL --code CODE --ca HQ-CA
 * as a helper process (child.c): the key is made on the box, the CSR goes
 * to HQ, the certificate and HQ's configuration come back. The screen
 * shows progress while it runs and never waits on it. Success: the live
 * code. A wrong, used or expired code, or no way to HQ: a sentence that
 * says which (with HQ's own words under it) and "try again".
 *
 * HQ's address comes from --hq-url / $STOREQR_HQ_URL (/etc/storeqr/
 * kiosk.env); without one, the shop types it first (host[:port], https
 * implied). HQ's CA certificate must be on the box (--hq-ca /
 * $STOREQR_HQ_CA, default /etc/storeqr/hq-ca.crt): without it there is
 * nothing to trust HQ by, and the screen says what to install.
 *
 * Owns the code while it is typed (it is a one-time secret: wiped after
 * use, never logged). Writes nothing itself: storeqr-sync does.
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"
#include "text.h"
#include "widget.h"

/* storeqr-sync itself gives up after 10 s to connect and 120 s in all;
 * this only catches a helper that hangs beyond that. */
#define ENROL_TIMEOUT_MS 180000
/* Someone may enrol the kiosk from a terminal meanwhile. */
#define ENROL_LOOK_MS  5000
#define ENROL_CODE_LEN 16
#define ENROL_URL_MAX  64

/* RFC 4648 Base32, the alphabet of HQ's codes (no 0, 1, 8, 9: nothing to
 * confuse with O, I, B, g). An address: host names, IPv4, a port. */
static const char code_keys[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char url_keys[] = "abcdefghijklmnopqrstuvwxyz0123456789.-:";

typedef enum { E_URL, E_CODE, E_RUNNING, E_FAILED, E_NOCA, E_NOSYNC } enrol_step;
typedef enum {
  F_NONE,
  F_UNKNOWN,
  F_USED,
  F_EXPIRED,
  F_REFUSED,
  F_NETWORK,
  F_TIMEOUT,
  F_OTHER
} enrol_fail;

static struct {
  int init;
  enrol_step step;
  char url[ENROL_URL_MAX + 16];      /* https://host[:port] in use; "" until known */
  char typed_url[ENROL_URL_MAX + 1]; /* the address as typed */
  char code[ENROL_CODE_LEN + 1];     /* kept for "try again" after a network failure */
  enrol_fail fail;
  char detail[400]; /* what storeqr-sync said (HQ's message) */
  int64_t look_at;  /* monotonic ms of the next look for a configuration */
  int64_t shown_s;  /* elapsed seconds drawn while running */
  char state[48];
} E;

static void cert_path(const ui_app *app, char *out, size_t n) {
  char copy[PATH_MAX];
  snprintf(copy, sizeof copy, "%s", app->db_path);
  /* Where storeqr-sync enroll puts it (syncpass_paths_for). */
  snprintf(out, n, "%s/kiosk.crt", dirname(copy));
}

int ui_enrol_needed(ui_app *app) {
  if(store_config(app->st)) return 0;
  char crt[PATH_MAX + 16];
  cert_path(app, crt, sizeof crt);
  return access(crt, F_OK) != 0;
}

/* host[:port], host made of letters, digits, '-' and '.' without empty
 * labels; port 1..65535. */
static int url_ok(const char *t) {
  const char *colon = strchr(t, ':');
  size_t hl = colon ? (size_t)(colon - t) : strlen(t);
  if(hl == 0 || t[0] == '.' || t[0] == '-' || t[hl - 1] == '.' || t[hl - 1] == '-') return 0;
  for(size_t i = 1; i < hl; i++)
    if(t[i] == '.' && t[i - 1] == '.') return 0;
  if(!colon) return 1;
  const char *p = colon + 1;
  if(!*p || strlen(p) > 5) return 0;
  for(const char *q = p; *q; q++)
    if(*q < '0' || *q > '9') return 0;
  long port = strtol(p, NULL, 10);
  return port >= 1 && port <= 65535;
}

/* The step to be in when nothing is running or failed. */
static enrol_step typing_step(void) {
  return E.url[0] ? E_CODE : E_URL;
}

static void look_for_ca(ui_app *app) {
  int have = app->hq_ca && access(app->hq_ca, R_OK) == 0;
  if(!have && E.step != E_NOCA) {
    log_warn("ui", "enrolment: HQ's CA certificate %s cannot be read",
             app->hq_ca ? app->hq_ca : "(none)");
    E.step = E_NOCA;
  } else if(have && E.step == E_NOCA) {
    E.step = typing_step();
  }
}

static void enter(ui_app *app, ui_screen *s) {
  (void)s;
  if(E.init) return; /* a language switch comes back here: keep what was typed */
  memset(&E, 0, sizeof E);
  E.init = 1;
  if(app->hq_url) {
    /* https is implied, as on the keyboard. */
    snprintf(E.url, sizeof E.url, "%s%s", strstr(app->hq_url, "://") ? "" : "https://",
             app->hq_url);
  }
  E.step = typing_step();
  look_for_ca(app);
  E.look_at = ui_now_mono(app) + ENROL_LOOK_MS;
}

/* The "lang" button: where it does not cover a title or a key. */
static SDL_Rect lang_rect(ui_app *app, ui_screen *s) {
  int u = app->u;
  ui_widget *ok = ui_screen_find(s, "ok"), *back = ui_screen_find(s, "back");
  if(ok && back && app->portrait)
    return (SDL_Rect){app->w / 2 - 12 * u, ok->r.y + ok->r.h + 5 * u, 24 * u, 8 * u};
  if(ok && back) {
    int y0 = ok->r.y + ok->r.h, y1 = back->r.y;
    return (SDL_Rect){ok->r.x, (y0 + y1) / 2 - 4 * u, ok->r.w, 8 * u};
  }
  return (SDL_Rect){app->w - 22 * u, 2 * u, 19 * u, 8 * u};
}

static void validate(ui_app *app, ui_screen *s) {
  ui_widget *pad = ui_screen_find(s, "keypad"), *ok = ui_screen_find(s, "ok");
  if(!pad || !ok) return;
  const char *t = ui_keypad_digits(pad);
  char hint[ENROL_URL_MAX + 64];
  if(E.step == E_URL) {
    snprintf(E.typed_url, sizeof E.typed_url, "%s", t);
    ok->disabled = !url_ok(t);
    ui_keypad_set_hint(pad, ui_str(app->lang, S_ENROL_URL_HINT), UI_MUTED);
  } else {
    snprintf(E.code, sizeof E.code, "%s", t);
    ok->disabled = strlen(t) != ENROL_CODE_LEN;
    ui_strf(hint, sizeof hint, app->lang, S_ENROL_HQ, E.url);
    ui_keypad_set_hint(pad, hint, UI_MUTED);
  }
}

static void layout(ui_app *app, ui_screen *s) {
  int u = app->u;
  if(E.step == E_URL || E.step == E_CODE) {
    ui_widget *pad;
    if(E.step == E_URL) {
      /* "Back" to the code only when there is an address to go back to. */
      pad = ui_layout_keyboard_screen(app, s, url_keys, ENROL_URL_MAX, UI_KEYPAD_GROUP_NONE,
                                      E.url[0] ? ui_str(app->lang, S_BACK) : NULL,
                                      ui_str(app->lang, S_NEXT));
      ui_keypad_set(pad, E.typed_url);
    } else {
      /* A configured address is not the shop's to change. */
      pad = ui_layout_keyboard_screen(app, s, code_keys, ENROL_CODE_LEN, 4,
                                      app->hq_url ? NULL : ui_str(app->lang, S_ENROL_CHANGE_HQ),
                                      ui_str(app->lang, S_ENROL_OK));
      ui_keypad_set(pad, E.code);
    }
    validate(app, s);
  } else if(E.step == E_FAILED) {
    int bw = app->portrait ? (app->w - 20 * u) / 2 : 50 * u, y = app->h - 24 * u;
    ui_screen_add(s, ui_button_new("retry", ui_str(app->lang, S_ENROL_RETRY),
                                   (SDL_Rect){app->w - 8 * u - bw, y, bw, 14 * u}, 6 * u, UI_ACCENT,
                                   UI_WHITE));
    if(!app->hq_url)
      ui_screen_add(s, ui_button_new("hq", ui_str(app->lang, S_ENROL_CHANGE_HQ),
                                     (SDL_Rect){8 * u, y, bw, 14 * u}, 5 * u, UI_PANEL, UI_FG));
  }
  ui_screen_add(s, ui_button_new("lang", ui_str(app->lang, S_LANG_OTHER), lang_rect(app, s), 4 * u,
                                 UI_PANEL, UI_FG));
}

static void fail_with(enrol_fail f, const char *detail) {
  E.fail = f;
  snprintf(E.detail, sizeof E.detail, "%s", detail ? detail : "");
  E.step = E_FAILED;
}

static void start(ui_app *app) {
  char prog[PATH_MAX], code[ENROL_CODE_LEN + 4];
  if(!ui_child_find_sync(prog, sizeof prog)) {
    log_error("ui", "enrolment: storeqr-sync not found (beside the kiosk or on PATH)");
    E.step = E_NOSYNC;
    ui_relayout(app);
    return;
  }
  /* As HQ prints it; HQ ignores the dashes. */
  snprintf(code, sizeof code, "%.4s-%.4s-%.4s-%.4s", E.code, E.code + 4, E.code + 8, E.code + 12);
  char *argv[] = {prog,     "enroll", "--db", (char *)app->db_path, "--hq", E.url,
                  "--code", code,     "--ca", (char *)app->hq_ca,   NULL};
  sqr_rc rc = ui_child_start(app, UI_CHILD_ENROL, argv, ENROL_TIMEOUT_MS, ui_real_mono_ms());
  crypto_wipe(code, sizeof code);
  if(rc) {
    char line[300];
    fail_with(F_OTHER, ui_child_last_line(app, line, sizeof line));
    ui_child_release(app);
  } else {
    log_info("ui", "enrolment: asking %s", E.url);
    E.step = E_RUNNING;
    E.shown_s = 0;
  }
  ui_relayout(app);
}

/* The helper ended: enrolled (go to the live code), or why not. */
static void finished(ui_app *app) {
  const ui_child *c = &app->child;
  char line[400];
  ui_child_last_line(app, line, sizeof line);
  /* "storeqr-sync: enrol: HQ refused the enrolment: 403 code_used: ..." */
  const char *d = strstr(line, "enrol: ");
  d = d ? d + 7 : line;
  if(store_reload_config(app->st) != SQR_OK)
    log_warn("ui", "enrolment: reading the configuration failed");
  if(!ui_enrol_needed(app)) {
    /* A certificate without a configuration (HQ's was refused) still
     * counts: the live screen says so and sync fetches it again. */
    log_info("ui", "enrolled%s; showing the live code", c->exit_code ? " (with a warning)" : "");
    ui_child_release(app);
    crypto_wipe(&E, sizeof E);
    ui_go(app, UI_SCREEN_LIVE);
    return;
  }
  enrol_fail f = c->timed_out                       ? F_TIMEOUT
                 : strstr(c->out, "code_unknown")   ? F_UNKNOWN
                 : strstr(c->out, "code_used")      ? F_USED
                 : strstr(c->out, "code_expired")   ? F_EXPIRED
                 : c->exit_code == SQR_EXIT_NET     ? F_NETWORK
                 : c->exit_code == SQR_EXIT_REFUSED ? F_REFUSED
                                                    : F_OTHER;
  log_warn("ui", "enrolment failed (exit %d): %s", c->exit_code, d);
  fail_with(f, d);
  /* A code HQ will not take again is of no more use; after a network
   * failure the same code is kept for "try again". */
  if(f == F_UNKNOWN || f == F_USED || f == F_EXPIRED) crypto_wipe(E.code, sizeof E.code);
  ui_child_release(app);
  ui_relayout(app);
}

static void submit(ui_app *app, ui_screen *s) {
  ui_widget *ok = ui_screen_find(s, "ok");
  if(!ok || ok->disabled || ok->hidden) return;
  if(E.step == E_URL) {
    snprintf(E.url, sizeof E.url, "https://%s", E.typed_url);
    E.step = E_CODE;
    ui_relayout(app);
  } else if(E.step == E_CODE) {
    start(app);
  }
}

static void event(ui_app *app, ui_screen *s, const ui_input *in) {
  ui_widget *pad = ui_screen_find(s, "keypad");
  int key = 0;
  if(in->kind == UI_KEY) {
    key = ui_key_to_pad(in->key);
    if(key == UI_PAD_ENTER) {
      if(E.step == E_FAILED) {
        E.step = typing_step();
        ui_relayout(app);
      } else
        submit(app, s);
      return;
    }
    if(key == UI_PAD_ESC) return; /* nowhere to go back to */
    if(pad && key && !ui_keypad_key(pad, key)) key = 0;
  } else if(in->kind == UI_RELEASE) {
    ui_widget *w = ui_screen_hit(s, in->x, in->y);
    if(!w) return;
    if(w == pad) {
      key = ui_keypad_tap(pad, in->x, in->y);
    } else if(strcmp(w->name, "ok") == 0) {
      submit(app, s);
      return;
    } else if(strcmp(w->name, "back") == 0) {
      /* URL step: back to the code; code step: "HQ address". */
      E.step = E.step == E_URL ? E_CODE : E_URL;
      ui_relayout(app);
      return;
    } else if(strcmp(w->name, "retry") == 0) {
      E.step = typing_step();
      ui_relayout(app);
      return;
    } else if(strcmp(w->name, "hq") == 0) {
      E.step = E_URL;
      ui_relayout(app);
      return;
    } else if(strcmp(w->name, "lang") == 0) {
      app->lang = app->lang == UI_LANG_ZH ? UI_LANG_EN : UI_LANG_ZH;
      ui_relayout(app);
      return;
    }
  }
  if(key && pad) validate(app, s);
}

static int64_t tick(ui_app *app, ui_screen *s, int64_t mono) {
  (void)s;
  if(E.step == E_RUNNING) {
    if(app->child.kind == UI_CHILD_ENROL && app->child.ended) {
      finished(app);
      return mono;
    }
    /* The seconds line, in real time: the helper runs in real time even
     * under a test clock. The loop polls the helper every 100 ms. */
    int64_t el = (ui_real_mono_ms() - app->child.started_ms) / 1000;
    if(el != E.shown_s) {
      E.shown_s = el;
      app->dirty = 1;
    }
    return INT64_MAX;
  }
  if(mono >= E.look_at) {
    E.look_at = mono + ENROL_LOOK_MS;
    enrol_step before = E.step;
    look_for_ca(app);
    if(E.step != before) ui_relayout(app);
    if(store_reload_config(app->st) == SQR_OK && !ui_enrol_needed(app)) {
      log_info("ui", "enrolled from elsewhere; showing the live code");
      crypto_wipe(&E, sizeof E);
      ui_go(app, UI_SCREEN_LIVE);
      return mono;
    }
  }
  return E.look_at;
}

/* Where the next sentence goes. */
typedef struct wrap_ctx {
  ui_app *app;
  int y;
} wrap_ctx;
static void say(wrap_ctx *wc, const char *text, int size, ui_color c) {
  wc->y = ui_say(wc->app, text, size, c, wc->y, wc->app->w - 16 * wc->app->u) + size;
}

static void draw(ui_app *app, ui_screen *s) {
  (void)s;
  int u = app->u;
  char buf[600];
  if(E.step == E_URL || E.step == E_CODE) {
    ui_keypad_screen_title(
        app, ui_str(app->lang, E.step == E_URL ? S_ENROL_URL_TITLE : S_ENROL_CODE_TITLE));
    return;
  }
  wrap_ctx wc = {app, app->portrait ? 40 * u : 16 * u};
  switch(E.step) {
  case E_RUNNING:
    say(&wc, ui_str(app->lang, S_ENROL_RUNNING), 7 * u, UI_FG);
    ui_strf(buf, sizeof buf, app->lang, S_ENROL_WAIT, (int)E.shown_s);
    say(&wc, buf, 4 * u, UI_MUTED);
    ui_strf(buf, sizeof buf, app->lang, S_ENROL_HQ, E.url);
    say(&wc, buf, 3 * u, UI_MUTED);
    break;
  case E_FAILED: {
    static const ui_str_id title[] = {
        [F_NONE] = S_ENROL_FAILED,     [F_UNKNOWN] = S_ENROL_UNKNOWN, [F_USED] = S_ENROL_USED,
        [F_EXPIRED] = S_ENROL_EXPIRED, [F_REFUSED] = S_ENROL_REFUSED, [F_NETWORK] = S_ENROL_NETWORK,
        [F_TIMEOUT] = S_ENROL_TIMEOUT, [F_OTHER] = S_ENROL_FAILED};
    say(&wc, ui_str(app->lang, title[E.fail]), 6 * u, UI_WARN);
    /* HQ's (or the helper's) own sentence, for whoever reads it to HQ. */
    if(E.detail[0]) say(&wc, E.detail, 3 * u, UI_MUTED);
    ui_strf(buf, sizeof buf, app->lang, S_ENROL_HQ, E.url);
    say(&wc, buf, 3 * u, UI_MUTED);
    break;
  }
  case E_NOCA:
    say(&wc, ui_str(app->lang, S_ENROL_NOCA), 6 * u, UI_WARN);
    ui_strf(buf, sizeof buf, app->lang, S_ENROL_NOCA_HINT, app->hq_ca ? app->hq_ca : "");
    say(&wc, buf, 4 * u, UI_FG);
    break;
  case E_NOSYNC:
    say(&wc, ui_str(app->lang, S_ENROL_NOSYNC), 6 * u, UI_WARN);
    break;
  default:
    break;
  }
}

static const char *state(ui_app *app, ui_screen *s) {
  (void)app;
  (void)s;
  static const char *const fails[] = {"",        "code_unknown", "code_used", "code_expired",
                                      "refused", "network",      "timeout",   "other"};
  switch(E.step) {
  case E_URL:
    return "url";
  case E_CODE:
    return "code";
  case E_RUNNING:
    return "running";
  case E_NOCA:
    return "noca";
  case E_NOSYNC:
    return "nosync";
  case E_FAILED:
    snprintf(E.state, sizeof E.state, "failed:%s", fails[E.fail]);
    return E.state;
  }
  return "";
}

const ui_screen_ops screen_enrol_ops = {"enrol", enter, layout, event, tick, draw, NULL, state};
