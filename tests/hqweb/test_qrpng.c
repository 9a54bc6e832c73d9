/* test_qrpng.c — the resolver's QR images (sync/hq/web/qrpng.c), checked
 * by decoding them: the data: URI's base64, the PNG signature, every
 * chunk's CRC, IHDR (size = the code's width plus the 4-module quiet zone
 * on each side, 1-bit grey, no interlace), the IDAT inflated with zlib,
 * and every pixel against libqrencode's own bits for the same text (dark
 * module = 0, everything else = 1). Plus the refusals: no text, and a
 * text too long for any QR code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <qrencode.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "crypto.h"
#include "qrpng.h"

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Encodes text with qrpng and checks the image against libqrencode. */
static void check_text(const char *text) {
  char *uri = NULL;
  assert_int_equal(qrpng_data_uri(text, &uri), SQR_OK);
  assert_non_null(uri);
  static const char prefix[] = "data:image/png;base64,";
  assert_memory_equal(uri, prefix, sizeof prefix - 1);
  const char *b64 = uri + sizeof prefix - 1;
  size_t cap = strlen(b64) / 4 * 3 + 3, n = 0;
  uint8_t *png = malloc(cap);
  assert_non_null(png);
  assert_int_equal(crypto_unb64(b64, png, cap, &n), SQR_OK);

  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  assert_true(n > 8);
  assert_memory_equal(png, sig, 8);
  uint32_t width = 0, height = 0;
  uint8_t *idat = NULL;
  size_t nidat = 0, pos = 8;
  int ihdr = 0, iend = 0;
  while(pos < n) {
    assert_true(n - pos >= 12);
    uint32_t len = get32(png + pos);
    assert_true(len <= n - pos - 12);
    const uint8_t *type = png + pos + 4, *data = png + pos + 8;
    uint32_t crc = (uint32_t)crc32(crc32(0, NULL, 0), type, len + 4);
    assert_int_equal(crc, get32(data + len));
    assert_false(iend); /* nothing after IEND */
    if(memcmp(type, "IHDR", 4) == 0) {
      assert_int_equal(pos, 8); /* first */
      assert_int_equal(len, 13);
      width = get32(data);
      height = get32(data + 4);
      assert_int_equal(data[8], 1);  /* bit depth */
      assert_int_equal(data[9], 0);  /* grey */
      assert_int_equal(data[10], 0); /* deflate */
      assert_int_equal(data[11], 0); /* adaptive filtering (each row says) */
      assert_int_equal(data[12], 0); /* no interlace */
      ihdr = 1;
    } else if(memcmp(type, "IDAT", 4) == 0) {
      assert_true(ihdr);
      uint8_t *more = realloc(idat, nidat + len + 1);
      assert_non_null(more);
      idat = more;
      memcpy(idat + nidat, data, len);
      nidat += len;
    } else if(memcmp(type, "IEND", 4) == 0) {
      assert_int_equal(len, 0);
      iend = 1;
    }
    pos += 12 + (size_t)len;
  }
  assert_int_equal(pos, n);
  assert_true(ihdr && iend && nidat);

  QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  assert_non_null(q);
  int w = q->width;
  assert_int_equal(width, (uint32_t)w + 8);
  assert_int_equal(height, (uint32_t)w + 8);
  size_t row = 1 + (width + 7) / 8;
  uLongf rawlen = (uLongf)(row * height);
  uint8_t *raw = malloc(rawlen);
  assert_non_null(raw);
  assert_int_equal(uncompress(raw, &rawlen, idat, (uLong)nidat), Z_OK);
  assert_int_equal(rawlen, row * height); /* no more, no less */
  for(int y = 0; y < (int)height; y++) {
    const uint8_t *r = raw + (size_t)y * row;
    assert_int_equal(r[0], 0); /* filter: none */
    for(int x = 0; x < (int)width; x++) {
      int white = (r[1 + x / 8] >> (7 - x % 8)) & 1;
      int dark = x >= 4 && y >= 4 && x < w + 4 && y < w + 4 && (q->data[(y - 4) * w + x - 4] & 1);
      if(white == dark) fail_msg("%s: pixel (%d, %d) is %s", text, x, y, white ? "white" : "dark");
    }
  }
  QRcode_free(q);
  free(raw);
  free(idat);
  free(png);
  free(uri);
}

static void test_decodes(void **state) {
  (void)state;
  check_text("https://x");
  check_text("https://weixin.qq.com/g/demo-ja-store-1");
  check_text("https://work.weixin.qq.com/ca/demo-staff-contact?s=SH-JA01&lang=zh-CN#top");
  check_text("https://例子.cn/群/静安寺"); /* UTF-8: 8-bit mode */
  char long_text[1201];
  memcpy(long_text, "https://example.cn/", 19);
  for(size_t i = 19; i < sizeof long_text - 1; i++)
    long_text[i] = (char)('a' + i % 26);
  long_text[sizeof long_text - 1] = '\0';
  check_text(long_text); /* a large version, several IDAT bytes per row */
}

static void test_refused(void **state) {
  (void)state;
  char *uri = (char *)"untouched";
  assert_int_equal(qrpng_data_uri(NULL, &uri), SQR_EINVAL);
  assert_null(uri);
  assert_int_equal(qrpng_data_uri("https://x", NULL), SQR_EINVAL);
  /* version 40 at level M holds 2,331 bytes in 8-bit mode */
  char *big = malloc(3001);
  assert_non_null(big);
  memset(big, 'a', 3000);
  big[3000] = '\0';
  uri = (char *)"untouched";
  assert_int_equal(qrpng_data_uri(big, &uri), SQR_ETOOBIG);
  assert_null(uri);
  free(big);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_decodes),
                                     cmocka_unit_test(test_refused)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
