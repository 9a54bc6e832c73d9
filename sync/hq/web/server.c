/* server.c — see server.h.
 *
 * Threading: libmicrohttpd's thread pool (SERVER_THREADS, default 2; the
 * environment variable SQR_HQ_THREADS overrides it, 1..16), fed by one
 * accept thread of ours (accept_loop). Storage is
 * one handle used by one thread at a time, so every route runs under
 * s->lock except the scan resolver's /J/ and /N/ (resolve.h), whose
 * in-memory state has its own lock and which takes s->lock itself only on
 * a cache miss. The resolver's flusher thread takes s->lock too. */
#define _GNU_SOURCE /* accept4 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <linux/sockios.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "crypto.h"
#include "log.h"
#include "pki.h"
#include "proto.h"
#include "proxyproto.h"
#include "reply.h"
#include "device.h"
#include "resolve.h"
#include "routes.h"
#include "counters.h"
#include "decode.h"
#include "tickets.h"
#include "sealjob.h"
#include "sockopt.h"
#include "stats_web.h"
#include "retainer.h"

/* Limits (docs/PROTOCOL.md, "Limits"). One host must not be able to
 * hold every connection: each address gets PER_ADDRESS_DEFAULT at once
 * (SQR_HQ_PER_ADDRESS overrides it, 0 = no limit, for a load balancer
 * that does not pass the client's address on), and the total is what the
 * descriptor limit allows less FD_HEADROOM for PostgreSQL, files, logs. */
#define PER_ADDRESS_DEFAULT 64
#define FD_HEADROOM         256
#define MIN_CONNECTIONS     64
/* An established connection may sit idle this long (between requests,
 * or while a body or an answer is on its way)... */
#define IDLE_TIMEOUT_S 30
/* ...but the TLS handshake and a request's header block must be complete
 * this long after the connection opened, however the bytes trickle in:
 * libmicrohttpd's timeout counts idleness only, so a client sending one
 * byte every 4 s would otherwise hold its connection for ever. */
#define HEADER_DEADLINE_S 5
#define SERVER_THREADS    2
/* Mozilla's "intermediate" profile: TLS 1.2 and 1.3, forward-secret AEAD
 * suites only (no CBC, no SHA-1 MAC, no CCM, no static RSA), the curves
 * every client has. */
#define TLS_PRIORITIES                                                                             \
  "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"              \
  "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:-GROUP-ALL:+GROUP-X25519:"    \
  "+GROUP-SECP256R1:+GROUP-SECP384R1"
/* Sent with every answer: browsers come back over HTTPS only. */
#define HSTS "max-age=63072000"
/* Per connection: request line, headers and the read/write buffers must
 * fit (more is answered 414/431). libmicrohttpd zeroes the whole pool
 * after every request, so its size is paid on every scan: 32 KiB holds
 * the 16 KiB of headers PROTOCOL.md allows with room to spare. */
#define CONN_MEMORY (32 * 1024)
/* A trusted balancer's PROXY header must be in within this, at most this
 * many connections' headers are awaited at once (see accept_loop), and
 * refusals are logged at most this often. */
#define PROXY_DEADLINE_MS  1000
#define PROXY_PENDING_MAX  64
#define PROXY_WARN_EVERY_S 10

/* Bytes read from a connection's socket at a time (conn_pull): a TLS
 * record of a request as phones and kiosks send them fits whole. */
#define CONN_READ_AHEAD 2048

/* One open connection, for the header deadline (see sweep_loop). It is
 * linked into server.conns from libmicrohttpd's STARTED notification to
 * its CLOSED one, which comes before libmicrohttpd closes the socket: so
 * while an entry is on the list (under conns_lock) its fd is this
 * connection's, and the sweeper may shut it down. */
typedef struct conn {
  struct conn *prev, *next;
  int fd;
  int in_request;           /* the current request's headers have arrived */
  int cut;                  /* the sweeper shut it down already */
  struct timespec deadline; /* for the next request's headers */
  /* libmicrohttpd may have set TCP_CORK on the socket since we last
   * cleared it (see uncork_answer). Only the serving thread touches it. */
  int may_be_corked;
  /* What GnuTLS reads of the socket, read ahead (conn_pull). Only the
   * serving thread touches these. */
  uint16_t rpos, rlen;
  uint8_t rbuf[CONN_READ_AHEAD];
} conn;

/* A certificate chain and its key as GnuTLS's certificate callback hands
 * them out (pick_cert). */
#define TLS_CHAIN_MAX 8
typedef struct tls_id {
  gnutls_pcert_st pcert[TLS_CHAIN_MAX];
  unsigned n;
  gnutls_privkey_t key;
} tls_id;

struct server {
  hq *h;
  pthread_mutex_t lock; /* every use of h and h->db but the resolver's hot path */
  int lock_ready, resolver;
  int own_tcp; /* connections' TCP options are sockopt.c's (SQR_HQ_TCP_OWN) */
  struct MHD_Daemon *d;
  int listen_fd; /* ours once the daemon is quiesced; -1 before */
  int acceptor;  /* the accept thread runs */
  atomic_int stopping;
  pthread_t accept_thread;
  char *cert_pem, *key_pem, *trust_pem;
  int port;
  pthread_mutex_t conns_lock;
  int conns_ready, sweeper;
  conn *conns; /* every open connection, newest first */
  pthread_t sweep_thread;
  pthread_cond_t sweep_wake; /* server_stop ends the sweeper's wait */
  /* With hq_seal_later: the background opener of sealed phones (sealjob.h);
   * server_stop wakes it through seal_wake (under conns_lock). */
  pthread_t seal_thread;
  pthread_cond_t seal_wake;
  int sealer, seal_wake_ready, seal_listening;
  tickets *tickets;     /* TLS session tickets, their key shared by every process */
  stats_roller *roller; /* the scan roll-up, off the request path */
  retainer *retainer;   /* retention.h's runs, off the request path */
  /* With --public-cert (server_start): the certificate is picked by SNI,
   * the public host's for it, server.crt (kiosk_id) for anything else. */
  int sni;
  tls_id kiosk_id, public_id;
  char public_host[HQ_PUBLIC_HOST_MAX];
  proxyproto_trust trust; /* balancers that send a PROXY header (--trusted-proxy) */
  /* PROXY headers refused: in all, and since the last warning (accept_loop's only) */
  unsigned long proxy_refused, proxy_unlogged;
  time_t proxy_warned;
};

/* server_trust_proxies' list, copied by server_start. */
static proxyproto_trust trusted_proxies;

typedef struct request {
  char *buf;
  size_t len, cap, limit;
  int too_large;
  int authed;      /* the route's auth passed on the first call */
  const route *rt; /* the first call's lookup, NULL: none matched */
  const char *label;
  char kiosk[HQ_ID_MAX];
  size_t scan_min; /* a resolver answer: bytes it sends at least (resolve_serve); else 0 */
} request;

/* The reply's type and extra headers ("Name: value\n" lines) on resp. */
static void add_headers(struct MHD_Response *resp, hq_reply *r) {
  MHD_add_response_header(resp, "Strict-Transport-Security", HSTS);
  if(r->body || r->fd > 0 || r->type || r->stream)
    MHD_add_response_header(resp, "Content-Type", r->type ? r->type : "application/json");
  for(char *line = r->headers, *nl; line && *line; line = nl + 1) {
    nl = strchr(line, '\n');
    if(!nl) break;
    char *colon = memchr(line, ':', (size_t)(nl - line));
    if(colon) {
      *colon = *nl = '\0';
      MHD_add_response_header(resp, line, colon + 2 <= nl ? colon + 2 : colon + 1);
      *colon = ':';
      *nl = '\n';
    }
  }
}

