/* live.c — see live.h. */
#include "live.h"

#include <stdio.h>
#include <string.h>

sqr_rc live_current(store *st, live_view *out) {
  const sqr_config *cfg = store_config(st);
  memset(out, 0, sizeof *out);
  if(!cfg) return SQR_ENOTFOUND;
  out->mode = cfg->mode;
  sqr_rc rc = store_live_group(st, &out->group);
  if(rc) return rc;
  /* Direct mode always shows a link; in hq mode too, once no group has
   * room, the shopper is better served by the staff contact code than by a
   * resolver that can only say "full". */
  if(cfg->mode == CONFIG_MODE_DIRECT || out->group.exhausted) {
    snprintf(out->text, sizeof out->text, "%s", out->group.link);
    return SQR_OK;
  }
  livecode_key key;
  char token[LIVECODE_TOKEN_LEN + 1];
  int64_t now_ms = clock_now_ms(store_clock(st));
  int64_t now = now_ms / 1000;
  rc = livecode_key_set(&key, cfg->token_key, (uint8_t)cfg->key_version);
  if(!rc)
    rc = livecode_mint(&key, cfg->store_id, (uint16_t)cfg->kiosk_number, now, cfg->period_s, token);
  livecode_key_wipe(&key);
  if(!rc) rc = livecode_url(cfg->resolver_host, cfg->store_id, token, out->text, sizeof out->text);
  if(rc) return rc;
  out->window = now / cfg->period_s;
  out->next_change_ms = (out->window + 1) * (int64_t)cfg->period_s * 1000;
  return SQR_OK;
}
