/* hqdb_stats.c — the stats module's tables and statements (see hqdb_int.h). */
#include "hqdb_int.h"

const char *const hqdb_stats_schema[] = {NULL};