static enum MHD_Result send_reply(struct MHD_Connection *c, hq_reply *r) {
  struct MHD_Response *resp;
  if(r->fd > 0) {
    resp = MHD_create_response_from_fd64(r->fd_size, r->fd);
    if(resp) r->fd = 0; /* the response owns it now */
  } else {
    const char *body = r->body ? r->body : "";
    size_t len = r->body && r->len ? r->len : strlen(body);
    resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  }
  if(!resp) return MHD_NO;
  add_headers(resp, r);
  int status = r->status ? r->status : 500;
  enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, resp);
  MHD_destroy_response(resp);
  return ok;
}

/* A streamed reply (hq_reply.stream): libmicrohttpd asks for the body a
 * piece at a time (chunked), and each piece is made under the storage
 * lock, which is let go between pieces so kiosks and the opener go on. */
typedef struct stream_ctx {
  server *s;
  long (*read)(void *arg, char *buf, size_t max);
  void (*end)(void *arg);
  void *arg;
} stream_ctx;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
  (void)pos;
  stream_ctx *k = cls;
  pthread_mutex_lock(&k->s->lock);
  long n = k->read(k->arg, buf, max);
  pthread_mutex_unlock(&k->s->lock);
  if(n > 0) return (ssize_t)n;
  return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls) {
  stream_ctx *k = cls;
  pthread_mutex_lock(&k->s->lock);
  if(k->end) k->end(k->arg);
  pthread_mutex_unlock(&k->s->lock);
  free(k);
}

/* Hands r's stream to libmicrohttpd (r->stream is cleared: from here on
 * the response ends it). Called without the storage lock. */
static enum MHD_Result send_stream(server *s, struct MHD_Connection *c, hq_reply *r) {
  stream_ctx *k = malloc(sizeof *k);
  struct MHD_Response *resp = NULL;
  if(k) {
    *k = (stream_ctx){s, r->stream, r->stream_end, r->stream_arg};
    resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_read, k, stream_free);
  }
  if(!resp) {
    pthread_mutex_lock(&s->lock);
    hq_reply_clear(r); /* ends the stream */
    pthread_mutex_unlock(&s->lock);
    free(k);
    return MHD_NO;
  }
  r->stream = NULL;
  add_headers(resp, r);
  enum MHD_Result ok = MHD_queue_response(c, (unsigned)(r->status ? r->status : 200), resp);
  MHD_destroy_response(resp);
  return ok;
}

/* One TLS record, one send, one TCP segment per scan answer.
 *
 * libmicrohttpd gives GnuTLS an answer's header and body separately, so
 * they become two records, and for answers over 1,400 bytes (every
 * resolver page) it pushes the header alone, so that a client can act on
 * it while the body is on its way. For a ~2 KB page already in memory
 * that buys nothing and costs a second record to seal and open, a second
 * send and a second segment: a second trip through the network stack and
 * a second wake-up of the reader. Those were the largest share of the CPU
 * per scan, HQ's and the phone's (docs/BENCHMARKS.md, "one record per
 * scan").
 *
 * So the resolver's handler corks the TLS session: GnuTLS gathers what
 * libmicrohttpd sends into one record, and completed() uncorks it once
 * libmicrohttpd has handed over the whole answer, before it reads the
 * next request. Uncorking sends at once, so it is done only when the
 * socket's send queue is empty (SIOCOUTQ): a few KB then always fit. A
 * client that pipelines and falls behind gets the two records as before.
 * Should the send still not take (TCP out of memory), GnuTLS would keep
 * the rest with no one to send it: the connection is shut down instead,
 * and the client retries.
 *
 * The trap: libmicrohttpd keeps TCP_CORK of its own on the socket. It
 * corks a connection when it sends a piece it does not push, which for a
 * whole answer in memory means one under MHD_PUSH_MIN bytes, header and
 * body (its MHD_send_hdr_and_body_: such an answer fits one packet, so
 * the header waits for the body), and on TLS it never clears the cork: at
 * the end of each answer it pushes by setting TCP_NODELAY, which sends
 * what the socket holds at that moment and leaves the cork on. With
 * GnuTLS corked the socket holds nothing then; the record uncork_answer()
 * writes afterwards is smaller than a segment, so the kernel held it until
 * its 200 ms cork timer: every small answer on a kept-alive connection
 * took 207 ms (issue 13). So after the uncork, uncork_answer() clears
 * TCP_CORK, which sends what the socket holds, whenever libmicrohttpd may
 * have corked the socket since: this answer was under MHD_PUSH_MIN (or
 * not the resolver's, or of unknown size), or an earlier one was and the
 * cork has not been cleared since (conn.may_be_corked). libmicrohttpd
 * then believes the socket corked and never corks it again, so on a
 * connection showing scan pages, over MHD_PUSH_MIN each, the cork is
 * cleared at most once, and the one record leaves with its sendmsg: a
 * push per answer was one system call in seven of each scan
 * (docs/BENCHMARKS.md, "bench-resolver --stores 5000"). Without a
 * conn entry (no memory) every answer is pushed. tests/hqweb/stall_test.sh
 * checks small and large answers, in either order, on one connection.
 *
 * All this is the fallback now: a connection's TCP options are
 * sockopt.c's (notify_conn), TCP_NODELAY on and never corked, and
 * libmicrohttpd's cork and pushes, like the clearing here, go no further
 * than sockopt.c's setsockopt. It holds should libmicrohttpd reach the C
 * library's setsockopt instead: hqweb.nostall.mhd runs the stall test
 * with SQR_HQ_TCP_OWN=0. */
#define MHD_PUSH_MIN 1400

/* The connection's socket (-1 if libmicrohttpd cannot say). */
static int conn_socket(struct MHD_Connection *c) {
  const union MHD_ConnectionInfo *fi =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
  return fi ? fi->connect_fd : -1;
}

static void cork_answer(struct MHD_Connection *c) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  gnutls_session_t tls = ci ? (gnutls_session_t)ci->tls_session : NULL;
  int unsent = -1;
  if(tls && ioctl(conn_socket(c), SIOCOUTQ, &unsent) == 0 && unsent == 0) gnutls_record_cork(tls);
}

/* The answer is handed over: the record out, pushed past a cork
 * libmicrohttpd may have set. k: the connection's entry (NULL: none);
 * sent_min: bytes the answer sent at least (0: unknown). */
static void uncork_answer(struct MHD_Connection *c, conn *k, size_t sent_min) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  gnutls_session_t tls = ci ? (gnutls_session_t)ci->tls_session : NULL;
  if(!tls) return;
  int fd = conn_socket(c);
  int rc = gnutls_record_uncork(tls, 0); /* 0 if it was not corked */
  if(rc < 0) {
    log_warn("hq", "an answer could not be sent whole (%s); closing the connection",
             gnutls_strerror(rc));
    shutdown(fd, SHUT_RDWR);
    return;
  }
  int small = sent_min < MHD_PUSH_MIN; /* libmicrohttpd may have corked for it */
  if(rc > 0 && (!k || k->may_be_corked || small)) {
    /* On Linux, clearing TCP_CORK sends what the socket holds. Should it
     * fail, the answer still leaves, at worst 200 ms late. */
    int off = 0;
    if(setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off) == 0) {
      if(k) k->may_be_corked = 0;
      return;
    }
    log_debug("hq", "pushing an answer: %s", strerror(errno));
  }
  /* Not ours to send (GnuTLS was not corked: libmicrohttpd pushed it), or
   * the push failed: the socket may stay corked after a small answer. */
  if(k && small) k->may_be_corked = 1;
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *code,
                                  const char *msg) {
  hq_reply r = {0};
  hq_reply_error(&r, status, code, msg, NULL, 0);
  enum MHD_Result ok = send_reply(c, &r);
  hq_reply_clear(&r);
  return ok;
}

