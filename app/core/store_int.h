/* store_int.h — what store.c shares with member.c. Not for other modules. */
#ifndef SQR_STORE_INT_H
#define SQR_STORE_INT_H

#include <sqlite3.h>
#include <cjson/cJSON.h>
#include "store.h"

struct store {
  sqlite3 *db;
  sqr_clock *clock;
  sqr_config *cfg;
  int64_t cfg_version;
  char errmsg[512];
};

/* Maps a SQLite result to sqr_rc, records the full message in st->errmsg
 * and logs it. what says what was being done. */
sqr_rc store__fail(store *st, int sqlite_rc, const char *what);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. commit fails → caller rolls back. */
sqr_rc store__begin(store *st) SQR_WARN_UNUSED;
sqr_rc store__commit(store *st) SQR_WARN_UNUSED;
void store__rollback(store *st);

/* Inside a transaction: appends an event. payload is consumed (deleted). */
sqr_rc store__append(store *st, const char *type, cJSON *payload, int64_t *seq)
  SQR_WARN_UNUSED;

/* Inside a transaction: re-evaluates the live group and records a change. */
sqr_rc store__update_live(store *st, store_live *out) SQR_WARN_UNUSED;

/* Inside a transaction: an integer meta value (dflt when absent). */
int64_t store__meta_int(store *st, const char *key, int64_t dflt);
sqr_rc store__meta_set_int(store *st, const char *key, int64_t v) SQR_WARN_UNUSED;

/* Inside a transaction (member.c): erases the member with this blind index,
 * strips sealed phone numbers from its past events and records an erase
 * event, once per blind index. *found says whether a member was there. */
sqr_rc member__erase(store *st, const uint8_t blind[32], const char *source, int *found)
  SQR_WARN_UNUSED;

#endif
