/* dash.c — see web.h. Placeholder until issue 5's dashboard lands. */
#include "web.h"

int dash_route(hq *h, struct MHD_Connection *c, const char *method, const char *url,
               const char *body, size_t len, hq_reply *r) {
  (void)h, (void)c, (void)method, (void)url, (void)body, (void)len, (void)r;
  return 0;
}
