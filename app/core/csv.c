/* csv.c — see csv.h. */
#include "csv.h"

static void sep(csv_row *r) {
  if(r->cells++) dynbuf_add(r->b, ",", 1);
}

void csv_row_start(csv_row *r, dynbuf *b) {
  r->b = b;
  r->cells = 0;
}

void csv_text(csv_row *r, const char *s) {
  sep(r);
  if(s) dynbuf_add_csv(r->b, s);
}

void csv_int(csv_row *r, int64_t v) {
  sep(r);
  dynbuf_addf(r->b, "%lld", (long long)v);
}

void csv_fixed(csv_row *r, double v, int decimals) {
  sep(r);
  dynbuf_addf(r->b, "%.*f", decimals, v);
}

void csv_empty(csv_row *r) {
  sep(r);
}

sqr_rc csv_row_end(csv_row *r) {
  dynbuf_add(r->b, "\r\n", 2);
  return dynbuf_error(r->b);
}
