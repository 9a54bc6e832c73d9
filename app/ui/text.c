/* text.c — see text.h. */
#include "text.h"
#include "crypto.h"
#include "log.h"

#include <SDL_ttf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEXT_MAX_FONTS 12
#define TEXT_CACHE     160
#define TEXT_KEY_MAX   256

typedef struct font_slot {
  int size;
  TTF_Font *font;
} font_slot;
typedef struct cache_slot {
  char key[TEXT_KEY_MAX];
  int size;
  SDL_Color c;
  SDL_Texture *tex;
  int w, h;
  uint64_t used;
} cache_slot;

struct ui_text {
  SDL_Renderer *ren;
  char path[512];
  font_slot fonts[TEXT_MAX_FONTS];
  cache_slot cache[TEXT_CACHE];
  uint64_t tick;
};

static const char *const font_candidates[] = {
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
};

const char *ui_text_find_font(char *err, size_t errlen) {
  const char *env = getenv("SQR_FONT");
  if(env && *env) {
    if(access(env, R_OK) == 0) return env;
    snprintf(err, errlen, "SQR_FONT=%s cannot be read", env);
    return NULL;
  }
  for(size_t i = 0; i < SQR_ARRAY_LEN(font_candidates); i++)
    if(access(font_candidates[i], R_OK) == 0) return font_candidates[i];
  snprintf(err, errlen,
           "no CJK font found (looked for %s): install the Debian package fonts-wqy-microhei "
           "(or fonts-noto-cjk), or point SQR_FONT at a .ttf/.ttc file",
           font_candidates[0]);
  return NULL;
}

sqr_rc ui_text_open(SDL_Renderer *ren, const char *font_path, ui_text **out, char *err,
                    size_t errlen) {
  *out = NULL;
  if(!TTF_WasInit() && TTF_Init() != 0) {
    snprintf(err, errlen, "SDL_ttf: %s", TTF_GetError());
    return SQR_EIO;
  }
  TTF_Font *probe = TTF_OpenFont(font_path, 16);
  if(!probe) {
    snprintf(err, errlen, "cannot open font %s: %s (install fonts-wqy-microhei)", font_path,
             TTF_GetError());
    return SQR_EIO;
  }
  ui_text *t = calloc(1, sizeof *t);
  if(!t) {
    TTF_CloseFont(probe);
    return SQR_ENOMEM;
  }
  t->ren = ren;
  snprintf(t->path, sizeof t->path, "%s", font_path);
  t->fonts[0].size = 16;
  t->fonts[0].font = probe;
  *out = t;
  return SQR_OK;
}

void ui_text_reset(ui_text *t, SDL_Renderer *ren) {
  if(!t) return;
  for(int i = 0; i < TEXT_CACHE; i++) {
    /* After SDL_RENDER_DEVICE_RESET the old textures are already gone with
     * the old renderer; destroying them again would be a double free. */
    if(t->cache[i].tex && ren == t->ren) SDL_DestroyTexture(t->cache[i].tex);
    memset(&t->cache[i], 0, sizeof t->cache[i]);
  }
  t->ren = ren;
}

void ui_text_close(ui_text *t) {
  if(!t) return;
  ui_text_reset(t, t->ren);
  for(int i = 0; i < TEXT_MAX_FONTS; i++)
    if(t->fonts[i].font) TTF_CloseFont(t->fonts[i].font);
  free(t);
  TTF_Quit();
}

static TTF_Font *font_at(ui_text *t, int size) {
  if(size < 6) size = 6;
  int free_slot = -1, oldest = 0;
  for(int i = 0; i < TEXT_MAX_FONTS; i++) {
    if(t->fonts[i].font && t->fonts[i].size == size) return t->fonts[i].font;
    if(!t->fonts[i].font && free_slot < 0) free_slot = i;
  }
  if(free_slot < 0) { /* a resize to many new sizes: recycle a slot */
    free_slot = oldest;
    TTF_CloseFont(t->fonts[free_slot].font);
    t->fonts[free_slot].font = NULL;
  }
  TTF_Font *f = TTF_OpenFont(t->path, size);
  if(!f) {
    log_error("ui", "font %s at %d px: %s", t->path, size, TTF_GetError());
    return NULL;
  }
  t->fonts[free_slot].font = f;
  t->fonts[free_slot].size = size;
  return f;
}

void ui_text_measure(ui_text *t, const char *utf8, int size, int *w, int *h) {
  int ww = 0, hh = 0;
  TTF_Font *f = font_at(t, size);
  if(f && utf8 && *utf8) TTF_SizeUTF8(f, utf8, &ww, &hh);
  if(w) *w = ww;
  if(h) *h = hh ? hh : (f ? TTF_FontHeight(f) : size);
}

static size_t utf8_next(const char *s, size_t i) {
  unsigned char ch = (unsigned char)s[i];
  size_t n = ch < 0x80 ? 1 : ch < 0xE0 ? 2 : ch < 0xF0 ? 3 : 4;
  for(size_t k = 1; k < n; k++)
    if(!s[i + k]) return i + k;
  return i + n;
}

/* utf8 drawn into a new texture. secret: the rendered surface's pixels
 * are wiped before it is freed (they show the number to anyone who looks). */
