/* widget_keypad.c — the on-screen numeric keypad with its display line.
 *
 * Holds the only copy of what a shopper typed while they type it; wipe
 * overwrites it, and screens wipe on leave (idle timeout included). */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "widget.h"

#define KEYPAD_MAX 24

typedef struct keypad {
  ui_widget base;
  char digits[KEYPAD_MAX + 1];
  int maxlen, mask, font_px;
  char hint[160];
  ui_color hint_color;
} keypad;

/* Row 0 is the display; rows 1..4 the keys. */
static const char keys[12] = {'1', '2', '3', '4', '5', '6', '7', '8', '9', 'C', '0', 'D'};

static SDL_Rect key_rect(const keypad *k, int i) {
  const SDL_Rect *r = &k->base.r;
  int disp = r->h / 5;
  int gap = r->w / 60 + 2;
  int kw = (r->w - 2 * gap) / 3, kh = (r->h - disp - 3 * gap) / 4;
  SDL_Rect out = {r->x + (i % 3) * (kw + gap), r->y + disp + (i / 3) * (kh + gap), kw, kh};
  return out;
}

static void draw(ui_app *app, ui_widget *w) {
  keypad *k = (keypad *)w;
  SDL_Rect disp = {w->r.x, w->r.y, w->r.w, w->r.h / 5 - w->r.h / 40};
  ui_fill(app, disp, UI_PANEL);
  ui_frame(app, disp, UI_FG, 3);
  char shown[KEYPAD_MAX * 4 + 8] = "";
  size_t n = strlen(k->digits);
  for(size_t i = 0, o = 0; i < n; i++) {
    if(k->mask) {
      memcpy(shown + o, "\xE2\x97\x8F", 3); /* ● */
      o += 3;
    } else {
      /* 138 0013 8000: grouped as people read a mobile number. */
      if(i == 3 || i == 7) shown[o++] = ' ';
      shown[o++] = k->digits[i];
    }
    shown[o] = '\0';
  }
  SDL_Rect dtext = {disp.x, disp.y, disp.w, disp.h * 2 / 3};
  ui_label_in(app, shown, k->font_px, UI_FG, dtext);
  if(k->hint[0]) {
    SDL_Rect hint = {disp.x, disp.y + disp.h * 3 / 5, disp.w, disp.h * 2 / 5};
    ui_label_in(app, k->hint, k->font_px * 2 / 5, k->hint_color, hint);
  }
  for(int i = 0; i < 12; i++) {
    SDL_Rect kr = key_rect(k, i);
    int fn = keys[i] == 'C' || keys[i] == 'D';
    ui_fill(app, kr, w->disabled ? UI_DISABLED : fn ? UI_MUTED : UI_PANEL);
    ui_frame(app, kr, UI_DISABLED, 2);
    char lab[8] = {keys[i], 0};
    const char *l = keys[i] == 'C' ? "C" : keys[i] == 'D' ? "\xE2\x8C\xAB" /* ⌫ */ : lab;
    ui_label_in(app, l, k->font_px, fn ? UI_WHITE : UI_FG, kr);
  }
}

static int locate(ui_widget *w, const char *name, SDL_Rect *out) {
  keypad *k = (keypad *)w;
  size_t nl = strlen(w->name);
  if(strncmp(name, w->name, nl) != 0 || name[nl] != '.') return 0;
  const char *part = name + nl + 1;
  for(int i = 0; i < 12; i++) {
    int match = (keys[i] == 'D' && strcmp(part, "del") == 0) ||
                (keys[i] == 'C' && strcmp(part, "clear") == 0) ||
                (part[0] == keys[i] && part[1] == '\0' && keys[i] >= '0' && keys[i] <= '9');
    if(match) {
      *out = key_rect(k, i);
      return 1;
    }
  }
  return 0;
}

static void wipe(ui_widget *w) {
  keypad *k = (keypad *)w;
  crypto_wipe(k->digits, sizeof k->digits);
  k->hint[0] = '\0';
}

static int has_digits(const ui_widget *w) {
  const keypad *k = (const keypad *)w;
  for(size_t i = 0; i < sizeof k->digits; i++)
    if(k->digits[i] >= '0' && k->digits[i] <= '9') return 1;
  return 0;
}

static void kfree(ui_widget *w) {
  wipe(w);
  free(w);
}

static const ui_widget_ops keypad_ops = {draw, locate, wipe, has_digits, kfree};

ui_widget *ui_keypad_new(const char *name, SDL_Rect r, int maxlen, int mask, int font_px) {
  keypad *k = calloc(1, sizeof *k);
  if(!k) return NULL;
  k->base.ops = &keypad_ops;
  snprintf(k->base.name, sizeof k->base.name, "%s", name);
  k->base.r = r;
  k->maxlen = maxlen > KEYPAD_MAX ? KEYPAD_MAX : maxlen;
  k->mask = mask;
  k->font_px = font_px;
  return &k->base;
}

int ui_keypad_key(ui_widget *w, int key) {
  keypad *k = (keypad *)w;
  size_t n = strlen(k->digits);
  if(key >= '0' && key <= '9') {
    if((int)n >= k->maxlen) return 0;
    k->digits[n] = (char)key;
    k->digits[n + 1] = '\0';
    return 1;
  }
  if(key == 'D' && n > 0) {
    k->digits[n - 1] = '\0';
    return 1;
  }
  if(key == 'C' && n > 0) {
    crypto_wipe(k->digits, sizeof k->digits);
    return 1;
  }
  return 0;
}

int ui_keypad_tap(ui_widget *w, int x, int y) {
  keypad *k = (keypad *)w;
  for(int i = 0; i < 12; i++) {
    SDL_Rect kr = key_rect(k, i);
    if(x >= kr.x && y >= kr.y && x < kr.x + kr.w && y < kr.y + kr.h) {
      ui_keypad_key(w, keys[i]);
      return keys[i];
    }
  }
  return 0;
}

const char *ui_keypad_digits(const ui_widget *w) { return ((const keypad *)w)->digits; }

void ui_keypad_set(ui_widget *w, const char *digits) {
  keypad *k = (keypad *)w;
  crypto_wipe(k->digits, sizeof k->digits);
  for(size_t i = 0, o = 0; digits[i] && (int)o < k->maxlen; i++)
    if(digits[i] >= '0' && digits[i] <= '9') k->digits[o++] = digits[i];
}

void ui_keypad_set_hint(ui_widget *w, const char *hint, ui_color c) {
  keypad *k = (keypad *)w;
  snprintf(k->hint, sizeof k->hint, "%s", hint ? hint : "");
  k->hint_color = c;
}
