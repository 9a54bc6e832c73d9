/* shot.h — screenshots: what the renderer shows, written as PNG (libpng). */
#ifndef SQR_UI_SHOT_H
#define SQR_UI_SHOT_H

#include <SDL.h>
#include "sqr.h"

/* Reads w x h pixels from ren and writes an RGB PNG at path. */
sqr_rc ui_shot_png(SDL_Renderer *ren, int w, int h, const char *path) SQR_WARN_UNUSED;
/* Writes w x h ARGB8888 pixels (pitch w * 4), borrowed, as an RGB PNG. */
sqr_rc ui_shot_png_pixels(const uint8_t *px, int w, int h, const char *path) SQR_WARN_UNUSED;

#endif
