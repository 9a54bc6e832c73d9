/* server.h — storeqr-hq's HTTPS server (libmicrohttpd + GnuTLS).
 *
 * Owns the listening socket and the routes of docs/PROTOCOL.md. A small
 * pool of libmicrohttpd threads serves the connections (bounded in number
 * and idle time); one lock serialises every use of the storage handle, so
 * storage work never interleaves in one process, and only the scan
 * resolver's cached path runs outside it (server.c has the details);
 * several processes share PostgreSQL. Client certificates
 * are requested on every connection and required only on device routes,
 * where they are verified against device-ca.crt (mbedtls) and mapped to a
 * kiosk by the SHA-256 of their DER. Bodies are bounded while they arrive;
 * gzip is inflated with a bound on the output.
 */
#ifndef SQR_SERVER_H
#define SQR_SERVER_H

#include "hq.h"

typedef struct server server;

/* listen: "127.0.0.1:PORT" (PORT 0: any free port). */
sqr_rc server_start(hq *h, const char *listen, server **out, char *err,
                    size_t errlen) SQR_WARN_UNUSED;
int server_port(const server *s);
void server_stop(server *s);

#endif
