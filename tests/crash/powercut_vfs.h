/* powercut_vfs.h — an SQLite VFS for tests that models a disk with a
 * volatile write cache, and pulls the plug on it.
 *
 * It wraps the default VFS (unix) and keeps, per database, WAL or journal
 * file, what the page cache holds: reads and sizes see every write, but a
 * write or truncate only reaches the real file when SQLite syncs that file
 * (xSync applies the pending writes in order, then calls the real sync).
 * At a chosen operation the power fails: each still-pending write reaches
 * the real file or not at random (a surviving one possibly torn at 512-byte
 * sectors), a file created since start whose name was never synced may
 * vanish, and the process _exit()s at once. What is left on disk is what a
 * machine that lost power could find after reboot; reopen it with the plain
 * VFS to see what survived.
 *
 * The model, and where it stops:
 *   - A write only ever changes its own bytes, also when torn, so the VFS
 *     still reports SQLITE_IOCAP_POWERSAFE_OVERWRITE (as unix does, and the
 *     kiosk relies on); it claims no atomic or sequential writes and no
 *     safe append.
 *   - A file's name becomes durable at its first real sync when the real
 *     VFS syncs the directory then (unix does for a -wal or -journal it was
 *     asked to create); a database file created in this process never does.
 *   - Deleting a file is durable at once (the kiosk in WAL mode deletes
 *     nothing while it runs: SQLite removes the -wal only when the last
 *     connection closes after a full checkpoint).
 *   - Shared memory (-shm) passes through untouched; its contents after a
 *     crash are the rebooted reader's to distrust (tests damage or remove
 *     it before reopening).
 *   - Temporary files pass through: they do not outlive a crash anyway.
 * Memory-mapped I/O is not offered (io methods version 2), so every read
 * goes through the cache model.
 *
 * Test code only: single-threaded, one install per process, memory it
 * holds is freed by the _exit that ends the process.
 */
#ifndef SQR_POWERCUT_VFS_H
#define SQR_POWERCUT_VFS_H

#include <stdint.h>

/* What the power cut did; handed to powercut_opts.on_cut. */
typedef struct powercut_cut {
  uint64_t op;       /* operations counted, the failing one included */
  int in_db;         /* it failed on the main database file (a checkpoint) */
  uint64_t pending;  /* writes and truncates not yet synced */
  uint64_t dropped;  /* ... of which never reached the disk */
  uint64_t torn;     /* ... of which reached it only in part */
  uint64_t vanished; /* new files whose name was never synced, gone */
} powercut_cut;

typedef struct powercut_opts {
  /* The power fails just before the cut_at-th write, truncate or sync of a
   * database, WAL or journal file (1 = the first), or before the
   * cut_at_db-th of them on a main database file, whichever comes first;
   * 0 = never. */
  uint64_t cut_at, cut_at_db;
  uint64_t seed;     /* picks what survives the cut */
  unsigned keep_pct; /* 0..100: chance a pending write reached the disk */
  unsigned tear_pct; /* 0..100: chance a write that did was torn */
  int nosync;        /* xSync keeps writes pending: a disk ignoring flushes */
  /* Called after the disk is settled, just before _exit(exit_code). */
  void (*on_cut)(const powercut_cut *cut, void *ud);
  void *ud;
  int exit_code;
} powercut_opts;

/* Registers the VFS "powercut" as the default, wrapping the default one of
 * the moment; opts is copied. Call once, before opening anything. Returns
 * an SQLite result code. */
int powercut_vfs_install(const powercut_opts *opts);

/* Writes, truncates and syncs counted so far. */
uint64_t powercut_vfs_ops(void);
#endif
