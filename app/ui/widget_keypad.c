/* widget_keypad.c — the on-screen keypad with its display line: the
 * numeric pad (phone, PIN) and the same widget with other keys (the
 * enrolment code's Base32 letters, an HQ address).
 *
 * Holds the only copy of what a shopper typed while they type it; wipe
 * overwrites it, and screens wipe on leave (idle timeout included). */
#include <ctype.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "widget.h"

#define KEYPAD_MAX 64
#define KEYS_MAX   48

typedef struct keypad {
  ui_widget base;
  char digits[KEYPAD_MAX + 1]; /* what was typed (any of keys, not only digits) */
  int maxlen, mask, font_px;
  int group; /* display grouping: UI_KEYPAD_GROUP_* or every N with '-' */
  int cols, rows;
  char keys[KEYS_MAX + 3]; /* the typing keys, then UI_PAD_CLEAR / UI_PAD_DEL */
  int nkeys;
  char del_label[32], clear_label[32];
  char hint[160];
  ui_color hint_color;
} keypad;

/* Row 0 is the display; the keys fill rows 1..rows, cols to a row. */
static SDL_Rect key_rect(const keypad *k, int i) {
  const SDL_Rect *r = &k->base.r;
  int disp = r->h / (k->rows + 1);
  int gap = r->w / 60 + 2;
  int kw = (r->w - (k->cols - 1) * gap) / k->cols;
  int kh = (r->h - disp - (k->rows - 1) * gap) / k->rows;
  SDL_Rect out = {r->x + (i % k->cols) * (kw + gap), r->y + disp + (i / k->cols) * (kh + gap), kw,
                  kh};
  return out;
}

/* What the display line shows for what was typed. */
static void shown_text(const keypad *k, char *shown, size_t n) {
  size_t len = strlen(k->digits), o = 0;
  shown[0] = '\0';
  for(size_t i = 0; i < len && o + 5 < n; i++) {
    if(k->mask) {
      memcpy(shown + o, "\xE2\x97\x8F", 3); /* ● */
      o += 3;
    } else {
      /* 138 0013 8000: grouped as people read a mobile number;
       * ABCD-EFGH-...: as HQ prints an enrolment code. */
      if(k->group == UI_KEYPAD_GROUP_PHONE && (i == 3 || i == 7))
        shown[o++] = ' ';
      else if(k->group > 0 && i > 0 && i % (size_t)k->group == 0)
        shown[o++] = '-';
      shown[o++] = k->digits[i];
    }
    shown[o] = '\0';
  }
}

static void draw(ui_app *app, ui_widget *w) {
  keypad *k = (keypad *)w;
  int disp_h = w->r.h / (k->rows + 1);
  SDL_Rect disp = {w->r.x, w->r.y, w->r.w, disp_h - w->r.h / 40};
  ui_fill(app, disp, UI_PANEL);
  ui_frame(app, disp, UI_FG, 3);
  /* What was typed as shown (a phone number as "138 0013 8000"): drawn
   * past the text cache, which would keep it as a key, and wiped here. */
  char shown[KEYPAD_MAX * 4 + 16];
  shown_text(k, shown, sizeof shown);
  /* A long address shrinks to fit the line rather than spill over it. */
  int fs = k->font_px, tw = 0;
  ui_text_measure_secret_px(app, shown, fs, &tw);
  if(tw > disp.w * 9 / 10 && tw > 0) fs = (int)((int64_t)fs * disp.w * 9 / 10 / tw);
  if(fs < 8) fs = 8;
  SDL_Rect dtext = {disp.x, disp.y, disp.w, disp.h * 2 / 3};
  ui_label_secret_in(app, shown, fs, UI_FG, dtext);
  crypto_wipe(shown, sizeof shown);
  if(k->hint[0]) {
    SDL_Rect hint = {disp.x, disp.y + disp.h * 3 / 5, disp.w, disp.h * 2 / 5};
    ui_label_in(app, k->hint, k->font_px * 2 / 5, k->hint_color, hint);
  }
  for(int i = 0; i < k->nkeys; i++) {
    SDL_Rect kr = key_rect(k, i);
    char key = k->keys[i];
    int fn = key == UI_PAD_CLEAR || key == UI_PAD_DEL;
    ui_fill(app, kr, w->disabled ? UI_DISABLED : fn ? UI_MUTED : UI_PANEL);
    ui_frame(app, kr, UI_DISABLED, 2);
    char lab[8] = {key, 0};
    const char *l = key == UI_PAD_CLEAR ? k->clear_label : key == UI_PAD_DEL ? k->del_label : lab;
    /* A word ("Clear") on a key sized for one letter: smaller. */
    int lfs = k->font_px;
    if(fn && strlen(l) > 3) lfs = k->font_px * 3 / 5;
    ui_label_in(app, l, lfs, fn ? UI_WHITE : UI_FG, kr);
  }
}

/* Part names: NAME.<key> for letters and digits, NAME.dot, NAME.dash,
 * NAME.colon, NAME.del, NAME.clear. */
static const char *part_name(char key, char *buf) {
  switch(key) {
  case UI_PAD_DEL:
    return "del";
  case UI_PAD_CLEAR:
    return "clear";
  case '.':
    return "dot";
  case '-':
    return "dash";
  case ':':
    return "colon";
  default:
    buf[0] = key;
    buf[1] = '\0';
    return buf;
  }
}

