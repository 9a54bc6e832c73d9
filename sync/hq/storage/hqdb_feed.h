/* hqdb_feed.h — each store's feed (docs/PROTOCOL.md "Feed"): the one
 * sequence of entries every kiosk of the store reads from its own cursor,
 * and the store's shared members behind it.
 *
 * Tables:
 *   feed_heads(store, head)  the last seq handed out; the writer locks
 *                            the row (PostgreSQL FOR UPDATE; SQLite's
 *                            write transaction), so seq order is commit
 *                            order and a reader at head H has every
 *                            entry up to H
 *   feed                     the entries: member, checkin, void, erase
 *   store_members            a sign-up that carried a blind index: the
 *                            member as the store shares it (never a
 *                            phone or a sealed box)
 *   checkin_days             the kept check-in of each member and day,
 *                            and the seq of the day's last entry
 *   feed_readers             kiosks that read the feed (their documents
 *                            carry no erasures: the feed does)
 * A member's points, last day, streak and state_seq are read from these
 * at page time (hqdb_feed_members, hqdb_feed_log), not kept up to date
 * per check-in: a check-in costs one row on the pages of its day, not an
 * update on a page of its member's (ids are random, so every check-in
 * would dirty a page of its own).
 *
 * Seqs rise but need not be contiguous (a sign-up whose member id the
 * store already holds is not shared again, and the seq it was offered is
 * not reused). The same phone signed up at two kiosks before they synced
 * is two members here, as at those kiosks; a third kiosk keeps the first
 * it learns (member_feed.c: one row a blind index).
 */
#ifndef SQR_HQDB_FEED_H
#define SQR_HQDB_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "hqdb.h"
#include "sqr.h"

#define HQ_FEED_BLIND_LEN  32
#define HQ_FEED_TAGS_MAX   1200 /* compact JSON array of up to 32 tag ids */
#define HQ_FEED_MEMBER_HEX 33   /* 32 hex + NUL */

/* HQ_FEED_MARKETING keeps the consent's version ("" withdrawn) in the
 * row's kiosk column: the feed table's columns stay as they were. */
enum { HQ_FEED_MEMBER = 1, HQ_FEED_CHECKIN, HQ_FEED_VOID, HQ_FEED_ERASE, HQ_FEED_MARKETING };

/* A member of a store as shared, with the state read from its kept
 * check-ins (hqdb_feed_members, hqdb_feed_log). */
typedef struct hq_feed_member {
  char member[HQ_FEED_MEMBER_HEX];
  char origin[HQ_ID_MAX]; /* the kiosk of the sign-up */
  uint8_t blind[HQ_FEED_BLIND_LEN];
  int index_kind;
  int64_t created_ms;
  char consent[HQ_ID_MAX];
  char marketing[HQ_ID_MAX]; /* out: the current marketing consent's version, "" none */
  char staff[HQ_ID_MAX];     /* "" for none */
  char group[HQ_ID_MAX];     /* "" for none */
  char tags[HQ_FEED_TAGS_MAX];
  int64_t points;    /* in: the sign-up's; out: with every kept check-in */
  int64_t seq;       /* in/out: the member entry's seq */
  int64_t last_day;  /* out: 0 if never */
  int64_t streak;    /* out */
  int64_t state_seq; /* out: the last entry the state includes */
} hq_feed_member;

/* One entry of the sequence. For a member entry, m holds the state when
 * read (has_member 0: erased since, skip it). */
typedef struct hq_feed_row {
  int64_t seq;
  int kind;
  char origin[HQ_ID_MAX];
  char member[HQ_FEED_MEMBER_HEX];
  int64_t day, points, streak, ts_ms;
  char kiosk[HQ_ID_MAX]; /* void: whose check-in; marketing: the version, "" withdrawn */
  int has_member;
  hq_feed_member m;
} hq_feed_row;

/* The kept check-in of (member, day). */
typedef struct hq_feed_day {
  char member[HQ_FEED_MEMBER_HEX];
  int64_t day;
  char kiosk[HQ_ID_MAX];
  int64_t ts_ms, points, streak;
  int64_t seq; /* the day's last entry */
} hq_feed_day;

