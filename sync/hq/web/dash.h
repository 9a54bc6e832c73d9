/* dash.h — the dashboard for HQ's staff: the admin login and the pages
 * under /dash (server-rendered HTML, no script). /v1/stats and
 * /v1/stats.csv are stats_web.h's, routed to it by routes.c.
 *
 * A route function returns 1 when the URL is its own (r is then set, any
 * status), 0 when it is not (server.c goes on and answers 404). It runs
 * on the server's thread(s) with the connection at hand for headers,
 * cookies and query arguments; it never blocks on the network.
 */
#ifndef SQR_DASH_H
#define SQR_DASH_H

#include <stddef.h>
#include <microhttpd.h>
#include "hq.h"
#include "reply.h"

int dash_route(hq *h, struct MHD_Connection *c, const char *method, const char *url,
               const char *body, size_t len, hq_reply *r);

#endif
