/* routes.c — see routes.h. */
#include "routes.h"

#include <string.h>

#include "admin.h"
#include "dash.h"
#include "device.h"
#include "metrics.h"
#include "proto.h"
#include "stats_web.h"

/* Any other body HQ takes is an operator's JSON or a login form. */
#define SMALL_BODY (64 * 1024)

static int admin_stores(const route_req *q, hq_reply *r) {
  admin_store_add(q->h, q->body, q->len, r);
  return 1;
}

static int admin_codes(const route_req *q, hq_reply *r) {
  admin_enroll_code(q->h, q->body, q->len, r);
  return 1;
}

static int admin_revoke_kiosk(const route_req *q, hq_reply *r) {
  admin_revoke(q->h, q->body, q->len, r);
  return 1;
}

static int admin_coupons(const route_req *q, hq_reply *r) {
  admin_coupon_verify(q->h, q->body, q->len, r);
  return 1;
}

static int admin_groups(const route_req *q, hq_reply *r) {
  admin_group(q->h, q->body, q->len, r);
  return 1;
}

static int admin_erasures(const route_req *q, hq_reply *r) {
  admin_erasure(q->h, q->body, q->len, r);
  return 1;
}

static int admin_person(const route_req *q, hq_reply *r) {
  admin_member_data(q->h, q->body, q->len, r);
  return 1;
}

static int admin_withdraw(const route_req *q, hq_reply *r) {
  admin_member_withdraw(q->h, q->body, q->len, r);
  return 1;
}

static int admin_count(const route_req *q, hq_reply *r) {
  admin_counts(q->h, MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, "store"), r);
  return 1;
}

static int admin_export(const route_req *q, hq_reply *r) {
  struct MHD_Connection *c = q->c;
  hq_export_req x = {.store = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "store"),
                     .brand = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "brand"),
                     .since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since"),
                     .until = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "until"),
                     .format = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format")};
  admin_export_members(q->h, &x, "admin-token", r);
  return 1;
}

static int not_found(const route_req *q, hq_reply *r) {
  (void)q;
  (void)r;
  return 0;
}

static int stats(const route_req *q, hq_reply *r) {
  return stats_route(q->h, q->c, q->method, q->url, r);
}

static int dash(const route_req *q, hq_reply *r) {
  return dash_route(q->h, q->c, q->method, q->url, q->body, q->len, r);
}

static int metrics(const route_req *q, hq_reply *r) {
  return metrics_route(q->h, q->c, q->method, q->url, r);
}

/* The process answers: its HTTP threads run. Never touches storage, so
 * a database outage does not make it fail (ROUTE_PROBE: no lock). */
static int healthz(const route_req *q, hq_reply *r) {
  (void)q;
  cJSON *root = cJSON_CreateObject();
  if(root && !cJSON_AddStringToObject(root, "status", "ok")) {
    cJSON_Delete(root);
    root = NULL;
  }
  hq_reply_json(r, 200, root);
  return 1;
}

/* The database answers a trivial query within READY_DEADLINE_MS. */
#define READY_DEADLINE_MS 1000
static int readyz(const route_req *q, hq_reply *r) {
  sqr_rc rc = hq_ready(q->h, READY_DEADLINE_MS);
  if(rc) {
    hq_reply_storage(r, rc == SQR_EBUSY ? SQR_EBUSY : SQR_ENET);
    return 1;
  }
  cJSON *root = cJSON_CreateObject();
  if(root && (!cJSON_AddStringToObject(root, "status", "ready") ||
              !cJSON_AddStringToObject(root, "storage", hq_backend(q->h)))) {
    cJSON_Delete(root);
    root = NULL;
  }
  hq_reply_json(r, 200, root);
  return 1;
}

