/* member_feed.c — applying HQ's feed to the kiosk's members (member.h,
 * docs/PROTOCOL.md "Feed").
 *
 * Everything a page changes, and the cursor after it, is one transaction:
 * the page is applied once whatever fails around it. Entries are applied
 * by increments (a check-in adds its points, a void takes them off), and a
 * member row remembers in feed_seq the last entry its state includes, so
 * an entry already counted (in a snapshot's state, or applied before) is
 * skipped. A kiosk's own sign-ups and check-ins never come back to it
 * (HQ leaves them out), so its own count is never doubled.
 */
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "member.h"
#include "store_int.h"

#define COMPONENT "member"

sqr_rc member_feed_cursor(store *st, char out[MEMBER_FEED_CURSOR_MAX]) {
  sqlite3_stmt *s = NULL;
  sqr_rc rc = store__stmt(st, SQL_META_GET, &s);
  if(rc) return rc;
  sqlite3_bind_text(s, 1, "feed_cursor", -1, SQLITE_STATIC);
  int src = sqlite3_step(s);
  snprintf(out, MEMBER_FEED_CURSOR_MAX, "0");
  if(src == SQLITE_ROW) {
    const unsigned char *t = sqlite3_column_text(s, 0);
    size_t n = t ? strlen((const char *)t) : 0;
    if(n == 0 || n >= MEMBER_FEED_CURSOR_MAX) {
      snprintf(st->errmsg, sizeof st->errmsg, "meta feed_cursor is damaged");
      rc = SQR_ECORRUPT;
    } else {
      memcpy(out, t, n + 1);
    }
  } else if(src != SQLITE_DONE) {
    rc = store__fail(st, src, "read the feed cursor");
  }
  sqlite3_reset(s);
  return rc;
}

static sqr_rc set_cursor(store *st, const char *next) {
  sqlite3_stmt *s = NULL;
  sqr_rc rc = store__stmt(st, SQL_META_SET, &s);
  if(rc) return rc;
  sqlite3_bind_text(s, 1, "feed_cursor", -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, next, -1, SQLITE_STATIC);
  int src = sqlite3_step(s);
  sqlite3_reset(s);
  return src == SQLITE_DONE ? SQR_OK : store__fail(st, src, "store the feed cursor");
}

/* Statements of one page, prepared once per page. */
enum { F_FIND, F_ERASED, F_ADD, F_SEEN, F_CHECKIN, F_VOID, F_JOINED, F_MARKETING, F__COUNT };
static const char *const feed_sql[F__COUNT] = {
    [F_FIND] = "SELECT id, feed_seq FROM members WHERE mid=?",
    [F_ERASED] = "SELECT 1 FROM erased WHERE member=?",
    [F_ADD] = "INSERT OR IGNORE INTO members(mid, blind, index_kind, sealed, consent_version,"
              " consent_ms, tags, staff, group_id, created_ms, points, last_checkin_day, streak,"
              " feed_seq, marketing, marketing_ms)"
              " VALUES(?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [F_SEEN] = "UPDATE members SET feed_seq=max(feed_seq, ?) WHERE id=?",
    /* A later day moves the last day and the streak; the same day (this
     * kiosk checked the member in too) changes neither. */
    [F_CHECKIN] = "UPDATE members SET points=points+?1,"
                  " streak=CASE WHEN ?2 > coalesce(last_checkin_day, -1) THEN ?3 ELSE streak END,"
                  " last_checkin_day=max(coalesce(last_checkin_day, -1), ?2), feed_seq=?4"
                  " WHERE id=?5",
    [F_VOID] = "UPDATE members SET points=points-?, feed_seq=? WHERE id=?",
    [F_JOINED] = "INSERT INTO groups(id, joined) VALUES(?, 1)"
                 " ON CONFLICT(id) DO UPDATE SET joined=joined+1",
    /* A state, not an increment: the latest by its time wins. One taken
     * here later than HQ's entry (a withdrawal at this kiosk not yet in
     * HQ's state when the page was read) stays. */
    [F_MARKETING] = "UPDATE members SET marketing=?1, marketing_ms=?2, feed_seq=?3 WHERE id=?4"
                    " AND coalesce(marketing_ms, -1) <= ?2",
};

