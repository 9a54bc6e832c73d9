/* qrtex.c — see qrtex.h. */
#include "qrtex.h"
#include "log.h"

#include <qrencode.h>
#include <string.h>

sqr_rc ui_qrtex_make(SDL_Renderer *ren, const char *text, SDL_Texture **out, int *modules) {
  *out = NULL;
  if(!text || !*text) return SQR_EINVAL;
  /* Case-sensitive with the 8-bit hint: libqrencode still picks
   * alphanumeric mode for the upper-case token URLs. */
  QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if(!qr) {
    log_error("ui", "QR encoding failed for a %zu-byte text", strlen(text));
    return SQR_EINVAL;
  }
  int n = qr->width + 2 * QRTEX_QUIET;
  SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, n, n, 32, SDL_PIXELFORMAT_ARGB8888);
  if(!s) {
    QRcode_free(qr);
    return SQR_ENOMEM;
  }
  SDL_LockSurface(s);
  for(int y = 0; y < n; y++) {
    uint32_t *row = (uint32_t *)((uint8_t *)s->pixels + (size_t)y * (size_t)s->pitch);
    for(int x = 0; x < n; x++) {
      int mx = x - QRTEX_QUIET, my = y - QRTEX_QUIET;
      int dark = mx >= 0 && my >= 0 && mx < qr->width && my < qr->width &&
                 (qr->data[my * qr->width + mx] & 1);
      row[x] = dark ? 0xFF000000u : 0xFFFFFFFFu;
    }
  }
  SDL_UnlockSurface(s);
  QRcode_free(qr);
  SDL_Texture *t = SDL_CreateTextureFromSurface(ren, s);
  SDL_FreeSurface(s);
  if(!t) {
    log_error("ui", "QR texture: %s", SDL_GetError());
    return SQR_EIO;
  }
  SDL_SetTextureScaleMode(t, SDL_ScaleModeNearest);
  *out = t;
  *modules = n;
  return SQR_OK;
}

int ui_qrtex_scale(int modules, int avail) {
  if(modules <= 0) return 1;
  int s = avail / modules;
  return s < 1 ? 1 : s;
}
