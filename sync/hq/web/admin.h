/* admin.h — HQ's operator routes (POST /v1/admin/stores, enroll-codes,
 * kiosks/revoke, groups, erasures, coupons/verify, member-data; GET
 * /v1/admin/counts, /v1/admin/export/members), behind the
 * admin bearer token: each decodes its JSON body into the typed request
 * of manage.h, calls the operation and encodes the result. The encoders
 * are shared with the subcommands (main.c), so a route and a subcommand
 * print the same JSON.
 */
#ifndef SQR_HQ_ADMIN_H
#define SQR_HQ_ADMIN_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include "export.h"
#include "hq.h"
#include "keys.h"
#include "manage.h"
#include "reply.h"

/* The routes: body/len the request body (JSON). */
void admin_store_add(hq *h, const char *body, size_t len, hq_reply *r);
void admin_enroll_code(hq *h, const char *body, size_t len, hq_reply *r);
void admin_revoke(hq *h, const char *body, size_t len, hq_reply *r);
void admin_group(hq *h, const char *body, size_t len, hq_reply *r);
void admin_erasure(hq *h, const char *body, size_t len, hq_reply *r);
void admin_counts(hq *h, const char *store, hq_reply *r);

/* The answers (cJSON trees to hand to hq_reply_json; NULL on no memory). */
cJSON *admin_store_json(const hq_store *s, const char *brand);
cJSON *admin_code_json(const hq_code_out *c);
cJSON *admin_revoked_json(const char *kiosk_id);
/* POST /v1/admin/coupons/verify {"store", "code"} -> {"valid", ...}: HQ
 * verifies coupons (keys.h); a till holds no key that could. */
void admin_coupon_verify(hq *h, const char *body, size_t len, hq_reply *r);
cJSON *admin_coupon_json(const hq_coupon_check *c);
cJSON *admin_group_json(const hq_group_out *g);
cJSON *admin_erasure_json(const char *member);
/* POST /v1/admin/member-data {"phone"}: everything HQ holds about a
 * number (person.h), audited. */
void admin_member_data(hq *h, const char *body, size_t len, hq_reply *r);
/* POST /v1/admin/member-withdraw {"phone"}: the person's marketing
 * consent withdrawn at every store (person.h), audited; 404 not_found
 * for a number that is no member. */
void admin_member_withdraw(hq *h, const char *body, size_t len, hq_reply *r);
cJSON *admin_withdraw_json(int members);
cJSON *admin_counts_json(const char *store, const hq_counts *c);
/* GET /v1/admin/export/members (and the dashboard's export): the CRM
 * export (export.h) streamed into r, recorded under who; a refusal of its
 * filters is a JSON error and nothing is exported or recorded. */
void admin_export_members(hq *h, const hq_export_req *q, const char *who, hq_reply *r);

#endif
