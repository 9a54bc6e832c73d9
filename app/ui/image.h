/* image.h — campaign images: PNG files (libpng) under the assets
 * directory, kept as textures.
 *
 * Owns a few textures keyed by path; ui_image_reset forgets them after the
 * renderer lost its textures. An image that is missing or unreadable is
 * logged once and then simply not drawn: the campaign shows as text only.
 * Images are capped at UI_IMAGE_MAX_SIDE px a side (outside input). */
#ifndef SQR_UI_IMAGE_H
#define SQR_UI_IMAGE_H

#include <SDL.h>
#include "sqr.h"

#define UI_IMAGE_MAX_SIDE 2048

typedef struct ui_images ui_images;

sqr_rc ui_images_new(SDL_Renderer *ren, const char *assets_dir, ui_images **out) SQR_WARN_UNUSED;
void ui_images_free(ui_images *im);
/* The renderer changed or lost its textures. */
void ui_images_reset(ui_images *im, SDL_Renderer *ren);

/* The texture of relpath (relative to the assets directory), borrowed
 * until the next reset; *w, *h its size. NULL when it cannot be read
 * (logged the first time). */
SDL_Texture *ui_image_get(ui_images *im, const char *relpath, int *w, int *h);

/* Decodes a PNG file into a new ARGB8888 surface (caller frees).
 * SQR_EIO if unreadable, SQR_EINVAL if not a PNG or too large. */
sqr_rc ui_image_load_png(const char *path, SDL_Surface **out) SQR_WARN_UNUSED;

#endif
