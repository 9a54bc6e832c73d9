/* device.h — the routes kiosks call (docs/PROTOCOL.md): enrolment
 * (POST /v1/enroll, the one without a certificate), and over mutual TLS
 * the event upload (POST /v1/events, gzip inflated with a bound), the
 * configuration (GET /v1/config) and update bundles (GET /v1/bundles/).
 * Each decodes the request, calls the operations layer and encodes its
 * answer; the caller is named by its client certificate (device_auth),
 * never by what it sends.
 */
#ifndef SQR_DEVICE_H
#define SQR_DEVICE_H

#include <microhttpd.h>
#include "hq.h"
#include "reply.h"
#include "route.h"

/* The kiosk a connection's client certificate belongs to: issued by HQ's
 * device CA, enrolled, not revoked. 0 with r set (401 certificate) if not. */
int device_auth(hq *h, struct MHD_Connection *c, char kiosk_id[HQ_ID_MAX], hq_reply *r);

int device_enroll(const route_req *q, hq_reply *r);
int device_events(const route_req *q, hq_reply *r);
int device_config(const route_req *q, hq_reply *r);
/* GET /v1/feed?after=CURSOR: a page of the store's feed (storefeed.h). */
int device_feed(const route_req *q, hq_reply *r);
int device_bundle(const route_req *q, hq_reply *r);

#endif
