/* hqdb_erase.c — see hqdb_erase.h. Statements written once for both
 * backends, as in hqdb.c. */
#include "hqdb_erase.h"

#include <stdlib.h>
#include <string.h>

#include "hqdb_int.h"

const char *const hqdb_erase_schema[] = {
    "CREATE TABLE IF NOT EXISTS erasure_log(store TEXT NOT NULL, member TEXT NOT NULL,"
    " at_ms BIGINT NOT NULL, reason TEXT NOT NULL, asked_by TEXT NOT NULL)",
    /* every access to a person's data and every export (issue 16) */
    "CREATE TABLE IF NOT EXISTS audit_log(at_ms BIGINT NOT NULL, who TEXT NOT NULL,"
    " what TEXT NOT NULL, rows BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log(at_ms)",
    /* the dashboard lists the newest erasures */
    "CREATE INDEX IF NOT EXISTS erasure_log_at ON erasure_log(at_ms)",
    NULL,
};

static sqr_rc drop_link(hqdb *db, const hq_erased_link *l, int64_t now_ms, const char *reason,
                        const char *asked_by) {
  hqv p[] = {T(l->store), T(l->member), I(now_ms), T(reason), T(asked_by)};
  sqr_rc rc =
      hqdb_exec(db, "DELETE FROM seal_queue WHERE store = $1 AND member = $2", p, 2, NULL, NULL);
  if(!rc)
    rc = hqdb_exec(db, "DELETE FROM member_links WHERE store = $1 AND member = $2", p, 2, NULL,
                   NULL);
  if(!rc)
    rc = hqdb_exec(db, "DELETE FROM consents WHERE store = $1 AND member = $2", p, 2, NULL, NULL);
  if(!rc)
    rc = hqdb_exec(db,
                   "INSERT INTO erasure_log(store, member, at_ms, reason, asked_by)"
                   " VALUES($1, $2, $3, $4, $5)",
                   p, 5, NULL, NULL);
  return rc;
}

/* HQ's phone index of a store's member: *linked 0 while its phone is
 * not opened (or the member is unknown). */
