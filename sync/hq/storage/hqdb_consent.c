/* hqdb_consent.c — see hqdb_consent.h. Statements written once for both
 * backends, as in hqdb.c. */
#include "hqdb_consent.h"

#include <string.h>

#include "hqdb_int.h"

const char *const hqdb_consent_schema[] = {
    /* version '' = withdrawn; given mirrors it for the export's index */
    "CREATE TABLE IF NOT EXISTS consents(store TEXT NOT NULL, member TEXT NOT NULL,"
    " version TEXT NOT NULL, given BIGINT NOT NULL, at_ms BIGINT NOT NULL,"
    " source TEXT NOT NULL, PRIMARY KEY(store, member))",
    NULL,
};

sqr_rc hqdb_consent_set(hqdb *db, const char *store, const char *member, const char *version,
                        int64_t at_ms, const char *source, int *changed) {
  hqv p[] = {T(store), T(member), T(version), I(version[0] ? 1 : 0), I(at_ms), T(source)};
  int64_t n = 0;
  /* The latest by the time it was taken wins, whatever order uploads
   * arrive in (two kiosks, one offline for a day). */
  sqr_rc rc =
      hqdb_exec(db,
                "INSERT INTO consents(store, member, version, given, at_ms, source)"
                " VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT(store, member) DO UPDATE SET"
                " version = excluded.version, given = excluded.given, at_ms = excluded.at_ms,"
                " source = excluded.source WHERE consents.at_ms <= excluded.at_ms",
                p, 6, NULL, &n);
  *changed = n > 0;
  return rc;
}

/* The person's withdrawals, through the links by phone (index
 * member_links_phone, hqdb_retain.c). */
#define PERSON_WITHDRAWN                                                                           \
  "SELECT coalesce(max(w.at_ms), 0) FROM member_links l JOIN member_links o"                       \
  " ON o.phone_index = l.phone_index JOIN consents w ON w.store = o.store"                         \
  " AND w.member = o.member AND w.given = 0 WHERE l.store = $1 AND l.member = $2"

