/* resolve_parse.c — the resolver's parsing of what a scanning phone sends
 * (resolve.h): the /J/ and /N/ path, the lat/lon query arguments and the
 * Accept-Language / Accept-Encoding lists. Pure functions of bytes a
 * hostile client controls: no connection, no lock, no storage, nothing
 * logged; every loop is bounded by the input or a fixed count.
 */
#include "resolve.h"
#include "resolve_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "livecode.h"

void resolve_url_parse(const char *url, resolve_url *out) {
  memset(out, 0, sizeof *out);
  int j = strncmp(url, "/J/", 3) == 0, n = strncmp(url, "/N/", 3) == 0;
  if(!j && !n) return;
  out->j = j;
  if(strlen(url) > RESOLVE_URL_MAX) {
    out->kind = RESOLVE_URL_TOO_LONG;
    return;
  }
  const char *path = url + 3;
  if(n) {
    /* the whole rest: a brand id has no '/' */
    if(!livecode_store_id_valid(path)) {
      out->kind = RESOLVE_URL_BAD_ID;
      return;
    }
    snprintf(out->id, sizeof out->id, "%s", path);
    out->kind = RESOLVE_URL_N;
    return;
  }
  const char *slash = strchr(path, '/');
  size_t sl = slash ? (size_t)(slash - path) : strlen(path);
  if(sl == 0 || sl >= sizeof out->id) {
    out->kind = RESOLVE_URL_NO_ID;
    return;
  }
  memcpy(out->id, path, sl);
  out->id[sl] = '\0';
  if(!livecode_store_id_valid(out->id)) {
    out->id[0] = '\0';
    out->kind = RESOLVE_URL_BAD_ID;
    return;
  }
  out->token = slash ? slash + 1 : "";
  out->kind = RESOLVE_URL_J;
}

int resolve_parse_degrees(const char *s, double max, double *out) {
  const char *p = s;
  if(!s || strlen(s) > 20) return 0;
  if(*p == '-') p++;
  size_t d = 0;
  while(isdigit((unsigned char)p[d]))
    d++;
  if(d < 1 || d > 3) return 0;
  p += d;
  if(*p == '.') {
    p++;
    d = 0;
    while(isdigit((unsigned char)p[d]))
      d++;
    if(d < 1 || d > 12) return 0;
    p += d;
  }
  if(*p) return 0;
  double v = strtod(s, NULL);
  if(!(v >= -max && v <= max)) return 0;
  *out = v;
  return 1;
}

/* One item of a header list like Accept-Language or Accept-Encoding
 * ("zh-CN,zh;q=0.9,en;q=0.8"): its token and its q (1 when absent, 0 when
 * malformed). Returns where the next item starts. */
static const char *list_item(const char *p, const char **tag, size_t *tl, double *q) {
  while(*p == ' ' || *p == '\t')
    p++;
  *tag = p;
  while(*p && *p != ';' && *p != ',' && *p != ' ')
    p++;
  *tl = (size_t)(p - *tag);
  *q = 1.0;
  while(*p && *p != ',') {
    if(*p == ';') {
      p++;
      while(*p == ' ')
        p++;
      if((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
        char *end;
        *q = strtod(p + 2, &end);
        if(end == p + 2 || !(*q >= 0 && *q <= 1)) *q = 0;
        p = end;
        continue;
      }
    }
    if(*p) p++;
  }
  return *p == ',' ? p + 1 : p;
}

int resolve_accepts_gzip(const char *ae) {
  if(!ae) return 0;
  int gzip = -1, any = -1;
  for(int items = 0; *ae && items < 64; items++) {
    const char *tag;
    size_t tl;
    double q;
    ae = list_item(ae, &tag, &tl, &q);
    if(tl == 4 && strncasecmp(tag, "gzip", 4) == 0)
      gzip = q > 0;
    else if(tl == 1 && tag[0] == '*')
      any = q > 0;
  }
  return gzip >= 0 ? gzip : any > 0;
}

int resolve_lang_of(const char *al) {
  if(!al) return LANG_ZH;
  double best[NLANG] = {-1, -1};
  int pos[NLANG] = {0, 0}, n = 0;
  const char *p = al;
  for(int items = 0; *p && items < 64; items++, n++) {
    const char *tag;
    size_t tl;
    double q;
    p = list_item(p, &tag, &tl, &q);
    int l = -1;
    if(tl >= 2 && strncasecmp(tag, "zh", 2) == 0 && (tl == 2 || tag[2] == '-')) l = LANG_ZH;
    if(tl >= 2 && strncasecmp(tag, "en", 2) == 0 && (tl == 2 || tag[2] == '-')) l = LANG_EN;
    if(l >= 0 && q > 0 && q > best[l]) {
      best[l] = q;
      pos[l] = n;
    }
  }
  if(best[LANG_EN] < 0) return LANG_ZH;
  if(best[LANG_ZH] < 0) return LANG_EN;
  if(best[LANG_EN] != best[LANG_ZH]) return best[LANG_EN] > best[LANG_ZH] ? LANG_EN : LANG_ZH;
  return pos[LANG_EN] < pos[LANG_ZH] ? LANG_EN : LANG_ZH;
}
