/* text.h — fonts and text textures (SDL2_ttf).
 *
 * Finds a CJK font at run time ($SQR_FONT, then the paths Debian's
 * fonts-wqy-microhei and fonts-noto-cjk install), opens it per pixel size
 * and keeps recently drawn strings as textures, so an unchanged screen
 * costs one copy per label. Owns its fonts and textures; ui_text_reset
 * drops the textures after the renderer lost them.
 *
 * The cache keeps each string it drew, as its key. What a shopper typed
 * (the keypad's display line: a phone number) must never go through it:
 * ui_text_render_secret and ui_text_measure_secret draw and measure
 * without keeping anything.
 */
#ifndef SQR_UI_TEXT_H
#define SQR_UI_TEXT_H

#include <SDL.h>
#include <stddef.h>
#include "sqr.h"

typedef struct ui_text ui_text;

/* The font file to use, or NULL with a sentence naming the package to
 * install in err. */
const char *ui_text_find_font(char *err, size_t errlen);

sqr_rc ui_text_open(SDL_Renderer *ren, const char *font_path, ui_text **out, char *err,
                    size_t errlen) SQR_WARN_UNUSED;
void ui_text_close(ui_text *t);
/* The renderer changed or lost its textures: forget every texture. */
void ui_text_reset(ui_text *t, SDL_Renderer *ren);

/* A texture of utf8 at size px in colour; borrowed until the next reset
 * (or until evicted, so use it at once). NULL for "" or on failure. */
SDL_Texture *ui_text_get(ui_text *t, const char *utf8, int size, SDL_Color c, int *w, int *h);
/* Width and height of utf8 at size px, without drawing. */
void ui_text_measure(ui_text *t, const char *utf8, int size, int *w, int *h);
/* For secrets (what a shopper typed): a texture of utf8 that is never
 * cached; the caller draws it and destroys it at once (SDL_DestroyTexture).
 * The rendered pixels are wiped before they are freed, and the glyph
 * order SDL_ttf keeps of the last string laid out in a font is overwritten
 * with filler. The caller wipes its own copy of utf8. NULL for "" or on
 * failure. */
SDL_Texture *ui_text_render_secret(ui_text *t, const char *utf8, int size, SDL_Color c, int *w,
                                   int *h);
/* ui_text_measure for a secret: SDL_ttf's copy of its layout overwritten
 * the same way. */
void ui_text_measure_secret(ui_text *t, const char *utf8, int size, int *w, int *h);
/* Breaks utf8 into lines no wider than width px (at spaces for Latin
 * text, between any two characters for CJK). Calls fn per line. */
typedef void (*ui_text_line_fn)(const char *line, size_t len, void *ud);
void ui_text_wrap(ui_text *t, const char *utf8, int size, int width, ui_text_line_fn fn, void *ud);

#endif
