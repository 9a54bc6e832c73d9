/* hqres.c — the result rows the backends hand back (hqdb_int.h's hqres),
 * kept apart from hqdb.c so a backend depends on these two functions
 * only, and hqdb.c (which picks the backend) on the backends. */
#include <stdlib.h>
#include <string.h>

#include "hqres.h"

void hqres_free(hqres *r) {
  if(!r) return;
  for(int i = 0; i < r->nrows * r->ncols; i++)
    if(r->cells[i].k == HQV_TEXT || r->cells[i].k == HQV_BLOB) free((void *)r->cells[i].p);
  free(r->cells);
  memset(r, 0, sizeof *r);
}

sqr_rc hqres_add_row(hqres *r, int ncols, const hqv *cells) {
  hqv *c = realloc(r->cells, (size_t)(r->nrows + 1) * (size_t)ncols * sizeof *c);
  if(!c) return SQR_ENOMEM;
  r->cells = c;
  r->ncols = ncols;
  hqv *row = c + (size_t)r->nrows * (size_t)ncols;
  for(int i = 0; i < ncols; i++) {
    row[i] = cells[i];
    if(cells[i].k == HQV_TEXT || cells[i].k == HQV_BLOB) {
      char *p = malloc(cells[i].n + 1);
      if(!p) {
        for(int j = 0; j < i; j++)
          if(row[j].k == HQV_TEXT || row[j].k == HQV_BLOB) free((void *)row[j].p);
        return SQR_ENOMEM;
      }
      if(cells[i].n) memcpy(p, cells[i].p, cells[i].n);
      p[cells[i].n] = '\0';
      row[i].p = p;
    }
  }
  r->nrows++;
  return SQR_OK;
}
