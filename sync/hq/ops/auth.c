/* auth.c — see auth.h. */
#include "auth.h"
#include "hq_int.h"

#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "log.h"
#include "pin.h"
#include "hqdb_auth.h"

int auth_name_valid(const char *name) {
  size_t n = name ? strlen(name) : 0;
  if(n < 1 || n > 32) return 0;
  for(size_t i = 0; i < n; i++) {
    char ch = name[i];
    if(!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '.' || ch == '_' || ch == '-'))
      return 0;
  }
  return 1;
}

sqr_rc auth_admin_set(hq *h, const char *name, const char *password, int add) {
  size_t n = password ? strlen(password) : 0;
  if(!auth_name_valid(name) || n < AUTH_PASSWORD_MIN || n > AUTH_PASSWORD_MAX) return SQR_EINVAL;
  char hash[PIN_HASH_MAX];
  sqr_rc rc = pin_hash(password, AUTH_ITERATIONS, hash);
  if(rc) return rc;
  return add ? hqdb_admin_add(h->db, name, hash, hq_now_ms())
             : hqdb_admin_passwd(h->db, name, hash);
}

sqr_rc auth_admin_remove(hq *h, const char *name) {
  if(!auth_name_valid(name)) return SQR_ENOTFOUND;
  return hqdb_admin_remove(h->db, name);
}

/* A hash to check unknown names against, so a wrong name costs the same
 * PBKDF2 time as a wrong password (no user enumeration by timing). */
static const char *dummy_hash(void) {
  static char hash[PIN_HASH_MAX];
  if(!hash[0] && pin_hash("storeqr-no-such-admin", AUTH_ITERATIONS, hash)) hash[0] = '\0';
  return hash;
}

/* Counts one attempt for key and says whether a password may be checked:
 * 1 yes; 0 locked (*until: when it ends, at least now + 1 s); -1 storage. */
static int attempt(hq *h, const char *key, int max, int64_t now, int64_t *until) {
  int64_t count = 0, locked = 0;
  if(hqdb_login_attempt(h->db, key, now, max, AUTH_WINDOW_MS, AUTH_LOCK_MS, &count, &locked))
    return -1;
  if(locked > now) {
    *until = locked;
    return 0;
  }
  if(count > max) { /* cannot happen (the attempt past max locks); stay shut */
    *until = now + AUTH_LOCK_MS;
    return 0;
  }
  return 1;
}

sqr_rc auth_login(hq *h, const char *name, const char *password, const char *client,
                  char session_hex[65], int64_t *retry_after_s) {
  char ukey[64], ikey[96];
  int64_t now = hq_now_ms();
  sqr_rc rc;
  session_hex[0] = '\0';
  *retry_after_s = 0;
  snprintf(ukey, sizeof ukey, "user:%.40s", auth_name_valid(name) ? name : "?");
  snprintf(ikey, sizeof ikey, "ip:%.80s", client);
  /* Each attempt is counted before any hashing, address first: a locked
   * address neither checks a password nor counts against the name, so it
   * cannot help lock an admin out. */
  int64_t until = 0;
  int ok_ip = attempt(h, ikey, AUTH_MAX_FAILURES, now, &until);
  int ok_user = ok_ip == 1 ? attempt(h, ukey, AUTH_USER_MAX_FAILURES, now, &until) : ok_ip;
  if(ok_user < 0) return SQR_EIO;
  if(!ok_user) {
    *retry_after_s = (until - now + 999) / 1000;
    log_warn("dash", "login refused (locked) from %s", client);
    return SQR_EBUSY;
  }
  char stored[PIN_HASH_MAX] = "";
  int known = 0;
  if(auth_name_valid(name)) {
    rc = hqdb_admin_hash(h->db, name, stored, sizeof stored);
    if(rc && rc != SQR_ENOTFOUND) return SQR_EIO;
    known = !rc;
  }
  size_t plen = password ? strlen(password) : 0;
  int ok = 0;
  if(plen >= 1 && plen <= AUTH_PASSWORD_MAX) {
    /* pin_verify compares in constant time; an unknown name runs the
     * same PBKDF2 against a dummy */
    sqr_rc v = pin_verify(known ? stored : dummy_hash(), password);
    ok = known && v == SQR_OK;
  }
  /* one line per password checked (tests count them) */
  if(!ok) {
    log_warn("dash", "failed login for an admin name from %s", client);
    return SQR_EAUTH;
  }
  uint8_t id[32], idh[32];
  if(crypto_random(id, sizeof id) || crypto_sha256(id, sizeof id, idh)) return SQR_EIO;
  if(hqdb_session_add(h->db, idh, name, now, now + AUTH_SESSION_MS) ||
     hqdb_login_clear(h->db, ukey) || hqdb_login_clear(h->db, ikey)) {
    crypto_wipe(id, sizeof id);
    return SQR_EIO;
  }
  crypto_hex(id, sizeof id, session_hex);
  crypto_wipe(id, sizeof id);
  log_info("dash", "admin %s logged in from %s", name, client);
  return SQR_OK;
}

/* SHA-256 of the cookie value's 32 bytes; 0 when it is not well formed. */
static int cookie_hash(const char *v, uint8_t idh[32]) {
  uint8_t id[32];
  if(!v || strlen(v) != 64 || crypto_unhex(v, id, sizeof id)) return 0;
  int ok = !crypto_sha256(id, sizeof id, idh);
  crypto_wipe(id, sizeof id);
  return ok;
}

int auth_session(hq *h, const char *cookie, char admin[HQ_ID_MAX]) {
  uint8_t idh[32];
  admin[0] = '\0';
  if(!cookie_hash(cookie, idh)) return 0;
  return hqdb_session_get(h->db, idh, hq_now_ms(), admin) == SQR_OK;
}

void auth_logout(hq *h, const char *cookie) {
  uint8_t idh[32];
  if(cookie_hash(cookie, idh) && hqdb_session_end(h->db, idh, hq_now_ms()))
    log_error("dash", "cannot end a session: %s", hqdb_errmsg(h->db));
}
