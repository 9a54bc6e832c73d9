/* login.c — see login.h. */
#include "login.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const char *cookie(struct MHD_Connection *c) {
  return MHD_lookup_connection_value(c, MHD_COOKIE_KIND, AUTH_COOKIE);
}

int login_session(hq *h, struct MHD_Connection *c, char admin[HQ_ID_MAX]) {
  return auth_session(h, cookie(c), admin);
}

void login_logout(hq *h, struct MHD_Connection *c) {
  auth_logout(h, cookie(c));
}

int login_request_ok(hq *h, struct MHD_Connection *c) {
  const char *bearer = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
  if(bearer && hq_admin_ok(h, bearer)) return 1;
  char admin[HQ_ID_MAX];
  return login_session(h, c, admin);
}

int login_origin_ok(struct MHD_Connection *c) {
  const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
  const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
  const char *referer = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Referer");
  if(!host || !*host || strlen(host) > 255) return 0;
  char want[300];
  size_t n = (size_t)snprintf(want, sizeof want, "https://%s", host);
  if(origin) return strcmp(origin, want) == 0; /* "null" and others refused */
  /* no Origin (old browsers): the Referer must be a page of this HQ */
  return referer && strncmp(referer, want, n) == 0 && referer[n] == '/';
}

void login_client(struct MHD_Connection *c, char *out, size_t size) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  snprintf(out, size, "unknown");
  if(!ci || !ci->client_addr) return;
  const struct sockaddr *sa = ci->client_addr;
  if(sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
              (socklen_t)size);
  else if(sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
              (socklen_t)size);
}
