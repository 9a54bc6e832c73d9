/* widget_check.c — a tick box with a label; always starts unticked, so
 * consent is something the shopper does, never a default. The label wraps
 * under itself (a marketing consent's sentence is longer than a line);
 * ui_check_height says how tall the box must be for all of it. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "text.h"
#include "widget.h"

typedef struct check {
  ui_widget base;
  char label[CONFIG_MARKETING_MAX];
  int font_px;
  int on;
} check;

static int box_px(int font_px) {
  return font_px * 17 / 10;
}
static int line_px(int font_px) {
  return font_px * 13 / 10;
}

typedef struct lines {
  ui_app *app;
  int n, font_px, x, y;
} lines;

static void count_line(const char *line, size_t len, void *ud) {
  (void)line;
  (void)len;
  ((lines *)ud)->n++;
}

static void draw_line(const char *line, size_t len, void *ud) {
  lines *l = ud;
  char buf[CONFIG_MARKETING_MAX];
  if(len >= sizeof buf) len = sizeof buf - 1;
  memcpy(buf, line, len);
  buf[len] = '\0';
  ui_label(l->app, buf, l->font_px, UI_FG, l->x, l->y, UI_LEFT);
  l->y += line_px(l->font_px);
}

static int count_lines(ui_app *app, const char *label, int width, int font_px) {
  lines l = {app, 0, font_px, 0, 0};
  ui_text_wrap(app->text, label, font_px, width, count_line, &l);
  return l.n ? l.n : 1;
}

static void draw(ui_app *app, ui_widget *w) {
  check *c = (check *)w;
  int box = box_px(c->font_px);
  SDL_Rect b = {w->r.x, w->r.y + (w->r.h - box) / 2, box, box};
  ui_fill(app, b, UI_PANEL);
  ui_frame(app, b, UI_FG, box / 12 + 1);
  if(c->on) {
    SDL_Rect in = {b.x + box / 5, b.y + box / 5, box - 2 * (box / 5), box - 2 * (box / 5)};
    ui_fill(app, in, UI_ACCENT);
  }
  int tx = b.x + box + box / 2, tw = w->r.w - (box + box / 2);
  int n = count_lines(app, c->label, tw, c->font_px);
  lines l = {app, 0, c->font_px, tx, w->r.y + (w->r.h - n * line_px(c->font_px)) / 2};
  ui_text_wrap(app->text, c->label, c->font_px, tw, draw_line, &l);
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

int ui_check_height(ui_app *app, const char *label, int width, int font_px) {
  int box = box_px(font_px);
  int text = count_lines(app, label, width - (box + box / 2), font_px) * line_px(font_px);
  return (text > box ? text : box) + font_px * 3 / 5;
}

void ui_check_toggle(ui_widget *w) {
  ((check *)w)->on = !((check *)w)->on;
}
int ui_check_value(const ui_widget *w) {
  return ((const check *)w)->on;
}
