/* csv.h — one CSV row writer (RFC 4180, CRLF line ends) over a dynbuf,
 * for every export a person opens in a spreadsheet.
 *
 * Text cells go through dynbuf_add_csv: quoted when they hold a comma,
 * quote, CR or LF, and a leading = + - @ tab or CR defused with ' so a
 * spreadsheet never runs a store name as a formula. Numbers are written
 * by the writer itself, never as text. Errors are the dynbuf's (sticky).
 */
#ifndef SQR_CSV_H
#define SQR_CSV_H

#include <stdint.h>
#include "dynbuf.h"

typedef struct csv_row {
  dynbuf *b;
  int cells;
} csv_row;

/* Starts a row in b. */
void csv_row_start(csv_row *r, dynbuf *b);
/* One cell each: untrusted text (NULL: empty), an integer, a number with
 * `decimals` places, or nothing. */
void csv_text(csv_row *r, const char *s);
void csv_int(csv_row *r, int64_t v);
void csv_fixed(csv_row *r, double v, int decimals);
void csv_empty(csv_row *r);
/* Ends the row (CRLF). The buffer's error, if any. */
sqr_rc csv_row_end(csv_row *r);

#endif
