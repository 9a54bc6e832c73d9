/* hqdb_open.c — picks the backend a target names (a postgresql:// URL or
 * a SQLite file), creates the schema and moves kiosks from before key
 * versions onto them (hqdb_keys.c). Apart from hqdb.c so that the
 * statements never depend on the backends, only the choice does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "hqdb_int.h"

sqr_rc hqdb_open(const char *target, hqdb **out, char *err, size_t errlen) {
  *out = NULL;
  hqdb *db = calloc(1, sizeof *db);
  if(!db) return SQR_ENOMEM;
  uint8_t owner[HQDB_OWNER_LEN / 2];
  if(crypto_random(owner, sizeof owner)) {
    free(db);
    snprintf(err, errlen, "no random bytes for the seat lease owner");
    return SQR_EIO;
  }
  for(size_t i = 0; i < sizeof owner; i++)
    snprintf(db->owner + 2 * i, 3, "%02x", owner[i]);
  int pg = strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0;
  sqr_rc rc = pg ? hqdb_pg_open(target, db) : hqdb_sqlite_open(target, db);
  if(!rc) rc = hqdb__schema(db);
  if(!rc) rc = hqdb__keys_migrate(db, (int64_t)time(NULL) * 1000);
  if(rc) {
    snprintf(err, errlen, "%s", db->err[0] ? db->err : sqr_strerror(rc));
    if(db->ops) {
      db->ops->rollback(db);
      db->ops->close(db);
    }
    free(db);
    return rc;
  }
  *out = db;
  return SQR_OK;
}
