/* widget_qr.c — a QR code at the largest integer module size that fits.
 *
 * Keeps one texture the size of its square between frames: repainted in
 * place when the text changes, made again only when the renderer lost its
 * textures (app->tex_gen moved). A square widget covers every pixel of its
 * rectangle (white around the code), so no background is drawn under it. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "qrtex.h"
#include "widget.h"

typedef struct qrw {
  ui_widget base;
  char text[CONFIG_LINK_MAX];
  SDL_Texture *tex; /* the widget's square, repainted in place on a new text */
  unsigned tex_gen;
  int modules;
  int stale; /* text changed since tex was painted */
} qrw;

static void draw(ui_app *app, ui_widget *w) {
  qrw *q = (qrw *)w;
  if(!q->text[0]) return;
  int side = w->r.w < w->r.h ? w->r.w : w->r.h;
  /* The renderer lost its textures (SDL_RENDER_TARGETS_RESET or
   * SDL_RENDER_DEVICE_RESET): the handle is still valid, its pixels not. */
  if(q->tex && q->tex_gen != app->tex_gen) {
    SDL_DestroyTexture(q->tex);
    q->tex = NULL;
  }
  if(!q->tex) {
    q->tex = SDL_CreateTexture(app->ren, app->pixfmt, SDL_TEXTUREACCESS_STREAMING, side, side);
    if(!q->tex) {
      log_error("ui", "QR texture: %s", SDL_GetError());
      return;
    }
    SDL_SetTextureBlendMode(q->tex, SDL_BLENDMODE_NONE);
    q->tex_gen = app->tex_gen;
    q->stale = 1;
  }
  if(q->stale) {
    if(ui_qrtex_paint(q->tex, q->text, &q->modules) != SQR_OK) return;
    q->stale = 0;
  }
  SDL_Rect d = {w->r.x + (w->r.w - side) / 2, w->r.y + (w->r.h - side) / 2, side, side};
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
  q->base.opaque = r.w == r.h; /* a square widget is all texture */
  return &q->base;
}

void ui_qr_set(ui_widget *w, const char *text) {
  qrw *q = (qrw *)w;
  if(strcmp(q->text, text) == 0) return;
  q->stale = 1;
  snprintf(q->text, sizeof q->text, "%s", text);
}

const char *ui_qr_text(const ui_widget *w) {
  return ((const qrw *)w)->text;
}
