/* widget.c — the widget base and a screen's widget list. */
#include "ui.h"

#include <string.h>

void ui_widget_free(ui_widget *w) {
  if(w && w->ops->free) w->ops->free(w);
}

int ui_widget_contains(const ui_widget *w, int x, int y) {
  return x >= w->r.x && y >= w->r.y && x < w->r.x + w->r.w && y < w->r.y + w->r.h;
}

void ui_screen_add(ui_screen *s, ui_widget *w) {
  SQR_CHECK(w != NULL);
  SQR_CHECK(s->nw < UI_MAX_WIDGETS);
  s->w[s->nw++] = w;
}

void ui_screen_clear(ui_screen *s) {
  for(int i = 0; i < s->nw; i++) {
    if(s->w[i]->ops->wipe) s->w[i]->ops->wipe(s->w[i]);
    ui_widget_free(s->w[i]);
    s->w[i] = NULL;
  }
  s->nw = 0;
}

ui_widget *ui_screen_hit(ui_screen *s, int x, int y) {
  for(int i = s->nw - 1; i >= 0; i--) {
    ui_widget *w = s->w[i];
    if(!w->hidden && !w->disabled && ui_widget_contains(w, x, y)) return w;
  }
  return NULL;
}

ui_widget *ui_screen_find(ui_screen *s, const char *name) {
  for(int i = 0; i < s->nw; i++)
    if(strcmp(s->w[i]->name, name) == 0) return s->w[i];
  return NULL;
}

int ui_screen_locate(ui_screen *s, const char *name, SDL_Rect *out) {
  for(int i = 0; i < s->nw; i++) {
    ui_widget *w = s->w[i];
    if(w->hidden) continue;
    if(strcmp(w->name, name) == 0) {
      *out = w->r;
      return 1;
    }
    if(w->ops->locate && w->ops->locate(w, name, out)) return 1;
  }
  return 0;
}
