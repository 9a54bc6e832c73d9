/* hqdb_resolve.c — the resolve module's tables and statements (see hqdb_int.h). */
#include "hqdb_int.h"

const char *const hqdb_resolve_schema[] = {NULL};
