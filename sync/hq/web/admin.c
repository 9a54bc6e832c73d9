/* admin.c — see admin.h. */
#include "admin.h"
#include "person.h"
#include "crypto.h"
#include "log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decoding refusals name the field; what the values may be is the
 * operation's to say (manage.c), in the same words. */
static cJSON *parse_body(const char *body, size_t len, hq_reply *r) {
  cJSON *root = cJSON_ParseWithLength(body, len);
  if(!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    hq_reply_error(r, 400, "bad_request", "body: must be a JSON object", NULL, 0);
    return NULL;
  }
  return root;
}

/* A string member: *out NULL when absent and not required. */
static int want_str(cJSON *o, const char *name, int required, const char **out, hq_reply *r) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  char msg[96];
  *out = NULL;
  if(!v && !required) return 1;
  if(!cJSON_IsString(v)) {
    snprintf(msg, sizeof msg, "%s: %s", name, v ? "must be a string" : "missing");
    hq_reply_error(r, 400, "bad_request", msg, NULL, 0);
    return 0;
  }
  *out = v->valuestring;
  return 1;
}

/* An integer member: *has 0 when absent and not required. */
static int want_int(cJSON *o, const char *name, int required, int *has, int64_t *out, hq_reply *r) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  char msg[128];
  *has = 0;
  if(!v && !required) return 1;
  if(!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
     fabs(v->valuedouble) > 9007199254740992.0) {
    snprintf(msg, sizeof msg, "%s: %s", name, v ? "must be an integer in range" : "missing");
    hq_reply_error(r, 400, "bad_request", msg, NULL, 0);
    return 0;
  }
  *has = 1;
  *out = (int64_t)v->valuedouble;
  return 1;
}

static int want_num(cJSON *o, const char *name, int *has, double *out, hq_reply *r) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  *has = v != NULL;
  if(!v) return 1;
  if(!cJSON_IsNumber(v)) {
    hq_reply_error(r, 400, "bad_request", "lat/lon: must be coordinates", NULL, 0);
    return 0;
  }
  *out = v->valuedouble;
  return 1;
}

cJSON *admin_store_json(const hq_store *s, const char *brand) {
  cJSON *a = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "id", s->id);
  cJSON_AddStringToObject(a, "name", s->name);
  cJSON_AddStringToObject(a, "city", s->city);
  cJSON_AddNumberToObject(a, "lat", s->lat);
  cJSON_AddNumberToObject(a, "lon", s->lon);
  if(brand && brand[0]) cJSON_AddStringToObject(a, "brand", brand);
  cJSON_AddNumberToObject(a, "config_version", (double)s->config_version);
  return a;
}

void admin_store_add(hq *h, const char *body, size_t len, hq_reply *r) {
  cJSON *o = parse_body(body, len, r);
  if(!o) return;
  hq_store_req q = {0};
  hq_store s;
  hq_err e = {0};
  if(want_str(o, "id", 1, &q.id, r) && want_str(o, "name", 1, &q.name, r) &&
     want_str(o, "city", 0, &q.city, r) && want_str(o, "brand", 0, &q.brand, r) &&
     want_num(o, "lat", &q.has_lat, &q.lat, r) && want_num(o, "lon", &q.has_lon, &q.lon, r)) {
    sqr_rc rc = hq_store_add(h, &q, &s, &e);
    if(rc)
      hq_reply_fail(r, rc, &e);
    else
      hq_reply_json(r, 201, admin_store_json(&s, q.brand));
  }
  cJSON_Delete(o);
}

cJSON *admin_code_json(const hq_code_out *c) {
  cJSON *a = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "code", c->code);
  cJSON_AddStringToObject(a, "store", c->store);
  cJSON_AddNumberToObject(a, "kiosk", c->kiosk);
  cJSON_AddNumberToObject(a, "expires_ms", (double)c->expires_ms);
  cJSON_AddStringToObject(a, "qr_text", c->qr_text);
  return a;
}

