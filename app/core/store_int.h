/* store_int.h — what store.c shares with member.c. Not for other modules. */
#ifndef SQR_STORE_INT_H
#define SQR_STORE_INT_H

#include <sqlite3.h>
#include <cjson/cJSON.h>
#include "seal.h"
#include "store.h"

/* Statements on the sign-up and check-in path, prepared once per store.
 * A cached statement must be reset after use (store__stmt resets it on
 * fetch too): a SELECT left mid-step would pin a WAL read snapshot and hide
 * the sync client's writes. */
typedef enum store_sql {
  SQL_TAIL,
  SQL_INSERT_EVENT,
  SQL_META_GET,
  SQL_META_SET,
  SQL_GROUP_FILL,
  SQL_COUNT_EVENTS,
  SQL_FIND_MEMBER,
  SQL_INSERT_MEMBER,
  SQL_BUMP_GROUP,
  SQL_CHECKIN,
  SQL__COUNT
} store_sql;

#define STORE_SEAL_POOL 4

struct store {
  sqlite3 *db;
  sqr_clock *clock;
  sqr_config *cfg;
  int64_t cfg_version;
  char errmsg[512];
  sqlite3_stmt *stmts[SQL__COUNT];
  /* One-time sealing keys prepared while a shopper types (member.c). */
  seal_prepared seal_pool[STORE_SEAL_POOL];
  int seal_pool_n;
  /* The configuration version whose old-index deadline was last enforced
   * (member__drop_old_index), so store_clock_refresh does it once. */
  int64_t old_index_checked;
};

/* The cached statement id into *out, reset and unbound. If it cannot be
 * prepared, the translated error (errmsg set; SQR_EBUSY when the schema
 * is locked). Never finalize it: store_close does. */
sqr_rc store__stmt(store *st, store_sql id, sqlite3_stmt **out) SQR_WARN_UNUSED;

/* Maps a SQLite result to sqr_rc, records the full message in st->errmsg
 * and logs it. what says what was being done. */
sqr_rc store__fail(store *st, int sqlite_rc, const char *what);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. commit fails → caller rolls back. */
sqr_rc store__begin(store *st) SQR_WARN_UNUSED;
sqr_rc store__commit(store *st) SQR_WARN_UNUSED;
void store__rollback(store *st);

/* Inside a transaction: appends an event. payload is consumed (deleted). */
sqr_rc store__append(store *st, const char *type, cJSON *payload, int64_t *seq) SQR_WARN_UNUSED;

/* Inside a transaction: re-evaluates the live group and records a change. */
sqr_rc store__update_live(store *st, store_live *out) SQR_WARN_UNUSED;

/* Inside a transaction: an integer meta value into *out (dflt when the key
 * is absent). A failed read, or a value that is not an integer
 * (SQR_ECORRUPT), is an error and leaves *out alone. */
sqr_rc store__meta_int(store *st, const char *key, int64_t dflt, int64_t *out) SQR_WARN_UNUSED;
sqr_rc store__meta_set_int(store *st, const char *key, int64_t v) SQR_WARN_UNUSED;

/* Inside a transaction (member.c): erases the member with this member id
 * (32 lower-case hex digits), strips sealed phone numbers from its past
 * events and records an erase event, once per member id. *found says
 * whether a member was there. */
sqr_rc member__erase(store *st, const char *mid, const char *source, int *found) SQR_WARN_UNUSED;

/* 1 when the applied configuration no longer lets rows on the old HMAC
 * index be found (Argon2id, and no legacy key or its deadline passed). */
int member__old_index_closed(const store *st);

/* Inside a transaction (member.c): deletes the rows still on the old HMAC
 * index (index_kind 0) and logs how many, never whose. Those members are
 * still at HQ; at the kiosk they sign up again as new. */
sqr_rc member__drop_old_index(store *st, int64_t *dropped) SQR_WARN_UNUSED;

#endif
