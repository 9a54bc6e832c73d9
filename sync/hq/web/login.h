/* login.h — the dashboard's login as the web sees it: the session
 * cookie, the CSRF Origin check and the client's address. Accounts,
 * passwords and sessions themselves are the operations layer's (auth.h).
 */
#ifndef SQR_LOGIN_H
#define SQR_LOGIN_H

#include <stddef.h>
#include <microhttpd.h>
#include "auth.h"
#include "hq.h"

/* The admin of the request's session cookie; 0 when none is live. */
int login_session(hq *h, struct MHD_Connection *c, char admin[HQ_ID_MAX]);
/* Ends the request's session (if any). */
void login_logout(hq *h, struct MHD_Connection *c);
/* 1 if the request carries the admin bearer token or a live session. */
int login_request_ok(hq *h, struct MHD_Connection *c);
/* 1 if Origin (else Referer) names https://<Host> of this request. */
int login_origin_ok(struct MHD_Connection *c);
/* The client's address as text ("ip:..."-ready), "unknown" if none. */
void login_client(struct MHD_Connection *c, char *out, size_t size);

#endif
