/* pages_shopper.h — the pages a shopper's phone shows after a scan (the
 * resolver's resolve_pages.c caches them): a store's group page, the
 * "groups full" staff contact page, a brand's store finder, and the short
 * notices (a bad or expired code, an unknown store, ...), in Chinese or
 * English.
 *
 * Each page is a view-model struct rendered through its template in
 * sync/hq/templates; every string is HTML-escaped there, so a store name
 * cannot become markup. No I/O and no state: the pages are golden-tested
 * without a server (tests/hqweb/test_pages.c). The words of the pages in
 * both languages live here. Never given a phone number.
 */
#ifndef SQR_PAGES_SHOPPER_H
#define SQR_PAGES_SHOPPER_H

#include <stddef.h>
#include "dynbuf.h"
#include "sqr.h"

/* The page's language (resolve_routes.c picks it from Accept-Language). */
enum { SHOPPER_LANG_ZH = 0, SHOPPER_LANG_EN = 1, SHOPPER_NLANG };

typedef enum shopper_notice {
  SHOPPER_BAD_TOKEN,   /* forged, malformed, another store's code */
  SHOPPER_EXPIRED,     /* a code of an earlier window */
  SHOPPER_NO_STORE,    /* no such store or brand */
  SHOPPER_BAD_REQUEST, /* a location that does not parse */
  SHOPPER_TOO_LONG,    /* an overlong link */
  SHOPPER_METHOD,      /* neither GET nor HEAD */
  SHOPPER_UNAVAILABLE, /* HQ's database is down: try again in a moment */
  SHOPPER_NNOTICE
} shopper_notice;

typedef struct shopper_notice_view {
  int lang;
  shopper_notice kind;
} shopper_notice_view;

/* A store's page, sending the shopper to a group. */
typedef struct shopper_group_view {
  int lang;
  const char *store_name;
  const char *offer;      /* the campaign running now; NULL or "": none */
  const char *group_name; /* NULL or "": the page's heading stands in */
  const char *qr_src;     /* data: URI of the join link's QR code; NULL: none */
  const char *join_link;  /* the button's link; NULL, or not https: no button */
} shopper_group_view;

/* A store's page when every group is full or expiring. */
typedef struct shopper_full_view {
  int lang;
  const char *store_name;
  const char *offer;        /* as in shopper_group_view */
  const char *staff_qr_src; /* data: URI of the staff contact's QR code; NULL: none */
  const char *staff_link;   /* NULL, or not https: no button */
} shopper_full_view;

typedef struct shopper_brand_store {
  const char *id, *name, *city; /* city "": shown as a dash */
} shopper_brand_store;

/* /N/<BRAND>: the nearest store by location, or a list by city. */
typedef struct shopper_brand_view {
  int lang;
  const char *brand;
  const char *note;                  /* under the heading (why the list shows); NULL: none */
  const shopper_brand_store *stores; /* stores of one city next to each other */
  size_t nstores;
} shopper_brand_view;

/* Each appends its page to out. SQR_EINVAL for a bad language or kind;
 * SQR_ENOMEM; the dynbuf's SQR_ETOOBIG. */
sqr_rc shopper_notice_render(const shopper_notice_view *vm, dynbuf *out) SQR_WARN_UNUSED;
sqr_rc shopper_group_render(const shopper_group_view *vm, dynbuf *out) SQR_WARN_UNUSED;
sqr_rc shopper_full_render(const shopper_full_view *vm, dynbuf *out) SQR_WARN_UNUSED;
sqr_rc shopper_brand_render(const shopper_brand_view *vm, dynbuf *out) SQR_WARN_UNUSED;

#endif