static int locate(ui_widget *w, const char *name, SDL_Rect *out) {
  keypad *k = (keypad *)w;
  size_t nl = strlen(w->name);
  if(strncmp(name, w->name, nl) != 0 || name[nl] != '.') return 0;
  const char *part = name + nl + 1;
  for(int pass = 0; pass < 2; pass++) {
    for(int i = 0; i < k->nkeys; i++) {
      char buf[2];
      const char *pn = part_name(k->keys[i], buf);
      /* Exact first; then either case ("keypad.a" on an upper-case pad). */
      if(pass == 0 ? strcmp(part, pn) == 0 : strcasecmp(part, pn) == 0) {
        *out = key_rect(k, i);
        return 1;
      }
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
    if(k->digits[i]) return 1;
  return 0;
}

static void kfree(ui_widget *w) {
  wipe(w);
  free(w);
}

static const ui_widget_ops keypad_ops = {draw, locate, wipe, has_digits, kfree};

ui_widget *ui_keyboard_new(const char *name, SDL_Rect r, const char *keys, int cols, int maxlen,
                           int group, int font_px) {
  keypad *k = calloc(1, sizeof *k);
  if(!k) return NULL;
  k->base.ops = &keypad_ops;
  snprintf(k->base.name, sizeof k->base.name, "%s", name);
  k->base.r = r;
  k->maxlen = maxlen > KEYPAD_MAX ? KEYPAD_MAX : maxlen;
  k->font_px = font_px;
  k->group = group;
  size_t n = strlen(keys);
  if(n > KEYS_MAX) n = KEYS_MAX;
  memcpy(k->keys, keys, n);
  k->keys[n++] = UI_PAD_CLEAR;
  k->keys[n++] = UI_PAD_DEL;
  k->nkeys = (int)n;
  k->cols = cols > 0 ? cols : 3;
  k->rows = (k->nkeys + k->cols - 1) / k->cols;
  snprintf(k->del_label, sizeof k->del_label, "\xE2\x86\x90"); /* ← (in the CJK fonts, ⌫ is not) */
  snprintf(k->clear_label, sizeof k->clear_label, "C");
  return &k->base;
}

ui_widget *ui_keypad_new(const char *name, SDL_Rect r, int maxlen, int mask, int font_px) {
  /* 1-9, then clear, 0, delete: the layout of a phone's dial pad. */
  ui_widget *w = ui_keyboard_new(name, r, "123456789", 3, maxlen, UI_KEYPAD_GROUP_PHONE, font_px);
  if(!w) return NULL;
  keypad *k = (keypad *)w;
  k->mask = mask;
  k->keys[9] = UI_PAD_CLEAR;
  k->keys[10] = '0';
  k->keys[11] = UI_PAD_DEL;
  k->nkeys = 12;
  k->rows = 4;
  return w;
}

void ui_keypad_set_labels(ui_widget *w, const char *del, const char *clear) {
  keypad *k = (keypad *)w;
  if(del) snprintf(k->del_label, sizeof k->del_label, "%s", del);
  if(clear) snprintf(k->clear_label, sizeof k->clear_label, "%s", clear);
}

/* The pad's own form of key (an upper-case pad takes 'a' as 'A'), or 0. */
static char own_key(const keypad *k, int key) {
  if(key <= 0 || key > 0x7f) return 0;
  for(int i = 0; i < k->nkeys; i++)
    if(k->keys[i] == key) return (char)key;
  for(int i = 0; i < k->nkeys; i++)
    if(isalpha((unsigned char)key) && toupper(k->keys[i]) == toupper(key)) return k->keys[i];
  return 0;
}

int ui_keypad_key(ui_widget *w, int key) {
  keypad *k = (keypad *)w;
  size_t n = strlen(k->digits);
  char c = own_key(k, key);
  if(!c) return 0;
  if(c == UI_PAD_DEL) {
    if(n == 0) return 0;
    k->digits[n - 1] = '\0';
    return 1;
  }
  if(c == UI_PAD_CLEAR) {
    if(n == 0) return 0;
    crypto_wipe(k->digits, sizeof k->digits);
    return 1;
  }
  if((int)n >= k->maxlen) return 0;
  k->digits[n] = c;
  k->digits[n + 1] = '\0';
  return 1;
}

int ui_keypad_tap(ui_widget *w, int x, int y) {
  keypad *k = (keypad *)w;
  for(int i = 0; i < k->nkeys; i++) {
    SDL_Rect kr = key_rect(k, i);
    if(x >= kr.x && y >= kr.y && x < kr.x + kr.w && y < kr.y + kr.h) {
      ui_keypad_key(w, k->keys[i]);
      return k->keys[i];
    }
  }
  return 0;
}

const char *ui_keypad_digits(const ui_widget *w) {
  return ((const keypad *)w)->digits;
}

void ui_keypad_set(ui_widget *w, const char *text) {
  keypad *k = (keypad *)w;
  crypto_wipe(k->digits, sizeof k->digits);
  for(size_t i = 0, o = 0; text[i] && (int)o < k->maxlen; i++) {
    char c = own_key(k, (unsigned char)text[i]);
    if(c && c != UI_PAD_DEL && c != UI_PAD_CLEAR) k->digits[o++] = c;
  }
}

void ui_keypad_set_hint(ui_widget *w, const char *hint, ui_color c) {
  keypad *k = (keypad *)w;
  snprintf(k->hint, sizeof k->hint, "%s", hint ? hint : "");
  k->hint_color = c;
}
