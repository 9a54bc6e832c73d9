/* image.c — see image.h. */
#include "image.h"
#include "log.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE_SLOTS      4
#define IMAGE_FAILED_MAX 8

typedef struct image_slot {
  char path[256];
  SDL_Texture *tex;
  int w, h;
} image_slot;

struct ui_images {
  SDL_Renderer *ren;
  char dir[512];
  image_slot slot[IMAGE_SLOTS];
  int next;                           /* slot to reuse next */
  char failed[IMAGE_FAILED_MAX][256]; /* logged already: not tried again */
  int nfailed;
};

sqr_rc ui_images_new(SDL_Renderer *ren, const char *assets_dir, ui_images **out) {
  *out = calloc(1, sizeof **out);
  if(!*out) return SQR_ENOMEM;
  (*out)->ren = ren;
  snprintf((*out)->dir, sizeof(*out)->dir, "%s", assets_dir ? assets_dir : ".");
  return SQR_OK;
}

void ui_images_reset(ui_images *im, SDL_Renderer *ren) {
  if(!im) return;
  for(int i = 0; i < IMAGE_SLOTS; i++) {
    /* A new renderer took the old one's textures with it. */
    if(im->slot[i].tex && ren == im->ren) SDL_DestroyTexture(im->slot[i].tex);
    memset(&im->slot[i], 0, sizeof im->slot[i]);
  }
  im->ren = ren;
}

void ui_images_free(ui_images *im) {
  if(!im) return;
  ui_images_reset(im, im->ren);
  free(im);
}

sqr_rc ui_image_load_png(const char *path, SDL_Surface **out) {
  *out = NULL;
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if(!png_image_begin_read_from_file(&img, path)) {
    log_debug("ui", "png %s: %s", path, img.message);
    return SQR_EIO;
  }
  if(img.width == 0 || img.height == 0 || img.width > UI_IMAGE_MAX_SIDE ||
     img.height > UI_IMAGE_MAX_SIDE) {
    png_image_free(&img);
    return SQR_EINVAL;
  }
  /* BGRA in memory is SDL's ARGB8888 on a little-endian machine. */
  img.format = SDL_BYTEORDER == SDL_LIL_ENDIAN ? PNG_FORMAT_BGRA : PNG_FORMAT_ARGB;
  SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, (int)img.width, (int)img.height, 32,
                                                  SDL_PIXELFORMAT_ARGB8888);
  if(!s) {
    png_image_free(&img);
    return SQR_ENOMEM;
  }
  if(!png_image_finish_read(&img, NULL, s->pixels, s->pitch, NULL)) {
    log_debug("ui", "png %s: %s", path, img.message);
    png_image_free(&img);
    SDL_FreeSurface(s);
    return SQR_EINVAL;
  }
  *out = s;
  return SQR_OK;
}

SDL_Texture *ui_image_get(ui_images *im, const char *relpath, int *w, int *h) {
  if(!im || !relpath || !*relpath) return NULL;
  for(int i = 0; i < IMAGE_SLOTS; i++)
    if(im->slot[i].tex && strcmp(im->slot[i].path, relpath) == 0) {
      *w = im->slot[i].w;
      *h = im->slot[i].h;
      return im->slot[i].tex;
    }
  for(int i = 0; i < im->nfailed; i++)
    if(strcmp(im->failed[i], relpath) == 0) return NULL;
  char path[1024];
  SDL_Surface *s = NULL;
  SDL_Texture *t = NULL;
  sqr_rc rc = SQR_EINVAL;
  /* Relative to the assets directory and never outside it. */
  if(relpath[0] != '/' && !strstr(relpath, "..")) {
    snprintf(path, sizeof path, "%s/%s", im->dir, relpath);
    rc = ui_image_load_png(path, &s);
  }
  if(!rc) {
    t = SDL_CreateTextureFromSurface(im->ren, s);
    if(t)
      SDL_SetTextureScaleMode(t, SDL_ScaleModeLinear);
    else
      rc = SQR_EIO;
  }
  if(rc) {
    log_warn("ui", "campaign image %s (in %s) cannot be shown (%s): text only", relpath, im->dir,
             sqr_strerror(rc));
    if(im->nfailed < IMAGE_FAILED_MAX) snprintf(im->failed[im->nfailed++], 256, "%s", relpath);
    SDL_FreeSurface(s);
    return NULL;
  }
  image_slot *sl = &im->slot[im->next];
  im->next = (im->next + 1) % IMAGE_SLOTS;
  if(sl->tex) SDL_DestroyTexture(sl->tex);
  snprintf(sl->path, sizeof sl->path, "%s", relpath);
  sl->tex = t;
  sl->w = *w = s->w;
  sl->h = *h = s->h;
  SDL_FreeSurface(s);
  return t;
}
