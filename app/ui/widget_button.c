/* widget_button.c — a big tappable rectangle with a centred label. */
#include <stdlib.h>
#include <string.h>

#include "widget.h"

typedef struct button {
  ui_widget base;
  char label[256];
  int font_px;
  ui_color bg, fg;
  int on;
} button;

static void draw(ui_app *app, ui_widget *w) {
  button *b = (button *)w;
  ui_color bg = w->disabled ? UI_DISABLED : b->on ? UI_FG : b->bg;
  ui_color fg = b->on ? UI_WHITE : b->fg;
  ui_fill(app, w->r, bg);
  if(b->bg.r == UI_PANEL.r && b->bg.g == UI_PANEL.g && !b->on) ui_frame(app, w->r, UI_DISABLED, 2);
  ui_label_in(app, b->label, b->font_px, fg, w->r);
}

static void bfree(ui_widget *w) {
  free(w);
}

static const ui_widget_ops button_ops = {draw, NULL, NULL, NULL, bfree};

ui_widget *ui_button_new(const char *name, const char *label, SDL_Rect r, int font_px, ui_color bg,
                         ui_color fg) {
  button *b = calloc(1, sizeof *b);
  if(!b) return NULL;
  b->base.ops = &button_ops;
  snprintf(b->base.name, sizeof b->base.name, "%s", name);
  b->base.r = r;
  snprintf(b->label, sizeof b->label, "%s", label);
  b->font_px = font_px;
  b->bg = bg;
  b->fg = fg;
  return &b->base;
}

void ui_button_set_label(ui_widget *w, const char *label) {
  button *b = (button *)w;
  snprintf(b->label, sizeof b->label, "%s", label);
}

void ui_button_set_on(ui_widget *w, int on) {
  ((button *)w)->on = on;
}
