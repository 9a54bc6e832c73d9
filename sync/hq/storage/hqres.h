/* hqres.h — parameters and result rows as every storage backend speaks
 * them: a statement's $N parameters and the cells of the rows it
 * returns, owned by the result. A leaf of the storage layer. */
#ifndef SQR_HQRES_H
#define SQR_HQRES_H

#include <stddef.h>
#include <stdint.h>
#include "sqr.h"

typedef enum hqv_kind { HQV_NULL = 0, HQV_INT, HQV_REAL, HQV_TEXT, HQV_BLOB } hqv_kind;

/* One parameter or one result cell. For results p points into the
 * result's own storage (text is NUL-terminated). */
typedef struct hqv {
  hqv_kind k;
  int64_t i;
  double d;
  const void *p;
  size_t n;
} hqv;

typedef struct hqres {
  int nrows, ncols;
  hqv *cells; /* nrows * ncols; each text or blob cell owns its p */
} hqres;

void hqres_free(hqres *r);
/* Columns a result row holds at most; a statement returning more is an
 * error (the backends refuse it rather than drop columns). */
#define HQRES_MAX_COLS 32

/* Appends one row of ncols cells, copying each text and blob (a NUL is
 * added after both). Used by both backends while reading rows. */
sqr_rc hqres_add_row(hqres *r, int ncols, const hqv *cells) SQR_WARN_UNUSED;

#endif
