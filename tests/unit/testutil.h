/* testutil.h — small helpers shared by the unit tests. */
#ifndef SQR_TESTUTIL_H
#define SQR_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* A fresh, empty directory under $SQR_TEST_TMP (or /tmp) for this test.
 * Returned string is static; valid until the next call. */
const char *tu_tmpdir(const char *name);

/* A fresh P-256 key (PEM, key_pem) and a certificate request for it
 * (PEM, csr_pem), as a kiosk makes at enrolment. */
void tu_make_csr(char key_pem[2048], char csr_pem[2048]);

/* path joined into a static buffer (two rotate, so two may be live). */
const char *tu_path(const char *dir, const char *file);

/* 1 if the file at path contains the byte string needle. */
int tu_file_contains(const char *path, const void *needle, size_t n);

/* A demo store for tests: fresh HQ key pair and kiosk keys, the demo
 * template from assets/config, version v, group expiries relative to now
 * (unix seconds). Returned JSON is malloc'ed. tu_make_keys picks a cheap
 * Argon2id cost (m_kib 64, t 1) so tests can sign many people up; a test
 * about the cost or the legacy form edits d before tu_demo_config. */
#include "demo.h"
typedef struct tu_keys {
  uint8_t hq_pub[65], hq_priv[32];
  demo_keys d; /* d.hq_pub is filled from hq_pub by tu_demo_config */
} tu_keys;
void tu_make_keys(tu_keys *k);
char *tu_demo_config(const tu_keys *k, int64_t version, int64_t now);

/* A fresh kiosk database in tu_tmpdir(name) on a fixed clock at t0_ms,
 * with the demo configuration applied at `version` (0: none applied). */
#include "store.h"
typedef struct tu_store {
  const char *dir;
  char path[600];
  sqr_clock *clock;
  store *st;
} tu_store;
tu_store *tu_store_new(const char *name, int64_t t0_ms, const tu_keys *k, int64_t version);
void tu_store_free(tu_store *f);
/* A sign-up request with consent to the demo's policy version. */
#include "member.h"
member_signup_req tu_signup_req(const char *phone);

/* Applies the demo configuration at version (group expiries from now_s). */
void tu_apply_demo(store *st, const tu_keys *k, int64_t version, int64_t now_s);
#endif
