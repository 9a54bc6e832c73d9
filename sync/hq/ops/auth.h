/* auth.h — who may read HQ's figures: the admin bearer token (hq.h's
 * hq_admin_ok) or a dashboard session.
 *
 * Admins are named accounts (`storeqr-hq admin add|passwd|remove`) with
 * PBKDF2-SHA256 password hashes (pin.h's format, fresh 16-byte salt,
 * AUTH_ITERATIONS). Every login attempt is counted, before any hashing,
 * in one atomic statement in the shared database (hqdb_login_attempt):
 * per client address, AUTH_MAX_FAILURES attempts within AUTH_WINDOW_MS
 * are checked and the next locks the address for AUTH_LOCK_MS; per user
 * name the same with AUTH_USER_MAX_FAILURES, much higher, so that an
 * outsider's few tries lock out their own address, not the admin. However
 * many HQ processes share the database, no more passwords are checked per
 * key and window than that. A login that succeeds clears both counts.
 * A session is 32 random bytes sent once as a cookie (hex); HQ keeps only
 * SHA-256 of it, with an expiry. POSTs must carry an Origin (or Referer)
 * of this HQ (CSRF), on top of the cookie's SameSite=Strict.
 *
 * Never logs a password, a cookie or a session id.
 */
#ifndef SQR_AUTH_H
#define SQR_AUTH_H

#include "hqdb.h"
#include "hq.h"

/* __Host-: the browser keeps it only if Secure, Path=/ and no Domain */
#define AUTH_COOKIE       "__Host-sqr_session"
#define AUTH_SESSION_MS   (8LL * 3600 * 1000)
#define AUTH_ITERATIONS   100000
#define AUTH_MAX_FAILURES 5 /* per client address */
/* per user name, from any address: 20 addresses' worth of tries */
#define AUTH_USER_MAX_FAILURES 100
#define AUTH_WINDOW_MS         (15LL * 60 * 1000)
#define AUTH_LOCK_MS           (15LL * 60 * 1000)
#define AUTH_PASSWORD_MIN      8
#define AUTH_PASSWORD_MAX      256

/* 1..32 of A-Z a-z 0-9 . _ - */
int auth_name_valid(const char *name);

/* add: a new admin (SQR_EEXISTS if taken); else a new password
 * (SQR_ENOTFOUND). SQR_EINVAL for a bad name or a password outside
 * [AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX] bytes. */
sqr_rc auth_admin_set(hq *h, const char *name, const char *password, int add) SQR_WARN_UNUSED;
/* Removes an admin and ends their sessions. SQR_ENOTFOUND. */
sqr_rc auth_admin_remove(hq *h, const char *name) SQR_WARN_UNUSED;

/* Checks a login. SQR_OK: session_hex (65 bytes) is the new session's
 * cookie value. SQR_EAUTH: wrong name or password. SQR_EBUSY: the
 * address or the name is locked (no password checked), *retry_after_s set. SQR_EIO: storage. */
sqr_rc auth_login(hq *h, const char *name, const char *password, const char *client,
                  char session_hex[65], int64_t *retry_after_s) SQR_WARN_UNUSED;
/* The admin of a session cookie's value (64 hex digits); 0 when it names
 * no live session. */
int auth_session(hq *h, const char *cookie, char admin[HQ_ID_MAX]);
/* Ends the session a cookie's value names (if any). */
void auth_logout(hq *h, const char *cookie);

#endif
