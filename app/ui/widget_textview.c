/* widget_textview.c — wrapped, scrollable text (the consent policy).
 * Scrolls by drag, wheel or the screen's arrows; clips to its rectangle. */
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "widget.h"

#define TV_MAX_LINES 400

typedef struct textview {
  ui_widget base;
  char *text;
  int font_px;
  int offset;      /* pixels scrolled */
  int wrapped_for; /* width the lines were wrapped at (0 = not yet) */
  int nlines;
  char *lines[TV_MAX_LINES];
} textview;

typedef struct wrap_ctx {
  textview *tv;
} wrap_ctx;

static void add_line(const char *line, size_t len, void *ud) {
  textview *tv = ((wrap_ctx *)ud)->tv;
  if(tv->nlines >= TV_MAX_LINES) return;
  char *l = malloc(len + 1);
  if(!l) return;
  memcpy(l, line, len);
  l[len] = '\0';
  tv->lines[tv->nlines++] = l;
}

static void unwrap(textview *tv) {
  for(int i = 0; i < tv->nlines; i++)
    free(tv->lines[i]);
  tv->nlines = 0;
  tv->wrapped_for = 0;
}

static int line_h(const textview *tv) {
  return tv->font_px * 3 / 2;
}

static int max_offset(const textview *tv) {
  int m = tv->nlines * line_h(tv) - (tv->base.r.h - tv->font_px);
  return m > 0 ? m : 0;
}

static void draw(ui_app *app, ui_widget *w) {
  textview *tv = (textview *)w;
  int pad = tv->font_px / 2;
  if(tv->wrapped_for != w->r.w) {
    unwrap(tv);
    wrap_ctx c = {tv};
    ui_text_wrap(app->text, tv->text, tv->font_px, w->r.w - 2 * pad, add_line, &c);
    tv->wrapped_for = w->r.w;
  }
  if(tv->offset > max_offset(tv)) tv->offset = max_offset(tv);
  ui_fill(app, w->r, UI_PANEL);
  /* Within whatever clip the frame already has (a partial redraw). */
  SDL_Rect outer = {0, 0, 0, 0}, clip = w->r;
  int had_clip = SDL_RenderIsClipEnabled(app->ren) == SDL_TRUE;
  if(had_clip) {
    SDL_RenderGetClipRect(app->ren, &outer);
    if(!SDL_IntersectRect(&outer, &w->r, &clip)) clip = (SDL_Rect){w->r.x, w->r.y, 0, 0};
  }
  SDL_RenderSetClipRect(app->ren, &clip);
  for(int i = 0; i < tv->nlines; i++) {
    int y = w->r.y + pad + i * line_h(tv) - tv->offset;
    if(y + line_h(tv) < w->r.y || y > w->r.y + w->r.h) continue;
    ui_label(app, tv->lines[i], tv->font_px, UI_FG, w->r.x + pad, y, UI_LEFT);
  }
  SDL_RenderSetClipRect(app->ren, had_clip ? &outer : NULL);
  ui_frame(app, w->r, UI_DISABLED, 2);
  if(max_offset(tv) > 0) { /* scroll bar: where in the policy the shopper is */
    int bar_h = w->r.h * w->r.h / (w->r.h + max_offset(tv));
    int bar_y = w->r.y + (w->r.h - bar_h) * tv->offset / max_offset(tv);
    SDL_Rect bar = {w->r.x + w->r.w - pad / 2 - 2, bar_y, pad / 2, bar_h};
    ui_fill(app, bar, UI_MUTED);
  }
}

static void tvfree(ui_widget *w) {
  textview *tv = (textview *)w;
  unwrap(tv);
  free(tv->text);
  free(tv);
}

static const ui_widget_ops textview_ops = {draw, NULL, NULL, NULL, tvfree};

ui_widget *ui_textview_new(const char *name, const char *utf8, SDL_Rect r, int font_px) {
  textview *tv = calloc(1, sizeof *tv);
  if(!tv) return NULL;
  tv->text = strdup(utf8 ? utf8 : "");
  if(!tv->text) {
    free(tv);
    return NULL;
  }
  tv->base.ops = &textview_ops;
  snprintf(tv->base.name, sizeof tv->base.name, "%s", name);
  tv->base.r = r;
  tv->font_px = font_px;
  return &tv->base;
}

void ui_textview_scroll(ui_widget *w, int dy) {
  textview *tv = (textview *)w;
  tv->offset += dy;
  if(tv->offset < 0) tv->offset = 0;
  if(tv->wrapped_for && tv->offset > max_offset(tv)) tv->offset = max_offset(tv);
}

int ui_textview_offset(const ui_widget *w) {
  return ((const textview *)w)->offset;
}
