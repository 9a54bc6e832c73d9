/* view.c — see view.h. */
#include "view.h"

#include "tmpl.h"

void view_init(view *v) {
  v->root = cJSON_CreateObject();
  v->failed = v->root == NULL;
}

static cJSON *added(view *v, cJSON *item) {
  if(!item) v->failed = 1;
  return item;
}

cJSON *view_str(view *v, cJSON *obj, const char *key, const char *s) {
  if(!s) return NULL;
  return added(v, cJSON_AddStringToObject(obj, key, s));
}

cJSON *view_int(view *v, cJSON *obj, const char *key, int64_t n) {
  /* exact up to 2^53: counts and milliseconds are far below */
  return added(v, cJSON_AddNumberToObject(obj, key, (double)n));
}

cJSON *view_bool(view *v, cJSON *obj, const char *key, int b) {
  return added(v, cJSON_AddBoolToObject(obj, key, b != 0));
}

cJSON *view_obj(view *v, cJSON *obj, const char *key) {
  return added(v, cJSON_AddObjectToObject(obj, key));
}

cJSON *view_arr(view *v, cJSON *obj, const char *key) {
  return added(v, cJSON_AddArrayToObject(obj, key));
}

cJSON *view_push(view *v, cJSON *arr) {
  cJSON *o = cJSON_CreateObject();
  if(o && !cJSON_AddItemToArray(arr, o)) {
    cJSON_Delete(o);
    o = NULL;
  }
  return added(v, o);
}

sqr_rc view_render(view *v, const char *name, dynbuf *out) {
  sqr_rc rc = v->failed ? SQR_ENOMEM : tmpl_render(name, v->root, out);
  cJSON_Delete(v->root);
  v->root = NULL;
  return rc;
}
