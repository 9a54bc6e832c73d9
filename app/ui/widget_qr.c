/* widget_qr.c — a QR code at the largest integer module size that fits.
 *
 * Keeps its texture between frames and makes it again only when the text
 * changes or the renderer lost its textures (app->tex_gen moved). */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "qrtex.h"
#include "widget.h"

typedef struct qrw {
  ui_widget base;
  char text[CONFIG_LINK_MAX];
  SDL_Texture *tex;
  unsigned tex_gen;
  int modules;
} qrw;

static void draw(ui_app *app, ui_widget *w) {
  qrw *q = (qrw *)w;
  if(!q->text[0]) return;
  /* The renderer lost its textures (SDL_RENDER_TARGETS_RESET or
   * SDL_RENDER_DEVICE_RESET): the handle is still valid, its pixels not. */
  if(q->tex && q->tex_gen != app->tex_gen) {
    SDL_DestroyTexture(q->tex);
    q->tex = NULL;
  }
  if(!q->tex) {
    if(ui_qrtex_make(app->ren, q->text, &q->tex, &q->modules) != SQR_OK) {
      q->tex = NULL;
      return;
    }
    q->tex_gen = app->tex_gen;
  }
  int side = w->r.w < w->r.h ? w->r.w : w->r.h;
  int scale = ui_qrtex_scale(q->modules, side);
  int px = scale * q->modules;
  SDL_Rect d = {w->r.x + (w->r.w - px) / 2, w->r.y + (w->r.h - px) / 2, px, px};
  SDL_RenderCopy(app->ren, q->tex, NULL, &d);
}

static void qfree(ui_widget *w) {
  qrw *q = (qrw *)w;
  if(q->tex) SDL_DestroyTexture(q->tex);
  free(q);
}

static const ui_widget_ops qr_ops = {draw, NULL, NULL, NULL, qfree};

ui_widget *ui_qr_new(const char *name, SDL_Rect r) {
  qrw *q = calloc(1, sizeof *q);
  if(!q) return NULL;
  q->base.ops = &qr_ops;
  snprintf(q->base.name, sizeof q->base.name, "%s", name);
  q->base.r = r;
  return &q->base;
}

void ui_qr_set(ui_widget *w, const char *text) {
  qrw *q = (qrw *)w;
  if(strcmp(q->text, text) == 0) return;
  if(q->tex) SDL_DestroyTexture(q->tex);
  q->tex = NULL;
  snprintf(q->text, sizeof q->text, "%s", text);
}

const char *ui_qr_text(const ui_widget *w) { return ((const qrw *)w)->text; }
