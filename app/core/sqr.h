/* sqr.h — the one result type of StoreQR, and the few assertion helpers.
 *
 * Every fallible function in the project returns an sqr_rc and hands its
 * results out through pointer arguments. Codes from SQLite, mbedtls, cJSON
 * (and later curl) are translated into these at the module edge, after the
 * original is logged, so the rest of the program speaks one language.
 * This header includes nothing but the C library: every module may use it.
 */
#ifndef SQR_H
#define SQR_H

#include <stddef.h>
#include <stdint.h>

typedef enum sqr_rc {
  SQR_OK = 0,
  SQR_ENOMEM,    /* allocation failed */
  SQR_EIO,       /* file or database I/O failed */
  SQR_EINVAL,    /* bad input from a person, a file or the network */
  SQR_ECORRUPT,  /* stored data is damaged, or is not ours */
  SQR_ENOSPC,    /* disk (or the database's page limit) is full */
  SQR_EVERSION,  /* data written by a newer StoreQR */
  SQR_ENOTFOUND, /* no such member, group, key, ... */
  SQR_EEXISTS,   /* already there (e.g. already checked in today) */
  SQR_EAUTH,     /* signature, MAC or credential did not verify */
  SQR_EEXPIRED,  /* valid once, but no longer (token window, coupon) */
  SQR_ECONSENT,  /* the shopper did not consent: nothing may be recorded */
  SQR_EBUSY,     /* the database stayed locked past the busy timeout */
  SQR_ENET,      /* network failure (sync only) */
  SQR_EPROTO,    /* the peer broke the protocol (sync only) */
  SQR_ECRYPTO,   /* a crypto primitive failed unexpectedly */
  SQR_ETOOBIG,   /* past a hard size limit (a buffer, a body, an answer) */
  SQR_ERC_COUNT
} sqr_rc;

#if defined(__GNUC__)
#define SQR_WARN_UNUSED  __attribute__((warn_unused_result))
#define SQR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SQR_NORETURN     __attribute__((noreturn))
#else
#define SQR_WARN_UNUSED
#define SQR_PRINTF(f, a)
#define SQR_NORETURN
#endif

/* Exit codes shared by every StoreQR program, so a script or systemd sees
 * the same number for the same trouble whichever program it ran. */
enum sqr_exit {
  SQR_EXIT_DONE = 0,
  SQR_EXIT_REFUSED = 1, /* the rules or HQ said no */
  SQR_EXIT_USAGE = 2,   /* usage or bad input */
  SQR_EXIT_DATA = 3,    /* database unusable: corrupt, foreign, newer */
  SQR_EXIT_IO = 4,      /* I/O error, disk full, out of memory, busy */
  SQR_EXIT_NET = 5,     /* network */
  SQR_EXIT_PROTO = 6    /* the peer broke the protocol */
};

/* The exit code for a result. */
int sqr_exit_code(sqr_rc rc);

/* A short, stable English description of rc ("disk full"). Never NULL. */
const char *sqr_strerror(sqr_rc rc);

/* Logs file, line and reason at the fatal level, then aborts, so systemd
 * restarts the process with the evidence in the journal. */
SQR_NORETURN void sqr__fatal(const char *file, int line, const char *expr);

/* An invariant that must hold even in release builds. */
#define SQR_CHECK(e) ((e) ? (void)0 : sqr__fatal(__FILE__, __LINE__, #e))

#define SQR_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif /* SQR_H */
