/* fuzz_token.c — everything a scanned or typed code goes through: live-code
 * tokens (HQ's resolver), coupon codes (tills), base32 and phone numbers
 * (the keypad). */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base32.h"
#include "coupon.h"
#include "livecode.h"
#include "log.h"
#include "phone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Results are summed so the calls cannot be dropped (and warn_unused_result
 * is honoured); the value itself does not matter. */
volatile int fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static livecode_key key;
  static const uint8_t store_key[32] = {1, 2, 3};
  if(!key.ready) {
    log_set_level(LOG_FATAL);
    if(livecode_key_init(&key, store_key, 1) != SQR_OK) abort();
  }
  char *s = malloc(size + 1);
  memcpy(s, data, size);
  s[size] = '\0';
  livecode_claim claim;
  fuzz_sink +=
      (int)livecode_verify(&key, 1, "SH-JA01", s, 1795500000, 30, 1, LIVECODE_LEAD_S, &claim);
  coupon_info info;
  fuzz_sink += (int)coupon_verify(store_key, 1, "SH-JA01", s, &info);
  fuzz_sink += (int)coupon_parse(s, &info);
  uint8_t out[128];
  size_t outlen;
  fuzz_sink += (int)base32_decode(s, size, out, sizeof out, &outlen);
  char phone[PHONE_LEN + 1];
  fuzz_sink += (int)phone_normalize(s, phone, NULL);
  char url[LIVECODE_URL_MAX];
  fuzz_sink += (int)livecode_url(s, "SH-JA01", "AEAACA4RHUIP5WXFG7A36JES", url, sizeof url);
  free(s);
  return 0;
}
