/* resolve.c — see web.h. Placeholder until issue 5's resolver lands. */
#include "web.h"

int resolve_route(hq *h, struct MHD_Connection *c, const char *method, const char *url,
                  hq_reply *r) {
  (void)h, (void)c, (void)method, (void)url, (void)r;
  return 0;
}
