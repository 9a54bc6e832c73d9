/* consent.c — marketing consent at HQ (hq_int.h hq__consent_record; the
 * storage side is hqdb_consent.h).
 *
 * A consent is given to a store (the shopper ticked it there); a
 * withdrawal is the person's: it reaches every member HQ links to the
 * same phone, at every store, so nobody has to withdraw store by store,
 * and a consent taken before it at any store (uploaded late, or linked
 * to the phone only later by the seal opener) is not current. The
 * export and a data request read "current" that way at read time
 * (hqdb_consent.h); the rows and the feed follow it as far as the links
 * HQ holds when a change arrives. Each change goes to its store's
 * kiosks through the feed; a change older than the state recorded
 * changes nothing and sends nothing, so every kiosk ends with the same
 * state as HQ.
 */
#include "hq_int.h"

#include <stdio.h>
#include <string.h>

#include "hqdb_consent.h"
#include "hqdb_feed.h"

/* A change of (store, member) to that store's kiosks: through the
 * upload's collector for its own store (from_hq 0: the uploading kiosk
 * made it and is not sent it back), else an entry of its own. */
static sqr_rc announce(hq *h, const char *store, const char *member, const char *version,
                       int64_t at_ms, hq__feed *feed, int from_hq) {
  if(feed && strcmp(store, feed->store) == 0)
    return hq__feed_marketing(feed, member, version, at_ms, from_hq);
  return hq__feed_marketing_now(h, store, member, version, at_ms);
}

sqr_rc hq__consent_withdraw(hq *h, const char *store, const char *member, int64_t at_ms,
                            const char *why, hq__feed *feed, int *changed) {
  sqr_rc rc = SQR_OK;
  *changed = 0;
  /* The store's feed head before its rows, as every writer takes them.
   * Across stores there is no one order (an upload at A reaching B while
   * one at B reaches A): PostgreSQL then aborts one of the two with a
   * deadlock, which fails that upload or request, and the kiosk retries. */
  if(!feed || strcmp(store, feed->store) != 0) {
    int64_t head = 0;
    rc = hqdb_feed_lock(h->db, store, &head);
  }
  if(!rc) rc = hqdb_consent_set(h->db, store, member, "", at_ms, why, changed);
  if(!rc && *changed) rc = announce(h, store, member, "", at_ms, feed, 1);
  return rc;
}

sqr_rc hq__consent_record(hq *h, const char *store, const char *member, const char *version,
                          int64_t at_ms, const char *source, hq__feed *feed, int *changed) {
  *changed = 0;
  sqr_rc rc = SQR_OK;
  if(version[0]) {
    /* A consent older than the person's latest withdrawal is not one: the
     * member is recorded withdrawn as of then, and the kiosk that took
     * the consent is told (from "hq"), so it does not show the shopper
     * as subscribed nor take a new tick for one already there. */
    int64_t withdrawn = 0;
    rc = hqdb_consent_person_withdrawn(h->db, store, member, &withdrawn);
    if(rc) return rc;
    if(withdrawn >= at_ms)
      return hq__consent_withdraw(h, store, member, withdrawn, "hq: withdrawn by the person", feed,
                                  changed);
  }
  rc = hqdb_consent_set(h->db, store, member, version, at_ms, source, changed);
  /* the upload's own kiosk has it already; the store's others learn it */
  if(!rc && *changed) rc = announce(h, store, member, version, at_ms, feed, 0);
  if(rc || version[0]) return rc;
  /* Even when this member's own state was later (a consent after it),
   * the withdrawal still reaches the person's older consents elsewhere. */
  hq_erased_link others[HQ_ERASE_LINKS_MAX];
  size_t n = 0;
  rc = hqdb_consent_others(h->db, store, member, others, HQ_ERASE_LINKS_MAX, &n);
  char why[HQ_ID_MAX + 24];
  snprintf(why, sizeof why, "hq: withdrawn at %s", store);
  for(size_t i = 0; !rc && i < n; i++) {
    int moved = 0;
    rc = hq__consent_withdraw(h, others[i].store, others[i].member, at_ms, why, feed, &moved);
  }
  return rc;
}
