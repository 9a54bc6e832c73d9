/* qrtex.h — QR codes as textures (libqrencode).
 *
 * A texture the size of the QR's square on screen, in the target's pixel
 * format, opaque, with every module the same whole number of pixels and
 * the 4-module quiet zone (or more) around it: crisp at any window size.
 * A rotation repaints the same texture in place (no allocation) and the
 * frame copies it 1:1: SDL 2.26's software nearest-neighbour stretch of a
 * module-resolution texture cost about half a millisecond more per frame.
 * ECC level M (DESIGN.md). */
#ifndef SQR_UI_QRTEX_H
#define SQR_UI_QRTEX_H

#include <SDL.h>
#include "sqr.h"

#define QRTEX_QUIET 4

/* Encodes text and paints it into tex, a square, 32-bit, streaming
 * texture: white all over, the QR (quiet zone included) centred at the
 * largest whole-pixel module size that fits. Drawing it is then a plain
 * 1:1 copy. *modules gets the side in modules, quiet zone included.
 * SQR_EINVAL if text does not fit a QR code, SQR_EIO if SDL fails. */
sqr_rc ui_qrtex_paint(SDL_Texture *tex, const char *text, int *modules) SQR_WARN_UNUSED;

/* The largest whole-pixel module size at which modules fit in avail px. */
int ui_qrtex_scale(int modules, int avail);

#endif
