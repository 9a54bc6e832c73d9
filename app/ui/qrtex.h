/* qrtex.h — QR codes as textures (libqrencode).
 *
 * One texel per module with the 4-module quiet zone included, drawn later
 * with nearest-neighbour scaling at an integer factor, so every module is
 * the same whole number of pixels: crisp at any window size and cheap to
 * make again at each rotation. ECC level M (DESIGN.md). */
#ifndef SQR_UI_QRTEX_H
#define SQR_UI_QRTEX_H

#include <SDL.h>
#include "sqr.h"

#define QRTEX_QUIET 4

/* Encodes text into a new texture (caller destroys it); *modules gets the
 * side in modules, quiet zone included. SQR_EINVAL if text does not fit a
 * QR code, SQR_ENOMEM/SQR_EIO if SDL fails. */
sqr_rc ui_qrtex_make(SDL_Renderer *ren, const char *text, SDL_Texture **out, int *modules)
  SQR_WARN_UNUSED;

/* The largest whole-pixel module size at which modules fit in avail px. */
int ui_qrtex_scale(int modules, int avail);

#endif
