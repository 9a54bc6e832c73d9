/* powercut_vfs.c — a disk with a volatile write cache under SQLite, and a
 * power cut (see powercut_vfs.h for the model).
 *
 * Each modelled file is a pc_disk: an in-memory image of what the page
 * cache holds (all reads and sizes come from it) and the list of writes
 * and truncates since its last sync, in order. The real file underneath is
 * the disk: it only ever holds synced data, plus whatever the cut lets
 * through. A pc_disk outlives the handles on it, as a page cache outlives
 * close(): pending writes of a closed file are still lost in a cut.
 */
#include "powercut_vfs.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECTOR 512 /* the unit a torn write survives in */

typedef struct pc_op {
  sqlite3_int64 off;
  int len;
  unsigned char *data; /* NULL: truncate to off */
} pc_op;

typedef struct pc_disk {
  struct pc_disk *next;
  char *path;
  int db;             /* the main database file */
  unsigned char *img; /* what reads see */
  sqlite3_int64 size;
  size_t cap;
  pc_op *ops; /* not yet durable, oldest first */
  size_t nops, opcap;
  int fresh;   /* created in this process; its directory entry not synced */
  int dirsync; /* the real VFS syncs the directory on the first sync */
  int refs;
  int unlinked; /* deleted while open: off the list, freed on last close */
} pc_disk;

typedef struct pc_file {
  sqlite3_file base;
  pc_disk *disk;      /* NULL: not modelled, every call passes through */
  sqlite3_file *real; /* the wrapped VFS's file, right after this struct */
} pc_file;

#define PC_FILE_SIZE ((sizeof(pc_file) + 7) & ~(size_t)7)

static sqlite3_vfs *real_vfs;
static sqlite3_vfs pc_vfs;
static powercut_opts opts;
static pc_disk *disks;
static uint64_t ops_done, db_ops_done;
static uint64_t rng;

/* xorshift64*, seeded from opts.seed: the same seed, the same survivors. */
static uint64_t rng_next(void) {
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 2685821657736338717ULL;
}

static int chance(unsigned pct) {
  return rng_next() % 100 < pct;
}

static int write_all(int fd, const unsigned char *p, size_t n, off_t off) {
  while(n > 0) {
    ssize_t w = pwrite(fd, p, n, off);
    if(w <= 0) return -1;
    p += w;
    n -= (size_t)w;
    off += w;
  }
  return 0;
}

/* The power fails: settle each file's pending writes by chance, then die
 * without syncing or closing anything. */
static void power_fail(int in_db) {
  powercut_cut cut = {.op = ops_done, .in_db = in_db};
  for(pc_disk *d = disks; d; d = d->next) {
    cut.pending += d->nops;
    if(d->fresh && chance(50)) {
      /* A name never synced into its directory: the file is gone. */
      if(unlink(d->path) == 0) cut.vanished++;
      cut.dropped += d->nops;
      continue;
    }
    int fd = d->nops ? open(d->path, O_WRONLY) : -1;
    for(size_t i = 0; i < d->nops; i++) {
      pc_op *op = &d->ops[i];
      if(fd < 0 || !chance(opts.keep_pct)) {
        cut.dropped++;
        continue;
      }
      if(!op->data) {
        if(ftruncate(fd, (off_t)op->off) != 0) _exit(4);
        continue;
      }
      if(!chance(opts.tear_pct)) {
        if(write_all(fd, op->data, (size_t)op->len, (off_t)op->off) != 0) _exit(4);
        continue;
      }
      /* Torn: each sector the write touches made it, or kept its old
       * bytes. Bytes outside the write never change (powersafe overwrite). */
      cut.torn++;
      sqlite3_int64 end = op->off + op->len;
      for(sqlite3_int64 at = op->off; at < end;) {
        sqlite3_int64 next = (at / SECTOR + 1) * SECTOR;
        if(next > end) next = end;
        if(chance(50) && write_all(fd, op->data + (at - op->off), (size_t)(next - at), (off_t)at))
          _exit(4);
        at = next;
      }
    }
  }
  if(opts.on_cut) opts.on_cut(&cut, opts.ud);
  _exit(opts.exit_code);
}

/* Counts a write, truncate or sync, and cuts the power on the chosen one. */
static void tick(pc_disk *d) {
  ops_done++;
  if(d->db) db_ops_done++;
  if((opts.cut_at && ops_done >= opts.cut_at) ||
     (opts.cut_at_db && d->db && db_ops_done >= opts.cut_at_db))
    power_fail(d->db);
}

