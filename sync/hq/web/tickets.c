/* tickets.c — see tickets.h. */
#include "tickets.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "keys.h"
#include "log.h"

#define RETRY_MS (30 * 1000) /* after storage failed to give the key */

struct tickets {
  hq *h;
  pthread_mutex_t *storage; /* the server's lock around h */
  pthread_mutex_t mu;       /* guards key, shared, epoch */
  pthread_cond_t wake;      /* tickets_stop ends the wait */
  pthread_t thread;
  int running, stopping;
  int shared;    /* key is the epoch's shared key (else this process's own) */
  int64_t epoch; /* of the shared key; -1 before there is one */
  uint8_t key[HQ_TICKET_KEY_BYTES];
};

/* Fetches the epoch's key into t; 0 on success. Storage is used under
 * the server's lock, the key swapped under t->mu, never both at once. */
static int refresh(tickets *t) {
  uint8_t k[HQ_TICKET_KEY_BYTES];
  int64_t epoch;
  pthread_mutex_lock(t->storage);
  sqr_rc rc = hq_ticket_key(t->h, hq_now_ms(), k, &epoch);
  pthread_mutex_unlock(t->storage);
  if(rc) {
    crypto_wipe(k, sizeof k);
    return -1;
  }
  pthread_mutex_lock(&t->mu);
  memcpy(t->key, k, sizeof k);
  t->shared = 1;
  t->epoch = epoch;
  pthread_mutex_unlock(&t->mu);
  crypto_wipe(k, sizeof k);
  return 0;
}

/* Sleeps until the next epoch begins (plus a second, for clocks a little
 * apart), or RETRY_MS after a failure, then fetches again. Processes
 * whose clocks differ may briefly use different epochs' keys: a ticket
 * then fails to open and that client does one full handshake. */
static void *loop(void *arg) {
  tickets *t = arg;
  int failed = 0;
  pthread_mutex_lock(&t->mu);
  while(!t->stopping) {
    int64_t now = hq_now_ms(), wait_ms;
    if(failed || !t->shared)
      wait_ms = RETRY_MS;
    else
      wait_ms = (t->epoch + 1) * HQ_TICKET_EPOCH_MS - now + 1000;
    if(wait_ms < 1000) wait_ms = 1000;
    struct timespec at;
    clock_gettime(CLOCK_MONOTONIC, &at);
    at.tv_sec += wait_ms / 1000;
    at.tv_nsec += (wait_ms % 1000) * 1000000L;
    if(at.tv_nsec >= 1000000000L) at.tv_sec++, at.tv_nsec -= 1000000000L;
    int rc = 0;
    while(!t->stopping && rc != ETIMEDOUT)
      rc = pthread_cond_timedwait(&t->wake, &t->mu, &at);
    if(t->stopping) break;
    pthread_mutex_unlock(&t->mu);
    failed = refresh(t) != 0;
    if(failed) log_warn("hq", "TLS ticket key: storage unavailable; retrying in 30 s");
    pthread_mutex_lock(&t->mu);
  }
  pthread_mutex_unlock(&t->mu);
  return NULL;
}

sqr_rc tickets_start(hq *h, pthread_mutex_t *lock, tickets **out) {
  tickets *t = calloc(1, sizeof *t);
  if(!t) return SQR_ENOMEM;
  t->h = h;
  t->storage = lock;
  t->epoch = -1;
  pthread_condattr_t ca;
  if(pthread_condattr_init(&ca)) {
    free(t);
    return SQR_ENOMEM;
  }
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  int crc = pthread_cond_init(&t->wake, &ca);
  pthread_condattr_destroy(&ca);
  if(crc || pthread_mutex_init(&t->mu, NULL)) {
    if(!crc) pthread_cond_destroy(&t->wake);
    free(t);
    return SQR_ENOMEM;
  }
  if(refresh(t)) {
    log_warn("hq", "TLS ticket key: storage unavailable; tickets resume on this process only"
                   " until it is back");
    if(crypto_random(t->key, sizeof t->key)) {
      tickets_stop(t);
      return SQR_ECRYPTO;
    }
  }
  if(pthread_create(&t->thread, NULL, loop, t)) {
    tickets_stop(t);
    return SQR_ENOMEM;
  }
  t->running = 1;
  *out = t;
  return SQR_OK;
}

void tickets_enable(tickets *t, gnutls_session_t tls) {
  uint8_t k[HQ_TICKET_KEY_BYTES];
  pthread_mutex_lock(&t->mu);
  memcpy(k, t->key, sizeof k);
  pthread_mutex_unlock(&t->mu);
  /* GnuTLS copies the key into the session. */
  gnutls_datum_t d = {k, sizeof k};
  int rc = gnutls_session_ticket_enable_server(tls, &d);
  if(rc < 0) log_debug("hq", "no session tickets: %s", gnutls_strerror(rc));
  crypto_wipe(k, sizeof k);
}

int tickets_shared(tickets *t) {
  pthread_mutex_lock(&t->mu);
  int s = t->shared;
  pthread_mutex_unlock(&t->mu);
  return s;
}

void tickets_stop(tickets *t) {
  if(!t) return;
  if(t->running) {
    pthread_mutex_lock(&t->mu);
    t->stopping = 1;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
  }
  pthread_cond_destroy(&t->wake);
  pthread_mutex_destroy(&t->mu);
  crypto_wipe(t->key, sizeof t->key);
  free(t);
}