/* The scan resolver's hot path: its own lock, s->lock only on a cache
 * miss, and a prebuilt response queued as it is. */
static enum MHD_Result serve_scan(server *s, struct MHD_Connection *c, request *q,
                                  const char *method, const char *url, const char *label) {
  cork_answer(c);
  int status = 0, done = resolve_serve(s->h, c, method, url, &status, &q->scan_min);
  if(done == 1 || done == -2) {
    counters_add_request(label, status ? status : 500);
    return done == 1 ? MHD_YES : MHD_NO;
  }
  /* Storage failed and even the resolver's own notice could not be had
   * (out of memory): the JSON answer every route gives, Retry-After too. */
  counters_add_request(label, 503);
  hq_reply r = {0};
  hq_reply_storage(&r, SQR_ENET);
  enum MHD_Result ok = send_reply(c, &r);
  hq_reply_clear(&r);
  return ok;
}

/* The connection's tracking entry (NULL if it has none). */
static conn *conn_of(struct MHD_Connection *c) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? ci->socket_context : NULL;
}

/* The request's headers are complete: the header deadline is met, and the
 * connection gets the idle timeout for the rest of the request. */
static void headers_arrived(server *s, struct MHD_Connection *c) {
  conn *k = conn_of(c);
  if(k) {
    pthread_mutex_lock(&s->conns_lock);
    k->in_request = 1;
    pthread_mutex_unlock(&s->conns_lock);
  }
  MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S);
}

/* The route's own auth, on the first call: headers complete, no body read
 * yet. A request that fails it is answered 401 at once, and its upload is
 * never read (libmicrohttpd closes the connection after the answer), so
 * no one without a certificate or token makes HQ buffer a body. Returns 1
 * when it passed, 0 with r set otherwise. */
static int auth_first(server *s, struct MHD_Connection *c, const route *rt, request *q,
                      hq_reply *r) {
  int ok = 1;
  if(!rt || !rt->fn || (rt->auth != ROUTE_ADMIN && rt->auth != ROUTE_DEVICE)) return 1;
  pthread_mutex_lock(&s->lock);
  if(rt->auth == ROUTE_ADMIN &&
     !hq_admin_ok(s->h, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"))) {
    hq_reply_error(r, 401, "unauthorized", "Authorization: Bearer token required", NULL, 0);
    ok = 0;
  } else if(rt->auth == ROUTE_DEVICE && !device_auth(s->h, c, q->kiosk, r)) {
    ok = 0; /* r says why (401 certificate) */
  }
  pthread_mutex_unlock(&s->lock);
  return ok;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **ctx) {
  (void)version;
  server *s = cls;
  request *q = *ctx;
  if(!q) {
    headers_arrived(s, c);
    q = calloc(1, sizeof *q);
    if(!q) return MHD_NO;
    *ctx = q;
    const route *only;
    q->rt = route_find(method, url, &only);
    q->label = q->rt ? q->rt->label : only ? only->label : "other";
    hq_reply r = {0};
    if(!auth_first(s, c, q->rt, q, &r)) {
      counters_add_request(q->label, r.status ? r.status : 500);
      enum MHD_Result ok = send_reply(c, &r);
      hq_reply_clear(&r);
      return ok;
    }
    q->authed = 1;
    q->limit = route_body_max(url);
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if(cl && strtoull(cl, NULL, 10) > q->limit)
      return send_error(c, 413, "too_large", "body: larger than this route accepts");
    return MHD_YES;
  }
  if(*upload_size) {
    if(!q->too_large && q->len + *upload_size <= q->limit) {
      if(q->len + *upload_size + 1 > q->cap) {
        size_t cap = (q->len + *upload_size + 1) * 2;
        if(cap > q->limit + 1) cap = q->limit + 1;
        char *nb = realloc(q->buf, cap);
        if(!nb) return MHD_NO;
        q->buf = nb;
        q->cap = cap;
      }
      memcpy(q->buf + q->len, upload, *upload_size);
      q->len += *upload_size;
      q->buf[q->len] = '\0';
    } else {
      q->too_large = 1;
    }
    *upload_size = 0;
    return MHD_YES;
  }
  if(q->too_large) return send_error(c, 413, "too_large", "body: larger than this route accepts");
  const route *rt = q->rt;
  const char *label = q->label;
  if(rt && !rt->fn) return serve_scan(s, c, q, method, url, label);
  hq_reply r = {0};
  route_req req = {s->h, c, method, url, q->buf ? q->buf : "", q->len, q->kiosk};
  /* A probe must answer while a database call holds the lock. */
  int locked = !rt || rt->auth != ROUTE_PROBE;
  if(locked) pthread_mutex_lock(&s->lock);
  if(!rt || !q->authed) {
    hq_reply_error(&r, 404, "not_found", "no such route", NULL, 0);
  } else if(!rt->fn(&req, &r)) {
    hq_reply_error(&r, 404, "not_found", "no such route", NULL, 0);
  }
  if(locked) pthread_mutex_unlock(&s->lock);
  counters_add_request(label, r.status ? r.status : 500);
  enum MHD_Result ok = r.stream ? send_stream(s, c, &r) : send_reply(c, &r);
  hq_reply_clear(&r);
  return ok;
}

static void deadline_in(struct timespec *t, int seconds) {
  clock_gettime(CLOCK_MONOTONIC, t);
  t->tv_sec += seconds;
}

static void completed(void *cls, struct MHD_Connection *c, void **ctx,
                      enum MHD_RequestTerminationCode toe) {
  server *s = cls;
  conn *k = conn_of(c);
  request *q = *ctx;
  if(toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) /* else it is closing */
    uncork_answer(c, k, q ? q->scan_min : 0);
  /* The next request on this connection must have its headers in within
   * the idle timeout: an idle keep-alive connection is closed then anyway,
   * and a trickling one no later. */
  if(k) {
    pthread_mutex_lock(&s->conns_lock);
    k->in_request = 0;
    deadline_in(&k->deadline, IDLE_TIMEOUT_S);
    pthread_mutex_unlock(&s->conns_lock);
  }
  if(q) {
    free(q->buf);
    free(q);
  }
  *ctx = NULL;
}

/* GnuTLS's reads of a connection, one system call a record.
 *
 * GnuTLS reads a record in two: its 5-byte header, then the length the
 * header names. A scan's request is one record, so its default reader
 * made two recv calls a scan where one does: this one reads up to
 * CONN_READ_AHEAD bytes whenever GnuTLS asks for less, and hands them
 * out from k->rbuf (a request for more goes straight to the socket).
 *
 * What is read ahead is no longer in the socket, so nothing wakes the
 * connection for it; it must not wait there. It does not: libmicrohttpd
 * (epoll, see server_start) keeps reading a connection until a read
 * answers GNUTLS_E_AGAIN, which GnuTLS answers after this function did,
 * and this function does only with k->rbuf empty. Reads ahead may take
 * bytes of the next record (a pipelined request, or the request behind
 * the last handshake message); GnuTLS gets them on its next read like
 * any other. tests/hqweb/hostile_test.sh pipelines 430 scans, 100 of
 * them one record each in one run of segments.
 *
 * One exception, libmicrohttpd's before it was ours: GnuTLS also answers
 * GNUTLS_E_AGAIN right after a TLS 1.3 KeyUpdate or an empty record, and
 * libmicrohttpd 0.9.75 then waits for the socket to become readable
 * again. A request that came in the same segment (in k->rbuf now, in the
 * socket before) waits for the client's next bytes or the idle timeout,
 * which closes the connection (the client asks again on a new one).
 * Without the read-ahead it waited the same whenever it was in the socket
 * by then (3 times in 8 in the review's test, 8 in 8 with it). The TLS
 * of Chromium (Chrome, WeChat's browser) and of the kiosks does not send
 * KeyUpdate unprompted; empty records are a CBC-era device our suites
 * exclude. */
static ssize_t conn_pull(gnutls_transport_ptr_t ptr, void *data, size_t len) {
  conn *k = ptr;
  if(k->rpos == k->rlen) {
    if(len >= CONN_READ_AHEAD) return recv(k->fd, data, len, 0);
    ssize_t n = recv(k->fd, k->rbuf, CONN_READ_AHEAD, 0);
    if(n <= 0) return n;
    k->rpos = 0;
    k->rlen = (uint16_t)n;
  }
  size_t have = (size_t)(k->rlen - k->rpos);
  if(len > have) len = have;
  memcpy(data, k->rbuf + k->rpos, len);
  k->rpos = (uint16_t)(k->rpos + len);
  return (ssize_t)len;
}

/* GnuTLS asks before a read it would otherwise wait on: ready at once
 * if bytes were read ahead. */
static int conn_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms) {
  conn *k = ptr;
  if(k->rpos < k->rlen) return 1;
  struct pollfd p = {.fd = k->fd, .events = POLLIN};
  return poll(&p, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
}

/* Connections opened and closed (libmicrohttpd's notification, in the
 * thread that serves the connection). An opened one gets the header
 * deadline: as its timeout, so a silent one is closed by libmicrohttpd,
 * and on the sweeper's list for one that trickles. It also gets TLS
 * session tickets, before its handshake starts. */
static void notify_conn(void *cls, struct MHD_Connection *c, void **socket_ctx,
                        enum MHD_ConnectionNotificationCode toe) {
  server *s = cls;
  if(toe == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *fi =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *ti =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    gnutls_session_t tls = ti ? (gnutls_session_t)ti->tls_session : NULL;
    if(tls && s->tickets) tickets_enable(s->tickets, tls);
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)HEADER_DEADLINE_S);
    /* TCP_NODELAY on, for good (sockopt.h); on failure libmicrohttpd
     * keeps setting it itself */
    if(fi && s->own_tcp && sockopt_own(fi->connect_fd))
      log_debug("hq", "TCP_NODELAY on a new connection: %s", strerror(errno));
    conn *k = fi ? calloc(1, sizeof *k) : NULL;
    if(!k) return; /* no memory: it keeps the timeout, the sweeper does not see it */
    k->fd = fi->connect_fd;
    if(tls) { /* GnuTLS reads through conn_pull, writes to the socket as before */
      gnutls_transport_set_ptr2(tls, k, (gnutls_transport_ptr_t)(intptr_t)k->fd);
      gnutls_transport_set_pull_function(tls, conn_pull);
      gnutls_transport_set_pull_timeout_function(tls, conn_pull_timeout);
    }
    deadline_in(&k->deadline, HEADER_DEADLINE_S);
    pthread_mutex_lock(&s->conns_lock);
    k->next = s->conns;
    if(s->conns) s->conns->prev = k;
    s->conns = k;
    pthread_mutex_unlock(&s->conns_lock);
    *socket_ctx = k;
  } else if(toe == MHD_CONNECTION_NOTIFY_CLOSED) {
    const union MHD_ConnectionInfo *fi =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if(fi) sockopt_release(fi->connect_fd); /* libmicrohttpd closes it next */
    conn *k = *socket_ctx;
    if(!k) return;
    pthread_mutex_lock(&s->conns_lock);
    if(k->prev)
      k->prev->next = k->next;
    else
      s->conns = k->next;
    if(k->next) k->next->prev = k->prev;
    pthread_mutex_unlock(&s->conns_lock);
    free(k);
    *socket_ctx = NULL;
  }
}

