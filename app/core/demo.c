/* demo.c — see demo.h. */
#include "demo.h"
#include "crypto.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static void set_string(cJSON *obj, const char *name, const char *value) {
  cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
  cJSON_AddStringToObject(obj, name, value);
}

static void set_number(cJSON *obj, const char *name, double value) {
  cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
  cJSON_AddNumberToObject(obj, name, value);
}

static cJSON *object_in(cJSON *parent, const char *name) {
  cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, name);
  if(cJSON_IsObject(o)) return o;
  cJSON_DeleteItemFromObjectCaseSensitive(parent, name);
  o = cJSON_CreateObject();
  cJSON_AddItemToObject(parent, name, o);
  return o;
}

/* keys[name] = base64 of 32 bytes; the text is wiped from the stack (the
 * document itself is the caller's to protect). */
static sqr_rc set_key(cJSON *obj, const char *name, const uint8_t key[32]) {
  char b64[64];
  sqr_rc rc = crypto_b64(key, 32, b64, sizeof b64);
  if(!rc) set_string(obj, name, b64);
  crypto_wipe(b64, sizeof b64);
  return rc;
}

sqr_rc demo_keys_random(demo_keys *k) {
  sqr_rc rc = crypto_random(k->store_key, sizeof k->store_key);
  if(!rc) rc = crypto_random(k->token_key, sizeof k->token_key);
  if(!rc) rc = crypto_random(k->coupon_key, sizeof k->coupon_key);
  if(!rc) rc = crypto_random(k->index_key, sizeof k->index_key);
  if(!rc) rc = crypto_random(k->legacy_index_key, sizeof k->legacy_index_key);
  return rc;
}

static sqr_rc fill_keys(cJSON *keys, const demo_keys *k) {
  char pb64[128];
  sqr_rc rc = crypto_b64(k->hq_pub, 65, pb64, sizeof pb64);
  if(rc) return rc;
  set_string(keys, "hq_public", pb64);
  if(k->legacy) {
    static const char *const newer[] = {"token_key", "coupon_key", "index", "legacy_index_key",
                                        "legacy_index_until"};
    for(size_t i = 0; i < sizeof newer / sizeof *newer; i++)
      cJSON_DeleteItemFromObjectCaseSensitive(keys, newer[i]);
    return set_key(keys, "store_key", k->store_key);
  }
  cJSON_DeleteItemFromObjectCaseSensitive(keys, "store_key");
  rc = set_key(keys, "token_key", k->token_key);
  if(!rc) rc = set_key(keys, "coupon_key", k->coupon_key);
  if(rc) return rc;
  cJSON *index = object_in(keys, "index");
  if(!cJSON_GetObjectItemCaseSensitive(index, "alg")) set_string(index, "alg", "argon2id");
  if(k->index_m_kib) set_number(index, "m_kib", k->index_m_kib);
  if(k->index_t) set_number(index, "t", k->index_t);
  if(k->index_p) set_number(index, "p", k->index_p);
  rc = set_key(index, "key", k->index_key);
  if(rc || !k->has_legacy_index) return rc;
  set_number(keys, "legacy_index_until", (double)k->legacy_index_until_ms);
  return set_key(keys, "legacy_index_key", k->legacy_index_key);
}

sqr_rc demo_config_json(const char *template_json, int64_t version, const demo_keys *k, int64_t now,
                        char **out) {
  *out = NULL;
  cJSON *root = cJSON_Parse(template_json);
  if(!root || !cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return SQR_EINVAL;
  }
  set_number(root, "version", (double)version);
  sqr_rc rc = fill_keys(object_in(root, "keys"), k);
  if(rc) {
    cJSON_Delete(root);
    return rc;
  }
  cJSON *groups = cJSON_GetObjectItemCaseSensitive(root, "groups");
  cJSON *g;
  int i = 0;
  cJSON_ArrayForEach(g, groups) {
    cJSON *exp = cJSON_GetObjectItemCaseSensitive(g, "expires_at");
    if(cJSON_IsNumber(exp) && exp->valuedouble == 0)
      set_number(g, "expires_at", (double)(now + (6 + i) * 86400));
    i++;
  }
  *out = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  return *out ? SQR_OK : SQR_ENOMEM;
}