static const route table[] = {
    /* load balancers and systemd's neighbours: open, no storage for the first */
    {"GET", "/healthz", 0, ROUTE_PROBE, SMALL_BODY, "/healthz", healthz},
    {"GET", "/readyz", 0, ROUTE_OPEN, SMALL_BODY, "/readyz", readyz},
    /* kiosks (docs/PROTOCOL.md) */
    {"POST", "/v1/events", 0, ROUTE_DEVICE, PROTO_MAX_BODY, "/v1/events", device_events},
    {"GET", "/v1/config", 0, ROUTE_DEVICE, SMALL_BODY, "/v1/config", device_config},
    {"GET", "/v1/feed", 0, ROUTE_DEVICE, SMALL_BODY, "/v1/feed", device_feed},
    {"POST", "/v1/enroll", 0, ROUTE_OPEN, PROTO_MAX_ENROLL, "/v1/enroll", device_enroll},
    {"GET", "/v1/bundles/", 1, ROUTE_DEVICE, SMALL_BODY, "/v1/bundles", device_bundle},
    /* shoppers: the live code and the brand code */
    {NULL, "/J/", 1, ROUTE_OPEN, SMALL_BODY, "/J", NULL},
    {NULL, "/N/", 1, ROUTE_OPEN, SMALL_BODY, "/N", NULL},
    /* HQ's staff */
    {NULL, "/v1/stats", 0, ROUTE_STAFF, SMALL_BODY, "/v1/stats", stats},
    {NULL, "/v1/stats.csv", 0, ROUTE_STAFF, SMALL_BODY, "/v1/stats.csv", stats},
    {NULL, "/dash", 1, ROUTE_STAFF, SMALL_BODY, "/dash", dash},
    {NULL, "/metrics", 0, ROUTE_STAFF, SMALL_BODY, "/metrics", metrics},
    /* HQ's operators */
    {"POST", "/v1/admin/stores", 0, ROUTE_ADMIN, SMALL_BODY, "/v1/admin", admin_stores},
    {"POST", "/v1/admin/enroll-codes", 0, ROUTE_ADMIN, SMALL_BODY, "/v1/admin", admin_codes},
    {"POST", "/v1/admin/kiosks/revoke", 0, ROUTE_ADMIN, SMALL_BODY, "/v1/admin",
     admin_revoke_kiosk},
    {"POST", "/v1/admin/groups", 0, ROUTE_ADMIN, SMALL_BODY, "/v1/admin", admin_groups},
    {"POST", "/v1/admin/coupons/verify", 0, ROUTE_ADMIN, SMALL_BODY, "/v1/admin", admin_coupons},
    {"POST", "/v1/admin/erasures", 0, ROUTE_ADMIN, SMALL_BODY, "/v1/admin", admin_erasures},
    {"POST", "/v1/admin/member-data", 0, ROUTE_ADMIN, SMALL_BODY, "/v1/admin", admin_person},
    {"POST", "/v1/admin/member-withdraw", 0, ROUTE_ADMIN, SMALL_BODY, "/v1/admin", admin_withdraw},
    {"GET", "/v1/admin/counts", 0, ROUTE_ADMIN, SMALL_BODY, "/v1/admin", admin_count},
    {"GET", "/v1/admin/export/members", 0, ROUTE_ADMIN, SMALL_BODY, "/v1/admin", admin_export},
    /* the token first, then 404, for every other operator path */
    {NULL, "/v1/admin/", 1, ROUTE_ADMIN, SMALL_BODY, "/v1/admin", not_found},
};

static int path_matches(const route *t, const char *url) {
  return t->prefix ? strncmp(url, t->path, strlen(t->path)) == 0 : strcmp(url, t->path) == 0;
}

const route *route_find(const char *method, const char *url, const route **path_only) {
  *path_only = NULL;
  for(size_t i = 0; i < SQR_ARRAY_LEN(table); i++) {
    const route *t = &table[i];
    if(!path_matches(t, url)) continue;
    if(!t->method || strcmp(t->method, method) == 0) return t;
    if(!*path_only) *path_only = t;
  }
  return NULL;
}

size_t route_body_max(const char *url) {
  for(size_t i = 0; i < SQR_ARRAY_LEN(table); i++)
    if(path_matches(&table[i], url)) return table[i].body_max;
  return SMALL_BODY;
}

size_t route_labels(const char **out, size_t max) {
  size_t n = 0;
  for(size_t i = 0; i < SQR_ARRAY_LEN(table); i++) {
    size_t k = 0;
    while(k < n && strcmp(out[k], table[i].label) != 0)
      k++;
    if(k == n && n < max) out[n++] = table[i].label;
  }
  return n;
}