static int passed(const struct timespec *now, const struct timespec *t) {
  return now->tv_sec > t->tv_sec || (now->tv_sec == t->tv_sec && now->tv_nsec >= t->tv_nsec);
}

/* The header deadline, for the connections libmicrohttpd's idle timeout
 * keeps alive: twice a second, every connection whose TLS handshake and
 * request headers are not complete by its deadline is shut down. Its
 * thread then sees the end of the stream and closes it as usual; the
 * socket stays open until then, and the entry goes off the list (under
 * conns_lock) before it is closed, so the fd shut down here is never
 * another connection's. */
/* The background opener: a slice of the sealed-phone queue at a time,
 * the storage lock held only to read the slice and to commit it (the
 * opening, ~100 us a box, runs without it, so ingest is not held up by
 * it), at once again while there is work, else every SEAL_IDLE_MS or when
 * an upload queued boxes (on_sealed). Another HQ process holding
 * the job makes a slice a no-op; storage errors wait the idle period out
 * and try again. The backlog it last counted (at most every
 * SEAL_IDLE_MS) is what ingest checks against HQ_SEAL_BACKLOG_MAX. */
#define SEAL_IDLE_MS 250
static void *seal_loop(void *arg) {
  server *s = arg;
  struct timespec counted = {0};
  while(!atomic_load(&s->stopping)) {
    hq_seal_slice sl = {0};
    hq_seal_batch *b = NULL;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int recount =
        (now.tv_sec - counted.tv_sec) * 1000 + (now.tv_nsec - counted.tv_nsec) / 1000000 >=
        SEAL_IDLE_MS;
    pthread_mutex_lock(&s->lock);
    sqr_rc rc = recount ? hq_seal_count(s->h) : SQR_OK;
    if(recount) counted = now;
    if(!rc) rc = hq_seal_take(s->h, HQ_SEAL_SLICE, &b, &sl.held);
    pthread_mutex_unlock(&s->lock);
    if(!rc && b) rc = hq_seal_open_batch(s->h, b);
    if(!rc && b) {
      pthread_mutex_lock(&s->lock);
      rc = hq_seal_commit(s->h, b, &sl);
      pthread_mutex_unlock(&s->lock);
      b = NULL;
    }
    hq_seal_batch_free(b);
    if(rc) log_error("hq", "seal opener: %s (retrying)", sqr_strerror(rc));
    if(!rc && (sl.opened || sl.refused)) continue;
    struct timespec wake;
    clock_gettime(CLOCK_MONOTONIC, &wake);
    wake.tv_nsec += SEAL_IDLE_MS * 1000L * 1000L;
    wake.tv_sec += wake.tv_nsec / 1000000000L;
    wake.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&s->conns_lock);
    if(!atomic_load(&s->stopping)) pthread_cond_timedwait(&s->seal_wake, &s->conns_lock, &wake);
    pthread_mutex_unlock(&s->conns_lock);
  }
  /* a clean stop: the next process's opener need not wait for the lease */
  pthread_mutex_lock(&s->lock);
  if(hq_seal_release(s->h)) log_warn("hq", "seal opener: the job's lease was not given up");
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