void admin_enroll_code(hq *h, const char *body, size_t len, hq_reply *r) {
  cJSON *o = parse_body(body, len, r);
  if(!o) return;
  hq_code_req q = {.ttl_s = 86400};
  hq_code_out c;
  hq_err e = {0};
  int has_kiosk, has_ttl;
  int64_t ttl = 0;
  if(want_str(o, "store", 1, &q.store, r) && want_int(o, "kiosk", 1, &has_kiosk, &q.kiosk, r) &&
     want_int(o, "ttl_s", 0, &has_ttl, &ttl, r)) {
    if(has_ttl) q.ttl_s = ttl;
    sqr_rc rc = hq_code_new(h, &q, &c, &e);
    if(rc)
      hq_reply_fail(r, rc, &e);
    else
      hq_reply_json(r, 201, admin_code_json(&c));
    memset(&c, 0, sizeof c); /* the code is a secret until it is used */
  }
  cJSON_Delete(o);
}

cJSON *admin_revoked_json(const char *kiosk_id) {
  cJSON *a = cJSON_CreateObject();
  cJSON_AddBoolToObject(a, "revoked", 1);
  cJSON_AddStringToObject(a, "kiosk_id", kiosk_id);
  return a;
}

void admin_revoke(hq *h, const char *body, size_t len, hq_reply *r) {
  cJSON *o = parse_body(body, len, r);
  if(!o) return;
  const char *store;
  int has, has_inc;
  int64_t kiosk, inc = 0;
  char kiosk_id[HQ_ID_MAX];
  hq_err e = {0};
  if(want_str(o, "store", 1, &store, r) && want_int(o, "kiosk", 1, &has, &kiosk, r) &&
     want_int(o, "incarnation", 0, &has_inc, &inc, r)) {
    sqr_rc rc = hq_kiosk_revoke(h, store, kiosk, has_inc ? inc : 0, kiosk_id, &e);
    if(rc)
      hq_reply_fail(r, rc, &e);
    else
      hq_reply_json(r, 200, admin_revoked_json(kiosk_id));
  }
  cJSON_Delete(o);
}

cJSON *admin_coupon_json(const hq_coupon_check *c) {
  cJSON *a = cJSON_CreateObject();
  cJSON_AddBoolToObject(a, "valid", c->valid);
  if(!c->valid) cJSON_AddStringToObject(a, "why", c->why);
  if(c->valid || c->kiosk) {
    cJSON_AddNumberToObject(a, "kiosk", c->kiosk);
    cJSON_AddNumberToObject(a, "key_version", c->key_version);
    cJSON_AddNumberToObject(a, "campaign", c->campaign);
    cJSON_AddNumberToObject(a, "serial", (double)c->serial);
  }
  if(c->valid) {
    cJSON_AddStringToObject(a, "kiosk_id", c->kiosk_id);
    cJSON_AddBoolToObject(a, "issued_known", c->issued_known);
    if(c->issued_known) cJSON_AddNumberToObject(a, "issued_ms", (double)c->issued_ms);
  }
  return a;
}

void admin_coupon_verify(hq *h, const char *body, size_t len, hq_reply *r) {
  cJSON *o = parse_body(body, len, r);
  if(!o) return;
  const char *store, *code;
  hq_err e = {0};
  hq_coupon_check c;
  if(want_str(o, "store", 1, &store, r) && want_str(o, "code", 1, &code, r)) {
    sqr_rc rc = hq_coupon_verify(h, store, code, &c, &e);
    if(rc)
      hq_reply_fail(r, rc, &e);
    else
      hq_reply_json(r, 200, admin_coupon_json(&c));
  }
  cJSON_Delete(o);
}

cJSON *admin_group_json(const hq_group_out *g) {
  cJSON *a = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "id", g->id);
  cJSON_AddNumberToObject(a, "config_version", (double)g->config_version);
  if(g->warning[0]) cJSON_AddStringToObject(a, "warning", g->warning);
  return a;
}

