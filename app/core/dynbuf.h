/* dynbuf.h — one bounded, growable text buffer, with the escapers every
 * page, JSON answer and CSV export uses.
 *
 * Modelled on curl's dynbuf: every buffer is given a hard maximum
 * ("toobig") when it is made, because what grows it comes from outside
 * (store names, batch contents, thousands of stores). Unlike curl's, an
 * error is sticky: the first failure (SQR_ENOMEM, or SQR_ETOOBIG past the
 * maximum) is remembered, every later append is a no-op, and a renderer
 * checks dynbuf_error() once at the end instead of after every line.
 *
 * Owns only its own memory. Never logs what it holds (it may hold a page
 * that names a shopper's group, never a phone number by design, but it is
 * the caller's text). Text is always NUL-terminated.
 */
#ifndef SQR_DYNBUF_H
#define SQR_DYNBUF_H

#include <stddef.h>
#include "sqr.h"

typedef struct dynbuf {
  char *p;       /* NULL until the first append */
  size_t len;    /* bytes in use, not counting the NUL */
  size_t cap;    /* bytes allocated */
  size_t toobig; /* the most len may ever be, plus one */
  sqr_rc err;    /* first failure, or SQR_OK */
  int secret;    /* dynbuf_secret: every block wiped before it is freed */
} dynbuf;

/* An empty buffer whose text may never reach toobig bytes. */
void dynbuf_init(dynbuf *b, size_t toobig);
/* The text will hold personal data (phone numbers in HQ's CRM export):
 * from now on a block the buffer outgrows is copied and wiped rather
 * than realloc'ed (which would leave the old bytes in freed memory), and
 * dynbuf_free and dynbuf_reset wipe what was written. */
void dynbuf_secret(dynbuf *b);
/* Frees the text; the buffer is empty (and usable) again. NULL is fine. */
void dynbuf_free(dynbuf *b);
/* Empties the text and clears the error, keeping the memory. */
void dynbuf_reset(dynbuf *b);

/* Append n bytes / a C string / printf output. SQR_ENOMEM, SQR_ETOOBIG,
 * or the earlier error. */
sqr_rc dynbuf_add(dynbuf *b, const void *mem, size_t n);
sqr_rc dynbuf_adds(dynbuf *b, const char *s);
sqr_rc dynbuf_addf(dynbuf *b, const char *fmt, ...) SQR_PRINTF(2, 3);

/* Escaped copies of untrusted text; invalid UTF-8 becomes U+FFFD.
 * html: text and quoted attribute values (& < > " ' escaped, control
 *   characters other than tab and newline replaced);
 * json: the inside of a JSON string (" \ and control characters escaped);
 * csv: one RFC 4180 field, quoted when it holds , " CR or LF, and a
 *   leading = + - @ tab or CR defused with ' so a spreadsheet never runs
 *   it as a formula. */
sqr_rc dynbuf_add_html(dynbuf *b, const char *s);
sqr_rc dynbuf_add_json(dynbuf *b, const char *s);
sqr_rc dynbuf_add_csv(dynbuf *b, const char *s);

/* The text ("" while empty; valid until the next append, reset or free). */
const char *dynbuf_ptr(const dynbuf *b);
size_t dynbuf_len(const dynbuf *b);
/* The first failure since init or reset, or SQR_OK. */
sqr_rc dynbuf_error(const dynbuf *b);
/* Hands the text over (malloc'ed; free() it) and leaves the buffer empty.
 * NULL when the buffer failed (it is then freed) or is out of memory;
 * *len (optional) gets the length. An empty buffer gives "". */
char *dynbuf_take(dynbuf *b, size_t *len);

#endif
