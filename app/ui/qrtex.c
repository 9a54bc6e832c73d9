/* qrtex.c — see qrtex.h. */
#include "qrtex.h"
#include "log.h"

#include <qrencode.h>
#include <string.h>

sqr_rc ui_qrtex_paint(SDL_Texture *tex, const char *text, int *modules) {
  if(!text || !*text) return SQR_EINVAL;
  Uint32 format;
  int side, h;
  if(SDL_QueryTexture(tex, &format, NULL, &side, &h) != 0 || side != h ||
     SDL_BYTESPERPIXEL(format) != 4) {
    log_error("ui", "QR texture: not a square 32-bit texture");
    return SQR_EINVAL;
  }
  /* Case-sensitive with the 8-bit hint: libqrencode still picks
   * alphanumeric mode for the upper-case token URLs. */
  QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if(!qr) {
    log_error("ui", "QR encoding failed for a %zu-byte text", strlen(text));
    return SQR_EINVAL;
  }
  SDL_PixelFormat *pf = SDL_AllocFormat(format);
  void *pixels = NULL;
  int pitch = 0;
  sqr_rc rc = SQR_OK;
  if(!pf || SDL_LockTexture(tex, NULL, &pixels, &pitch) != 0) {
    log_error("ui", "QR texture: %s", SDL_GetError());
    rc = SQR_EIO;
    goto out;
  }
  int n = qr->width + 2 * QRTEX_QUIET;
  int scale = ui_qrtex_scale(n, side), x0 = (side - n * scale) / 2;
  uint32_t dark = SDL_MapRGB(pf, 0, 0, 0), light = SDL_MapRGB(pf, 255, 255, 255);
  /* One scanline per module row, then copied down scale-1 times: each
   * pixel is written once, no scaling at draw time. */
  for(int y = 0; y < side; y++) {
    uint32_t *row = (uint32_t *)((uint8_t *)pixels + (size_t)y * (size_t)pitch);
    int my = (y - x0) / scale - QRTEX_QUIET;
    if(y < x0) my = -1;
    if(y > x0 && (y - x0) % scale != 0 && my >= 0 && my < qr->width) {
      memcpy(row, (uint8_t *)row - pitch, (size_t)side * sizeof *row);
      continue;
    }
    for(int x = 0; x < side; x++)
      row[x] = light;
    if(my < 0 || my >= qr->width) continue;
    const unsigned char *m = qr->data + (size_t)my * (size_t)qr->width;
    for(int mx = 0; mx < qr->width; mx++) {
      if(!(m[mx] & 1)) continue;
      uint32_t *p = row + x0 + (mx + QRTEX_QUIET) * scale;
      for(int k = 0; k < scale; k++)
        p[k] = dark;
    }
  }
  SDL_UnlockTexture(tex);
  *modules = n;
out:
  SDL_FreeFormat(pf);
  QRcode_free(qr);
  return rc;
}

int ui_qrtex_scale(int modules, int avail) {
  if(modules <= 0) return 1;
  int s = avail / modules;
  return s < 1 ? 1 : s;
}
