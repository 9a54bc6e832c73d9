/* metrics.h — GET /metrics (Prometheus text exposition) for HQ's staff:
 * the request and scan counters (counters.h) and the figures of every
 * store.
 *
 * A route function returns 1 when the URL is its own (r is then set, any
 * status), 0 when it is not (server.c goes on and answers 404). It runs
 * on the server's thread(s) with the connection at hand for headers,
 * cookies and query arguments; it never blocks on the network.
 */
#ifndef SQR_METRICS_H
#define SQR_METRICS_H

#include <microhttpd.h>
#include "hq.h"
#include "reply.h"

int metrics_route(hq *h, struct MHD_Connection *c, const char *method, const char *url,
                  hq_reply *r);

#endif
