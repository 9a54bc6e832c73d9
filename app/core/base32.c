/* base32.c — see base32.h. Bit-buffer codec; no tables beyond the alphabet,
 * no allocation. */
#include "base32.h"

#include <stdint.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static int value(char c) {
  if(c >= 'A' && c <= 'Z') return c - 'A';
  if(c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

sqr_rc base32_encode(const void *in, size_t n, char *out, size_t outsize) {
  const uint8_t *p = in;
  if(!out || (n > 0 && !in)) return SQR_EINVAL;
  /* n * 8 must not wrap before we compare it with outsize. */
  if(n > (SIZE_MAX - 4) / 8 || outsize < BASE32_ENCODED_LEN(n) + 1) return SQR_EINVAL;
  uint32_t acc = 0; /* at most 12 live bits: 4 left over + 8 new */
  unsigned bits = 0;
  size_t o = 0;
  for(size_t i = 0; i < n; i++) {
    acc = (acc << 8 | p[i]) & 0xfffu;
    bits += 8;
    while(bits >= 5) {
      bits -= 5;
      out[o++] = alphabet[(acc >> bits) & 31];
    }
  }
  if(bits > 0) out[o++] = alphabet[(acc << (5 - bits)) & 31];
  out[o] = '\0';
  return SQR_OK;
}

sqr_rc base32_decode(const char *in, size_t inlen, void *out, size_t outsize, size_t *outlen) {
  uint8_t *o = out;
  if(!outlen || (inlen > 0 && (!in || !out))) return SQR_EINVAL;
  /* 1, 3 or 6 trailing characters cannot come from whole bytes. */
  switch(inlen % 8) {
  case 1:
  case 3:
  case 6:
    return SQR_EINVAL;
  default:
    break;
  }
  if(BASE32_DECODED_LEN(inlen) > outsize) return SQR_EINVAL;
  uint32_t acc = 0; /* at most 12 live bits: 7 left over + 5 new */
  unsigned bits = 0;
  size_t n = 0;
  for(size_t i = 0; i < inlen; i++) {
    int v = value(in[i]);
    if(v < 0) return SQR_EINVAL;
    acc = (acc << 5 | (uint32_t)v) & 0xfffu;
    bits += 5;
    if(bits >= 8) {
      bits -= 8;
      o[n++] = (uint8_t)(acc >> bits);
    }
  }
  /* Leftover bits must be zero, else two spellings decode to one value. */
  if(acc & ((1u << bits) - 1)) return SQR_EINVAL;
  *outlen = n;
  return SQR_OK;
}
