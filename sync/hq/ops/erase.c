/* erase.c — erasing a person at HQ (hq_int.h hq__erase_person; the
 * storage side is hqdb_erase.h). */
#include "hq_int.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "hqdb_erase.h"
#include "log.h"

#define EVENTS_MAX 100000 /* a member's events at one store, at most */

/* The store's sign-up events of member lose their sealed phone and blind
 * index; each stays in the chain by its body hash (redacted). */
static sqr_rc strip_events(hq *h, const char *store, const char *member) {
  hq_member_event *ev = NULL;
  size_t n = 0;
  sqr_rc rc = hqdb_member_events(h->db, store, member, EVENTS_MAX, &ev, &n);
  for(size_t i = 0; !rc && i < n; i++) {
    if(strcmp(ev[i].type, "signup") != 0) continue;
    cJSON *p = cJSON_Parse(ev[i].payload);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(p, "member");
    /* LIKE matched the text; the member must be this one (its first 32),
     * with something left to strip */
    if(!cJSON_IsString(m) || strncmp(m->valuestring, member, 32) != 0 ||
       (!cJSON_HasObjectItem(p, "sealed") && !cJSON_HasObjectItem(p, "blind"))) {
      cJSON_Delete(p);
      continue;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(p, "sealed");
    cJSON_DeleteItemFromObjectCaseSensitive(p, "blind");
    char *out = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    rc = out ? hqdb_event_redact(h->db, ev[i].kiosk, ev[i].seq, out) : SQR_ENOMEM;
    cJSON_free(out);
  }
  hq_member_events_free(ev, n);
  return rc;
}

sqr_rc hq__erase_person(hq *h, const char *store, const char *member, const char *reason,
                        const char *asked_by, hq__feed *feed, int *erased) {
  hq_erased_link links[HQ_ERASE_LINKS_MAX];
  size_t n = 0;
  int64_t now = hq_now_ms();
  sqr_rc rc = hqdb_erase_person(h->db, store, member, now, reason, asked_by, links, &n);
  for(size_t i = 0; !rc && i < n; i++) {
    rc = strip_events(h, links[i].store, links[i].member);
    if(rc || i == 0) continue; /* the caller erases the one it was given */
    /* The same person at another store (or under another id here): its
     * kiosks erase it too, from the feed or their configuration. */
    if(feed && strcmp(links[i].store, feed->store) == 0)
      rc = hq__feed_erase(feed, links[i].member);
    else
      rc = hq__feed_erase_now(h, links[i].store, links[i].member);
    if(!rc) rc = hqdb_erasure_add(h->db, links[i].store, links[i].member, now);
  }
  if(!rc && erased) *erased = 1;
  if(!rc && n > 1)
    log_info("hq", "erasure of %s in %s reached %zu stores' members", member, store, n);
  return rc;
}

sqr_rc hq__erase_member(hq *h, const char *store, const char *member, const char *reason,
                        const char *asked_by, int64_t now_ms, int *person_gone) {
  sqr_rc rc = hqdb_erase_member(h->db, store, member, now_ms, reason, asked_by, person_gone);
  if(!rc) rc = strip_events(h, store, member);
  /* Its kiosks erase it too, and confirm: an erase entry in the store's
   * feed, and the request for kiosks that do not read the feed. */
  if(!rc) rc = hq__feed_erase_now(h, store, member);
  if(!rc) rc = hqdb_erasure_add(h->db, store, member, now_ms);
  return rc;
}

void hq__scrub(hq *h) {
  if(hqdb_scrub(h->db))
    log_warn("hq", "erased rows' bytes may linger until the next scrub: %s", hqdb_errmsg(h->db));
}