static int img_reserve(pc_disk *d, sqlite3_int64 size) {
  if((size_t)size <= d->cap) return SQLITE_OK;
  size_t cap = d->cap ? d->cap : 65536;
  while(cap < (size_t)size)
    cap *= 2;
  unsigned char *p = realloc(d->img, cap);
  if(!p) return SQLITE_IOERR_NOMEM;
  d->img = p;
  d->cap = cap;
  return SQLITE_OK;
}

/* Sets the image's size, zero-filling what it grows by (as ftruncate and a
 * write past the end do). */
static int img_resize(pc_disk *d, sqlite3_int64 size) {
  int rc = img_reserve(d, size);
  if(rc) return rc;
  if(size > d->size) memset(d->img + d->size, 0, (size_t)(size - d->size));
  d->size = size;
  return SQLITE_OK;
}

static int push_op(pc_disk *d, sqlite3_int64 off, const void *data, int len) {
  if(d->nops == d->opcap) {
    size_t cap = d->opcap ? d->opcap * 2 : 64;
    pc_op *p = realloc(d->ops, cap * sizeof *p);
    if(!p) return SQLITE_IOERR_NOMEM;
    d->ops = p;
    d->opcap = cap;
  }
  pc_op op = {off, len, NULL};
  if(data) {
    op.data = malloc((size_t)len);
    if(!op.data) return SQLITE_IOERR_NOMEM;
    memcpy(op.data, data, (size_t)len);
  }
  d->ops[d->nops++] = op;
  return SQLITE_OK;
}

static void drop_ops(pc_disk *d, size_t from) {
  for(size_t i = from; i < d->nops; i++)
    free(d->ops[i].data);
  d->nops = from;
}

static void disk_free(pc_disk *d) {
  drop_ops(d, 0);
  free(d->ops);
  free(d->img);
  free(d->path);
  free(d);
}

static pc_disk *disk_find(const char *path) {
  for(pc_disk *d = disks; d; d = d->next)
    if(strcmp(d->path, path) == 0) return d;
  return NULL;
}

static void disk_unlist(pc_disk *d) {
  for(pc_disk **pp = &disks; *pp; pp = &(*pp)->next)
    if(*pp == d) {
      *pp = d->next;
      return;
    }
}

/* ---- io methods ---- */

static int pc_close(sqlite3_file *f) {
  pc_file *p = (pc_file *)f;
  int rc = p->real->pMethods ? p->real->pMethods->xClose(p->real) : SQLITE_OK;
  if(p->disk && --p->disk->refs == 0 && p->disk->unlinked) disk_free(p->disk);
  p->disk = NULL;
  return rc;
}

static int pc_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off) {
  pc_file *p = (pc_file *)f;
  pc_disk *d = p->disk;
  if(!d) return p->real->pMethods->xRead(p->real, buf, amt, off);
  sqlite3_int64 have = d->size - off;
  if(have >= amt) {
    memcpy(buf, d->img + off, (size_t)amt);
    return SQLITE_OK;
  }
  /* SQLite requires a short read to zero the rest of the buffer. */
  if(have < 0) have = 0;
  if(have) memcpy(buf, d->img + off, (size_t)have);
  memset((unsigned char *)buf + have, 0, (size_t)(amt - have));
  return SQLITE_IOERR_SHORT_READ;
}

static int pc_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off) {
  pc_file *p = (pc_file *)f;
  pc_disk *d = p->disk;
  if(!d) return p->real->pMethods->xWrite(p->real, buf, amt, off);
  tick(d);
  int rc = off + amt > d->size ? img_resize(d, off + amt) : SQLITE_OK;
  if(rc) return rc;
  memcpy(d->img + off, buf, (size_t)amt);
  return d->unlinked ? SQLITE_OK : push_op(d, off, buf, amt);
}

static int pc_truncate(sqlite3_file *f, sqlite3_int64 size) {
  pc_file *p = (pc_file *)f;
  pc_disk *d = p->disk;
  if(!d) return p->real->pMethods->xTruncate(p->real, size);
  tick(d);
  int rc = img_resize(d, size);
  if(rc) return rc;
  return d->unlinked ? SQLITE_OK : push_op(d, size, NULL, 0);
}

static int pc_sync(sqlite3_file *f, int flags) {
  pc_file *p = (pc_file *)f;
  pc_disk *d = p->disk;
  if(!d) return p->real->pMethods->xSync(p->real, flags);
  tick(d);
  if(opts.nosync) return SQLITE_OK; /* a disk that acknowledges and keeps caching */
  const sqlite3_io_methods *m = p->real->pMethods;
  for(size_t i = 0; i < d->nops; i++) {
    pc_op *op = &d->ops[i];
    int rc =
        op->data ? m->xWrite(p->real, op->data, op->len, op->off) : m->xTruncate(p->real, op->off);
    /* Replaying the whole list later gives the same file, so on failure
     * every op stays pending. */
    if(rc) return rc;
  }
  int rc = m->xSync(p->real, flags);
  if(rc) return rc;
  drop_ops(d, 0);
  if(d->dirsync) d->fresh = 0;
  return SQLITE_OK;
}

