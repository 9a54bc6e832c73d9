/* phone.c — see phone.h. */
#include "phone.h"
#include "crypto.h"

#include <string.h>

sqr_rc phone_normalize(const char *input, char out[PHONE_LEN + 1], const char **why) {
  char digits[24];
  size_t n = 0;
  const char *p = input;
  const char *reason = NULL;

  if(!input) {
    reason = "no phone number given";
    goto bad;
  }
  while(*p == ' ')
    p++;
  if(*p == '+') {
    if(p[1] != '8' || p[2] != '6') {
      reason = "only +86 numbers are accepted";
      goto bad;
    }
    p += 3;
  }
  for(; *p; p++) {
    if(*p == ' ' || *p == '-') continue;
    if(*p < '0' || *p > '9') {
      reason = "a phone number has digits only";
      goto bad;
    }
    if(n >= sizeof digits - 1) {
      reason = "too many digits";
      goto bad;
    }
    digits[n++] = *p;
  }
  digits[n] = '\0';

  const char *d = digits;
  if(n == 15 && strncmp(d, "0086", 4) == 0) {
    d += 4;
    n -= 4;
  } else if(n == 13 && strncmp(d, "86", 2) == 0) {
    d += 2;
    n -= 2;
  }
  if(n != PHONE_LEN) {
    reason = n < PHONE_LEN ? "too few digits: a mobile number has 11"
                           : "too many digits: a mobile number has 11";
    goto bad;
  }
  if(d[0] != '1' || d[1] < '3' || d[1] > '9') {
    reason = "not a mainland mobile number (must start 13-19)";
    goto bad;
  }
  memcpy(out, d, PHONE_LEN);
  out[PHONE_LEN] = '\0';
  crypto_wipe(digits, sizeof digits); /* memset here may be elided */
  return SQR_OK;

bad:
  crypto_wipe(digits, sizeof digits);
  if(why) *why = reason;
  out[0] = '\0';
  return SQR_EINVAL;
}