static SDL_Texture *make_texture(ui_text *t, TTF_Font *f, const char *utf8, SDL_Color c, int secret,
                                 int *w, int *h) {
  SDL_Surface *surf = TTF_RenderUTF8_Blended(f, utf8, c);
  if(!surf) return NULL;
  SDL_Texture *tex = SDL_CreateTextureFromSurface(t->ren, surf);
  *w = surf->w;
  *h = surf->h;
  if(secret && surf->pixels) crypto_wipe(surf->pixels, (size_t)surf->pitch * (size_t)surf->h);
  SDL_FreeSurface(surf);
  return tex;
}

/* SDL_ttf keeps the glyph indices and positions of the last string it laid
 * out at a size in that font (until the next one there): lay out as many
 * filler glyphs, so a secret's glyphs in their order do not stay behind. */
static void scrub_layout(TTF_Font *f, const char *utf8) {
  char filler[TEXT_KEY_MAX];
  size_t n = 0;
  for(size_t i = 0; utf8[i] && n < sizeof filler - 1; i = utf8_next(utf8, i))
    filler[n++] = 'x';
  filler[n] = '\0';
  int w = 0;
  if(n) TTF_SizeUTF8(f, filler, &w, NULL);
}

SDL_Texture *ui_text_render_secret(ui_text *t, const char *utf8, int size, SDL_Color c, int *w,
                                   int *h) {
  if(!utf8 || !*utf8) return NULL;
  TTF_Font *f = font_at(t, size);
  if(!f) return NULL;
  int sw = 0, sh = 0;
  SDL_Texture *tex = make_texture(t, f, utf8, c, 1, &sw, &sh);
  scrub_layout(f, utf8);
  if(w) *w = sw;
  if(h) *h = sh;
  return tex;
}

void ui_text_measure_secret(ui_text *t, const char *utf8, int size, int *w, int *h) {
  ui_text_measure(t, utf8, size, w, h);
  TTF_Font *f = font_at(t, size);
  if(f && utf8) scrub_layout(f, utf8);
}

SDL_Texture *ui_text_get(ui_text *t, const char *utf8, int size, SDL_Color c, int *w, int *h) {
  if(!utf8 || !*utf8 || strlen(utf8) >= TEXT_KEY_MAX) {
    /* Long strings are drawn uncached: they are rare (consent lines are
     * wrapped shorter than this). */
    if(!utf8 || !*utf8) return NULL;
  }
  size_t len = strlen(utf8);
  int victim = 0;
  uint64_t oldest = UINT64_MAX;
  t->tick++;
  if(len < TEXT_KEY_MAX) {
    for(int i = 0; i < TEXT_CACHE; i++) {
      cache_slot *s = &t->cache[i];
      if(s->tex && s->size == size && s->c.r == c.r && s->c.g == c.g && s->c.b == c.b &&
         s->c.a == c.a && strcmp(s->key, utf8) == 0) {
        s->used = t->tick;
        if(w) *w = s->w;
        if(h) *h = s->h;
        return s->tex;
      }
      if(s->used < oldest) {
        oldest = s->used;
        victim = i;
      }
    }
  }
  TTF_Font *f = font_at(t, size);
  if(!f) return NULL;
  int sw = 0, sh = 0;
  SDL_Texture *tex = make_texture(t, f, utf8, c, 0, &sw, &sh);
  if(!tex) return NULL;
  cache_slot *s = &t->cache[victim];
  if(s->tex) SDL_DestroyTexture(s->tex);
  memset(s, 0, sizeof *s);
  if(len < TEXT_KEY_MAX)
    memcpy(s->key, utf8, len + 1);
  else
    s->key[0] = '\0'; /* never matches a lookup; evicted in turn */
  s->size = size;
  s->c = c;
  s->tex = tex;
  s->w = sw;
  s->h = sh;
  s->used = t->tick;
  if(w) *w = sw;
  if(h) *h = sh;
  return tex;
}

void ui_text_wrap(ui_text *t, const char *utf8, int size, int width, ui_text_line_fn fn, void *ud) {
  TTF_Font *f = font_at(t, size);
  if(!f || !utf8) return;
  char line[1024];
  size_t start = 0, n = strlen(utf8);
  while(start < n) {
    if(utf8[start] == '\n') {
      fn("", 0, ud);
      start++;
      continue;
    }
    size_t i = start, fit = start, last_space = 0;
    while(i < n && utf8[i] != '\n') {
      size_t nx = utf8_next(utf8, i);
      size_t len = nx - start;
      if(len >= sizeof line) break;
      memcpy(line, utf8 + start, len);
      line[len] = '\0';
      int lw = 0;
      TTF_SizeUTF8(f, line, &lw, NULL);
      if(lw > width && fit > start) break;
      if(utf8[i] == ' ') last_space = i;
      fit = nx;
      i = nx;
    }
    size_t end = fit;
    /* Latin text breaks at the last space; CJK may break anywhere. */
    if(end < n && utf8[end] != '\n' && utf8[end] != ' ' && last_space > start &&
       (unsigned char)utf8[end] < 0x80)
      end = last_space;
    fn(utf8 + start, end - start, ud);
    start = end;
    while(start < n && utf8[start] == ' ')
      start++;
    if(start < n && utf8[start] == '\n') start++;
  }
}
