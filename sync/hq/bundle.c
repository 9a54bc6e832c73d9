/* bundle.c — see web.h. Placeholder until issue 6's bundle download lands. */
#include "web.h"

int bundle_route(hq *h, const char *kiosk_id, const char *url, hq_reply *r) {
  (void)h, (void)kiosk_id, (void)url, (void)r;
  return 0;
}
