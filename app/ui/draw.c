/* draw.c — the few drawing helpers screens share: palette, rectangles and
 * labels through the text cache, and (ui_label_secret_in) past it for
 * what a shopper typed. */
#include "text.h"
#include "ui.h"

#include <string.h>

const ui_color UI_BG = {0xF6, 0xF4, 0xEF, 0xFF};
const ui_color UI_FG = {0x1F, 0x23, 0x2B, 0xFF};
const ui_color UI_MUTED = {0x6B, 0x70, 0x7A, 0xFF};
const ui_color UI_ACCENT = {0x07, 0xA3, 0x5A, 0xFF}; /* WeChat green */
const ui_color UI_ACCENT2 = {0x1E, 0x6F, 0xD9, 0xFF};
const ui_color UI_WARN = {0xD9, 0x3A, 0x2B, 0xFF};
const ui_color UI_OK = {0x07, 0xA3, 0x5A, 0xFF};
const ui_color UI_PANEL = {0xFF, 0xFF, 0xFF, 0xFF};
const ui_color UI_WHITE = {0xFF, 0xFF, 0xFF, 0xFF};
const ui_color UI_DISABLED = {0xC4, 0xC6, 0xCA, 0xFF};

void ui_fill(ui_app *app, SDL_Rect r, ui_color c) {
  SDL_SetRenderDrawColor(app->ren, c.r, c.g, c.b, c.a);
  SDL_RenderFillRect(app->ren, &r);
}

void ui_frame(ui_app *app, SDL_Rect r, ui_color c, int t) {
  SDL_Rect e[4] = {{r.x, r.y, r.w, t},
                   {r.x, r.y + r.h - t, r.w, t},
                   {r.x, r.y, t, r.h},
                   {r.x + r.w - t, r.y, t, r.h}};
  SDL_SetRenderDrawColor(app->ren, c.r, c.g, c.b, c.a);
  SDL_RenderFillRects(app->ren, e, 4);
}

/* Scripts read what a frame said (`expect text`): every label drawn is
 * kept, one a line, until the buffer is full. */
static void note_text(ui_app *app, const char *utf8) {
  size_t n = strlen(utf8);
  if(!app->drawn || app->drawn_len + n + 2 > UI_DRAWN_MAX) return;
  memcpy(app->drawn + app->drawn_len, utf8, n);
  app->drawn_len += n;
  app->drawn[app->drawn_len++] = '\n';
  app->drawn[app->drawn_len] = '\0';
}

int ui_label(ui_app *app, const char *utf8, int size, ui_color c, int x, int y, int align) {
  int w = 0, h = 0;
  note_text(app, utf8);
  SDL_Color sc = {c.r, c.g, c.b, c.a};
  SDL_Texture *t = ui_text_get(app->text, utf8, size, sc, &w, &h);
  if(!t) return 0;
  SDL_Rect d = {align == UI_CENTER ? x - w / 2 : align == UI_RIGHT ? x - w : x, y, w, h};
  SDL_RenderCopy(app->ren, t, NULL, &d);
  return w;
}

void ui_label_in(ui_app *app, const char *utf8, int size, ui_color c, SDL_Rect r) {
  int w = 0, h = 0;
  note_text(app, utf8);
  SDL_Color sc = {c.r, c.g, c.b, c.a};
  SDL_Texture *t = ui_text_get(app->text, utf8, size, sc, &w, &h);
  if(!t) return;
  SDL_Rect d = {r.x + (r.w - w) / 2, r.y + (r.h - h) / 2, w, h};
  SDL_RenderCopy(app->ren, t, NULL, &d);
}

void ui_text_measure_px(ui_app *app, const char *utf8, int size, int *w) {
  ui_text_measure(app->text, utf8, size, w, NULL);
}

void ui_label_secret_in(ui_app *app, const char *utf8, int size, ui_color c, SDL_Rect r) {
  int w = 0, h = 0;
  SDL_Color sc = {c.r, c.g, c.b, c.a};
  SDL_Texture *t = ui_text_render_secret(app->text, utf8, size, sc, &w, &h);
  if(!t) return;
  SDL_Rect d = {r.x + (r.w - w) / 2, r.y + (r.h - h) / 2, w, h};
  SDL_RenderCopy(app->ren, t, NULL, &d);
  SDL_DestroyTexture(t);
}

void ui_text_measure_secret_px(ui_app *app, const char *utf8, int size, int *w) {
  ui_text_measure_secret(app->text, utf8, size, w, NULL);
}