void admin_group(hq *h, const char *body, size_t len, hq_reply *r) {
  cJSON *o = parse_body(body, len, r);
  if(!o) return;
  hq_group_req q = {0};
  hq_group_out g;
  hq_err e = {0};
  if(want_str(o, "store", 1, &q.store, r) && want_str(o, "id", 1, &q.id, r) &&
     want_str(o, "kind", 0, &q.kind, r) && want_str(o, "name", 0, &q.name, r) &&
     want_str(o, "tag", 0, &q.tag, r) && want_str(o, "link", 0, &q.link, r) &&
     want_str(o, "status", 0, &q.status, r) &&
     want_int(o, "capacity", 0, &q.has_capacity, &q.capacity, r) &&
     want_int(o, "expires_at", 0, &q.has_expires_at, &q.expires_at, r)) {
    sqr_rc rc = hq_group_set(h, &q, &g, &e);
    if(rc)
      hq_reply_fail(r, rc, &e);
    else
      hq_reply_json(r, g.created ? 201 : 200, admin_group_json(&g));
  }
  cJSON_Delete(o);
}

cJSON *admin_erasure_json(const char *member) {
  cJSON *a = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "member", member);
  cJSON_AddStringToObject(a, "status", "pending");
  return a;
}

void admin_erasure(hq *h, const char *body, size_t len, hq_reply *r) {
  cJSON *o = parse_body(body, len, r);
  if(!o) return;
  const char *store, *member;
  char lower[65];
  hq_err e = {0};
  if(want_str(o, "store", 1, &store, r) && want_str(o, "member", 1, &member, r)) {
    sqr_rc rc = hq_erasure_add(h, store, member, lower, &e);
    if(rc)
      hq_reply_fail(r, rc, &e);
    else
      hq_reply_json(r, 202, admin_erasure_json(lower));
  }
  cJSON_Delete(o);
}

void admin_member_data(hq *h, const char *body, size_t len, hq_reply *r) {
  cJSON *o = parse_body(body, len, r);
  if(!o) return;
  const char *phone;
  hq_err e = {0};
  char *json = NULL;
  if(want_str(o, "phone", 1, &phone, r)) {
    sqr_rc rc = hq_person_data(h, phone, "admin-token", &json, &e);
    cJSON *out = rc ? NULL : cJSON_Parse(json);
    if(rc)
      hq_reply_fail(r, rc, &e);
    else if(!out)
      hq_reply_error(r, 500, "internal", "out of memory", NULL, 0);
    else
      hq_reply_json(r, 200, out);
    free(json);
  }
  /* the number leaves memory with the request */
  cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "phone");
  if(cJSON_IsString(p)) crypto_wipe(p->valuestring, strlen(p->valuestring));
  cJSON_Delete(o);
}

cJSON *admin_withdraw_json(int members) {
  cJSON *a = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "status", "withdrawn");
  cJSON_AddNumberToObject(a, "members", members);
  return a;
}

void admin_member_withdraw(hq *h, const char *body, size_t len, hq_reply *r) {
  cJSON *o = parse_body(body, len, r);
  if(!o) return;
  const char *phone;
  hq_err e = {0};
  int reached = 0;
  if(want_str(o, "phone", 1, &phone, r)) {
    sqr_rc rc = hq_person_withdraw(h, phone, "admin-token", &reached, &e);
    if(rc)
      hq_reply_fail(r, rc, &e);
    else
      hq_reply_json(r, 200, admin_withdraw_json(reached));
  }
  cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "phone");
  if(cJSON_IsString(p)) crypto_wipe(p->valuestring, strlen(p->valuestring));
  cJSON_Delete(o);
}

cJSON *admin_counts_json(const char *store, const hq_counts *c) {
  cJSON *a = cJSON_CreateObject(), *acked = cJSON_CreateObject(), *ks = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "store", store);
  cJSON_AddNumberToObject(a, "members", (double)c->members);
  cJSON_AddNumberToObject(a, "members_pending", (double)c->members_pending);
  cJSON_AddNumberToObject(a, "signups", (double)c->signups);
  cJSON_AddNumberToObject(a, "checkins", (double)c->checkins);
  cJSON_AddNumberToObject(a, "events", (double)c->events);
  cJSON_AddNumberToObject(a, "erasures_pending", (double)c->erasures_pending);
  cJSON_AddNumberToObject(a, "erasures_confirmed", (double)c->erasures_confirmed);
  for(size_t i = 0; i < c->nkiosks; i++) {
    /* keyed by what follows the store in the kiosk id: "2", "2@2" */
    const char *slash = strchr(c->kiosks[i].id, '/');
    char k[HQ_ID_MAX];
    snprintf(k, sizeof k, "%s", slash ? slash + 1 : c->kiosks[i].id);
    cJSON_AddNumberToObject(acked, k, (double)c->kiosks[i].acked_seq);
    cJSON *one = cJSON_AddObjectToObject(ks, k);
    if(one) {
      cJSON_AddNumberToObject(one, "acked_seq", (double)c->kiosks[i].acked_seq);
      cJSON_AddNumberToObject(one, "events", (double)c->kiosks[i].events);
      cJSON_AddNumberToObject(one, "max_seq", (double)c->kiosks[i].max_seq);
    }
  }
  cJSON_AddItemToObject(a, "acked_seq", acked);
  cJSON_AddItemToObject(a, "kiosks", ks);
  return a;
}

