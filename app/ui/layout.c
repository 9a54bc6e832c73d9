/* layout.c — the layout keypad screens share (join, check-in, PIN), for
 * portrait and landscape alike, derived from the window size. */
#include "text.h"
#include "widget.h"
#include "crypto.h"
#include "phone.h"

#include <stdio.h>
#include <string.h>

void ui_layout_title_pos(ui_app *app, int *x, int *y) {
  *x = app->w / 2;
  *y = app->portrait ? 8 * app->u : 4 * app->u;
}

/* Where a keypad screen's pad, "back" and "ok" go. wide: a keyboard of
 * many keys rather than the 3x4 pad. */
static void keypad_screen_rects(ui_app *app, int wide, SDL_Rect *kp, SDL_Rect *back, SDL_Rect *ok) {
  int u = app->u, w = app->w, h = app->h;
  if(app->portrait) {
    int kw = w - 16 * u, kh = wide ? kw : kw * 5 / 4;
    if(kh > h - 50 * u) kh = h - 50 * u;
    *kp = (SDL_Rect){8 * u, 20 * u, kw, kh};
    int by = kp->y + kh + 5 * u, bw = (kw - 4 * u) / 2;
    *back = (SDL_Rect){8 * u, by, bw, 13 * u};
    *ok = (SDL_Rect){8 * u + bw + 4 * u, by, bw, 13 * u};
  } else {
    int kh = h - 16 * u, kw = wide ? kh * 3 / 2 : kh * 4 / 5;
    int bw0 = 50 * u;
    if(kw > w - bw0 - 22 * u) kw = w - bw0 - 22 * u;
    kp->x = wide ? 8 * u : (w - kw) / 2 - 20 * u;
    *kp = (SDL_Rect){kp->x, 12 * u, kw, kh};
    int bx = kp->x + kw + 6 * u, bw = w - bx - 8 * u;
    if(bw > bw0) bw = bw0;
    *ok = (SDL_Rect){bx, kp->y + kh / 5, bw, 15 * u};
    *back = (SDL_Rect){bx, kp->y + kh - 15 * u, bw, 15 * u};
  }
}

ui_widget *ui_layout_keypad_screen(ui_app *app, ui_screen *s, int maxlen, int mask,
                                   const char *ok_label) {
  int u = app->u;
  SDL_Rect kp, back, ok;
  keypad_screen_rects(app, 0, &kp, &back, &ok);
  ui_widget *pad = ui_keypad_new("keypad", kp, maxlen, mask, 8 * u);
  ui_screen_add(s, pad);
  ui_screen_add(s, ui_button_new("back", ui_str(app->lang, S_BACK), back, 6 * u, UI_PANEL, UI_FG));
  ui_screen_add(s, ui_button_new("ok", ok_label, ok, 6 * u, UI_ACCENT, UI_WHITE));
  return pad;
}

ui_widget *ui_layout_keyboard_screen(ui_app *app, ui_screen *s, const char *keys, int maxlen,
                                     int group, const char *back_label, const char *ok_label) {
  int u = app->u;
  SDL_Rect kp, back, ok;
  keypad_screen_rects(app, 1, &kp, &back, &ok);
  /* Keys about square: more columns on a wide pad. */
  int n = (int)strlen(keys) + 2, cols = 1;
  while(cols < n && (n + cols - 1) / cols * kp.w > (cols * kp.h * 5) / 6)
    cols++;
  ui_widget *pad = ui_keyboard_new("keypad", kp, keys, cols, maxlen, group, 5 * u);
  ui_keypad_set_labels(pad, NULL, ui_str(app->lang, S_CLEAR));
  ui_screen_add(s, pad);
  ui_widget *b = ui_button_new("back", back_label ? back_label : "", back, 5 * u, UI_PANEL, UI_FG);
  b->hidden = !back_label;
  ui_screen_add(s, b);
  ui_screen_add(s, ui_button_new("ok", ok_label, ok, 6 * u, UI_ACCENT, UI_WHITE));
  return pad;
}

int ui_key_to_pad(int k) {
  if((k >= '0' && k <= '9') || (k >= 'a' && k <= 'z') || k == '.' || k == '-' || k == ':') return k;
  if(k == SDLK_BACKSPACE || k == SDLK_DELETE) return UI_PAD_DEL;
  if(k == SDLK_RETURN) return UI_PAD_ENTER;
  if(k == SDLK_ESCAPE) return UI_PAD_ESC;
  return 0;
}

