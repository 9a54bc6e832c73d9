/* sqr.c — result strings and the fatal-check path. */
#include "sqr.h"
#include "log.h"

#include <stdlib.h>

static const char *const messages[SQR_ERC_COUNT] = {
    [SQR_OK] = "ok",
    [SQR_ENOMEM] = "out of memory",
    [SQR_EIO] = "input/output error",
    [SQR_EINVAL] = "invalid input",
    [SQR_ECORRUPT] = "data is corrupt or not a StoreQR file",
    [SQR_ENOSPC] = "disk full",
    [SQR_EVERSION] = "written by a newer StoreQR version",
    [SQR_ENOTFOUND] = "not found",
    [SQR_EEXISTS] = "already exists",
    [SQR_EAUTH] = "signature or credential did not verify",
    [SQR_EEXPIRED] = "expired",
    [SQR_ECONSENT] = "consent is required",
    [SQR_EBUSY] = "database is busy",
    [SQR_ENET] = "network error",
    [SQR_EPROTO] = "protocol error",
    [SQR_ECRYPTO] = "cryptographic failure",
    [SQR_ETOOBIG] = "too large",
};

const char *sqr_strerror(sqr_rc rc) {
  if((int)rc < 0 || rc >= SQR_ERC_COUNT || !messages[rc]) return "unknown error";
  return messages[rc];
}

int sqr_exit_code(sqr_rc rc) {
  switch(rc) {
  case SQR_OK:
    return SQR_EXIT_DONE;
  case SQR_EINVAL:
    return SQR_EXIT_USAGE;
  case SQR_ECORRUPT:
  case SQR_EVERSION:
    return SQR_EXIT_DATA;
  case SQR_EIO:
  case SQR_ENOSPC:
  case SQR_ENOMEM:
  case SQR_EBUSY:
  case SQR_ETOOBIG:
    return SQR_EXIT_IO;
  case SQR_ENET:
    return SQR_EXIT_NET;
  case SQR_EPROTO:
    return SQR_EXIT_PROTO;
  default:
    return SQR_EXIT_REFUSED;
  }
}

void sqr__fatal(const char *file, int line, const char *expr) {
  log_write(LOG_FATAL, "assert", "%s:%d: check failed: %s", file, line, expr);
  abort();
}
