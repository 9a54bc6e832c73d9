/* fuzz_gunzip.c — the inflater of gzip request bodies (decode_gunzip,
 * what POST /v1/events runs on a Content-Encoding: gzip body before
 * decoding it).
 *
 * Input: 3 bytes of bound (big-endian, at most PROTO_MAX_INFLATED, the
 * bound HQ uses), then the body. Checks, beyond no crash: never more than
 * the bound comes out, the output is NUL-terminated, and the answer
 * agrees with a plain zlib inflate of the same bytes: zlib's bytes when
 * they fit, SQR_ENOSPC for well-formed data past the bound, SQR_EINVAL
 * for what zlib refuses or finds cut short within it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "decode.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference: plain zlib over the first gzip member in 4 KiB steps,
 * keeping the first max bytes in out (*n of them) and counting the rest
 * (up to REF_GIVE_UP). REF_OK, REF_BAD (refused or cut short, within the
 * bound), REF_BIG (well-formed, past the bound), REF_BIG_BAD (past the
 * bound and refused later, or a bomb not worth inflating to its end: our
 * inflater may stop at the bound or at the damage, whichever it meets
 * first, so SQR_ENOSPC and SQR_EINVAL are both right). */
enum { REF_OK, REF_BAD, REF_BIG, REF_BIG_BAD };
#define REF_GIVE_UP (64u << 20)

static int ref_gunzip(const uint8_t *in, size_t inlen, size_t max, uint8_t *out, size_t *n) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if(inflateInit2(&z, 15 + 16) != Z_OK) abort();
  z.next_in = (Bytef *)(uintptr_t)in;
  z.avail_in = (uInt)inlen;
  uint8_t chunk[4096];
  size_t total = 0;
  int end = 0;
  *n = 0;
  while(total <= REF_GIVE_UP) {
    z.next_out = chunk;
    z.avail_out = sizeof chunk;
    int zr = inflate(&z, Z_NO_FLUSH);
    size_t got = sizeof chunk - z.avail_out;
    if(total < max) {
      size_t keep = got < max - total ? got : max - total;
      memcpy(out + total, chunk, keep);
      *n = total + keep;
    }
    total += got;
    if(zr == Z_STREAM_END) {
      end = 1;
      break;
    }
    if(zr != Z_OK || (got == 0 && z.avail_in == 0)) break; /* refused or cut short */
  }
  inflateEnd(&z);
  if(total > max) return end ? REF_BIG : REF_BIG_BAD;
  return end ? REF_OK : REF_BAD;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if(size < 3) return 0;
  size_t max = ((size_t)data[0] << 16 | (size_t)data[1] << 8 | data[2]) % (PROTO_MAX_INFLATED + 1);
  const uint8_t *in = data + 3;
  size_t inlen = size - 3;
  uint8_t *want = malloc(max + 1);
  if(!want) return 0;
  size_t wantlen;
  int ref = ref_gunzip(in, inlen, max, want, &wantlen);
  char *out = NULL;
  size_t outlen = 0;
  sqr_rc rc = decode_gunzip((const char *)in, inlen, max, &out, &outlen);
  if(rc == SQR_ENOMEM) goto done;
  if(ref == REF_OK    ? rc != SQR_OK
     : ref == REF_BAD ? rc != SQR_EINVAL
     : ref == REF_BIG ? rc != SQR_ENOSPC
                      : rc != SQR_ENOSPC && rc != SQR_EINVAL)
    abort();
  if(!rc) {
    if(!out || outlen > max || out[outlen] != '\0') abort();
    if(outlen != wantlen || memcmp(out, want, outlen) != 0) abort();
  }
done:
  free(out);
  free(want);
  return 0;
}