void admin_counts(hq *h, const char *store, hq_reply *r) {
  hq_counts c;
  hq_err e = {0};
  sqr_rc rc = hq_counts_get(h, store, &c, &e);
  if(rc) {
    hq_reply_fail(r, rc, &e);
    return;
  }
  hq_reply_json(r, 200, admin_counts_json(store, &c));
  hq_counts_free(&c);
}

/* ---- the CRM export, streamed ----------------------------------------------------- */

#define EXPORT_PAGE_BYTES (16 * 1024 * 1024) /* a page of rows, tags and all, fits */

typedef struct export_stream {
  hq_export *x;
  dynbuf b; /* the page being sent: phones, wiped before it is reused */
  size_t off;
  int done;
  int finished; /* the last byte was handed to the server */
} export_stream;

static void wipe_page(export_stream *s) {
  dynbuf_reset(&s->b); /* secret: wiped */
  s->off = 0;
}

static long export_read(void *arg, char *buf, size_t max) {
  export_stream *s = arg;
  while(s->off == dynbuf_len(&s->b)) {
    if(s->done) {
      s->finished = 1;
      return 0;
    }
    wipe_page(s);
    hq_err e = {0};
    if(hq_export_next(s->x, &s->b, &s->done, &e)) {
      /* mid-answer: the status is gone; the cut connection says it */
      log_error("admin", "export_members cut short after %lld rows: %s",
                (long long)hq_export_rows(s->x), e.message);
      return -1;
    }
  }
  size_t n = dynbuf_len(&s->b) - s->off;
  if(n > max) n = max;
  memcpy(buf, dynbuf_ptr(&s->b) + s->off, n);
  s->off += n;
  return (long)n;
}

static void export_end(void *arg) {
  export_stream *s = arg;
  wipe_page(s);
  dynbuf_free(&s->b);
  hq_export_close(s->x, s->finished);
  free(s);
}

void admin_export_members(hq *h, const hq_export_req *q, const char *who, hq_reply *r) {
  hq_err e = {0};
  hq_export *x = NULL;
  export_stream *s = calloc(1, sizeof *s);
  if(!s) {
    hq_reply_error(r, 500, "internal", "out of memory", NULL, 0);
    return;
  }
  sqr_rc rc = hq_export_open(h, q, who, &x, &e);
  if(rc) {
    free(s);
    hq_reply_fail(r, rc, &e);
    return;
  }
  s->x = x;
  dynbuf_init(&s->b, EXPORT_PAGE_BYTES);
  dynbuf_secret(&s->b);
  hq_reply_clear(r);
  r->status = 200;
  r->type = hq_export_type(x);
  r->stream = export_read;
  r->stream_end = export_end;
  r->stream_arg = s;
  int csv = strncmp(r->type, "text/csv", 8) == 0;
  if(hq_reply_header(r, "Content-Disposition",
                     csv ? "attachment; filename=\"members.csv\""
                         : "attachment; filename=\"members.jsonl\"") ||
     hq_reply_header(r, "Cache-Control", "no-store") ||
     hq_reply_header(r, "X-Content-Type-Options", "nosniff")) {
    hq_reply_clear(r); /* ends the export: counted with 0 rows */
    hq_reply_error(r, 500, "internal", "out of memory", NULL, 0);
  }
}
