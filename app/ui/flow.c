/* flow.c — the one place a shopper's flows write: member_signup with what
 * the shopper typed and chose, member_withdraw_marketing with the number
 * typed, each given the blind index derived from the 11th digit on
 * (prefetch.h). Success goes to the result screen; any failure to the
 * error screen (nothing recorded), never to "done". */
#include <string.h>

#include "crypto.h"
#include "ui.h"

void ui_flow_signup(ui_app *app) {
  const sqr_config *cfg = store_config(app->st);
  if(!cfg) {
    ui_fail(app, "sign-up", SQR_ENOTFOUND);
    return;
  }
  member_signup_req req;
  memset(&req, 0, sizeof req);
  req.phone = app->flow.phone;
  req.consented = app->flow.consented;
  req.consent_version = cfg->consent_version;
  req.age_confirmed = app->flow.age_confirmed;
  /* Only a consent the configuration still offers (it may have been
   * reloaded since the consent screen). */
  req.marketing = app->flow.marketing && cfg->marketing_version[0];
  for(size_t i = 0; i < cfg->ntags && req.ntags < MEMBER_MAX_TAGS; i++)
    if(app->flow.tag_on[i]) req.tags[req.ntags++] = cfg->tags[i].id;
  if(app->flow.staff >= 0 && (size_t)app->flow.staff < cfg->nstaff)
    req.staff_id = cfg->staff[app->flow.staff].id;
  member_index idx;
  req.index = ui_flow_index(app, "sign-up", &idx);
  member_result r;
  sqr_rc rc = member_signup(app->st, &req, &r);
  crypto_wipe(&idx, sizeof idx);
  ui_flow_forget_phone(app);
  if(rc) {
    ui_fail(app, "sign-up", rc);
    return;
  }
  app->flow.result = r;
  app->flow.result_kind = r.returning ? UI_RESULT_WELCOME_BACK : UI_RESULT_JOINED;
  ui_go(app, UI_SCREEN_RESULT);
}

void ui_flow_withdraw(ui_app *app) {
  member_index idx;
  member_result r;
  sqr_rc rc = member_withdraw_marketing(app->st, app->flow.phone,
                                        ui_flow_index(app, "withdrawal", &idx), &r);
  crypto_wipe(&idx, sizeof idx);
  ui_flow_forget_phone(app);
  if(rc && rc != SQR_ENOTFOUND) {
    ui_fail(app, "marketing withdrawal", rc);
    return;
  }
  /* Nothing of the member is shown: done, or "not a member". */
  memset(&app->flow.result, 0, sizeof app->flow.result);
  app->flow.result_kind = rc ? UI_RESULT_WITHDRAW_NOT_MEMBER : UI_RESULT_WITHDRAWN;
  ui_go(app, UI_SCREEN_RESULT);
}