/* hq_subscribe's listener: an upload queued boxes, so the opener starts
 * on them now rather than at its next idle wake. */
static void on_sealed(void *arg, hq_change change, const char *sid) {
  server *s = arg;
  (void)sid;
  if(change != HQ_CHANGE_SEALED) return;
  pthread_mutex_lock(&s->conns_lock);
  pthread_cond_signal(&s->seal_wake);
  pthread_mutex_unlock(&s->conns_lock);
}

static void *sweep_loop(void *arg) {
  server *s = arg;
  pthread_mutex_lock(&s->conns_lock);
  while(!atomic_load(&s->stopping)) {
    struct timespec now, wake;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int cut = 0;
    for(conn *k = s->conns; k; k = k->next) {
      if(k->in_request || k->cut || !passed(&now, &k->deadline)) continue;
      shutdown(k->fd, SHUT_RDWR);
      k->cut = 1;
      cut++;
    }
    if(cut) log_debug("hq", "closed %d connection(s) past the header deadline", cut);
    wake = now;
    wake.tv_nsec += 500 * 1000 * 1000;
    if(wake.tv_nsec >= 1000 * 1000 * 1000) {
      wake.tv_sec++;
      wake.tv_nsec -= 1000 * 1000 * 1000;
    }
    pthread_cond_timedwait(&s->sweep_wake, &s->conns_lock, &wake);
  }
  pthread_mutex_unlock(&s->conns_lock);
  return NULL;
}

/* How many connections this process can hold: the descriptor limit,
 * raised first from its soft value to the hard one (systemd's default
 * soft limit is 1024, its hard one 512K), less what HQ needs besides. */
static unsigned connection_limit(void) {
  struct rlimit rl;
  if(getrlimit(RLIMIT_NOFILE, &rl)) return MIN_CONNECTIONS;
  if(rl.rlim_cur < rl.rlim_max) {
    rlim_t want = rl.rlim_max;
    rl.rlim_cur = want;
    if(setrlimit(RLIMIT_NOFILE, &rl)) {
      log_warn("hq", "cannot raise the descriptor limit to %llu: %s", (unsigned long long)want,
               strerror(errno));
      getrlimit(RLIMIT_NOFILE, &rl);
    }
  }
  rlim_t n = rl.rlim_cur;
  if(n == RLIM_INFINITY || n > 1000000) n = 1000000;
  n = n > FD_HEADROOM + MIN_CONNECTIONS ? n - FD_HEADROOM : MIN_CONNECTIONS;
  return (unsigned)n;
}

/* Percent-decoding of the path and query arguments: libmicrohttpd's own
 * but for %00, which stays as it is (decode.h says why). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s) {
  (void)cls;
  (void)c;
  return decode_unescape(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  char line[512];
  vsnprintf(line, sizeof line, fmt, ap);
  size_t n = strlen(line);
  while(n && line[n - 1] == '\n')
    line[--n] = '\0';
  log_debug("mhd", "%s", line);
}

static int64_t ms_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A trusted balancer's connection whose PROXY header is still arriving. */
typedef struct pending {
  int fd;
  struct sockaddr_storage sa; /* the balancer's; the client's once parsed */
  socklen_t len;
  size_t got;
  int64_t deadline; /* ms_now() */
  uint8_t buf[PROXYPROTO_MAX];
} pending;

/* A trusted peer's connection that brought no usable PROXY header: closed
 * and counted; a warning at most every PROXY_WARN_EVERY_S (a broken
 * balancer could otherwise fill the journal), the detail at debug. */
static void proxy_refuse(server *s, int fd, const struct sockaddr_storage *sa, const char *why) {
  close(fd);
  char peer[INET_ADDRSTRLEN] = "?";
  if(sa->ss_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, peer,
              sizeof peer);
  s->proxy_refused++;
  s->proxy_unlogged++;
  counters_add_proxy_refused();
  log_debug("hq", "closed a connection from trusted proxy %s: %s", peer, why);
  time_t now = time(NULL);
  if(now - s->proxy_warned >= PROXY_WARN_EVERY_S) {
    log_warn("hq",
             "closed %lu connection(s) from trusted proxies without a valid PROXY v2 header "
             "(%lu in all); the last from %s: %s",
             s->proxy_unlogged, s->proxy_refused, peer, why);
    s->proxy_warned = now;
    s->proxy_unlogged = 0;
  }
}

/* Reads what has arrived of p's PROXY protocol v2 header (proxyproto.h)
 * off its nonblocking socket: exactly the header's bytes, the fixed 16
 * first and then the length they name, so the TLS ClientHello behind it
 * stays in the socket for libmicrohttpd. Once whole, the connection goes
 * to libmicrohttpd with the client's address (the balancer's own for a
 * LOCAL header: its health checks); malformed, refused, cut short or past
 * its deadline, it is closed. 1 when p is done with, 0 while it waits. */
static int proxy_step(server *s, pending *p, int64_t now) {
  const char *why;
  size_t more;
  for(;;) {
    if(proxyproto_need(p->buf, p->got, &more, &why)) break;
    if(!more) {
      proxyproto_hdr h;
      if(proxyproto_parse(p->buf, p->got, &h, &why)) break;
      if(!h.local) {
        memcpy(&p->sa, &h.src, h.src_len);
        p->len = h.src_len;
      }
      MHD_add_connection(s->d, p->fd, (struct sockaddr *)&p->sa, p->len);
      return 1;
    }
    ssize_t n = recv(p->fd, p->buf + p->got, more, 0);
    if(n > 0) {
      p->got += (size_t)n;
      continue;
    }
    if(n < 0 && errno == EINTR) continue;
    if(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if(now < p->deadline) return 0;
      why = "no PROXY header within 1 s";
    } else {
      why = n == 0 ? "closed before its PROXY header was complete"
                   : "the socket failed while its PROXY header was read";
    }
    break;
  }
  /* the address logged is the balancer's: a client's is never parsed here */
  proxy_refuse(s, p->fd, &p->sa, why);
  return 1;
}

/* Connections dealt to the worker threads in turn.
 *
 * libmicrohttpd's workers each wait on the shared listening socket, and
 * whichever wakes first takes what is queued, so a client opening many
 * keep-alive connections at once (a load balancer, a batch of kiosks,
 * the benchmark's 32) can leave one worker with most of them and the
 * other idle. This thread accepts instead and hands each socket over with
 * MHD_add_connection, which gives it to worker fd % threads (the first
 * with room): connections opened together take consecutive numbers, so
 * they are split evenly. Limits (connections, per address) are applied by
 * libmicrohttpd as before, on the address handed over; it closes a socket
 * it refuses.
 *
 * Behind a trusted balancer that address is the client's, from the PROXY
 * header its connection begins with (proxy_step). The header is read here,
 * not in a thread of its own: a balancer sends it the moment its
 * connection is up, so it is nearly always in the socket when accept4
 * returns and is read at once. One that is not yet there waits in the
 * pending list, polled together with the listening socket, each until its
 * PROXY_DEADLINE_MS: a balancer that stalls holds no one else's accept, a
 * thread and a queue of sockets between threads would add nothing, and
 * with nothing pending (always, without --trusted-proxy) this thread
 * waits in accept4 as before. At most PROXY_PENDING_MAX wait at once;
 * more are refused. */
