/* view.h — building the cJSON view a page's template renders, for the
 * page modules of web/ (pages_shopper.c, pages_dash.c) only.
 *
 * Each adder puts one member into an object (or, for view_push, one new
 * object at the end of an array) and remembers the first failure, so a
 * render function builds its whole view and checks once, in view_render.
 * A NULL object (one that failed to be made) is a failure, never a crash.
 */
#ifndef SQR_VIEW_H
#define SQR_VIEW_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include "dynbuf.h"
#include "sqr.h"

typedef struct view {
  cJSON *root;
  int failed;
} view;

/* An empty view (root is an object). */
void view_init(view *v);
/* s NULL: the member is left out (a template reads it as missing). */
cJSON *view_str(view *v, cJSON *obj, const char *key, const char *s);
cJSON *view_int(view *v, cJSON *obj, const char *key, int64_t n);
cJSON *view_bool(view *v, cJSON *obj, const char *key, int b);
cJSON *view_obj(view *v, cJSON *obj, const char *key);
cJSON *view_arr(view *v, cJSON *obj, const char *key);
/* A new object appended to the array arr. */
cJSON *view_push(view *v, cJSON *arr);

/* Appends template name rendered with the view to out, then frees the
 * view. SQR_ENOMEM if building it failed; else tmpl_render's result. */
sqr_rc view_render(view *v, const char *name, dynbuf *out) SQR_WARN_UNUSED;

#endif
