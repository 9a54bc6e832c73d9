/* tickets.h — TLS session-ticket keys for the server: the key every HQ
 * process shares (ops/keys.h hq_ticket_key), kept current by a thread of
 * its own, so a phone or kiosk resumes its session on whichever process
 * the load balancer sends it to next.
 */
#ifndef SQR_TICKETS_H
#define SQR_TICKETS_H

#include <gnutls/gnutls.h>
#include <pthread.h>
#include "hq.h"
#include "sqr.h"

typedef struct tickets tickets;

/* Reads (or makes) the current epoch's key under *lock (the storage
 * lock), and starts the thread that replaces it when the epoch turns.
 * When storage cannot give one, this process uses a random key of its
 * own (tickets then resume on this process only) and the thread keeps
 * trying every 30 s. */
sqr_rc tickets_start(hq *h, pthread_mutex_t *lock, tickets **out) SQR_WARN_UNUSED;
/* Turns session tickets on for a server session, before its handshake. */
void tickets_enable(tickets *t, gnutls_session_t tls);
/* 1 when the key in use is the shared one (for tests and /metrics). */
int tickets_shared(tickets *t);
void tickets_stop(tickets *t);

#endif
