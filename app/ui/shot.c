/* shot.c — see shot.h. libpng does the encoding; we only read pixels. */
#include "shot.h"
#include "log.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>

/* The libpng part on its own, so no local changes after setjmp. */
static int encode(FILE *f, const uint8_t *px, uint8_t *row, int w, int h, size_t pitch) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  if(!png) return -1;
  png_infop info = png_create_info_struct(png);
  if(!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return -1;
  }
  png_init_io(png, f);
  png_set_compression_level(png, 1);
  png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for(int y = 0; y < h; y++) {
    const uint32_t *src = (const uint32_t *)(px + (size_t)y * pitch);
    for(int x = 0; x < w; x++) {
      row[x * 3] = (uint8_t)(src[x] >> 16);
      row[x * 3 + 1] = (uint8_t)(src[x] >> 8);
      row[x * 3 + 2] = (uint8_t)src[x];
    }
    png_write_row(png, row);
  }
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return 0;
}

static sqr_rc write_png(const uint8_t *px, int w, int h, const char *path) {
  uint8_t *row = malloc((size_t)w * 3);
  if(!row) return SQR_ENOMEM;
  sqr_rc rc = SQR_OK;
  FILE *f = fopen(path, "wb");
  if(!f) {
    log_error("ui", "screenshot: cannot write %s", path);
    rc = SQR_EIO;
    goto out;
  }
  if(encode(f, px, row, w, h, (size_t)w * 4) != 0) rc = SQR_EIO;
out:
  if(f && fclose(f) != 0 && !rc) rc = SQR_EIO;
  free(row);
  return rc;
}

sqr_rc ui_shot_png_pixels(const uint8_t *px, int w, int h, const char *path) {
  return write_png(px, w, h, path);
}

sqr_rc ui_shot_png(SDL_Renderer *ren, int w, int h, const char *path) {
  size_t pitch = (size_t)w * 4;
  uint8_t *px = malloc(pitch * (size_t)h);
  sqr_rc rc = SQR_OK;
  if(!px) return SQR_ENOMEM;
  if(SDL_RenderReadPixels(ren, NULL, SDL_PIXELFORMAT_ARGB8888, px, (int)pitch) != 0) {
    log_error("ui", "screenshot: %s", SDL_GetError());
    rc = SQR_EIO;
    goto out;
  }
  rc = write_png(px, w, h, path);
out:
  free(px);
  return rc;
}