typedef struct page {
  store *st;
  sqlite3_stmt *s[F__COUNT];
} page;

static int step(page *p, int which) {
  int src = sqlite3_step(p->s[which]);
  return src;
}

static void done(page *p, int which) {
  sqlite3_reset(p->s[which]);
  sqlite3_clear_bindings(p->s[which]);
}

/* The member's row id and feed_seq; *found 0 if not here. */
static sqr_rc find(page *p, const char *mid, int64_t *id, int64_t *seen, int *found) {
  sqlite3_bind_text(p->s[F_FIND], 1, mid, -1, SQLITE_STATIC);
  int src = step(p, F_FIND);
  *found = src == SQLITE_ROW;
  if(*found) {
    *id = sqlite3_column_int64(p->s[F_FIND], 0);
    *seen = sqlite3_column_int64(p->s[F_FIND], 1);
  }
  done(p, F_FIND);
  return src == SQLITE_ROW || src == SQLITE_DONE ? SQR_OK : store__fail(p->st, src, "find member");
}

static sqr_rc run(page *p, int which, const char *what) {
  int src = step(p, which);
  done(p, which);
  return src == SQLITE_DONE ? SQR_OK : store__fail(p->st, src, what);
}

static sqr_rc add_member(page *p, const member_feed_entry *e, member_feed_result *out) {
  sqlite3_stmt *s = p->s[F_ERASED];
  sqlite3_bind_text(s, 1, e->member, -1, SQLITE_STATIC);
  int src = step(p, F_ERASED);
  done(p, F_ERASED);
  if(src == SQLITE_ROW) {
    out->skipped++; /* erased here: never brought back */
    return SQR_OK;
  }
  if(src != SQLITE_DONE) return store__fail(p->st, src, "check erasure");
  s = p->s[F_ADD];
  sqlite3_bind_text(s, 1, e->member, -1, SQLITE_STATIC);
  sqlite3_bind_blob(s, 2, e->blind, sizeof e->blind, SQLITE_STATIC);
  sqlite3_bind_int(s, 3, e->index_kind);
  sqlite3_bind_text(s, 4, e->consent_version, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 5, e->created_ms);
  sqlite3_bind_text(s, 6, e->tags ? e->tags : "[]", -1, SQLITE_STATIC);
  if(e->staff[0]) sqlite3_bind_text(s, 7, e->staff, -1, SQLITE_STATIC);
  if(e->group[0]) sqlite3_bind_text(s, 8, e->group, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 9, e->created_ms);
  sqlite3_bind_int64(s, 10, e->points);
  if(e->last_day > 0) sqlite3_bind_int64(s, 11, e->last_day);
  sqlite3_bind_int64(s, 12, e->streak);
  sqlite3_bind_int64(s, 13, e->state_seq);
  if(e->marketing[0]) {
    sqlite3_bind_text(s, 14, e->marketing, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 15, e->created_ms);
  }
  sqr_rc rc = run(p, F_ADD, "add member");
  if(rc) return rc;
  if(sqlite3_changes(p->st->db) == 0) {
    /* The same phone signed up here too before the kiosks synced: this
     * kiosk keeps its own member. */
    out->skipped++;
    return SQR_OK;
  }
  out->members++;
  if(!e->group[0]) return SQR_OK;
  /* The store's group fill as HQ knows it, plus this kiosk's own joins. */
  sqlite3_bind_text(p->s[F_JOINED], 1, e->group, -1, SQLITE_STATIC);
  return run(p, F_JOINED, "count group join");
}

static sqr_rc voided_here(store *st, const member_feed_entry *e) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "member", e->member);
  cJSON_AddNumberToObject(j, "day", (double)e->day);
  cJSON_AddNumberToObject(j, "points", (double)e->points);
  return store__append(st, "checkin_voided", j, NULL);
}