static int pc_file_size(sqlite3_file *f, sqlite3_int64 *size) {
  pc_file *p = (pc_file *)f;
  if(!p->disk) return p->real->pMethods->xFileSize(p->real, size);
  *size = p->disk->size;
  return SQLITE_OK;
}

static int pc_lock(sqlite3_file *f, int level) {
  pc_file *p = (pc_file *)f;
  return p->real->pMethods->xLock(p->real, level);
}

static int pc_unlock(sqlite3_file *f, int level) {
  pc_file *p = (pc_file *)f;
  return p->real->pMethods->xUnlock(p->real, level);
}

static int pc_check_reserved(sqlite3_file *f, int *out) {
  pc_file *p = (pc_file *)f;
  return p->real->pMethods->xCheckReservedLock(p->real, out);
}

static int pc_file_control(sqlite3_file *f, int op, void *arg) {
  pc_file *p = (pc_file *)f;
  /* Size hints make unix grow the real file behind the model's back; a
   * hint may be ignored. */
  if(p->disk && (op == SQLITE_FCNTL_SIZE_HINT || op == SQLITE_FCNTL_CHUNK_SIZE)) return SQLITE_OK;
  return p->real->pMethods->xFileControl(p->real, op, arg);
}

static int pc_sector_size(sqlite3_file *f) {
  pc_file *p = (pc_file *)f;
  return p->real->pMethods->xSectorSize(p->real);
}

static int pc_device_characteristics(sqlite3_file *f) {
  pc_file *p = (pc_file *)f;
  int dc = p->real->pMethods->xDeviceCharacteristics(p->real);
  /* Only what the model keeps true: a write changes nothing beyond its
   * own bytes. Atomic, sequential or safe-append writes it does not give. */
  return p->disk ? dc & SQLITE_IOCAP_POWERSAFE_OVERWRITE : dc;
}

static int pc_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp) {
  pc_file *p = (pc_file *)f;
  return p->real->pMethods->xShmMap(p->real, pg, pgsz, extend, pp);
}

static int pc_shm_lock(sqlite3_file *f, int offset, int n, int flags) {
  pc_file *p = (pc_file *)f;
  return p->real->pMethods->xShmLock(p->real, offset, n, flags);
}

static void pc_shm_barrier(sqlite3_file *f) {
  pc_file *p = (pc_file *)f;
  p->real->pMethods->xShmBarrier(p->real);
}

static int pc_shm_unmap(sqlite3_file *f, int delete_flag) {
  pc_file *p = (pc_file *)f;
  return p->real->pMethods->xShmUnmap(p->real, delete_flag);
}

/* Version 2: shared memory for WAL, but no xFetch, so SQLite never reads
 * the real file through a memory map that would bypass the model. */
static const sqlite3_io_methods pc_methods = {
    .iVersion = 2,
    .xClose = pc_close,
    .xRead = pc_read,
    .xWrite = pc_write,
    .xTruncate = pc_truncate,
    .xSync = pc_sync,
    .xFileSize = pc_file_size,
    .xLock = pc_lock,
    .xUnlock = pc_unlock,
    .xCheckReservedLock = pc_check_reserved,
    .xFileControl = pc_file_control,
    .xSectorSize = pc_sector_size,
    .xDeviceCharacteristics = pc_device_characteristics,
    .xShmMap = pc_shm_map,
    .xShmLock = pc_shm_lock,
    .xShmBarrier = pc_shm_barrier,
    .xShmUnmap = pc_shm_unmap,
};

/* ---- vfs methods ---- */

/* A new pc_disk for path, its image read from the real file just opened. */
static int disk_load(const char *path, sqlite3_file *real, pc_disk **out) {
  pc_disk *d = calloc(1, sizeof *d);
  if(!d || !(d->path = strdup(path))) {
    free(d);
    return SQLITE_IOERR_NOMEM;
  }
  sqlite3_int64 size = 0;
  int rc = real->pMethods->xFileSize(real, &size);
  if(!rc) rc = img_reserve(d, size);
  if(!rc && size > 0) rc = real->pMethods->xRead(real, d->img, (int)size, 0);
  if(rc) {
    disk_free(d);
    return rc;
  }
  d->size = size;
  d->next = disks;
  disks = d;
  *out = d;
  return SQLITE_OK;
}

