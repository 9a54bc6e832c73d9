/* atomicfile.h — writing a file whole or not at all.
 *
 * Every program that replaces a file a reader or a power cut may catch
 * half-written (the kiosk's key and certificate, the update queue and its
 * answer, a slot's release file, a downloaded or packed bundle) goes
 * through here: a temporary file PATH.tmp in the same directory, created
 * with O_CREAT|O_EXCL|O_NOFOLLOW (a link planted at that name is removed,
 * never followed), written in full, given exactly the caller's mode (the
 * umask does not narrow it), fsynced, closed (close is checked), renamed
 * over PATH, then the directory fsynced. A reader sees the old file or the
 * whole new one; after a crash, PATH.tmp may be left and the next write to
 * PATH replaces it.
 *
 * The temporary name is fixed, so two processes writing one PATH at the
 * same moment must serialise themselves (a lock); everything in StoreQR
 * has one writer per file.
 *
 * Errors keep the FIRST failure: removing the temporary file afterwards
 * never overwrites why it failed. ENOSPC and EDQUOT are SQR_ENOSPC,
 * anything else SQR_EIO; on failure errno holds that first error too, and
 * err (when given) a sentence naming the path. On failure the temporary
 * file is gone and PATH is as it was (except when only the final
 * directory fsync failed: PATH is then new but perhaps not yet durable).
 *
 * Owns only the temporary file and its descriptor. Never logs (callers
 * decide how loud a failure is) and never reads what it writes.
 */
#ifndef SQR_ATOMICFILE_H
#define SQR_ATOMICFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "sqr.h"

/* Flags for atomicfile_write and atomicfile_open. */
#define ATOMICFILE_NOREPLACE                                                                       \
  0x1u /* PATH must not exist: SQR_EEXISTS if it does                                              \
          (the new file is linked in, not renamed) */

/* Writes len bytes of data to path, whole or not at all (see above).
 * SQR_ENOSPC, SQR_EIO, SQR_EEXISTS (ATOMICFILE_NOREPLACE and path exists),
 * SQR_ENOMEM; err (may be NULL) gets the reason with the path. */
sqr_rc atomicfile_write(const char *path, const void *data, size_t len, mode_t mode, unsigned flags,
                        char *err, size_t errlen) SQR_WARN_UNUSED;

/* The streaming form, for files written piece by piece (a download, a
 * bundle being packed): open, write through atomicfile_append /
 * atomicfile_write_at or straight to atomicfile_fd, then exactly one of
 * atomicfile_commit or atomicfile_abort, which both free f. */
typedef struct atomicfile atomicfile;

/* Creates path's temporary file (mode as above). Errors as
 * atomicfile_write; *out is NULL on failure. */
sqr_rc atomicfile_open(const char *path, mode_t mode, unsigned flags, atomicfile **out, char *err,
                       size_t errlen) SQR_WARN_UNUSED;

/* The temporary file's descriptor, positioned where the next append goes.
 * Borrowed: never close it. A caller that writes to it directly and fails
 * calls atomicfile_abort and reports its own error. */
int atomicfile_fd(const atomicfile *f);

/* Appends n bytes (short writes and EINTR retried). The error is sticky,
 * as in dynbuf: after the first failure every write is a no-op returning
 * it, and atomicfile_commit reports it. */
sqr_rc atomicfile_append(atomicfile *f, const void *p, size_t n) SQR_WARN_UNUSED;

/* Writes n bytes at offset off without moving the append position (a
 * header filled in last). Sticky like atomicfile_append. */
sqr_rc atomicfile_write_at(atomicfile *f, uint64_t off, const void *p, size_t n) SQR_WARN_UNUSED;

/* The first failure of f so far (SQR_OK if none), with err (may be NULL)
 * as atomicfile_write; f stays open. For a writer that must stop at a
 * failed append and say why before it aborts. */
sqr_rc atomicfile_error(const atomicfile *f, char *err, size_t errlen);

/* fsync, close, rename (or link, with ATOMICFILE_NOREPLACE) over the path,
 * fsync the directory. Frees f whatever happens; on failure the temporary
 * file is removed. Returns the first error of the whole life of f (a
 * failed append included), with err as atomicfile_write. */
sqr_rc atomicfile_commit(atomicfile *f, char *err, size_t errlen) SQR_WARN_UNUSED;

/* Removes the temporary file and frees f; path is untouched. NULL is fine.
 * Leaves errno as it found it, so a caller may report errno after. */
void atomicfile_abort(atomicfile *f);

#endif /* SQR_ATOMICFILE_H */
