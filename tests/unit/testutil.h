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

/* path joined into a static buffer (two rotate, so two may be live). */
const char *tu_path(const char *dir, const char *file);

/* 1 if the file at path contains the byte string needle. */
int tu_file_contains(const char *path, const void *needle, size_t n);



/* A demo store for tests: fresh HQ key pair and store key, the demo
 * template from assets/config, version v, group expiries relative to now
 * (unix seconds). Returned JSON is malloc'ed. */
typedef struct tu_keys {
  uint8_t hq_pub[65], hq_priv[32], store_key[32];
} tu_keys;
void tu_make_keys(tu_keys *k);
char *tu_demo_config(const tu_keys *k, int64_t version, int64_t now);
#endif
