/* widget_check.c — a tick box with a label; always starts unticked, so
 * consent is something the shopper does, never a default. */
#include <stdlib.h>
#include <string.h>

#include "widget.h"

typedef struct check {
  ui_widget base;
  char label[256];
  int font_px;
  int on;
} check;

static void draw(ui_app *app, ui_widget *w) {
  check *c = (check *)w;
  int box = w->r.h * 7 / 10;
  SDL_Rect b = {w->r.x, w->r.y + (w->r.h - box) / 2, box, box};
  ui_fill(app, b, UI_PANEL);
  ui_frame(app, b, UI_FG, box / 12 + 1);
  if(c->on) {
    SDL_Rect in = {b.x + box / 5, b.y + box / 5, box - 2 * (box / 5), box - 2 * (box / 5)};
    ui_fill(app, in, UI_ACCENT);
  }
  int tw, th;
  (void)tw;
  (void)th;
  ui_label(app, c->label, c->font_px, UI_FG, b.x + box + box / 2,
           w->r.y + (w->r.h - c->font_px * 13 / 10) / 2, UI_LEFT);
}

static void cfree(ui_widget *w) {
  free(w);
}
static void wipe(ui_widget *w) {
  ((check *)w)->on = 0;
}

static const ui_widget_ops check_ops = {draw, NULL, wipe, NULL, cfree};

ui_widget *ui_check_new(const char *name, const char *label, SDL_Rect r, int font_px) {
  check *c = calloc(1, sizeof *c);
  if(!c) return NULL;
  c->base.ops = &check_ops;
  snprintf(c->base.name, sizeof c->base.name, "%s", name);
  c->base.r = r;
  snprintf(c->label, sizeof c->label, "%s", label);
  c->font_px = font_px;
  return &c->base;
}

void ui_check_toggle(ui_widget *w) {
  ((check *)w)->on = !((check *)w)->on;
}
int ui_check_value(const ui_widget *w) {
  return ((const check *)w)->on;
}
