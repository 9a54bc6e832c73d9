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

sqr_rc demo_config_json(const char *template_json, int64_t version, const uint8_t store_key[32],
                        const uint8_t hq_pub[65], int64_t now, char **out) {
  char kb64[64], pb64[128];
  sqr_rc rc = crypto_b64(store_key, 32, kb64, sizeof kb64);
  if(!rc) rc = crypto_b64(hq_pub, 65, pb64, sizeof pb64);
  if(rc) return rc;
  cJSON *root = cJSON_Parse(template_json);
  if(!root || !cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return SQR_EINVAL;
  }
  set_number(root, "version", (double)version);
  cJSON *keys = cJSON_GetObjectItemCaseSensitive(root, "keys");
  if(!cJSON_IsObject(keys)) {
    keys = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "keys", keys);
  }
  set_string(keys, "store_key", kb64);
  set_string(keys, "hq_public", pb64);
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
  crypto_wipe(kb64, sizeof kb64);
  return *out ? SQR_OK : SQR_ENOMEM;
}