static sqr_rc apply_one(page *p, const char *self, const member_feed_entry *e,
                        member_feed_result *out) {
  int64_t id = 0, seen = 0;
  int found = 0;
  sqr_rc rc;
  if(e->kind == MEMBER_FEED_LATER) {
    out->skipped++; /* a later HQ's kind: its cursor moves past it */
    return SQR_OK;
  }
  if(e->kind == MEMBER_FEED_ERASE) {
    if((rc =
            member__erase(p->st, e->member, strcmp(e->origin, "hq") == 0 ? "hq" : "store", &found)))
      return rc;
    if(found) out->erased++;
    return SQR_OK;
  }
  if((rc = find(p, e->member, &id, &seen, &found))) return rc;
  if(e->kind == MEMBER_FEED_MEMBER) {
    if(!found) return add_member(p, e, out);
    out->skipped++;
    sqlite3_bind_int64(p->s[F_SEEN], 1, e->state_seq);
    sqlite3_bind_int64(p->s[F_SEEN], 2, id);
    return run(p, F_SEEN, "member feed position");
  }
  if(!found || e->seq <= seen) {
    out->skipped++; /* not a member here, or counted in its state already */
    return SQR_OK;
  }
  sqlite3_stmt *s;
  if(e->kind == MEMBER_FEED_CHECKIN) {
    s = p->s[F_CHECKIN];
    sqlite3_bind_int64(s, 1, e->points);
    sqlite3_bind_int64(s, 2, e->day);
    sqlite3_bind_int64(s, 3, e->streak);
    sqlite3_bind_int64(s, 4, e->seq);
    sqlite3_bind_int64(s, 5, id);
    out->checkins++;
    return run(p, F_CHECKIN, "count check-in");
  }
  if(e->kind == MEMBER_FEED_MARKETING) {
    s = p->s[F_MARKETING];
    if(e->marketing[0]) sqlite3_bind_text(s, 1, e->marketing, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, e->ts_ms);
    sqlite3_bind_int64(s, 3, e->seq);
    sqlite3_bind_int64(s, 4, id);
    out->marketing++;
    return run(p, F_MARKETING, "record marketing consent");
  }
  if(e->kind != MEMBER_FEED_VOID) {
    out->skipped++;
    return SQR_OK;
  }
  s = p->s[F_VOID];
  sqlite3_bind_int64(s, 1, e->points);
  sqlite3_bind_int64(s, 2, e->seq);
  sqlite3_bind_int64(s, 3, id);
  if((rc = run(p, F_VOID, "take a check-in back"))) return rc;
  out->voids++;
  if(strcmp(e->kiosk, self) != 0) return SQR_OK;
  out->voided_here++;
  return voided_here(p->st, e);
}

sqr_rc member_feed_apply(store *st, const char *self, const char *after, const member_feed_entry *e,
                         size_t n, const char *next, member_feed_result *out) {
  page p = {.st = st};
  char cur[MEMBER_FEED_CURSOR_MAX];
  memset(out, 0, sizeof *out);
  sqr_rc rc = store__begin(st);
  if(rc) return rc;
  if((rc = member_feed_cursor(st, cur))) goto out;
  if(strcmp(cur, after) != 0) {
    snprintf(st->errmsg, sizeof st->errmsg, "the feed moved on: another pass applied this page");
    rc = SQR_EBUSY;
    goto out;
  }
  for(int i = 0; i < F__COUNT && !rc; i++) {
    int src = sqlite3_prepare_v2(st->db, feed_sql[i], -1, &p.s[i], NULL);
    if(src != SQLITE_OK) rc = store__fail(st, src, "prepare feed statements");
  }
  for(size_t i = 0; i < n && !rc; i++)
    rc = apply_one(&p, self, &e[i], out);
  if(!rc) rc = set_cursor(st, next);
  /* Members joined groups at other kiosks: the live group may move on. */
  if(!rc && out->members && st->cfg) rc = store__update_live(st, NULL);
  if(!rc) rc = store__commit(st);
out:
  for(int i = 0; i < F__COUNT; i++)
    sqlite3_finalize(p.s[i]);
  if(rc) {
    store__rollback(st);
    memset(out, 0, sizeof *out);
  }
  return rc;
}
