/* uitest.h — helpers for the kiosk UI tests: a demo store with test
 * settings, running storeqr-kiosk headless with a script, reading PNGs and
 * decoding their QR code with zbar, checking tokens. Failures print a
 * reason and exit 1 (each test is its own process). */
#ifndef SQR_UITEST_H
#define SQR_UITEST_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"

#define UT_PIN "2468"

typedef struct ut_store_opts {
  int direct;                 /* mode direct (QR = group link) */
  int group1_capacity;        /* 0 = as in the demo */
  const char *campaign_image; /* every campaign's image (assets-relative), NULL = as in the demo */
  uint32_t index_m_kib, index_t; /* Argon2id cost; 0 = cheap (64 KiB, t = 1) */
  int64_t version;               /* the configuration's version; 0 = 1 */
  int marketing; /* offer a marketing consent (version UT_MARKETING_VERSION); else none, whatever
                  * the demo offers */
  int no_age;    /* consent.age.required false */
} ut_store_opts;

#define UT_MARKETING_VERSION "mkt-2026"

extern const char *ut_kiosk; /* path of storeqr-kiosk */
extern const char *ut_dir;   /* this test's directory */

#define UT_CHECK(c, ...)                                                                           \
  do {                                                                                             \
    if(!(c)) {                                                                                     \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #c);                                 \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fprintf(stderr, "\n");                                                                       \
      exit(1);                                                                                     \
    }                                                                                              \
  } while(0)

/* Fresh directory for a test under the build dir; returns it (static). */
const char *ut_setup(const char *name);
/* Creates dir/kiosk.db with the demo store at unix time t (or applies a
 * new configuration to it: o->version above the one applied). */
void ut_make_store(const char *db, int64_t t, const ut_store_opts *o);
/* One more option (and its value) for the next ut_run calls, or NULL. */
extern const char *ut_extra_arg;
extern char *ut_extra_value;
/* Runs the kiosk headless on db with script text; returns its exit code. */
int ut_run(const char *db, const char *script, int64_t t, const char *size, const char *lang);

/* What else a kiosk run may need; zeroes mean "as ut_run". */
typedef struct ut_kiosk_opts {
  const char *size, *lang;
  int real_clock;          /* no --fixed-clock (t is ignored) */
  int no_script;           /* no --script: the kiosk runs until killed */
  const char *const *args; /* more arguments, NULL-terminated */
  const char *const *env;  /* "NAME=VALUE" set, "-NAME" removed; NULL-terminated */
  int stderr_fd;           /* > 0: the kiosk's stderr goes there */
} ut_kiosk_opts;
/* Starts the kiosk headless (script text unless o->no_script) without
 * waiting; returns its pid. */
int ut_spawn(const char *db, const char *script, int64_t t, const ut_kiosk_opts *o);
/* Waits for a spawned kiosk; its exit code (a signal fails the test). */
int ut_wait(int pid);
/* ut_spawn + ut_wait. */
int ut_run_opts(const char *db, const char *script, int64_t t, const ut_kiosk_opts *o);

/* A fake systemd notify socket: a unix datagram socket bound at addr, a
 * path or "@name" (abstract). Returns its descriptor. */
int ut_notify_bind(const char *addr);
/* One message into buf (NUL-terminated) within timeout_ms; 1 if one came. */
int ut_notify_recv(int fd, char *buf, size_t n, int timeout_ms);
/* Monotonic milliseconds. */
int64_t ut_mono_ms(void);
/* Decodes the one QR code in a PNG into out; returns the number of QR
 * codes zbar found (0 if none). *w, *h get the image size. */
int ut_decode_png(const char *path, char *out, size_t outlen, int *w, int *h);
/* Decodes QR codes in a grey image. */
int ut_decode_gray(const uint8_t *gray, int w, int h, char *out, size_t outlen);
/* Pixels of a PNG within tol of the colour r, g, b. */
int ut_png_count_rgb(const char *path, int r, int g, int b, int tol);
/* 1 if the two PNGs have identical pixels. */
int ut_png_equal(const char *a, const char *b);
/* The live code text at time t (live_current on a store at db). */
void ut_live_text(const char *db, int64_t t, char *out, size_t outlen);
/* Checks a live-code URL's token with the store key at time t. */
void ut_verify_url(const char *db, const char *url, int64_t t);
/* A window-aligned "now" (a few seconds into the current window). */
int64_t ut_now_aligned(void);
/* Today 08:00:02 in the demo store (UTC+8): the breakfast campaign's slot. */
#define UT_BREAKFAST(t) ((t) / 86400 * 86400 + 2)
/* The demo campaign image's orange (assets/images/breakfast.png). */
#define UT_ORANGE 0xF2, 0x8C, 0x28

#endif
