/* hqdb_auth.h — storage of the dashboard's admin accounts, their
 * sessions and the login throttle.
 *
 * Passwords are kept only as PBKDF2 hashes (pin.h's format), sessions only
 * as SHA-256 of their id. Typed calls only: no HTTP, no JSON.
 */
#ifndef SQR_HQDB_AUTH_H
#define SQR_HQDB_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include "hqdb.h"
#include "sqr.h"

/* SQR_EEXISTS (add of a taken name), SQR_ENOTFOUND (passwd/remove of an
 * unknown one). hash: pin.h's "pbkdf2-sha256$..." string. */
sqr_rc hqdb_admin_add(hqdb *db, const char *name, const char *hash, int64_t now_ms) SQR_WARN_UNUSED;
sqr_rc hqdb_admin_passwd(hqdb *db, const char *name, const char *hash) SQR_WARN_UNUSED;
/* Also ends the admin's sessions. */
sqr_rc hqdb_admin_remove(hqdb *db, const char *name) SQR_WARN_UNUSED;
/* SQR_ENOTFOUND for an unknown name. */
sqr_rc hqdb_admin_hash(hqdb *db, const char *name, char *hash, size_t size) SQR_WARN_UNUSED;

sqr_rc hqdb_session_add(hqdb *db, const uint8_t id_hash[32], const char *admin, int64_t now_ms,
                        int64_t expires_ms) SQR_WARN_UNUSED;
/* The admin of a live session (expires_ms > now_ms). SQR_ENOTFOUND. */
sqr_rc hqdb_session_get(hqdb *db, const uint8_t id_hash[32], int64_t now_ms,
                        char admin[HQ_ID_MAX]) SQR_WARN_UNUSED;
/* Ends one session; also drops every expired one. */
sqr_rc hqdb_session_end(hqdb *db, const uint8_t id_hash[32], int64_t now_ms) SQR_WARN_UNUSED;

/* Counts one login attempt for key ("user:NAME", "ip:ADDR") in one
 * atomic statement, before any password is checked, and hands out what
 * it made: *count, the attempts in the window (window_ms since the first),
 * and *locked_until_ms (> now_ms while locked). The attempt past max
 * within the window locks the key for lock_ms; a lock or window that is
 * over starts again at 1. The caller checks a password only when
 * *count <= max and the key is not locked: across every process sharing
 * the database, at most max per key and window. */
sqr_rc hqdb_login_attempt(hqdb *db, const char *key, int64_t now_ms, int max, int64_t window_ms,
                          int64_t lock_ms, int64_t *count,
                          int64_t *locked_until_ms) SQR_WARN_UNUSED;
/* Forgets a key's attempts (a login that succeeded). */
sqr_rc hqdb_login_clear(hqdb *db, const char *key) SQR_WARN_UNUSED;

#endif
