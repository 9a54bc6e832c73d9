/* routes.h — HQ's one route table: for every path, the method, how the
 * caller is authenticated, how large a body may be, the label /metrics
 * counts it under, and the handler. The server (server.c) looks a request
 * up here once and does what the row says; no other list decides which
 * module answers a URL (a module still parses the rest of its own paths).
 */
#ifndef SQR_ROUTES_H
#define SQR_ROUTES_H

#include <stddef.h>

#include "route.h"

/* The row for a request: the first whose path and method match; when a
 * path matches but no method does, *path_only gets the first row of that
 * path (its label and body limit still apply; the answer is 404). NULL
 * and *path_only NULL: no such path (label "other"). */
const route *route_find(const char *method, const char *url, const route **path_only);
/* The body limit of a URL whatever its method (read before the body). */
size_t route_body_max(const char *url);
/* The table's distinct metrics labels, in its order, into out (at most
 * max); how many. */
size_t route_labels(const char **out, size_t max);

#endif
