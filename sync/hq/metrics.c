/* metrics.c — see web.h. Placeholder until issue 5's metrics land. */
#include "web.h"

void metrics_request(const char *route, int status) { (void)route, (void)status; }
void metrics_ingest(int batches, int events) { (void)batches, (void)events; }

int metrics_route(hq *h, struct MHD_Connection *c, const char *method, const char *url,
                  hq_reply *r) {
  (void)h, (void)c, (void)method, (void)url, (void)r;
  return 0;
}