int ui_keypad_screen_event(ui_app *app, ui_screen *s, const ui_input *in,
                           void (*submit)(ui_app *app, ui_screen *s)) {
  ui_widget *pad = ui_screen_find(s, "keypad");
  if(in->kind == UI_KEY) {
    int key = ui_key_to_pad(in->key);
    if(key == UI_PAD_ENTER) {
      ui_widget *ok = ui_screen_find(s, "ok");
      if(ok && !ok->disabled && !ok->hidden) submit(app, s);
      return 0;
    }
    if(key == UI_PAD_ESC) {
      ui_go(app, UI_SCREEN_LIVE);
      return 0;
    }
    /* A key this pad does not have (a letter on the phone pad) types nothing. */
    return key && ui_keypad_key(pad, key) ? key : 0;
  }
  if(in->kind != UI_RELEASE) return 0;
  ui_widget *w = ui_screen_hit(s, in->x, in->y);
  if(!w) return 0;
  if(w == pad) return ui_keypad_tap(pad, in->x, in->y);
  if(strcmp(w->name, "back") == 0)
    ui_go(app, UI_SCREEN_LIVE);
  else if(strcmp(w->name, "ok") == 0)
    submit(app, s);
  return 0;
}

void ui_keypad_screen_title(ui_app *app, const char *utf8) {
  int x, y;
  ui_layout_title_pos(app, &x, &y);
  ui_label(app, utf8, 6 * app->u, UI_FG, x, y, UI_CENTER);
}

void ui_keypad_screen_wipe(ui_screen *s) {
  ui_widget *pad = ui_screen_find(s, "keypad");
  if(pad) pad->ops->wipe(pad);
}

void ui_keypad_screen_validate_phone(ui_app *app, ui_screen *s) {
  ui_widget *pad = ui_screen_find(s, "keypad");
  const char *d = ui_keypad_digits(pad);
  char norm[PHONE_LEN + 1];
  int valid = phone_normalize(d, norm, NULL) == SQR_OK;
  crypto_wipe(norm, sizeof norm);
  ui_screen_find(s, "ok")->disabled = !valid;
  if(!d[0])
    ui_keypad_set_hint(pad, "", UI_MUTED);
  else
    ui_keypad_set_hint(pad, ui_str(app->lang, valid ? S_PHONE_OK : S_PHONE_BAD),
                       valid ? UI_OK : UI_WARN);
  snprintf(app->flow.phone, sizeof app->flow.phone, "%s", d);
  /* From the 11th digit on, the blind index is derived on a worker; a
   * digit deleted drops it (prefetch.h). */
  ui_prefetch_follow(app->prefetch, app->st, app->flow.phone);
}

void ui_keypad_screen_phone_layout(ui_app *app, ui_screen *s, const char *ok_label) {
  ui_widget *pad = ui_layout_keypad_screen(app, s, PHONE_LEN, 0, ok_label);
  ui_keypad_set(pad, app->flow.phone);
  ui_keypad_screen_validate_phone(app, s);
}

void ui_layout_back_button(ui_app *app, ui_screen *s, ui_color bg, ui_color fg) {
  int u = app->u;
  ui_screen_add(s, ui_button_new("done", ui_str(app->lang, S_BACK),
                                 (SDL_Rect){app->w / 2 - 25 * u, app->h - 24 * u, 50 * u, 14 * u},
                                 6 * u, bg, fg));
}

int ui_back_event(ui_app *app, ui_screen *s, const ui_input *in) {
  int back = in->kind == UI_KEY && (in->key == SDLK_RETURN || in->key == SDLK_ESCAPE);
  if(!back && in->kind == UI_RELEASE) {
    ui_widget *w = ui_screen_hit(s, in->x, in->y);
    back = w && strcmp(w->name, "done") == 0;
  }
  if(back) ui_go(app, UI_SCREEN_LIVE);
  return back;
}

typedef struct say_ctx {
  ui_app *app;
  int size, y;
  ui_color c;
} say_ctx;

static void say_line(const char *line, size_t len, void *ud) {
  say_ctx *w = ud;
  char buf[512];
  if(len >= sizeof buf) len = sizeof buf - 1;
  memcpy(buf, line, len);
  buf[len] = '\0';
  ui_label(w->app, buf, w->size, w->c, w->app->w / 2, w->y, UI_CENTER);
  w->y += w->size * 3 / 2;
}

int ui_say(ui_app *app, const char *text, int size, ui_color c, int y, int width) {
  say_ctx sc = {app, size, y, c};
  ui_text_wrap(app->text, text, size, width, say_line, &sc);
  return sc.y;
}
