/* release.h — HQ's kiosk releases (issue 6): signed update bundles an
 * operator adds with `storeqr-hq release add`, which stores run which, and
 * the bundle files kiosks download (hq_release_open; the route is
 * web/device.c's GET /v1/bundles/).
 *
 * On disk, in HQ's directory:
 *   bundles/<sha256>.bundle   each bundle, byte for byte, named by the
 *                             SHA-256 of the whole file
 *   releases.json             the record, append-only:
 *     {"releases":[{"serial":1,"product","version","sha256","size",
 *                   "forced","forced_from","forced_until" (forced only:
 *                   the one version it replaces, unix seconds it expires),
 *                   "stores":[...] (absent: every store), "added_ms"}]}
 * A store runs the last release whose "stores" names it (or every store),
 * so a pilot goes to a few stores first and a later release for all
 * supersedes it; rolling back is adding an older bundle signed as forced
 * (bound to the version it replaces and an expiry, bundle.h: HQ refuses
 * an old-format forced bundle and an expired one, as boxes would).
 * Each release naming a store also bumps that store's configuration
 * version (hq_config_doc adds the count), so kiosks pull the new document.
 *
 * Owns those files; written atomically (temp file, fsync, rename) under a
 * lock, so `release add` may run while `serve` reads them. Never serves a
 * path built from request bytes beyond the strict name check.
 */
#ifndef SQR_HQ_RELEASE_H
#define SQR_HQ_RELEASE_H

#include <stddef.h>
#include <stdint.h>
#include "hq.h"
#include "sqr.h"

#define HQ_RELEASE_PRODUCT "storeqr-kiosk" /* the only product kiosks install */
#define HQ_RELEASES_MAX    10000           /* records in releases.json */

typedef struct hq_release {
  int64_t serial; /* 1, 2, ...: the order releases were added */
  char product[33];
  char version[33];
  char sha256[65]; /* lower-case hex of the whole bundle file */
  uint64_t size;
  int forced;
  char forced_from[33]; /* forced only: the version it may replace */
  int64_t forced_until; /* forced only: unix seconds, the last it installs */
} hq_release;

/* Verifies the bundle at path against the update public key in pub_path
 * (the same check a box makes; a bundle boxes would refuse is refused
 * here), copies it to bundles/<sha256>.bundle and records a release for
 * stores (comma-separated store ids, each must exist; NULL: every store).
 * Adding the same bundle again for other stores is a new record.
 * Errors with a sentence in err: SQR_EINVAL (bad store list, not a kiosk
 * bundle, a forced bundle boxes would refuse: old format or expired),
 * SQR_EAUTH / SQR_ECORRUPT (signature, framing, entries), SQR_EIO. */
sqr_rc hq_release_add(hq *h, const char *path, const char *pub_path, const char *stores,
                      hq_release *out, char *err, size_t errlen) SQR_WARN_UNUSED;

/* The release store sid should run, and how many releases have named it
 * (*count, 0 when none: the bump to its configuration version).
 * SQR_ENOTFOUND when no release names it (*count is then 0);
 * SQR_ECORRUPT / SQR_EIO when releases.json cannot be read. */
sqr_rc hq_release_for_store(hq *h, const char *sid, hq_release *out, int64_t *count, char *err,
                            size_t errlen) SQR_WARN_UNUSED;

/* Opens bundles/<name> for kiosk_id to download (name: 64 lower-case hex
 * digits and ".bundle"; nothing else from the request reaches a path).
 * *fd: read-only, the caller closes it; *size its bytes. Errors:
 * SQR_EINVAL "bad_request", SQR_ENOTFOUND "not_found". */
sqr_rc hq_release_open(hq *h, const char *kiosk_id, const char *name, int *fd, uint64_t *size,
                       hq_err *e) SQR_WARN_UNUSED;

#endif
