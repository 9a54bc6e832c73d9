/* hqdb_resolve.c — the scan resolver's tables and statements (see
 * hqdb_int.h). Read by the stats and dashboard code too:
 *   scans        one row per store, kiosk and hour (unix ms / 3,600,000):
 *                scans answered with a valid token;
 *   group_scans  per store and group: shoppers sent to the group's join
 *                link by the resolver (counts toward the group's fill). */
#include "hqdb_int.h"

const char *const hqdb_resolve_schema[] = {
  "CREATE TABLE IF NOT EXISTS scans(store TEXT NOT NULL, kiosk BIGINT NOT NULL,"
  " hour BIGINT NOT NULL, scans BIGINT NOT NULL, PRIMARY KEY(store, kiosk, hour))",
  "CREATE TABLE IF NOT EXISTS group_scans(store TEXT NOT NULL, grp TEXT NOT NULL,"
  " sent BIGINT NOT NULL, PRIMARY KEY(store, grp))",
  NULL,
};