static void *accept_loop(void *arg) {
  server *s = arg;
  pending *wait = NULL; /* PROXY_PENDING_MAX of them, with --trusted-proxy */
  int nwait = 0;
  if(s->trust.n && !(wait = calloc(PROXY_PENDING_MAX, sizeof *wait)))
    log_error("hq", "no memory for PROXY headers: trusted proxies' connections are refused");
  while(!atomic_load(&s->stopping)) {
    if(nwait) {
      struct pollfd pf[1 + PROXY_PENDING_MAX];
      int64_t now = ms_now(), first = wait[0].deadline;
      pf[0] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
      for(int i = 0; i < nwait; i++) {
        pf[1 + i] = (struct pollfd){.fd = wait[i].fd, .events = POLLIN};
        if(wait[i].deadline < first) first = wait[i].deadline;
      }
      int rc = poll(pf, (nfds_t)(1 + nwait), first > now ? (int)(first - now) : 0);
      if(atomic_load(&s->stopping)) break;
      now = ms_now();
      for(int i = nwait - 1; i >= 0; i--) /* from the end: a done one takes the last's place */
        if((pf[1 + i].revents || now >= wait[i].deadline) && proxy_step(s, &wait[i], now))
          wait[i] = wait[--nwait];
      if(rc <= 0 || !pf[0].revents) continue;
    }
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    int fd = accept4(s->listen_fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if(fd >= 0) {
      if(!proxyproto_trusted(&s->trust, (struct sockaddr *)&sa)) {
        MHD_add_connection(s->d, fd, (struct sockaddr *)&sa, len);
      } else if(!wait || nwait == PROXY_PENDING_MAX) {
        proxy_refuse(s, fd, &sa,
                     wait ? "too many connections waiting for their PROXY header"
                          : "no memory to read its PROXY header");
      } else {
        pending *p = &wait[nwait];
        p->fd = fd;
        p->sa = sa;
        p->len = len;
        p->got = 0;
        p->deadline = ms_now() + PROXY_DEADLINE_MS;
        if(!proxy_step(s, p, ms_now())) nwait++;
      }
      continue;
    }
    if(atomic_load(&s->stopping)) break;
    if(errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
    if(errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      /* out of descriptors or memory: let connections close, then retry */
      log_warn("hq", "accept: %s; retrying in 100 ms", strerror(errno));
      struct timespec ts = {0, 100 * 1000 * 1000};
      nanosleep(&ts, NULL);
      continue;
    }
    log_error("hq", "accept: %s; no new connections", strerror(errno));
    break;
  }
  for(int i = 0; i < nwait; i++)
    close(wait[i].fd);
  free(wait);
  return NULL;
}

/* libmicrohttpd's certificate callback carries no argument of ours; a
 * process runs one server, and this is it while SNI is on (set before
 * the daemon starts, cleared after it stopped). */
static server *sni_server;

/* GnuTLS asks during each handshake: the public certificate when the
 * client named the public host (SNI; phones always send it), server.crt
 * (pinned by kiosks through hq-ca) for the kiosk name, for no name (an
 * IP address) and for any other. Both were loaded at start and live
 * until the daemon stops; GnuTLS does not free them. */
static int pick_cert(gnutls_session_t tls, const gnutls_datum_t *req_ca, int nreqs,
                     const gnutls_pk_algorithm_t *algos, int nalgos, gnutls_pcert_st **pcert,
                     unsigned *n, gnutls_privkey_t *key) {
  (void)req_ca;
  (void)nreqs;
  (void)algos;
  (void)nalgos;
  server *s = sni_server;
  if(!s) return -1;
  const tls_id *id = &s->kiosk_id;
  char name[256];
  size_t len = sizeof name;
  unsigned type = 0;
  if(gnutls_server_name_get(tls, name, &len, &type, 0) == 0 && type == GNUTLS_NAME_DNS &&
     len < sizeof name && strcasecmp(name, s->public_host) == 0)
    id = &s->public_id;
  *pcert = (gnutls_pcert_st *)id->pcert;
  *n = id->n;
  *key = id->key;
  return 0;
}

/* A certificate's end of validity, into /metrics and, when near, the log:
 * an expired server.crt stops every kiosk's sync, an expired public
 * certificate every shopper's scan, and both fail at someone else's
 * handshake, where no one at HQ sees it. which: 0 server.crt, 1 public. */
#define CERT_WARN_DAYS 30
static void cert_expiry(int which, const char *pem, const char *file) {
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
  time_t end = (time_t)-1;
  if(gnutls_x509_crt_init(&crt) >= 0 && gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) >= 0)
    end = gnutls_x509_crt_get_expiration_time(crt);
  if(crt) gnutls_x509_crt_deinit(crt);
  if(end == (time_t)-1) return;
  counters_set_cert_expiry(which, (int64_t)end);
  const char *renew = which ? "replace it with one from its CA" : "run storeqr-hq cert renew";
  long long days = ((long long)end - (long long)time(NULL)) / 86400;
  if(end <= time(NULL))
    log_error("hq", "%s has expired: %s now, then restart serve", file, renew);
  else if(days < CERT_WARN_DAYS)
    log_warn("hq", "%s expires in %lld day(s): %s, then restart serve", file, days, renew);
}

static void tls_id_clear(tls_id *id) {
  for(unsigned i = 0; i < id->n; i++)
    gnutls_pcert_deinit(&id->pcert[i]);
  id->n = 0;
  if(id->key) gnutls_privkey_deinit(id->key); /* GnuTLS zeroes the key's numbers */
  id->key = NULL;
}

/* A chain and its key from PEM text; the key must belong to the first
 * certificate and, when host is given, the certificate must name it
 * (a phone checks exactly that). err names the files. */
static sqr_rc tls_id_load(tls_id *id, const char *cert_pem, const char *key_pem,
                          const char *cert_file, const char *key_file, const char *host, char *err,
                          size_t errlen) {
  gnutls_datum_t c = {(unsigned char *)cert_pem, (unsigned)strlen(cert_pem)};
  gnutls_datum_t k = {(unsigned char *)key_pem, (unsigned)strlen(key_pem)};
  gnutls_datum_t a = {NULL, 0}, b = {NULL, 0};
  gnutls_pubkey_t pub = NULL;
  gnutls_x509_crt_t crt = NULL;
  sqr_rc rc = SQR_EINVAL;
  unsigned n = TLS_CHAIN_MAX;
  int grc = gnutls_pcert_list_import_x509_raw(id->pcert, &n, &c, GNUTLS_X509_FMT_PEM, 0);
  if(grc < 0) {
    snprintf(err, errlen, "%s: not a PEM certificate chain (%s)", cert_file, gnutls_strerror(grc));
    return SQR_EINVAL;
  }
  id->n = n;
  if((grc = gnutls_privkey_init(&id->key)) < 0 ||
     (grc = gnutls_privkey_import_x509_raw(id->key, &k, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
    snprintf(err, errlen, "%s: not a PEM private key (%s)", key_file, gnutls_strerror(grc));
    goto out;
  }
  if(gnutls_pubkey_init(&pub) < 0 || gnutls_pubkey_import_privkey(pub, id->key, 0, 0) < 0 ||
     gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &a) < 0 ||
     gnutls_pubkey_export2(id->pcert[0].pubkey, GNUTLS_X509_FMT_DER, &b) < 0 || a.size != b.size ||
     memcmp(a.data, b.data, a.size) != 0) {
    snprintf(err, errlen, "%s is not the key of %s", key_file, cert_file);
    goto out;
  }
  if(host && (gnutls_x509_crt_init(&crt) < 0 ||
              gnutls_x509_crt_import(crt, &id->pcert[0].cert, GNUTLS_X509_FMT_DER) < 0 ||
              !gnutls_x509_crt_check_hostname(crt, host))) {
    snprintf(err, errlen, "%s does not name %s (phones would refuse it)", cert_file, host);
    goto out;
  }
  rc = SQR_OK;
out:
  if(crt) gnutls_x509_crt_deinit(crt);
  if(pub) gnutls_pubkey_deinit(pub);
  gnutls_free(a.data);
  gnutls_free(b.data);
  if(rc) tls_id_clear(id);
  return rc;
}

/* --public-cert/--public-key: both files read, checked and loaded, and
 * SNI turned on; the key's PEM is wiped once loaded. */
static sqr_rc public_cert_load(server *s, const char *cert_file, const char *key_file, char *err,
                               size_t errlen) {
  const char *host = hq_public_host(s->h), *kiosk = hq_kiosk_host(s->h);
  struct in_addr ip;
  if(!host[0]) {
    snprintf(err, errlen,
             "--public-cert needs --public-url https://SCAN.NAME (the name it is for)");
    return SQR_EINVAL;
  }
  if(inet_pton(AF_INET, host, &ip) == 1) {
    snprintf(err, errlen,
             "--public-cert: the public URL's host %s is an address; a certificate is picked by "
             "name (SNI), so --public-url needs a DNS name",
             host);
    return SQR_EINVAL;
  }
  if(strcasecmp(host, kiosk) == 0) {
    snprintf(err, errlen,
             "--public-url and --kiosk-url both name %s: one name cannot carry two certificates "
             "(give phones and kiosks different names)",
             host);
    return SQR_EINVAL;
  }
  char *cert = NULL, *key = NULL;
  size_t key_len = 0;
  sqr_rc rc;
  if((rc = pki_read_file(cert_file, 65536, &cert, NULL))) {
    snprintf(err, errlen, "--public-cert: cannot read %s", cert_file);
    return rc;
  }
  if((rc = pki_read_file(key_file, 65536, &key, &key_len))) {
    snprintf(err, errlen, "--public-key: cannot read %s", key_file);
    free(cert);
    return rc;
  }
  rc = tls_id_load(&s->public_id, cert, key, cert_file, key_file, host, err, errlen);
  if(!rc) cert_expiry(1, cert, cert_file);
  crypto_wipe(key, key_len);
  free(key);
  free(cert);
  if(!rc)
    rc = tls_id_load(&s->kiosk_id, s->cert_pem, s->key_pem, "server.crt", "server.key", NULL, err,
                     errlen);
  if(rc) return rc;
  snprintf(s->public_host, sizeof s->public_host, "%s", host);
  s->sni = 1;
  return SQR_OK;
}

sqr_rc server_trust_proxies(const char *list, char *err, size_t errlen) {
  return proxyproto_trust_parse(list, &trusted_proxies, err, errlen);
}

sqr_rc server_start(hq *h, const char *listen, const char *public_cert, const char *public_key,
                    server **out, char *err, size_t errlen) {
  *out = NULL;
  const char *labels[COUNTERS_ROUTES_MAX];
  counters_set_routes(labels, route_labels(labels, SQR_ARRAY_LEN(labels)));
  char host[64];
  const char *colon = strrchr(listen, ':');
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  long port = colon ? strtol(colon + 1, NULL, 10) : -1;
  if(!colon || (size_t)(colon - listen) >= sizeof host || port < 0 || port > 65535) {
    snprintf(err, errlen, "--listen: want IPV4:PORT, got %s", listen);
    return SQR_EINVAL;
  }
  memcpy(host, listen, (size_t)(colon - listen));
  host[colon - listen] = '\0';
  if(inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    snprintf(err, errlen, "--listen: %s is not an IPv4 address", host);
    return SQR_EINVAL;
  }
  sa.sin_port = htons((uint16_t)port);
  server *s = calloc(1, sizeof *s);
  if(!s) return SQR_ENOMEM;
  s->h = h;
  s->listen_fd = -1;
  if(pthread_mutex_init(&s->lock, NULL)) {
    free(s);
    return SQR_ENOMEM;
  }
  s->lock_ready = 1;
  pthread_condattr_t ca;
  if(pthread_condattr_init(&ca)) {
    server_stop(s);
    return SQR_ENOMEM;
  }
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  int cond_rc = pthread_cond_init(&s->sweep_wake, &ca);
  s->seal_wake_ready = pthread_cond_init(&s->seal_wake, &ca) == 0;
  pthread_condattr_destroy(&ca);
  if(!s->seal_wake_ready) {
    if(!cond_rc) pthread_cond_destroy(&s->sweep_wake);
    server_stop(s);
    return SQR_ENOMEM;
  }
  if(cond_rc || pthread_mutex_init(&s->conns_lock, NULL)) {
    if(!cond_rc) pthread_cond_destroy(&s->sweep_wake);
    server_stop(s);
    return SQR_ENOMEM;
  }
  s->conns_ready = 1;
  /* Resumption: a returning phone or kiosk skips the full handshake, on
   * whichever HQ process the balancer picks (the key is shared:
   * tickets.h). Without it every handshake is a full one. */
  if(tickets_start(h, &s->lock, &s->tickets)) {
    s->tickets = NULL;
    log_warn("hq", "no TLS session tickets: cannot make their key");
  }
  char path[600];
  sqr_rc rc;
  snprintf(path, sizeof path, "%s/server.crt", hq_dir(h));
  if(!(rc = pki_read_file(path, 65536, &s->cert_pem, NULL))) {
    snprintf(path, sizeof path, "%s/server.key", hq_dir(h));
    if(!(rc = pki_read_file(path, 65536, &s->key_pem, NULL))) {
      snprintf(path, sizeof path, "%s/device-ca.crt", hq_dir(h));
      rc = pki_read_file(path, 65536, &s->trust_pem, NULL);
    }
  }
  if(!rc) cert_expiry(0, s->cert_pem, "server.crt");
  if(rc) {
    snprintf(err, errlen, "cannot read %s", path);
    server_stop(s);
    return rc;
  }
  if(!public_cert != !public_key) {
    snprintf(err, errlen, "--public-cert and --public-key go together");
    server_stop(s);
    return SQR_EINVAL;
  }
  if(public_cert) {
    if(sni_server) {
      snprintf(err, errlen, "one server with --public-cert per process");
      server_stop(s);
      return SQR_EINVAL;
    }
    if((rc = public_cert_load(s, public_cert, public_key, err, errlen))) {
      server_stop(s);
      return rc;
    }
    sni_server = s;
    log_info("hq", "TLS: %s gets %s, any other name server.crt", s->public_host, public_cert);
  } else if(hq_public_host(h)[0]) {
    log_warn("hq",
             "TLS: no --public-cert: %s is served with server.crt, which phones do not trust "
             "(a test set-up only)",
             hq_public_host(h));
  }
  /* SNI: the callback hands out both certificates; without it, server.crt
   * is libmicrohttpd's own. */
  struct MHD_OptionItem tls_opts[] = {
      {MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert_pem},
      {MHD_OPTION_HTTPS_MEM_KEY, 0, s->key_pem},
      {MHD_OPTION_END, 0, NULL},
  };
  if(s->sni) {
    tls_opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)pick_cert};
    tls_opts[1] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
  }
  /* SQR_HQ_TCP_OWN=0 (tests): libmicrohttpd sets its connections' TCP
   * options itself, as it would were sockopt.c's setsockopt not the one
   * it calls; hqweb.nostall.mhd checks that no answer stalls then. */
  const char *to = getenv("SQR_HQ_TCP_OWN");
  s->own_tcp = !(to && !strcmp(to, "0"));
  unsigned threads = SERVER_THREADS;
  const char *te = getenv("SQR_HQ_THREADS");
  if(te && atoi(te) >= 1 && atoi(te) <= 16) threads = (unsigned)atoi(te);
  unsigned per_address = PER_ADDRESS_DEFAULT;
  const char *pe = getenv("SQR_HQ_PER_ADDRESS");
  if(pe && *pe) {
    char *end;
    unsigned long v = strtoul(pe, &end, 10);
    if(*end || v > 1000000) {
      snprintf(err, errlen,
               "SQR_HQ_PER_ADDRESS: want a number of connections (0: no limit), got %s", pe);
      server_stop(s);
      return SQR_EINVAL;
    }
    per_address = (unsigned)v;
  }
  s->trust = trusted_proxies;
  if(s->trust.n) {
    char list[PROXYPROTO_TRUST_MAX * 20];
    proxyproto_trust_text(&s->trust, list, sizeof list);
    log_info("hq", "trusted proxies (a PROXY v2 header required from them): %s", list);
  }
  unsigned max_conns = connection_limit();
  log_info("hq", "connections: at most %u, %u per address%s; headers within %d s, idle %d s",
           max_conns, per_address, per_address ? "" : " (no limit)", HEADER_DEADLINE_S,
           IDLE_TIMEOUT_S);
  if((rc = resolve_start(h, &s->lock))) {
    snprintf(err, errlen, "cannot start the scan resolver");
    server_stop(s);
    return rc;
  }
  s->resolver = 1;
  if((rc = stats_roller_start(h, &s->lock, &s->roller))) {
    snprintf(err, errlen, "cannot start the scan roll-up's thread");
    server_stop(s);
    return rc;
  }
  if((rc = retainer_start(h, &s->lock, &s->retainer))) {
    snprintf(err, errlen, "cannot start the retention job's thread");
    server_stop(s);
    return rc;
  }
  /* epoll, not whatever libmicrohttpd would pick: conn_pull's read-ahead
   * relies on its keeping a connection readable until a read fails */
  s->d = MHD_start_daemon(
      MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG | MHD_USE_ITC, 0, NULL, NULL,
      handle, s,
      /* first, so that libmicrohttpd's own warnings go through our log too */
      MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_THREAD_POOL_SIZE, threads,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_ARRAY, tls_opts,
      MHD_OPTION_HTTPS_MEM_TRUST, s->trust_pem, MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
      MHD_OPTION_CONNECTION_LIMIT, max_conns,
      /* counted on the address given to MHD_add_connection (accept_loop) */
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_address, MHD_OPTION_CONNECTION_TIMEOUT,
      (unsigned)IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
      MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_NOTIFY_CONNECTION, notify_conn, s,
      MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
  if(!s->d) {
    snprintf(err, errlen, "cannot listen on %s (in use, or TLS set-up failed)", listen);
    server_stop(s);
    return SQR_EIO;
  }
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
  s->port = di ? di->port : (int)port;
  /* From here the listening socket is accept_loop's (see there). */
  s->listen_fd = MHD_quiesce_daemon(s->d);
  int fl = s->listen_fd >= 0 ? fcntl(s->listen_fd, F_GETFL) : -1;
  if(fl < 0 || fcntl(s->listen_fd, F_SETFL, fl & ~O_NONBLOCK) || /* accept4 waits */
     pthread_create(&s->accept_thread, NULL, accept_loop, s)) {
    snprintf(err, errlen, "cannot start accepting connections on %s", listen);
    server_stop(s);
    return SQR_EIO;
  }
  s->acceptor = 1;
  if(pthread_create(&s->sweep_thread, NULL, sweep_loop, s)) {
    snprintf(err, errlen, "cannot start the header deadline's thread");
    server_stop(s);
    return SQR_EIO;
  }
  s->sweeper = 1;
  if(hq_seal_later(h)) {
    if(pthread_create(&s->seal_thread, NULL, seal_loop, s)) {
      snprintf(err, errlen, "cannot start the opener of sealed phones");
      server_stop(s);
      return SQR_EIO;
    }
    s->sealer = 1;
    /* under the storage lock: ingest walks the listeners under it */
    pthread_mutex_lock(&s->lock);
    sqr_rc src = hq_subscribe(h, on_sealed, s);
    pthread_mutex_unlock(&s->lock);
    if(src) {
      snprintf(err, errlen, "out of memory");
      server_stop(s);
      return SQR_ENOMEM;
    }
    s->seal_listening = 1;
    log_info("hq", "sealed phones are opened after the acknowledgement, by a background thread");
  }
  hq_set_url(h, host, s->port);
  *out = s;
  return SQR_OK;
}

int server_port(const server *s) {
  return s->port;
}

void server_stop(server *s) {
  if(!s) return;
  atomic_store(&s->stopping, 1);
  if(s->listen_fd >= 0) shutdown(s->listen_fd, SHUT_RDWR); /* wakes accept4 */
  if(s->acceptor) pthread_join(s->accept_thread, NULL);
  if(s->sweeper) {
    pthread_mutex_lock(&s->conns_lock);
    pthread_cond_signal(&s->sweep_wake);
    pthread_mutex_unlock(&s->conns_lock);
    pthread_join(s->sweep_thread, NULL);
  }
  if(s->seal_listening) {
    pthread_mutex_lock(&s->lock);
    hq_unsubscribe(s->h, on_sealed, s);
    pthread_mutex_unlock(&s->lock);
  }
  if(s->sealer) { /* the slice it is on commits or rolls back; the queue waits */
    pthread_mutex_lock(&s->conns_lock);
    pthread_cond_signal(&s->seal_wake);
    pthread_mutex_unlock(&s->conns_lock);
    pthread_join(s->seal_thread, NULL);
  }
  if(s->listen_fd >= 0) close(s->listen_fd);
  if(s->d) MHD_stop_daemon(s->d);        /* every connection's CLOSED: the list empties */
  if(sni_server == s) sni_server = NULL; /* no handshake after the daemon stopped */
  tls_id_clear(&s->public_id);
  tls_id_clear(&s->kiosk_id);
  if(s->resolver) resolve_stop(); /* after the daemon: no request in flight; writes the counters */
  stats_roller_stop(s->roller);   /* before s->lock goes */
  retainer_stop(s->retainer);     /* likewise; a run stops after its page */
  tickets_stop(s->tickets);       /* after the daemon (no handshake uses it), before s->lock goes */
  if(s->lock_ready) pthread_mutex_destroy(&s->lock);
  if(s->conns_ready) {
    pthread_mutex_destroy(&s->conns_lock);
    pthread_cond_destroy(&s->sweep_wake);
  }
  if(s->seal_wake_ready) pthread_cond_destroy(&s->seal_wake);
  free(s->cert_pem);
  if(s->key_pem) crypto_wipe(s->key_pem, strlen(s->key_pem));
  free(s->key_pem);
  free(s->trust_pem);
  free(s);
}
