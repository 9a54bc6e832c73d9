/* web.h — HQ's routes for people (issue 5) and update bundles (issue 6),
 * each module in its own file, called by server.c's dispatcher.
 *
 * A route function returns 1 when the URL is its own (r is then set, any
 * status), 0 when it is not (server.c goes on and answers 404). They run
 * on the server's thread(s) with the connection at hand for headers,
 * cookies and query arguments; they never block on the network.
 */
#ifndef SQR_WEB_H
#define SQR_WEB_H

#include <microhttpd.h>
#include "hq.h"

/* resolve.c: GET /J/<STORE>/<TOKEN> (the kiosk's live code) and
 * GET /N/<BRAND> (brand-wide nearest-store code). */
int resolve_route(hq *h, struct MHD_Connection *c, const char *method, const char *url,
                  hq_reply *r);

/* dash.c: /dash... (admin login, dashboard pages), /v1/stats and
 * /v1/stats.csv. */
int dash_route(hq *h, struct MHD_Connection *c, const char *method, const char *url,
               const char *body, size_t len, hq_reply *r);

/* bundle.c: GET /v1/bundles/<FILE>, a device route: kiosk_id is the
 * caller, already authenticated by its client certificate. */
int bundle_route(hq *h, const char *kiosk_id, const char *url, hq_reply *r);

/* metrics.c: counters every route feeds, and GET /metrics (Prometheus
 * text exposition). Safe to call from any server thread. */
void metrics_request(const char *route, int status);
void metrics_ingest(int batches, int events);
/* One scan the resolver answered, by outcome: a name of [a-z0-9_], at
 * most 31 characters (e.g. "sent", "expired", "forged", "all_full",
 * "unknown_store"); the first 15 names get their own series, others and
 * malformed ones count as "other". Lock-free once a name is known. */
void metrics_scan(const char *outcome);
int metrics_route(hq *h, struct MHD_Connection *c, const char *method, const char *url,
                  hq_reply *r);

#endif
