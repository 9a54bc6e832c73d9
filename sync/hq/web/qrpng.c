/* qrpng.c — see qrpng.h. */
#include "qrpng.h"

#include <errno.h>
#include <qrencode.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "crypto.h"

static void be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* A chunk (length, type, data, CRC over type and data) at out; its size. */
static size_t png_chunk(uint8_t *out, const char *type, const uint8_t *data, uint32_t n) {
  be32(out, n);
  memcpy(out + 4, type, 4);
  if(n) memcpy(out + 8, data, n);
  be32(out + 8 + n, (uint32_t)crc32(crc32(0, NULL, 0), out + 4, n + 4));
  return 12 + (size_t)n;
}

/* in[0..len) as a zlib stream in *out (malloc'd), *outlen bytes; 0, or -1
 * for want of memory. zlib's state is sized to the few hundred bytes of
 * the image, as for a page's gzip (resolve_pages.c, page_gzip): its
 * default state costs ~70 us to set up and clear, the compression ~5. */
static int deflate_small(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen) {
  int wbits = 9; /* zlib's smallest */
  while(wbits < 15 && ((size_t)1 << wbits) < len)
    wbits++;
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  *out = NULL;
  if(deflateInit2(&zs, 9, Z_DEFLATED, wbits, 6, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
  uLong cap = deflateBound(&zs, (uLong)len); /* Z_FINISH then ends the stream */
  int rc = -1;
  if((*out = malloc(cap))) {
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = *out;
    zs.avail_out = (uInt)cap;
    if(deflate(&zs, Z_FINISH) == Z_STREAM_END) {
      *outlen = zs.total_out;
      rc = 0;
    } else {
      free(*out);
      *out = NULL;
    }
  }
  deflateEnd(&zs);
  return rc;
}

sqr_rc qrpng_data_uri(const char *text, char **out) {
  if(!out) return SQR_EINVAL;
  *out = NULL;
  if(!text) return SQR_EINVAL;
  errno = 0;
  QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if(!q) return errno == ERANGE ? SQR_ETOOBIG : errno == ENOMEM ? SQR_ENOMEM : SQR_EINVAL;
  int w = q->width, full = w + 8;
  size_t row = 1 + ((size_t)full + 7) / 8, rawlen = row * (size_t)full;
  size_t zlen = 0;
  uint8_t *raw = calloc(rawlen, 1), *z = NULL, *png = NULL;
  char *uri = NULL;
  sqr_rc rc = SQR_ENOMEM;
  if(!raw) goto out;
  for(int y = 0; y < full; y++) {
    uint8_t *r = raw + (size_t)y * row; /* r[0] = 0: no filter */
    for(int x = 0; x < full; x++) {
      int dark = x >= 4 && y >= 4 && x < w + 4 && y < w + 4 && (q->data[(y - 4) * w + x - 4] & 1);
      if(!dark) r[1 + x / 8] |= (uint8_t)(0x80 >> (x % 8)); /* 1 = white */
    }
  }
  if(deflate_small(raw, rawlen, &z, &zlen)) goto out;
  size_t pnglen = 8 + 25 + (12 + zlen) + 12;
  if(!(png = malloc(pnglen))) goto out;
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  uint8_t ihdr[13] = {0};
  be32(ihdr, (uint32_t)full);
  be32(ihdr + 4, (uint32_t)full);
  ihdr[8] = 1; /* bit depth; colour type 0 (grey), no interlace */
  size_t n = 8;
  memcpy(png, sig, 8);
  n += png_chunk(png + n, "IHDR", ihdr, 13);
  n += png_chunk(png + n, "IDAT", z, (uint32_t)zlen);
  n += png_chunk(png + n, "IEND", NULL, 0);
  static const char prefix[] = "data:image/png;base64,";
  size_t b64len = (n + 2) / 3 * 4 + 1;
  if(!(uri = malloc(sizeof prefix - 1 + b64len))) goto out;
  memcpy(uri, prefix, sizeof prefix - 1);
  if((rc = crypto_b64(png, n, uri + sizeof prefix - 1, b64len))) {
    free(uri);
    uri = NULL;
    goto out;
  }
  *out = uri;
out:
  free(png);
  free(z);
  free(raw);
  QRcode_free(q);
  return rc;
}
