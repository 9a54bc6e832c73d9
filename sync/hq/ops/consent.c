/* consent.c — marketing consent at HQ (hq_int.h hq__consent_record; the
 * storage side is hqdb_consent.h).
 *
 * A consent is given to a store (the shopper ticked it there); a
 * withdrawal is the person's: it reaches every member HQ links to the
 * same phone, at every store, so nobody has to withdraw store by store.
 * Each change goes to its store's kiosks through the feed; a change
 * older than the state recorded (uploads out of order) changes nothing
 * and sends nothing, so every kiosk ends with the same state as HQ.
 */
#include "hq_int.h"

#include <stdio.h>
#include <string.h>

#include "hqdb_consent.h"

static sqr_rc announce(hq *h, const char *store, const char *member, const char *version,
                       int64_t at_ms, hq__feed *feed) {
  if(feed && strcmp(store, feed->store) == 0)
    return hq__feed_marketing(feed, member, version, at_ms);
  return hq__feed_marketing_now(h, store, member, version, at_ms);
}

sqr_rc hq__consent_record(hq *h, const char *store, const char *member, const char *version,
                          int64_t at_ms, const char *source, hq__feed *feed, int *changed) {
  sqr_rc rc = hqdb_consent_set(h->db, store, member, version, at_ms, source, changed);
  if(rc || !*changed) return rc;
  /* the upload's own kiosk has it already; the store's others learn it */
  rc = announce(h, store, member, version, at_ms, feed);
  if(rc || version[0]) return rc;
  hq_erased_link others[HQ_ERASE_LINKS_MAX];
  size_t n = 0;
  rc = hqdb_consent_others(h->db, store, member, others, HQ_ERASE_LINKS_MAX, &n);
  char why[HQ_ID_MAX + 24];
  snprintf(why, sizeof why, "hq: withdrawn at %s", store);
  for(size_t i = 0; !rc && i < n; i++) {
    int moved = 0;
    rc = hqdb_consent_set(h->db, others[i].store, others[i].member, "", at_ms, why, &moved);
    if(!rc && moved) rc = announce(h, others[i].store, others[i].member, "", at_ms, feed);
  }
  return rc;
}
