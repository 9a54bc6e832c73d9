/* route.h — what a route is (the types of routes.h's table) and what a
 * handler gets, apart from the table so the modules whose handlers the
 * table names can include it without including the table.
 */
#ifndef SQR_ROUTE_H
#define SQR_ROUTE_H

#include <stddef.h>
#include <microhttpd.h>
#include "hq.h"
#include "reply.h"

typedef enum route_auth {
  ROUTE_OPEN,   /* anyone: enrolment (a one-time code), shoppers' scans */
  ROUTE_DEVICE, /* a kiosk's client certificate (device_auth), checked first */
  ROUTE_ADMIN,  /* the admin bearer token, checked first (401 otherwise) */
  ROUTE_STAFF,  /* HQ's staff: the handler checks the token or a dashboard
                   session after the method, and lets the login page through */
  ROUTE_PROBE,  /* anyone, served outside the storage lock: the handler must
                   not touch storage (/healthz answers while a database
                   call holds the lock) */
} route_auth;

/* What a handler gets: the request, its body (NUL-terminated) and, on a
 * ROUTE_DEVICE route, the kiosk the certificate names. */
typedef struct route_req {
  hq *h;
  struct MHD_Connection *c;
  const char *method, *url;
  const char *body;
  size_t len;
  const char *kiosk_id;
} route_req;

/* Sets r and returns 1, or returns 0 when the URL is not its own after
 * all (the server answers 404). */
typedef int (*route_fn)(const route_req *q, hq_reply *r);

typedef struct route {
  const char *method; /* NULL: any (the handler answers 405 where it must) */
  const char *path;   /* the whole path, or its start when prefix */
  int prefix;
  route_auth auth;
  size_t body_max;   /* bytes; more is answered 413 before the body is read */
  const char *label; /* the route label in /metrics */
  route_fn fn;       /* NULL: the scan resolver's hot path (server.c), served
                        outside the storage lock */
} route;

#endif