/* ---- in the writer's (ingest's) transaction ---------------------------- */

/* Locks the store's head row (made at 0 when missing) and reads it. */
sqr_rc hqdb_feed_lock(hqdb *db, const char *store, int64_t *head) SQR_WARN_UNUSED;
sqr_rc hqdb_feed_set_head(hqdb *db, const char *store, int64_t head) SQR_WARN_UNUSED;

/* Which of n member ids are shared members of the store: shared[i] 1/0. */
sqr_rc hqdb_feed_shared(hqdb *db, const char *store, const char *const *members, size_t n,
                        uint8_t *shared) SQR_WARN_UNUSED;

/* Adds n members (m[i].seq given); a member id the store already holds
 * is left alone. added[i] says which went in. */
sqr_rc hqdb_feed_members_add(hqdb *db, const char *store, const hq_feed_member *m, size_t n,
                             uint8_t *added) SQR_WARN_UNUSED;

/* The kept check-ins of n (member, day) pairs, those there are, into a
 * new array *out (free()) of *nout. */
sqr_rc hqdb_feed_days(hqdb *db, const char *store, const char *const *members, const int64_t *days,
                      size_t n, hq_feed_day **out, size_t *nout) SQR_WARN_UNUSED;
/* Inserts or replaces n kept check-ins. */
sqr_rc hqdb_feed_days_put(hqdb *db, const char *store, const hq_feed_day *d,
                          size_t n) SQR_WARN_UNUSED;

/* Appends n entries (rows' member state is not read). */
sqr_rc hqdb_feed_append(hqdb *db, const char *store, const hq_feed_row *rows,
                        size_t n) SQR_WARN_UNUSED;

/* Drops every trace of a member from the store's feed, shared members
 * and check-ins, but for erase entries (the new one is the caller's to
 * append after).
 * *found: it was a shared member. */
sqr_rc hqdb_feed_forget(hqdb *db, const char *store, const char *member,
                        int *found) SQR_WARN_UNUSED;

/* ---- readers ----------------------------------------------------------- */

sqr_rc hqdb_feed_head(hqdb *db, const char *store, int64_t *head) SQR_WARN_UNUSED;
/* Up to max shared members with ids after `after` ("" from the start), by
 * id, with their state, into a new array (free()). */
sqr_rc hqdb_feed_members(hqdb *db, const char *store, const char *after, size_t max,
                         hq_feed_member **out, size_t *n) SQR_WARN_UNUSED;
/* Up to max entries with seq > after, in order, member entries with the
 * member's state, into a new array (free()). */
sqr_rc hqdb_feed_log(hqdb *db, const char *store, int64_t after, size_t max, hq_feed_row **out,
                     size_t *n) SQR_WARN_UNUSED;

/* Whether the store shares members the kiosk signed up. */
sqr_rc hqdb_feed_has_origin(hqdb *db, const char *store, const char *kiosk_id,
                            int *has) SQR_WARN_UNUSED;
/* Up to max erase entries with after < seq <= upto, in order, into a new
 * array (free()). */
sqr_rc hqdb_feed_erase_entries(hqdb *db, const char *store, int64_t after, int64_t upto, size_t max,
                               hq_feed_row **out, size_t *n) SQR_WARN_UNUSED;

/* ---- who reads it ------------------------------------------------------ */

/* Whether the kiosk has read the feed past its first page (so it applies
 * erase entries: its configuration document leaves erasures out). */
sqr_rc hqdb_feed_reader(hqdb *db, const char *kiosk_id, int *reads) SQR_WARN_UNUSED;
/* Records that it has (its own transaction; idempotent). */
sqr_rc hqdb_feed_reader_mark(hqdb *db, const char *kiosk_id, int64_t now_ms) SQR_WARN_UNUSED;
/* Up to max pending erasure requests that have no erase entry in their
 * store's feed (requests from before the feed). */
sqr_rc hqdb_feed_erasures_missing(hqdb *db, size_t max, char (*store)[HQ_ID_MAX],
                                  char (*member)[HQ_FEED_MEMBER_HEX], size_t *n) SQR_WARN_UNUSED;

#endif /* SQR_HQDB_FEED_H */