static sqr_rc link_index(hqdb *db, const char *store, const char *member, uint8_t index[32],
                         int *linked) {
  hqres r = {0};
  hqv p[] = {T(store), T(member)};
  sqr_rc rc = hqdb_exec(db, "SELECT phone_index FROM member_links WHERE store = $1 AND member = $2",
                        p, 2, &r, NULL);
  *linked = !rc && r.nrows > 0 && cell_blob32(&r, 0, 0, index);
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_erase_person(hqdb *db, const char *store, const char *member, int64_t now_ms,
                         const char *reason, const char *asked_by, hq_erased_link *out, size_t *n) {
  hqres r = {0};
  *n = 0;
  uint8_t index[32];
  int linked = 0;
  sqr_rc rc = link_index(db, store, member, index, &linked);
  if(rc) return rc;
  snprintf(out[0].store, sizeof out[0].store, "%s", store);
  snprintf(out[0].member, sizeof out[0].member, "%s", member);
  *n = 1;
  if(linked) {
    /* The same phone at every store: one person. */
    hqv q[] = {B(index, 32), I(HQ_ERASE_LINKS_MAX)};
    rc = hqdb_exec(db,
                   "SELECT store, member FROM member_links WHERE phone_index = $1"
                   " ORDER BY store, member LIMIT $2",
                   q, 2, &r, NULL);
    for(int k = 0; !rc && k < r.nrows && *n < HQ_ERASE_LINKS_MAX; k++) {
      hq_erased_link *l = &out[*n];
      cell_text(&r, k, 0, l->store, sizeof l->store);
      cell_text(&r, k, 1, l->member, sizeof l->member);
      if(strcmp(l->store, store) != 0 || strcmp(l->member, member) != 0) (*n)++;
    }
    hqres_free(&r);
    if(!rc) rc = hqdb_exec(db, "DELETE FROM members WHERE phone_index = $1", q, 1, NULL, NULL);
  }
  for(size_t i = 0; !rc && i < *n; i++)
    rc = drop_link(db, &out[i], now_ms, reason, asked_by);
  if(!rc && linked) {
    /* links beyond HQ_ERASE_LINKS_MAX (a phone at more stores) go too */
    hqv q[] = {B(index, 32)};
    rc = hqdb_exec(db, "DELETE FROM member_links WHERE phone_index = $1", q, 1, NULL, NULL);
  }
  return rc;
}

sqr_rc hqdb_erase_member(hqdb *db, const char *store, const char *member, int64_t now_ms,
                         const char *reason, const char *asked_by, int *person_gone) {
  *person_gone = 0;
  uint8_t index[32];
  int linked = 0;
  sqr_rc rc = link_index(db, store, member, index, &linked);
  hq_erased_link l;
  snprintf(l.store, sizeof l.store, "%s", store);
  snprintf(l.member, sizeof l.member, "%s", member);
  if(!rc) rc = drop_link(db, &l, now_ms, reason, asked_by);
  if(!rc && linked) {
    /* The person (phone) goes only with their last link: a member of
     * another store, or under another id here, keeps it. */
    int64_t gone = 0;
    hqv q[] = {B(index, 32)};
    rc = hqdb_exec(db,
                   "DELETE FROM members WHERE phone_index = $1 AND NOT EXISTS"
                   " (SELECT 1 FROM member_links l WHERE l.phone_index = $1)",
                   q, 1, NULL, &gone);
    *person_gone = gone > 0;
  }
  return rc;
}

sqr_rc hqdb_event_redact(hqdb *db, const char *kiosk, int64_t seq, const char *payload) {
  hqv p[] = {T(kiosk), I(seq), T(payload)};
  return hqdb_exec(db, "UPDATE events SET payload = $3, redacted = 1 WHERE kiosk = $1 AND seq = $2",
                   p, 3, NULL, NULL);
}

sqr_rc hqdb_scrub(hqdb *db) {
  if(strcmp(db->ops->name, "sqlite") == 0)
    return hqdb_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, 0, NULL, NULL);
  static const char *const vacuum[] = {
      "VACUUM events",        "VACUUM members", "VACUUM member_links", "VACUUM seal_queue",
      "VACUUM store_members", "VACUUM feed",    "VACUUM checkin_days",
  };
  sqr_rc rc = SQR_OK;
  for(size_t i = 0; !rc && i < sizeof vacuum / sizeof vacuum[0]; i++)
    rc = hqdb_exec(db, vacuum[i], NULL, 0, NULL, NULL);
  return rc;
}

/* ---- a person's own data ------------------------------------------------ */