sqr_rc hqdb_consent_person_withdrawn(hqdb *db, const char *store, const char *member,
                                     int64_t *at_ms) {
  hqres r = {0};
  hqv p[] = {T(store), T(member)};
  sqr_rc rc = hqdb_exec(db, PERSON_WITHDRAWN, p, 2, &r, NULL);
  *at_ms = !rc && r.nrows > 0 ? cell_int(&r, 0, 0) : 0;
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_consent_others(hqdb *db, const char *store, const char *member, hq_erased_link *out,
                           size_t max, size_t *n) {
  hqres r = {0};
  hqv p[] = {T(store), T(member), I((int64_t)max)};
  *n = 0;
  sqr_rc rc = hqdb_exec(db,
                        "SELECT o.store, o.member FROM member_links l JOIN member_links o"
                        " ON o.phone_index = l.phone_index WHERE l.store = $1 AND l.member = $2"
                        " AND NOT (o.store = $1 AND o.member = $2) ORDER BY o.store, o.member"
                        " LIMIT $3",
                        p, 3, &r, NULL);
  for(int k = 0; !rc && k < r.nrows; k++) {
    cell_text(&r, k, 0, out[k].store, sizeof out[k].store);
    cell_text(&r, k, 1, out[k].member, sizeof out[k].member);
  }
  if(!rc) *n = (size_t)r.nrows;
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_consent_get(hqdb *db, const char *store, const char *member, int *given, char *version,
                        int64_t *at_ms) {
  hqres r = {0};
  hqv p[] = {T(store), T(member)};
  *given = 0;
  version[0] = '\0';
  *at_ms = 0;
  sqr_rc rc =
      hqdb_exec(db, "SELECT version, given, at_ms FROM consents WHERE store = $1 AND member = $2",
                p, 2, &r, NULL);
  if(!rc && r.nrows > 0) {
    cell_text(&r, 0, 0, version, HQ_ID_MAX);
    *given = cell_int(&r, 0, 1) != 0;
    *at_ms = cell_int(&r, 0, 2);
  }
  hqres_free(&r);
  int64_t withdrawn = 0;
  if(!rc && *given && !(rc = hqdb_consent_person_withdrawn(db, store, member, &withdrawn)) &&
     withdrawn >= *at_ms)
    *given = 0;
  return rc;
}

sqr_rc hqdb_consent_export(hqdb *db, const hq_export_filter *f, const char *after_store,
                           const char *after_member, size_t max, hq_export_row *out, size_t *n) {
  hqres r = {0};
  *n = 0;
  if(max > HQ_EXPORT_PAGE) max = HQ_EXPORT_PAGE;
  hqv p[] = {T(after_store),
             T(after_member),
             T(f->store ? f->store : ""),
             T(f->brand ? f->brand : ""),
             I(f->since_ms),
             I(f->until_ms),
             I((int64_t)max)};
  /* The consents' primary key orders the pages; the filters are parameters
   * of one text (CAST: PostgreSQL types an untyped parameter compared with
   * '' as text). */
  sqr_rc rc = hqdb_exec(
      db,
      "SELECT c.store, c.member, c.version, c.at_ms, l.created_ms, m.phone_index, m.phone_enc,"
      " coalesce(sm.created_ms, 0), coalesce(sm.consent, ''), coalesce(sm.staff, ''),"
      " coalesce(sm.grp, ''), coalesce(sm.tags, '[]')"
      " FROM consents c JOIN member_links l ON l.store = c.store AND l.member = c.member"
      " JOIN members m ON m.phone_index = l.phone_index"
      " LEFT JOIN store_members sm ON sm.store = c.store AND sm.member = c.member"
      " WHERE c.given = 1 AND (c.store > $1 OR (c.store = $1 AND c.member > $2))"
      /* not withdrawn since by the person at any store (a consent taken
       * before a withdrawal elsewhere and uploaded after it) */
      " AND NOT EXISTS (SELECT 1 FROM member_links o JOIN consents w ON w.store = o.store"
      " AND w.member = o.member WHERE o.phone_index = l.phone_index AND w.given = 0"
      " AND w.at_ms >= c.at_ms)"
      " AND (CAST($3 AS TEXT) = '' OR c.store = $3)"
      " AND (CAST($4 AS TEXT) = '' OR c.store IN (SELECT store FROM store_brands WHERE brand = $4))"
      " AND c.at_ms >= $5 AND c.at_ms < $6 ORDER BY c.store, c.member LIMIT $7",
      p, 7, &r, NULL);
  for(int k = 0; !rc && k < r.nrows; k++) {
    hq_export_row *o = &out[*n];
    const hqv *enc = cell(&r, k, 6);
    o->enclen = 0; /* not a phone this HQ stored: the caller skips the row */
    if(cell_blob32(&r, k, 5, o->index) && enc->k == HQV_BLOB && enc->n <= sizeof o->enc) {
      memcpy(o->enc, enc->p, enc->n);
      o->enclen = enc->n;
    }
    cell_text(&r, k, 0, o->store, sizeof o->store);
    cell_text(&r, k, 1, o->member, sizeof o->member);
    cell_text(&r, k, 2, o->version, sizeof o->version);
    o->consent_ms = cell_int(&r, k, 3);
    o->joined_ms = cell_int(&r, k, 7) ? cell_int(&r, k, 7) : cell_int(&r, k, 4);
    cell_text(&r, k, 8, o->service, sizeof o->service);
    cell_text(&r, k, 9, o->staff, sizeof o->staff);
    cell_text(&r, k, 10, o->group, sizeof o->group);
    cell_text(&r, k, 11, o->tags, sizeof o->tags);
    (*n)++;
  }
  hqres_free(&r);
  return rc;
}
