/* person.c — see person.h. */
#include "person.h"
#include "hq_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "hqdb_consent.h"
#include "hqdb_erase.h"
#include "phone.h"

#define EVENTS_MAX 10000 /* per store: years of daily check-ins */

static cJSON *events_json(const hq_member_event *ev, size_t n) {
  cJSON *a = cJSON_CreateArray();
  for(size_t i = 0; a && i < n; i++) {
    cJSON *o = cJSON_CreateObject(), *p = cJSON_Parse(ev[i].payload);
    /* what the person gave, not the means to open or find it */
    cJSON_DeleteItemFromObjectCaseSensitive(p, "sealed");
    cJSON_DeleteItemFromObjectCaseSensitive(p, "blind");
    cJSON_AddStringToObject(o, "type", ev[i].type);
    cJSON_AddNumberToObject(o, "ts_ms", (double)ev[i].ts_ms);
    cJSON_AddStringToObject(o, "kiosk", ev[i].kiosk);
    cJSON_AddNumberToObject(o, "seq", (double)ev[i].seq);
    cJSON_AddItemToObject(o, "payload", p ? p : cJSON_CreateNull());
    cJSON_AddItemToArray(a, o);
  }
  return a;
}

/* HQ's index of a number, once every sealed phone queued before now is
 * open (a sign-up not yet linked may be this person's). The number is
 * wiped here; index is the caller's to wipe. */
static sqr_rc index_of(hq *h, const char *phone, uint8_t index[32], hq_err *e) {
  char num[PHONE_LEN + 1];
  if(!phone || phone_normalize(phone, num, NULL) != SQR_OK)
    return hq_fail(e, SQR_EINVAL, "bad_request", "phone: not a mainland mobile number");
  sqr_rc rc = crypto_hmac_sha256(h->index_key, 32, num, PHONE_LEN, index);
  crypto_wipe(num, sizeof num);
  if(rc) return hq_fail(e, rc, "internal", "cannot index the number");
  if((rc = hq__seal_drain(h))) {
    crypto_wipe(index, 32);
    if(rc == SQR_EBUSY)
      return hq_fail(e, rc, "busy", "sealed phones are still being opened; ask again in a minute");
    return hq_fail_storage(h, e, rc);
  }
  return SQR_OK;
}

sqr_rc hq_person_data(hq *h, const char *phone, const char *who, char **json, hq_err *e) {
  uint8_t index[32];
  *json = NULL;
  sqr_rc rc = index_of(h, phone, index, e);
  if(rc) return rc;
  hq_erased_link links[HQ_ERASE_LINKS_MAX];
  size_t nlinks = 0;
  int found = 0;
  int64_t created = 0, rows = 0;
  rc = hqdb_person(h->db, index, &found, &created, links, &nlinks);
  crypto_wipe(index, sizeof index);
  cJSON *root = cJSON_CreateObject(), *stores = cJSON_CreateArray();
  cJSON_AddBoolToObject(root, "found", found);
  if(found) cJSON_AddNumberToObject(root, "first_seen_ms", (double)created);
  cJSON_AddItemToObject(root, "stores", stores);
  for(size_t i = 0; !rc && i < nlinks; i++) {
    hq_member_event *ev = NULL;
    size_t n = 0;
    rc = hqdb_member_events(h->db, links[i].store, links[i].member, EVENTS_MAX, &ev, &n);
    if(rc) break;
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "store", links[i].store);
    cJSON_AddStringToObject(s, "member", links[i].member);
    int given = 0;
    char version[HQ_ID_MAX];
    int64_t at = 0;
    rc = hqdb_consent_get(h->db, links[i].store, links[i].member, &given, version, &at);
    cJSON *mk = cJSON_AddObjectToObject(s, "marketing");
    cJSON_AddBoolToObject(mk, "current", given);
    if(given) cJSON_AddStringToObject(mk, "version", version);
    if(at) cJSON_AddNumberToObject(mk, "at_ms", (double)at);
    cJSON_AddItemToObject(s, "events", events_json(ev, n));
    cJSON_AddItemToArray(stores, s);
    rows += (int64_t)n;
    hq_member_events_free(ev, n);
  }
  /* The access is recorded whatever it found, an unknown number too. */
  if(!rc) rc = hqdb_audit(h->db, hq_now_ms(), who, "member_show", rows);
  if(!rc && !(*json = cJSON_PrintUnformatted(root))) rc = SQR_ENOMEM;
  cJSON_Delete(root);
  if(rc == SQR_ENOMEM) return hq_fail(e, rc, "internal", "out of memory");
  if(rc) return hq_fail_storage(h, e, rc);
  return SQR_OK;
}

sqr_rc hq_person_withdraw(hq *h, const char *phone, const char *who, int *members, hq_err *e) {
  uint8_t index[32];
  *members = 0;
  sqr_rc rc = index_of(h, phone, index, e);
  if(rc) return rc;
  hq_erased_link links[HQ_ERASE_LINKS_MAX];
  size_t nlinks = 0;
  int found = 0;
  int64_t created = 0, now = hq_now_ms();
  char src[HQ_ID_MAX + 4];
  snprintf(src, sizeof src, "hq %s", who);
  if(!(rc = hqdb_begin(h->db))) {
    rc = hqdb_person(h->db, index, &found, &created, links, &nlinks);
    /* every store the person signed up at; each store's kiosks hear of it
     * (links come sorted by store: one order of feed locks) */
    for(size_t i = 0; !rc && i < nlinks; i++) {
      int changed = 0;
      rc = hq__consent_withdraw(h, links[i].store, links[i].member, now, src, NULL, &changed);
    }
    if(!rc) rc = hqdb_commit(h->db);
    if(rc) hqdb_rollback(h->db);
  }
  crypto_wipe(index, sizeof index);
  /* audited whatever it found (its own transaction) */
  if(!rc) rc = hqdb_audit(h->db, now, who, "member_withdraw", (int64_t)nlinks);
  if(rc) return hq_fail_storage(h, e, rc);
  if(!found) return hq_fail(e, SQR_ENOTFOUND, "not_found", "phone: not a member at any store");
  *members = (int)nlinks;
  return SQR_OK;
}