sqr_rc hqdb_person(hqdb *db, const uint8_t index[32], int *found, int64_t *created_ms,
                   hq_erased_link *out, size_t *n) {
  hqres r = {0};
  hqv p[] = {B(index, 32), I(HQ_ERASE_LINKS_MAX)};
  *found = 0;
  *n = 0;
  sqr_rc rc =
      hqdb_exec(db, "SELECT created_ms FROM members WHERE phone_index = $1", p, 1, &r, NULL);
  if(!rc && r.nrows > 0) {
    *found = 1;
    *created_ms = cell_int(&r, 0, 0);
  }
  hqres_free(&r);
  if(rc || !*found) return rc;
  rc = hqdb_exec(db,
                 "SELECT store, member FROM member_links WHERE phone_index = $1"
                 " ORDER BY store, member LIMIT $2",
                 p, 2, &r, NULL);
  for(int k = 0; !rc && k < r.nrows; k++) {
    cell_text(&r, k, 0, out[k].store, sizeof out[k].store);
    cell_text(&r, k, 1, out[k].member, sizeof out[k].member);
    *n = (size_t)k + 1;
  }
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_member_events(hqdb *db, const char *store, const char *member, size_t max,
                          hq_member_event **out, size_t *n) {
  char like[80];
  snprintf(like, sizeof like, "%%\"member\":\"%s%%", member);
  hqres r = {0};
  hqv p[] = {T(store), T(like), I((int64_t)max)};
  *out = NULL;
  *n = 0;
  sqr_rc rc = hqdb_exec(db,
                        "SELECT kiosk, seq, type, ts_ms, payload FROM events WHERE store = $1"
                        " AND payload LIKE $2 ORDER BY ts_ms, kiosk, seq LIMIT $3",
                        p, 3, &r, NULL);
  if(!rc && r.nrows > 0 && !(*out = calloc((size_t)r.nrows, sizeof **out))) rc = SQR_ENOMEM;
  for(int k = 0; !rc && k < r.nrows; k++) {
    hq_member_event *e = &(*out)[k];
    cell_text(&r, k, 0, e->kiosk, sizeof e->kiosk);
    e->seq = cell_int(&r, k, 1);
    cell_text(&r, k, 2, e->type, sizeof e->type);
    e->ts_ms = cell_int(&r, k, 3);
    const hqv *v = cell(&r, k, 4);
    if(!(e->payload = strndup(v->k == HQV_TEXT && v->p ? v->p : "", v->n))) rc = SQR_ENOMEM;
    *n = (size_t)k + 1;
  }
  hqres_free(&r);
  if(rc) {
    hq_member_events_free(*out, *n);
    *out = NULL;
    *n = 0;
  }
  return rc;
}

void hq_member_events_free(hq_member_event *ev, size_t n) {
  for(size_t i = 0; ev && i < n; i++)
    free(ev[i].payload);
  free(ev);
}

sqr_rc hqdb_audit(hqdb *db, int64_t at_ms, const char *who, const char *what, int64_t rows) {
  hqv p[] = {I(at_ms), T(who), T(what), I(rows)};
  return hqdb__run1(db, "INSERT INTO audit_log(at_ms, who, what, rows) VALUES($1, $2, $3, $4)", p,
                    4, NULL);
}

sqr_rc hqdb_audit_rows(hqdb *db, int64_t at_ms, const char *who, const char *what, int64_t rows,
                       int complete) {
  hqv p[] = {I(at_ms), T(who), T(what), I(rows), T(complete ? "" : " (cut short)")};
  return hqdb__run1(db,
                    "UPDATE audit_log SET rows = $4, what = CAST($3 AS TEXT) || CAST($5 AS TEXT)"
                    " WHERE at_ms = $1 AND who = $2 AND what = $3 AND rows = -1",
                    p, 5, NULL);
}

sqr_rc hqdb_audit_recent(hqdb *db, size_t max, hq_audit_row *out, size_t *n) {
  hqres r = {0};
  hqv p[] = {I((int64_t)max)};
  *n = 0;
  sqr_rc rc =
      hqdb_exec(db, "SELECT at_ms, who, what, rows FROM audit_log ORDER BY at_ms DESC LIMIT $1", p,
                1, &r, NULL);
  for(int k = 0; !rc && k < r.nrows && *n < max; k++) {
    hq_audit_row *a = &out[(*n)++];
    a->at_ms = cell_int(&r, k, 0);
    cell_text(&r, k, 1, a->who, sizeof a->who);
    cell_text(&r, k, 2, a->what, sizeof a->what);
    a->rows = cell_int(&r, k, 3);
  }
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_erasures_recent(hqdb *db, size_t max, hq_erasure_row *out, size_t *n) {
  hqres r = {0};
  hqv p[] = {I((int64_t)max)};
  *n = 0;
  sqr_rc rc = hqdb_exec(db,
                        "SELECT at_ms, store, member, reason, asked_by FROM erasure_log"
                        " ORDER BY at_ms DESC LIMIT $1",
                        p, 1, &r, NULL);
  for(int k = 0; !rc && k < r.nrows && *n < max; k++) {
    hq_erasure_row *a = &out[(*n)++];
    a->at_ms = cell_int(&r, k, 0);
    cell_text(&r, k, 1, a->store, sizeof a->store);
    cell_text(&r, k, 2, a->member, sizeof a->member);
    cell_text(&r, k, 3, a->reason, sizeof a->reason);
    cell_text(&r, k, 4, a->asked_by, sizeof a->asked_by);
  }
  hqres_free(&r);
  return rc;
}
