/* fuzz_resolve.c — what a scanning phone sends the resolver (resolve.h,
 * web/resolve_parse.c): the path of GET /J/<STORE>/<TOKEN> and
 * /N/<BRAND>, percent-decoded first as the server does (decode.h), the
 * lat/lon query arguments and the Accept-Language / Accept-Encoding
 * lists.
 *
 * Input: up to five '\n'-separated fields: path, Accept-Language,
 * Accept-Encoding, lat, lon (a missing field is NULL, as an absent
 * header or argument). Checks, beyond no crash: the parsed id and token
 * are exactly the bytes of the path (an id only when it follows the
 * store id rule), the length limit holds, degrees accepted are finite,
 * in range and written in the strict grammar, and the list parsers
 * answer one of their two values. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "livecode.h"
#include "log.h"
#include "pages_shopper.h"
#include "resolve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NFIELDS 5

static void check_url(const char *url) {
  resolve_url u;
  resolve_url_parse(url, &u);
  int j = strncmp(url, "/J/", 3) == 0, n = strncmp(url, "/N/", 3) == 0;
  if((u.kind == RESOLVE_URL_OTHER) != (!j && !n)) abort();
  if(u.kind == RESOLVE_URL_OTHER) return;
  if(u.j != j) abort();
  if((u.kind == RESOLVE_URL_TOO_LONG) != (strlen(url) > RESOLVE_URL_MAX)) abort();
  const char *rest = url + 3;
  switch(u.kind) {
  case RESOLVE_URL_J: {
    size_t l = strlen(u.id);
    if(!livecode_store_id_valid(u.id) || strncmp(rest, u.id, l) != 0) abort();
    if(rest[l] == '/' ? u.token != rest + l + 1 : rest[l] != '\0' || *u.token) abort();
    break;
  }
  case RESOLVE_URL_N:
    if(!livecode_store_id_valid(u.id) || strcmp(u.id, rest) != 0 || u.token) abort();
    break;
  case RESOLVE_URL_NO_ID: {
    size_t l = strcspn(rest, "/");
    if(!j || (l != 0 && l < HQ_ID_MAX) || u.id[0]) abort();
    break;
  }
  case RESOLVE_URL_BAD_ID:
    if(u.id[0] || u.token || (n && livecode_store_id_valid(rest))) abort();
    break;
  default:
    break;
  }
}

static void check_degrees(const char *s, double max) {
  double v = 1e300;
  if(!resolve_parse_degrees(s, max, &v)) return;
  if(!isfinite(v) || v < -max || v > max || strlen(s) > 20) abort();
  /* the grammar: '-'?, digits, then '.' and digits at most once */
  const char *p = s + (*s == '-');
  size_t dots = 0;
  for(; *p; p++)
    if(*p == '.')
      dots++;
    else if(*p < '0' || *p > '9')
      abort();
  if(dots > 1 || v != strtod(s, NULL)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  log_set_level(LOG_FATAL);
  char *copy = malloc(size + 1);
  if(!copy) return 0;
  memcpy(copy, data, size);
  copy[size] = '\0';
  const char *field[NFIELDS] = {0};
  char *p = copy;
  for(int i = 0; i < NFIELDS && p; i++) {
    field[i] = p;
    p = strchr(p, '\n');
    if(p) *p++ = '\0';
  }
  char *url = strdup(field[0]);
  if(url) {
    size_t n = decode_unescape(url);
    if(n != strlen(url)) abort(); /* no NUL decoded into a path */
    check_url(url);
    free(url);
  }
  int lang = resolve_lang_of(field[1]);
  if(lang != SHOPPER_LANG_ZH && lang != SHOPPER_LANG_EN) abort();
  int gz = resolve_accepts_gzip(field[2]);
  if(gz != 0 && gz != 1) abort();
  check_degrees(field[3], 90);
  check_degrees(field[4], 180);
  free(copy);
  return 0;
}
