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

#endif
