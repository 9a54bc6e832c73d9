/* fuzz_gunzip.c — the inflater of gzip request bodies (decode_gunzip,
 * what POST /v1/events runs on a Content-Encoding: gzip body before
 * decoding it).
 *
 * Input: 3 bytes of bound (big-endian, at most PROTO_MAX_INFLATED, the
 * bound HQ uses), then the body. Checks, beyond no crash: never more than
 * the bound comes out, the output is NUL-terminated, and the answer
 * agrees with a plain zlib inflate of the same bytes (ours must say
 * SQR_ENOSPC exactly when the data inflates past the bound, SQR_EINVAL
 * for what zlib refuses or finds cut short, and give zlib's bytes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "decode.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference: inflates the first gzip member in 4 KiB steps, keeping
 * at most max + 1 bytes. SQR_OK (*n bytes in out), SQR_ENOSPC, SQR_EINVAL. */
static sqr_rc ref_gunzip(const uint8_t *in, size_t inlen, size_t max, uint8_t *out, size_t *n) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if(inflateInit2(&z, 15 + 16) != Z_OK) abort();
  z.next_in = (Bytef *)(uintptr_t)in;
  z.avail_in = (uInt)inlen;
  sqr_rc rc = SQR_EINVAL;
  uint8_t chunk[4096];
  *n = 0;
  for(;;) {
    z.next_out = chunk;
    z.avail_out = sizeof chunk;
    int zr = inflate(&z, Z_NO_FLUSH);
    size_t got = sizeof chunk - z.avail_out;
    if(*n + got > max) {
      rc = SQR_ENOSPC;
      break;
    }
    memcpy(out + *n, chunk, got);
    *n += got;
    if(zr == Z_STREAM_END) {
      rc = SQR_OK;
      break;
    }
    if(zr != Z_OK || (got == 0 && z.avail_in == 0)) break; /* refused or cut short */
  }
  inflateEnd(&z);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if(size < 3) return 0;
  size_t max = ((size_t)data[0] << 16 | (size_t)data[1] << 8 | data[2]) % (PROTO_MAX_INFLATED + 1);
  const uint8_t *in = data + 3;
  size_t inlen = size - 3;
  uint8_t *want = malloc(max + 1);
  if(!want) return 0;
  size_t wantlen;
  sqr_rc ref = ref_gunzip(in, inlen, max, want, &wantlen);
  char *out = NULL;
  size_t outlen = 0;
  sqr_rc rc = decode_gunzip((const char *)in, inlen, max, &out, &outlen);
  if(rc == SQR_ENOMEM) goto done;
  if(rc != ref) abort();
  if(!rc) {
    if(!out || outlen > max || out[outlen] != '\0') abort();
    if(outlen != wantlen || memcmp(out, want, outlen) != 0) abort();
  }
done:
  free(out);
  free(want);
  return 0;
}