static int pc_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
                   int *out_flags) {
  (void)vfs;
  pc_file *p = (pc_file *)f;
  memset(p, 0, sizeof *p);
  p->real = (sqlite3_file *)((char *)p + PC_FILE_SIZE);
  int type = flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL |
                      SQLITE_OPEN_SUPER_JOURNAL);
  struct stat sb;
  int existed = name && stat(name, &sb) == 0;
  int rc = real_vfs->xOpen(real_vfs, name, p->real, flags, out_flags);
  if(rc) {
    if(p->real->pMethods) p->real->pMethods->xClose(p->real);
    f->pMethods = NULL;
    return rc;
  }
  f->pMethods = &pc_methods;
  if(!name || !type) return SQLITE_OK; /* temporary: passes through */
  pc_disk *d = disk_find(name);
  if(!d) {
    rc = disk_load(name, p->real, &d);
    if(rc) return rc; /* SQLite calls xClose, which closes the real file */
    d->fresh = !existed;
    d->db = (type == SQLITE_OPEN_MAIN_DB);
  }
  /* unix syncs the directory on the first sync of a -wal or journal it was
   * asked to create, which makes the file's name durable from then on. */
  if((flags & SQLITE_OPEN_CREATE) && !d->db) d->dirsync = 1;
  d->refs++;
  p->disk = d;
  return SQLITE_OK;
}

static int pc_delete(sqlite3_vfs *vfs, const char *name, int dir_sync) {
  (void)vfs;
  pc_disk *d = disk_find(name);
  if(d) {
    disk_unlist(d);
    drop_ops(d, 0);
    d->unlinked = 1;
    if(d->refs == 0) disk_free(d);
  }
  return real_vfs->xDelete(real_vfs, name, dir_sync);
}

static int pc_access(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
  (void)vfs;
  pc_disk *d = disk_find(name);
  /* unix calls an empty file absent (a -wal or journal of zero bytes is no
   * journal); the cache's size decides, not the disk's. */
  if(d && flags == SQLITE_ACCESS_EXISTS) {
    *out = d->size > 0;
    return SQLITE_OK;
  }
  return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int pc_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out) {
  (void)vfs;
  return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *pc_dl_open(sqlite3_vfs *vfs, const char *name) {
  (void)vfs;
  return real_vfs->xDlOpen(real_vfs, name);
}

static void pc_dl_error(sqlite3_vfs *vfs, int n, char *msg) {
  (void)vfs;
  real_vfs->xDlError(real_vfs, n, msg);
}

static void (*pc_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void) {
  (void)vfs;
  return real_vfs->xDlSym(real_vfs, h, sym);
}

static void pc_dl_close(sqlite3_vfs *vfs, void *h) {
  (void)vfs;
  real_vfs->xDlClose(real_vfs, h);
}

static int pc_randomness(sqlite3_vfs *vfs, int n, char *out) {
  (void)vfs;
  return real_vfs->xRandomness(real_vfs, n, out);
}

static int pc_sleep(sqlite3_vfs *vfs, int us) {
  (void)vfs;
  return real_vfs->xSleep(real_vfs, us);
}

static int pc_current_time(sqlite3_vfs *vfs, double *t) {
  (void)vfs;
  return real_vfs->xCurrentTime(real_vfs, t);
}

static int pc_last_error(sqlite3_vfs *vfs, int n, char *msg) {
  (void)vfs;
  return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, msg) : 0;
}

static int pc_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *t) {
  (void)vfs;
  return real_vfs->xCurrentTimeInt64(real_vfs, t);
}

int powercut_vfs_install(const powercut_opts *o) {
  if(real_vfs) return SQLITE_MISUSE;
  int rc = sqlite3_initialize();
  if(rc) return rc;
  real_vfs = sqlite3_vfs_find(NULL);
  if(!real_vfs || real_vfs->iVersion < 2) return SQLITE_ERROR;
  opts = *o;
  rng = o->seed ? o->seed : 1;
  pc_vfs = (sqlite3_vfs){
      .iVersion = 2,
      .szOsFile = (int)PC_FILE_SIZE + real_vfs->szOsFile,
      .mxPathname = real_vfs->mxPathname,
      .zName = "powercut",
      .xOpen = pc_open,
      .xDelete = pc_delete,
      .xAccess = pc_access,
      .xFullPathname = pc_full_pathname,
      .xDlOpen = pc_dl_open,
      .xDlError = pc_dl_error,
      .xDlSym = pc_dl_sym,
      .xDlClose = pc_dl_close,
      .xRandomness = pc_randomness,
      .xSleep = pc_sleep,
      .xCurrentTime = pc_current_time,
      .xGetLastError = pc_last_error,
      .xCurrentTimeInt64 = pc_current_time_int64,
  };
  return sqlite3_vfs_register(&pc_vfs, 1);
}

uint64_t powercut_vfs_ops(void) {
  return ops_done;
}
