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
 * kiosk by the SHA-256 of their DER. The server certificate is
 * server.crt, or with a public certificate picked by SNI (server_start).
 * Bodies are bounded while they arrive;
 * gzip is inflated with a bound on the output.
 */
#ifndef SQR_SERVER_H
#define SQR_SERVER_H

#include "hq.h"

typedef struct server server;

/* listen: "IPV4:PORT" (PORT 0: any free port). Names not set on h
 * (hq_set_kiosk_url, hq_set_public_url) are taken from it.
 * public_cert, public_key: PEM files for the public URL's host, both or
 * neither. With them the certificate is picked by the name the client
 * asks for (SNI): the public host gets public_cert, any other name (the
 * kiosk URL's, none at all) server.crt; refused when the public host is
 * an address, is also the kiosk host, or is not named by the certificate.
 * Without them every name gets server.crt (a warning says phones will
 * not trust it when a public URL is set). One server with public_cert per
 * process. err names the option or file at fault. */
sqr_rc server_start(hq *h, const char *listen, const char *public_cert, const char *public_key,
                    server **out, char *err, size_t errlen) SQR_WARN_UNUSED;
/* Before server_start: the load balancers (IPv4 addresses or networks,
 * "ADDR[/BITS][,...]", at most 16; NULL or "": none) whose every
 * connection begins with a PROXY protocol v2 header (haproxy's
 * send-proxy-v2) naming the client, whose address HQ then uses for its
 * per-address limits, login lock and logs. A connection from them without
 * a valid header within 1 s is closed. SQR_EINVAL with err on a bad list. */
sqr_rc server_trust_proxies(const char *list, char *err, size_t errlen) SQR_WARN_UNUSED;

int server_port(const server *s);
void server_stop(server *s);

#endif
