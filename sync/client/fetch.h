/* fetch.h — update bundles HQ's configuration names (docs/CONFIG.md
 * "update"), fetched by the sync client at the end of a pass and handed
 * to storeqr-update, which alone checks the signature and installs.
 *
 * The updates directory (default: "updates" beside the kiosk database,
 * i.e. /var/lib/storeqr/updates) holds:
 *   <sha256>.bundle   a download whose SHA-256 and size matched the
 *                     configuration (written as <sha256>.bundle.tmp,
 *                     renamed after the check; never downloaded again
 *                     while it verifies)
 *   queued            "<sha256>\n": for storeqr-update-queue.path, which
 *                     runs `storeqr-update install-queued` as root
 *   result            "<sha256> ok|refused|failed ...": what the last
 *                     install of a bundle did (written by whoever ran
 *                     storeqr-update); a bundle that was refused or
 *                     rolled back is not handed over again
 *
 * Owns that directory. Never runs anything as root itself: the hand-over
 * is a file (or, where the operator says so, --update-cmd). A failure here
 * never fails the sync pass: it becomes a note in the attempt log.
 */
#ifndef SQR_SYNC_FETCH_H
#define SQR_SYNC_FETCH_H

#include <stddef.h>
#include "config.h"
#include "synchttp.h"
#include "sqr.h"

/* Free space kept on the data partition besides the bundle: the kiosk's
 * database must never be the one that runs out. */
#define FETCH_DISK_RESERVE (64ull * 1024 * 1024)

typedef struct fetch_opts {
  const char *dir;          /* the updates directory (created 0750) */
  const char *release_file; /* the running release's .storeqr-release
                               (default /opt/storeqr/current/.storeqr-release) */
  const char *update_cmd;   /* NULL: queue for the path unit; else a shell
                               command run with the bundle's path as $1 */
} fetch_opts;

/* The version this kiosk runs: the "version" line of the release file,
 * else the version this program was built as. */
void fetch_running_version(const char *release_file, char *out, size_t size);

/* Acts on cfg->update (nothing when absent, or not newer than the running
 * version unless HQ signed it as forced): download if needed, verify,
 * hand over. note gets one line for the attempt log ("" when there was
 * nothing to do). Returns SQR_OK when there was nothing to do or the
 * bundle was handed over; the error otherwise (the caller records it as a
 * note, the pass stays good). */
sqr_rc fetch_update(const sqr_config *cfg, synchttp *h, const fetch_opts *o, char *note,
                    size_t notelen) SQR_WARN_UNUSED;

#endif
