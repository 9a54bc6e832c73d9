/* device.c — see device.h. */
#include "device.h"

#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

#include "configdoc.h"
#include "storefeed.h"
#include "counters.h"
#include "decode.h"
#include "enroll.h"
#include "ingest.h"
#include "log.h"
#include "proto.h"
#include "release.h"

/* The kiosk a connection's client certificate belongs to. On failure the
 * reply is set (401 certificate). */
int device_auth(hq *h, struct MHD_Connection *c, char kiosk_id[HQ_ID_MAX], hq_reply *r) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  gnutls_session_t tls = ci ? (gnutls_session_t)ci->tls_session : NULL;
  unsigned n = 0;
  const gnutls_datum_t *peers = tls ? gnutls_certificate_get_peers(tls, &n) : NULL;
  if(!peers || n == 0) {
    hq_reply_error(r, 401, "certificate",
                   "certificate: this route needs the kiosk's client certificate", NULL, 0);
    return 0;
  }
  hq_err e = {0};
  sqr_rc rc = hq_kiosk_identify(h, peers[0].data, peers[0].size, kiosk_id, &e);
  if(rc) {
    hq_reply_fail(r, rc, &e);
    return 0;
  }
  return 1;
}

int device_events(const route_req *q, hq_reply *r) {
  struct MHD_Connection *c = q->c;
  const char *kiosk = q->kiosk_id;
  const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
  const char *body = q->body;
  size_t len = q->len;
  char *inflated = NULL;
  if(enc && strcmp(enc, "identity") != 0) {
    if(strcmp(enc, "gzip") != 0) {
      hq_reply_error(r, 415, "bad_request", "Content-Encoding: only gzip", NULL, 0);
      return 1;
    }
    sqr_rc rc = decode_gunzip(q->body, q->len, PROTO_MAX_INFLATED, &inflated, &len);
    if(rc == SQR_ENOSPC) {
      hq_reply_error(r, 413, "too_large", "body: more than 4 MiB once inflated", NULL, 0);
      return 1;
    }
    if(rc) {
      hq_reply_error(r, 400, "bad_request", "body: not valid gzip", NULL, 0);
      return 1;
    }
    body = inflated;
  }
  proto_batch b;
  proto_error pe;
  if(proto_batch_decode(body ? body : "", len, &b, &pe)) {
    hq_reply_error(r, pe.status ? pe.status : 400, pe.code, pe.message, pe.seq ? "seq" : NULL,
                   pe.seq);
    if(pe.status == 422 && strcmp(pe.code, "chain_broken") == 0 &&
       ingest_alert(q->h, kiosk, pe.seq, "chain_broken", pe.message))
      log_error("hq", "cannot record an alert");
  } else {
    hq_err e = {0};
    int64_t acked = 0;
    sqr_rc rc = ingest_batch(q->h, kiosk, &b, &acked, &e);
    if(rc) {
      hq_reply_fail(r, rc, &e);
    } else {
      r->status = 200;
      if(proto_ack_encode(acked, hq_now_ms(), &r->body))
        hq_reply_error(r, 500, "internal", "out of memory", NULL, 0);
      else
        counters_add_ingest(1, (int)b.count);
    }
    proto_batch_clear(&b);
  }
  free(inflated);
  return 1;
}

int device_config(const route_req *q, hq_reply *r) {
  struct MHD_Connection *c = q->c;
  const char *kiosk = q->kiosk_id;
  const char *since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
  int64_t v = 0;
  if(since) {
    char *end;
    long long n = strtoll(since, &end, 10);
    if(!*since || *end || n < 0) {
      hq_reply_error(r, 400, "bad_request", "since: must be a version number", NULL, 0);
      return 1;
    }
    v = n;
  }
  hq_err e = {0};
  char *doc = NULL;
  sqr_rc rc = hq_config_get(q->h, kiosk, v, &doc, &e);
  if(rc) {
    hq_reply_fail(r, rc, &e);
  } else {
    r->status = doc ? 200 : 304;
    r->body = doc;
  }
  return 1;
}

int device_feed(const route_req *q, hq_reply *r) {
  const char *after = MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, "after");
  hq_err e = {0};
  char *page = NULL;
  size_t len = 0;
  if(!after) {
    hq_reply_error(r, 400, "bad_cursor", "after: missing; the first page is after=0", NULL, 0);
    return 1;
  }
  sqr_rc rc = hq_feed_get(q->h, q->kiosk_id, after, &page, &len, &e);
  if(rc) {
    hq_reply_fail(r, rc, &e);
  } else {
    r->status = 200;
    r->body = page;
  }
  return 1;
}

/* POST /v1/enroll: the one route a kiosk reaches without a certificate. */
int device_enroll(const route_req *q, hq_reply *r) {
  const char *body = q->body;
  size_t len = q->len;
  proto_enroll_request req;
  proto_error pe;
  if(proto_enroll_request_decode(body, len, &req, &pe)) {
    hq_reply_error(r, pe.status ? pe.status : 400, pe.code[0] ? pe.code : "bad_request", pe.message,
                   NULL, 0);
    return 1;
  }
  hq_enroll_out out;
  hq_err e = {0};
  sqr_rc rc = hq_enroll(q->h, req.code, req.csr, &out, &e);
  proto_enroll_request_clear(&req);
  if(rc) {
    hq_reply_fail(r, rc, &e);
    return 1;
  }
  proto_enroll_answer a = {.kiosk = out.kiosk,
                           .certificate = out.certificate,
                           .hq_ca = out.hq_ca,
                           .config = out.config,
                           .hq_time_ms = hq_now_ms()};
  memcpy(a.store_id, out.store, strnlen(out.store, PROTO_STORE_ID_MAX));
  if(proto_enroll_answer_encode(&a, &r->body))
    hq_reply_error(r, 500, "internal", "out of memory", NULL, 0);
  else
    r->status = 200;
  hq_enroll_out_clear(&out);
  return 1;
}

/* GET /v1/bundles/<sha256>.bundle for the kiosk of kiosk_id. */
int device_bundle(const route_req *q, hq_reply *r) {
  const char *kiosk_id = q->kiosk_id, *url = q->url;
  hq_err e = {0};
  int fd = -1;
  uint64_t size = 0;
  sqr_rc rc = hq_release_open(q->h, kiosk_id, url + strlen("/v1/bundles/"), &fd, &size, &e);
  if(rc) {
    hq_reply_fail(r, rc, &e);
    return 1;
  }
  r->status = 200;
  r->type = "application/octet-stream";
  r->fd = fd;
  r->fd_size = size;
  return 1;
}
