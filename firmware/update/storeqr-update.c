/* storeqr-update — the box's side of signed updates (bundle format:
 * bundle.h). Two release slots, one link, and root's own record:
 *
 *   ROOT/opt/storeqr/slots/a, ROOT/opt/storeqr/slots/b   two releases
 *   ROOT/opt/storeqr/current -> slots/a                  the running one
 *   ROOT/var/lib/storeqr-update/  (root, 0755)           what root trusts:
 *     installed        "product P / version V / slot S": the release that
 *                      runs, confirmed healthy; the version every install
 *                      is checked against
 *     update.log       what happened, why
 *     update.pending   a switch not yet confirmed healthy
 *     update.lock      one update at a time
 * Nothing is kept in /var/lib/storeqr for root: the unprivileged `storeqr`
 * user owns that directory and could plant or replace anything there; only
 * the sync client's queue (updates/) is read from it, never through a link.
 *
 *   storeqr-update [OPTIONS] install BUNDLE
 *     0. settles an earlier switch that was never confirmed (as `recover`);
 *     1. reads the whole bundle, checks its signature against the box's key
 *        (--pub) and every entry (bundle_check_entry, bundle_walk: regular
 *        files and directories only, none named .storeqr-*, each inside an
 *        earlier directory, none twice), then product (--product) and
 *        version against `installed`: newer, or else a forced bundle whose
 *        forced_from is exactly the installed version and whose
 *        forced_until has not passed. Without a readable `installed`
 *        (a box set up by an older storeqr-update, or damaged) it refuses
 *        with exit 3 and says to run `seed` (reinstall the package); only
 *        a box with no release at all (no `current`) takes a first normal
 *        bundle without one;
 *     2. empties the inactive slot and unpacks into it, hashing the bytes
 *        again as it writes (the file may not change between check and
 *        use): every file with openat(O_CREAT|O_EXCL|O_NOFOLLOW) under
 *        directories made with mkdirat and opened O_DIRECTORY|O_NOFOLLOW
 *        from the slot's descriptor; fsyncs every file and directory,
 *        writes slot/.storeqr-release (what the sync client reads);
 *     3. writes update.pending, points `current` at the new slot with one
 *        rename of a fresh symlink, fsyncs the directory;
 *     4. runs --restart-cmd, waits up to --timeout seconds for the health
 *        check (--health-cmd and/or --health-file) to pass and stay passing
 *        for --settle seconds; then writes `installed`. If it does not
 *        pass, points `current` back, runs --restart-cmd again and records
 *        why (`installed` keeps the old release).
 *   storeqr-update [OPTIONS] recover
 *     at boot: if update.pending says a switch was never confirmed (power
 *     lost during step 4), checks health now and confirms (`installed`) or
 *     rolls back.
 *   storeqr-update [OPTIONS] status
 *     prints the current slot, its product and version, and `installed`.
 *   storeqr-update [OPTIONS] install-queued [--queue DIR]
 *     what storeqr-update-queue.path runs (as root) when the sync client
 *     (an unprivileged user) has downloaded a bundle: DIR/queued names it
 *     by SHA-256 (sync/client/fetch.h); installs DIR/<sha>.bundle as
 *     `install` does and answers in DIR/result ("<sha> ok|refused ...").
 *   storeqr-update [OPTIONS] seed DIR VERSION
 *     what the storeqr-kiosk package's postinst runs: copies the release
 *     the package shipped (DIR, by the same entry rules) into the inactive
 *     slot, switches to it and writes `installed` — unless the running
 *     release is VERSION or newer (a bundle may have brought a newer one),
 *     which is kept. The running version is `installed`; a box from before
 *     `installed` existed (or whose `installed` is damaged or names another
 *     slot) is migrated: the version comes from the current slot's
 *     .storeqr-release, which only root ever wrote in root's /opt/storeqr,
 *     and `installed` is written from it. No signature (dpkg put DIR
 *     there) and no restart or health wait (the postinst restarts the
 *     kiosk).
 *
 * Power loss at any step leaves a bootable slot: the slot `current` names
 * is never written, and the switch is a single rename.
 * Test seam: SQR_UPDATE_KILL_AT=STEP makes the process SIGKILL itself at
 * STEP (verified, unpack, unpacked, synced, pending, linked, switched,
 * restarted, healthy), as a power cut would stop it.
 *
 * Owns the slots, the link and ROOT/var/lib/storeqr-update.
 * Must never: write into the slot `current` points to, or outside the
 * inactive slot while unpacking; act on any header field or entry before
 * the signature over it verified; trust a file the storeqr user can write.
 */
#include "atomicfile.h"
#include "bundle.h"
#include "crypto.h"
#include "log.h"
#include "sqr.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

#define COMP         "update"
#define RELEASE_FILE ".storeqr-release"

typedef struct opts {
  const char *root;
  const char *pub;
  const char *product;
  const char *restart_cmd;
  const char *health_cmd;
  const char *health_file;
  double timeout;
  double settle;
} opts;

typedef struct paths {
  char base[4096];  /* ROOT/opt/storeqr */
  char state[4096]; /* ROOT/var/lib/storeqr-update: root's, see the top */
  char queue[4200]; /* ROOT/var/lib/storeqr/updates: the storeqr user's */
  char log[4200];
  char pending[4200];
  char lock[4200];
  char installed[4200];
  char pub[4200];
} paths;

static paths P;

/* ---- small helpers ---------------------------------------------------- */

static void kill_point(const char *step) {
  const char *at = getenv("SQR_UPDATE_KILL_AT");
  if(at && !strcmp(at, step)) {
    fprintf(stderr, "storeqr-update: test seam: killed at %s\n", step);
    raise(SIGKILL);
  }
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while(nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* One line to update.log (kept for the manager screen and HQ) and to the
 * journal. The log is appended with O_APPEND and fsynced: it is the record
 * of why a box runs the release it runs. */
static void record(log_level lvl, const char *fmt, ...) SQR_PRINTF(2, 3);
static void record(log_level lvl, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  LOG_AT(lvl, COMP, "%s", msg);
  int fd = open(P.log, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
  if(fd < 0) return;
  char line[1200], when[32];
  time_t t = time(NULL);
  struct tm tm;
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
  int n = snprintf(line, sizeof line, "%s %s %s\n", when,
                   lvl <= LOG_ERROR  ? "error"
                   : lvl == LOG_WARN ? "warn"
                                     : "info",
                   msg);
  if(n > 0 && write(fd, line, (size_t)n) == n) (void)fsync(fd);
  close(fd);
}

static sqr_rc mkdir_p(const char *path, mode_t mode) {
  char tmp[4096];
  if(snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) return SQR_EINVAL;
  for(char *p = tmp + 1; *p; p++) {
    if(*p != '/') continue;
    *p = '\0';
    if(mkdir(tmp, mode) != 0 && errno != EEXIST) return SQR_EIO;
    *p = '/';
  }
  if(mkdir(tmp, mode) != 0 && errno != EEXIST) return SQR_EIO;
  return SQR_OK;
}

static sqr_rc fsync_path(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if(fd < 0) return SQR_EIO;
  int rc = fsync(fd);
  close(fd);
  return rc ? SQR_EIO : SQR_OK;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

/* Removes a whole tree without following symbolic links. */
static sqr_rc rm_tree(const char *path) {
  struct stat st;
  if(lstat(path, &st) != 0) return errno == ENOENT ? SQR_OK : SQR_EIO;
  return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? SQR_OK : SQR_EIO;
}

static int fsync_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)ftw;
  if(flag != FTW_D && flag != FTW_DP) return 0;
  return fsync_path(path) == SQR_OK ? 0 : -1;
}

/* ---- slots and the link ----------------------------------------------- */

/* Which slot `current` names: 'a', 'b', 0 if there is no link yet.
 * SQR_ECORRUPT if the link names anything else. */
static sqr_rc current_slot(char *out) {
  char link[4200], target[256];
  snprintf(link, sizeof link, "%s/current", P.base);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if(n < 0) {
    if(errno == ENOENT) {
      *out = 0;
      return SQR_OK;
    }
    log_error(COMP, "cannot read %s: %s", link, strerror(errno));
    return SQR_EIO;
  }
  target[n] = '\0';
  if(!strcmp(target, "slots/a") || !strcmp(target, "slots/b")) {
    *out = target[6];
    return SQR_OK;
  }
  log_error(COMP, "%s points to \"%s\", not slots/a or slots/b: fix it by hand", link, target);
  return SQR_ECORRUPT;
}

/* Points `current` at slot s with one rename: the link is always either the
 * old one or the new one, never missing, whatever instant power goes. */
static sqr_rc switch_to(char s) {
  char tmp[4200], cur[4200], target[16];
  snprintf(tmp, sizeof tmp, "%s/.current.tmp", P.base);
  snprintf(cur, sizeof cur, "%s/current", P.base);
  snprintf(target, sizeof target, "slots/%c", s);
  if(unlink(tmp) != 0 && errno != ENOENT) goto fail;
  if(symlink(target, tmp) != 0) goto fail;
  kill_point("linked");
  if(rename(tmp, cur) != 0) goto fail;
  if(fsync_path(P.base)) goto fail;
  return SQR_OK;
fail:
  log_error(COMP, "cannot point %s at %s: %s", cur, target, strerror(errno));
  return SQR_EIO;
}

typedef struct release {
  char product[BUNDLE_NAME_LEN + 1];
  char version[BUNDLE_NAME_LEN + 1];
  char slot; /* `installed` only: 'a' or 'b' */
} release;

/* Reads slot s's release file. SQR_ENOTFOUND if there is none (a release
 * put there by hand or by the factory package without one). Only for
 * status, recover's log line and seed's one-time migration: install
 * checks versions against `installed`. */
static sqr_rc read_release(char s, release *r) {
  char path[4300], line[128];
  memset(r, 0, sizeof *r);
  snprintf(path, sizeof path, "%s/slots/%c/%s", P.base, s, RELEASE_FILE);
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
  if(!f) {
    int e = errno;
    if(fd >= 0) close(fd);
    return e == ENOENT ? SQR_ENOTFOUND : SQR_EIO;
  }
  while(fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    /* Longer values than the header allows are cut (and then fail to parse). */
    if(!strncmp(line, "product ", 8)) snprintf(r->product, sizeof r->product, "%.32s", line + 8);
    if(!strncmp(line, "version ", 8)) snprintf(r->version, sizeof r->version, "%.32s", line + 8);
  }
  fclose(f);
  return r->version[0] ? SQR_OK : SQR_ECORRUPT;
}

/* ---- installed: root's record of the running release ------------------- */

#define INSTALLED_MAX 512

/* Reads and checks `installed` into *r: exactly the lines "product P",
 * "version V" (numeric) and "slot a|b", each once. SQR_ENOTFOUND if it is
 * absent; SQR_EIO (unreadable) or SQR_ECORRUPT (anything else in it) with
 * why. Never through a link. */
static sqr_rc read_installed(release *r, char *why, size_t whylen) {
  char buf[INSTALLED_MAX + 1];
  memset(r, 0, sizeof *r);
  int fd = open(P.installed, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if(fd < 0) {
    int e = errno;
    snprintf(why, whylen, "cannot read %s: %s", P.installed, strerror(e));
    return e == ENOENT ? SQR_ENOTFOUND : SQR_EIO;
  }
  struct stat st;
  ssize_t n = -1;
  memset(&st, 0, sizeof st);
  if(fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) n = read(fd, buf, sizeof buf);
  int e = errno;
  close(fd);
  if(n < 0) {
    snprintf(why, whylen, "cannot read %s: %s", P.installed,
             S_ISREG(st.st_mode) ? strerror(e) : "not a regular file");
    return SQR_EIO;
  }
  buf[n] = '\0';
  uint32_t parts[4];
  int seen_p = 0, seen_v = 0, seen_s = 0, bad = n > INSTALLED_MAX || strlen(buf) != (size_t)n;
  for(char *line = buf, *next; !bad && *line; line = next) {
    next = strchr(line, '\n');
    if(!next) {
      bad = 1; /* a cut-off last line: not what atomicfile writes */
      break;
    }
    *next++ = '\0';
    /* Each key once; a value that does not check makes the file damaged
     * (bundle_check_product and bundle_parse_version bound the lengths). */
    const char *v = strchr(line, ' ') ? strchr(line, ' ') + 1 : "";
    if(!strncmp(line, "product ", 8) && !seen_p++ && !bundle_check_product(v))
      snprintf(r->product, sizeof r->product, "%s", v);
    else if(!strncmp(line, "version ", 8) && !seen_v++ && !bundle_parse_version(v, parts))
      snprintf(r->version, sizeof r->version, "%s", v);
    else if(!strncmp(line, "slot ", 5) && !seen_s++ && (!strcmp(v, "a") || !strcmp(v, "b")))
      r->slot = v[0];
    else
      bad = 1;
  }
  if(bad || !seen_p || !seen_v || !seen_s) {
    snprintf(why, whylen, "%s is damaged (want the lines \"product\", \"version\" and \"slot\")",
             P.installed);
    return SQR_ECORRUPT;
  }
  return SQR_OK;
}

/* Writes `installed` whole or not at all (atomicfile.h); on failure errno
 * says why, for the caller's record. */
static sqr_rc write_installed(char slot, const char *product, const char *version) {
  char text[200];
  snprintf(text, sizeof text, "product %s\nversion %s\nslot %c\n", product, version, slot);
  return atomicfile_write(P.installed, text, strlen(text), 0644, 0, NULL, 0);
}

/* ---- update.pending: a switch not yet confirmed ------------------------- */

typedef struct pending {
  char old_slot, new_slot; /* old_slot 0: there was no release before */
  char product[BUNDLE_NAME_LEN + 1];
  char old_version[BUNDLE_NAME_LEN + 1];
  char new_version[BUNDLE_NAME_LEN + 1];
} pending;

static sqr_rc write_pending(const pending *pd) {
  char text[300];
  snprintf(text, sizeof text, "old %c\nnew %c\nproduct %s\nold-version %s\nnew-version %s\n",
           pd->old_slot ? pd->old_slot : '-', pd->new_slot, pd->product,
           pd->old_slot ? pd->old_version : "-", pd->new_version);
  return atomicfile_write(P.pending, text, strlen(text), 0644, 0, NULL, 0);
}

/* SQR_ENOTFOUND if nothing is pending, SQR_ECORRUPT if the file is not one
 * write_pending wrote. */
static sqr_rc read_pending(pending *pd) {
  char buf[400], old = 0, new_slot = 0;
  uint32_t parts[4];
  memset(pd, 0, sizeof *pd);
  int fd = open(P.pending, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if(fd < 0) return errno == ENOENT ? SQR_ENOTFOUND : SQR_ECORRUPT;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if(n < 0) return SQR_ECORRUPT;
  buf[n] = '\0';
  if(sscanf(buf, "old %c\nnew %c\nproduct %32s\nold-version %32s\nnew-version %32s", &old,
            &new_slot, pd->product, pd->old_version, pd->new_version) != 5 ||
     (old != 'a' && old != 'b' && old != '-') || (new_slot != 'a' && new_slot != 'b') ||
     old == new_slot || bundle_parse_version(pd->new_version, parts) ||
     (old != '-' && bundle_parse_version(pd->old_version, parts)))
    return SQR_ECORRUPT;
  pd->old_slot = old == '-' ? 0 : old;
  pd->new_slot = new_slot;
  return SQR_OK;
}

/* ---- reading and unpacking the bundle --------------------------------- */

typedef struct reader {
  int fd;
  mbedtls_sha256_context sha;
  bundle_walk walk; /* every payload byte handed out is checked too */
  uint8_t buf[65536];
  size_t pos, len;
  uint64_t left; /* payload bytes not yet handed out */
} reader;

/* Hands out exactly n payload bytes (hashed); SQR_ECORRUPT past the end. */
static sqr_rc rd(reader *r, void *out, size_t n) {
  uint8_t *o = out;
  if(n > r->left) return SQR_ECORRUPT;
  while(n > 0) {
    if(r->pos == r->len) {
      ssize_t got = read(r->fd, r->buf, sizeof r->buf);
      if(got < 0 && errno == EINTR) continue;
      if(got <= 0) return got == 0 ? SQR_ECORRUPT : SQR_EIO;
      r->pos = 0;
      r->len = (size_t)got;
    }
    size_t k = r->len - r->pos < n ? r->len - r->pos : n;
    if(mbedtls_sha256_update_ret(&r->sha, r->buf + r->pos, k) != 0) return SQR_ECRYPTO;
    bundle_walk_feed(&r->walk, r->buf + r->pos, k);
    if(o) memcpy(o, r->buf + r->pos, k), o += k;
    r->pos += k;
    r->left -= k;
    n -= k;
  }
  return SQR_OK;
}

/* Starts a pass over the payload: hash the signed header bytes first. */
static sqr_rc reader_start(reader *r, int fd, const uint8_t *hdr, const bundle_header *h) {
  r->fd = fd;
  r->pos = r->len = 0;
  r->left = h->payload_len;
  bundle_walk_init(&r->walk, h->count);
  if(lseek(fd, (off_t)h->header_len, SEEK_SET) != (off_t)h->header_len) return SQR_EIO;
  if(mbedtls_sha256_starts_ret(&r->sha, 0) != 0 ||
     mbedtls_sha256_update_ret(&r->sha, hdr, h->signed_len) != 0)
    return SQR_ECRYPTO;
  return SQR_OK;
}

static sqr_rc reader_finish(reader *r, uint8_t digest[CRYPTO_SHA256_LEN]) {
  uint8_t extra;
  if(r->left != 0) return SQR_ECORRUPT;
  /* Trailing bytes after the payload: not what was signed. */
  if(r->pos != r->len || read(r->fd, &extra, 1) != 0) return SQR_ECORRUPT;
  return mbedtls_sha256_finish_ret(&r->sha, digest) ? SQR_ECRYPTO : SQR_OK;
}

/* Reads one record's metadata. The walk (fed by rd) has checked it by
 * the time its last byte is read: the second pass acts only on entries
 * that pass the same rules the first pass refused the bundle by. */
static sqr_rc read_entry(reader *r, bundle_entry *e) {
  uint8_t b[2];
  sqr_rc rc = rd(r, b, 2);
  size_t n = (size_t)b[0] << 8 | b[1];
  if(!rc && (n == 0 || n > BUNDLE_MAX_PATH)) rc = SQR_ECORRUPT;
  if(!rc) rc = rd(r, NULL, n + 12);
  if(!rc && (r->walk.rc || !r->walk.complete)) rc = SQR_ECORRUPT;
  if(rc) {
    log_error(COMP, "bundle entry unusable: %s", r->walk.rc ? r->walk.why : sqr_strerror(rc));
    return rc;
  }
  *e = r->walk.entry;
  return SQR_OK;
}

/* Opens the directory that will hold path's last component, walking from
 * slotfd without following symbolic links, so no entry can write outside
 * the slot. *leaf points into path. */
static int open_parent(int slotfd, const char *path, const char **leaf) {
  char buf[BUNDLE_MAX_PATH + 1];
  snprintf(buf, sizeof buf, "%s", path);
  int fd = dup(slotfd);
  char *c = buf;
  for(char *e; fd >= 0 && (e = strchr(c, '/')); c = e + 1) {
    *e = '\0';
    int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(fd);
    fd = next;
  }
  *leaf = path + (c - buf);
  return fd;
}

/* Writes the payload into slotfd, the second pass over the bytes. Every
 * name is created fresh (O_EXCL, mkdirat) relative to a directory opened
 * from slotfd without following links: nothing an entry says, and nothing
 * found in the slot, can send a write elsewhere. */
static sqr_rc unpack(reader *r, uint32_t count, int slotfd) {
  static uint8_t chunk[65536];
  for(uint32_t i = 0; i < count; i++) {
    bundle_entry e;
    sqr_rc rc = read_entry(r, &e);
    if(rc) return rc;
    const char *leaf;
    int dfd = open_parent(slotfd, e.path, &leaf);
    if(dfd < 0) {
      log_error(COMP, "cannot open the directory of %s: %s", e.path, strerror(errno));
      return SQR_ECORRUPT;
    }
    mode_t perm = (mode_t)(e.mode & 01777);
    if((e.mode & S_IFMT) == S_IFDIR) {
      int fd = -1;
      if(mkdirat(dfd, leaf, 0700) != 0 ||
         (fd = openat(dfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
         fchmod(fd, perm) != 0)
        rc = SQR_EIO;
      if(fd >= 0) close(fd);
    } else { /* S_IFREG: the walk let nothing else through */
      int fd = openat(dfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if(fd < 0) rc = SQR_EIO;
      for(uint64_t left = e.size; !rc && left > 0;) {
        size_t k = left < sizeof chunk ? (size_t)left : sizeof chunk;
        rc = rd(r, chunk, k);
        if(!rc && write(fd, chunk, k) != (ssize_t)k) rc = errno == ENOSPC ? SQR_ENOSPC : SQR_EIO;
        left -= k;
      }
      if(fd >= 0) {
        if(!rc && (fchmod(fd, perm) != 0 || fsync(fd) != 0)) rc = SQR_EIO;
        close(fd);
      }
    }
    close(dfd);
    if(rc) {
      log_error(COMP, "cannot unpack %s: %s (%s)", e.path, sqr_strerror(rc), strerror(errno));
      return rc;
    }
    if(i == 0) kill_point("unpack");
  }
  return SQR_OK;
}

/* ---- commands and health ---------------------------------------------- */

/* Runs cmd with /bin/sh in its own process group; kills the group if it is
 * still running at deadline (monotonic seconds). 1 if it exited 0. */
static int run_cmd(const char *cmd, double deadline) {
  pid_t pid = fork();
  if(pid < 0) return 0;
  if(pid == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  setpgid(pid, pid);
  int status = 0;
  for(;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if(w == pid) break;
    if(w < 0 && errno != EINTR) return 0;
    if(now_s() >= deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      return 0;
    }
    sleep_s(0.02);
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* 1 if the health check passes now: the command exits 0 and the health
 * file was touched after `since` (wall clock, set before the restart). */
static int healthy_now(const opts *o, const struct timespec *since, double deadline) {
  if(o->health_file) {
    struct stat st;
    if(stat(o->health_file, &st) != 0) return 0;
    if(st.st_mtim.tv_sec < since->tv_sec ||
       (st.st_mtim.tv_sec == since->tv_sec && st.st_mtim.tv_nsec < since->tv_nsec))
      return 0;
  }
  return !o->health_cmd || !*o->health_cmd || run_cmd(o->health_cmd, deadline);
}

/* Restarts the kiosk and waits for it to be healthy and stay so for
 * o->settle seconds. 1 if healthy; why (for the log) otherwise. */
static int restart_and_wait(const opts *o, const char **why) {
  struct timespec since;
  clock_gettime(CLOCK_REALTIME, &since);
  since.tv_sec -= 1; /* file systems with 1 s mtime granularity */
  double start = now_s(), deadline = start + o->timeout;
  if(o->restart_cmd && *o->restart_cmd && !run_cmd(o->restart_cmd, deadline)) {
    *why = "the restart command failed";
    return 0;
  }
  kill_point("restarted");
  double ok_since = -1;
  while(now_s() < deadline) {
    if(healthy_now(o, &since, deadline)) {
      if(ok_since < 0) ok_since = now_s();
      if(now_s() - ok_since >= o->settle) return 1;
    } else {
      ok_since = -1;
    }
    sleep_s(0.1);
  }
  *why = ok_since < 0 ? "the health check did not pass before the timeout"
                      : "the health check did not stay passing for the settle time";
  return 0;
}

/* A slot's release file, whole or not at all
 * (atomicfile.h); on failure errno says why, for the caller's record. */
static sqr_rc write_small_file(const char *path, const char *text) {
  return atomicfile_write(path, text, strlen(text), 0644, 0, NULL, 0);
}

/* Switches back to pd->old_slot after a failed health check, records why
 * and makes `installed` say what runs. With no old slot (a first
 * install), the new release stays: there is nothing to go back to. */
static int roll_back(const opts *o, const pending *pd, const char *why) {
  if(!pd->old_slot) {
    record(LOG_ERROR,
           "release %s in slot %c is unhealthy (%s) and there is no previous "
           "release to go back to; left in place",
           pd->new_version, pd->new_slot, why);
    if(write_installed(pd->new_slot, pd->product, pd->new_version))
      record(LOG_ERROR, "cannot write %s: %s", P.installed, strerror(errno));
    unlink(P.pending);
    return SQR_EXIT_REFUSED;
  }
  if(switch_to(pd->old_slot)) {
    record(LOG_ERROR,
           "release %s in slot %c is unhealthy (%s) and switching back to slot %c "
           "failed: the box will retry at boot (storeqr-update recover)",
           pd->new_version, pd->new_slot, why, pd->old_slot);
    return SQR_EXIT_IO;
  }
  /* `installed` may already name the new release (power lost after it was
   * written, before update.pending went): it names the old one again. */
  if(write_installed(pd->old_slot, pd->product, pd->old_version)) {
    record(LOG_ERROR, "cannot write %s: %s; the box will retry at boot", P.installed,
           strerror(errno));
    return SQR_EXIT_IO;
  }
  const char *why2 = NULL;
  int back_ok = restart_and_wait(o, &why2);
  record(LOG_ERROR, "rolled back to slot %c: release %s in slot %c was unhealthy (%s)%s",
         pd->old_slot, pd->new_version, pd->new_slot, why,
         back_ok ? "" : "; the previous release is not healthy either");
  unlink(P.pending);
  (void)fsync_path(P.state);
  return SQR_EXIT_REFUSED;
}

/* The new release passed its health check: `installed` names it, then the
 * pending switch is done. */
static int confirm(const pending *pd) {
  kill_point("healthy");
  if(write_installed(pd->new_slot, pd->product, pd->new_version)) {
    record(LOG_ERROR, "cannot write %s: %s; the box will confirm at boot", P.installed,
           strerror(errno));
    return SQR_EXIT_IO;
  }
  unlink(P.pending);
  (void)fsync_path(P.state);
  return SQR_EXIT_DONE;
}

/* ---- install ----------------------------------------------------------- */

static int refuse(const char *bundle, const char *fmt, ...) SQR_PRINTF(2, 3);
static int refuse(const char *bundle, const char *fmt, ...) {
  char msg[800];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  record(LOG_ERROR, "refused %s: %s; nothing changed", bundle, msg);
  fprintf(stderr, "storeqr-update: refused %s: %s; nothing changed\n", bundle, msg);
  return SQR_EXIT_REFUSED;
}

/* install-queued: the bundle lies in a directory an unprivileged user
 * owns, so it is opened by this path, through the descriptor of the queue
 * directory and never through a symbolic link; `bundle` is then only its
 * name in messages. */
static const char *queue_open;

static void utc(uint64_t t, char out[32]) {
  time_t tt = (time_t)t;
  struct tm tm;
  if(!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
    snprintf(out, 32, "%llu", (unsigned long long)t);
}

static int recover(const opts *o);

static int cmd_install(const opts *o, const char *bundle) {
  uint8_t hdr[BUNDLE_HEADER_MAX], digest[CRYPTO_SHA256_LEN], digest2[CRYPTO_SHA256_LEN];
  uint8_t pub[SEAL_PUB_LEN], keyid[BUNDLE_KEYID_LEN];
  bundle_header h;
  reader *r = calloc(1, sizeof *r);
  int fd = -1, slotfd = -1, ret = SQR_EXIT_IO;
  char cur = 0, target;
  char slotdir[4300], why[4400], bundle_sha[2 * CRYPTO_SHA256_LEN + 1];
  size_t hlen = 0;
  release inst;
  sqr_rc rc;

  if(!r) return SQR_EXIT_IO;
  mbedtls_sha256_init(&r->sha);
  /* 0. A switch a power cut left unconfirmed is settled first, so that
   * `installed` names what runs before anything is compared with it. */
  if(access(P.pending, F_OK) == 0) {
    ret = recover(o);
    if(ret != SQR_EXIT_DONE && ret != SQR_EXIT_REFUSED) {
      fprintf(stderr, "storeqr-update: an earlier update could not be settled (%s): see %s\n",
              P.pending, P.log);
      goto out;
    }
    ret = SQR_EXIT_IO;
  }
  if(bundle_read_pub(P.pub, pub)) {
    fprintf(stderr, "storeqr-update: no usable update key at %s\n", P.pub);
    ret = SQR_EXIT_USAGE;
    goto out;
  }
  fd = open(queue_open ? queue_open : bundle, O_RDONLY | O_CLOEXEC | (queue_open ? O_NOFOLLOW : 0));
  if(fd < 0) {
    fprintf(stderr, "storeqr-update: cannot open %s: %s\n", bundle, strerror(errno));
    goto out;
  }
  if(read(fd, hdr, BUNDLE_MAGIC_LEN) != BUNDLE_MAGIC_LEN || !(hlen = bundle_header_len(hdr)) ||
     read(fd, hdr + BUNDLE_MAGIC_LEN, hlen - BUNDLE_MAGIC_LEN) !=
         (ssize_t)(hlen - BUNDLE_MAGIC_LEN) ||
     bundle_header_decode(hdr, hlen, &h)) {
    ret = refuse(bundle, "not a StoreQR bundle, or its header is damaged");
    goto out;
  }
  /* 1. Signature over everything, before any field or entry is believed;
   * the walk checks the entries on the way and is asked afterwards. */
  if(bundle_sig_is_zero(h.sig)) {
    ret = refuse(bundle, "the bundle is not signed");
    goto out;
  }
  bundle_keyid(pub, keyid);
  rc = reader_start(r, fd, hdr, &h);
  if(!rc) rc = rd(r, NULL, h.payload_len);
  if(!rc) rc = reader_finish(r, digest);
  if(rc == SQR_ECORRUPT) {
    ret = refuse(bundle, "the file is truncated or has bytes after the payload");
    goto out;
  }
  if(rc) goto out;
  rc = bundle_verify(pub, digest, h.sig);
  if(rc == SQR_EAUTH) {
    if(memcmp(keyid, h.keyid, BUNDLE_KEYID_LEN) != 0) {
      char want[17], got[17];
      crypto_hex(keyid, BUNDLE_KEYID_LEN, want);
      crypto_hex(h.keyid, BUNDLE_KEYID_LEN, got);
      ret = refuse(bundle,
                   "the signature does not verify with this box's update key "
                   "(bundle names key %s, box trusts %s): signed by another key, or tampered "
                   "with",
                   got, want);
    } else {
      ret = refuse(bundle, "the signature does not verify: the bundle was tampered with or "
                           "damaged");
    }
    goto out;
  }
  if(rc) goto out;
  kill_point("verified");
  crypto_hex(digest, sizeof digest, bundle_sha);
  if(bundle_walk_end(&r->walk)) {
    ret = refuse(bundle, "%s", r->walk.why);
    goto out;
  }

  /* 2. Product and version, now that they are known to come from HQ,
   * against root's own record of what runs. */
  if(strcmp(h.product, o->product) != 0) {
    ret = refuse(bundle, "it is for product \"%s\", this box runs \"%s\"", h.product, o->product);
    goto out;
  }
  uint32_t newv[4], oldv[4], fromv[4];
  if(bundle_parse_version(h.version, newv)) {
    ret = refuse(bundle, "its version \"%s\" is not numeric", h.version);
    goto out;
  }
  rc = current_slot(&cur);
  if(rc) goto out;
  int forced = (h.flags & BUNDLE_FLAG_FORCED) != 0;
  if(forced && h.format == 1) {
    ret = refuse(bundle, "it is a forced bundle in the old format (SQRBNDL1), which names no "
                         "version it replaces and no expiry; HQ must sign it again with "
                         "storeqr-bundle pack --forced --forced-from --forced-until");
    goto out;
  }
  rc = read_installed(&inst, why, sizeof why);
  int have_inst = rc == SQR_OK;
  if(rc == SQR_OK && inst.slot != cur) {
    char now_s[16] = "missing";
    if(cur) snprintf(now_s, sizeof now_s, "slots/%c", cur);
    snprintf(why, sizeof why, "%s says slot %c runs %s, but current is %s", P.installed, inst.slot,
             inst.version, now_s);
    rc = SQR_ECORRUPT;
  }
  if(rc == SQR_ENOTFOUND && cur) {
    snprintf(why, sizeof why, "%s is missing: this box was set up by an older storeqr-update",
             P.installed);
    rc = SQR_ECORRUPT;
  }
  if(rc && rc != SQR_ENOTFOUND) {
    /* Not a verdict on the bundle (exit 3, so the sync client may hand it
     * over again): the box cannot tell which release it runs. */
    record(LOG_ERROR,
           "refused %s: %s; without it there is no version check, so nothing is installed: "
           "run `storeqr-update seed /usr/lib/storeqr/release VERSION` (or apt-get install "
           "--reinstall storeqr-kiosk); nothing changed",
           bundle, why);
    fprintf(stderr,
            "storeqr-update: refused %s: %s; without it there is no version check, so nothing "
            "is installed: run `storeqr-update seed /usr/lib/storeqr/release VERSION` (or "
            "apt-get install --reinstall storeqr-kiosk); nothing changed\n",
            bundle, why);
    ret = SQR_EXIT_DATA;
    goto out;
  }
  /* Here: `installed` names the slot `current` does, or there is neither
   * (a box with no release yet: nothing to downgrade). */
  if(have_inst && bundle_parse_version(inst.version, oldv)) goto out; /* read_installed checked */
  if(forced) {
    /* A forced bundle replaces exactly one version, until its expiry:
     * replayed later, elsewhere or over anything else, it is refused. */
    char until[32];
    utc(h.forced_until, until);
    if(bundle_parse_version(h.forced_from, fromv) || !have_inst ||
       bundle_version_cmp(oldv, fromv) != 0) {
      ret = refuse(bundle,
                   "it is forced to replace only version %s, and this box runs %s (a forced "
                   "bundle is bound to the version it replaces)",
                   h.forced_from, have_inst ? inst.version : "no release");
      goto out;
    }
    time_t now = time(NULL);
    if(now < 0 || (uint64_t)now > h.forced_until) {
      ret = refuse(bundle,
                   "it is forced, but only until %s, and it expired (box clock: now "
                   "is later)",
                   until);
      goto out;
    }
    record(LOG_WARN, "installing %s over %s: HQ signed this as forced (from %s, until %s)",
           h.version, inst.version, h.forced_from, until);
  } else if(have_inst && bundle_version_cmp(newv, oldv) <= 0) {
    ret = refuse(bundle,
                 "version %s is not newer than the installed %s (a downgrade needs "
                 "a bundle that HQ signed as forced)",
                 h.version, inst.version);
    goto out;
  }

  /* 3. Unpack into the inactive slot; the active one is never touched. */
  target = cur == 'a' ? 'b' : 'a';
  snprintf(slotdir, sizeof slotdir, "%s/slots/%c", P.base, target);
  char slots[4200];
  snprintf(slots, sizeof slots, "%s/slots", P.base);
  if(mkdir_p(slots, 0755) || rm_tree(slotdir) || mkdir(slotdir, 0755) != 0) {
    record(LOG_ERROR, "cannot prepare %s: %s", slotdir, strerror(errno));
    goto out;
  }
  slotfd = open(slotdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if(slotfd < 0) goto out;
  rc = reader_start(r, fd, hdr, &h);
  if(!rc) rc = unpack(r, h.count, slotfd);
  if(!rc) rc = reader_finish(r, digest2);
  if(!rc && memcmp(digest, digest2, sizeof digest) != 0) rc = SQR_ECORRUPT;
  if(rc) {
    record(LOG_ERROR,
           "unpacking %s into slot %c failed (%s): the bundle changed while being "
           "read, or is damaged, or the disk is full; slot %c removed, nothing switched",
           bundle, target, sqr_strerror(rc), target);
    (void)rm_tree(slotdir);
    ret = sqr_exit_code(rc == SQR_ECORRUPT ? SQR_EAUTH : rc);
    goto out;
  }
  kill_point("unpacked");
  char rel[300], relpath[4400];
  snprintf(rel, sizeof rel, "product %s\nversion %s\nbundle-sha256 %s\n", h.product, h.version,
           bundle_sha);
  snprintf(relpath, sizeof relpath, "%s/%s", slotdir, RELEASE_FILE);
  if(write_small_file(relpath, rel) || nftw(slotdir, fsync_one, 16, FTW_PHYS) != 0 ||
     fsync_path(slots)) {
    record(LOG_ERROR, "cannot write and sync slot %c: %s", target, strerror(errno));
    goto out;
  }
  kill_point("synced");

  /* 4. Remember the switch until it is confirmed, then switch. */
  pending pd;
  memset(&pd, 0, sizeof pd);
  pd.old_slot = cur;
  pd.new_slot = target;
  snprintf(pd.product, sizeof pd.product, "%s", h.product);
  snprintf(pd.old_version, sizeof pd.old_version, "%s", have_inst ? inst.version : "-");
  snprintf(pd.new_version, sizeof pd.new_version, "%s", h.version);
  if(write_pending(&pd) || fsync_path(P.state)) {
    record(LOG_ERROR, "cannot write %s: %s", P.pending, strerror(errno));
    goto out;
  }
  kill_point("pending");
  if(switch_to(target)) goto out;
  record(LOG_INFO, "switched to slot %c (%s %s%s); restarting", target, h.product, h.version,
         forced ? ", forced" : "");
  kill_point("switched");

  /* 5. Healthy, or back to the old slot. */
  const char *hwhy = NULL;
  if(!restart_and_wait(o, &hwhy)) {
    ret = roll_back(o, &pd, hwhy);
    goto out;
  }
  ret = confirm(&pd);
  if(ret == SQR_EXIT_DONE)
    record(LOG_INFO, "installed %s %s in slot %c: healthy", h.product, h.version, target);
out:
  if(slotfd >= 0) close(slotfd);
  if(fd >= 0) close(fd);
  mbedtls_sha256_free(&r->sha);
  free(r);
  return ret;
}

/* A switch that power cut short of its health check. */
static int recover(const opts *o) {
  pending pd;
  char cur = 0;
  sqr_rc rc = read_pending(&pd);
  if(rc == SQR_ENOTFOUND) return SQR_EXIT_DONE; /* nothing pending */
  if(rc) {
    record(LOG_ERROR, "%s is damaged; removed", P.pending);
    unlink(P.pending);
    return SQR_EXIT_DATA;
  }
  if(current_slot(&cur)) return SQR_EXIT_DATA;
  if(cur != pd.new_slot) {
    record(LOG_INFO, "an update stopped before switching; slot %c stays current", cur);
    unlink(P.pending);
    return SQR_EXIT_DONE;
  }
  const char *why = NULL;
  if(restart_and_wait(o, &why)) {
    int ret = confirm(&pd);
    if(ret == SQR_EXIT_DONE)
      record(LOG_INFO, "release %s in slot %c confirmed healthy after a restart", pd.new_version,
             pd.new_slot);
    return ret;
  }
  return roll_back(o, &pd, why);
}

/* ---- install-queued ------------------------------------------------------ */

/* dir/name = text, for the unprivileged reader: a fresh file renamed into
 * place (atomicfile.h), so a link planted at dir/name or at its temporary
 * name (the directory is not root's) is replaced, never followed. */
static void write_answer(const char *dir, const char *name, const char *text) {
  char path[4400], err[4600];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if(atomicfile_write(path, text, strlen(text), 0644, 0, err, sizeof err))
    record(LOG_ERROR, "%s", err);
}

static int cmd_install_queued(const opts *o, const char *qdir) {
  char line[128] = "", bundle[4400], via[64], open_path[200];
  /* The storeqr user owns the queue's parent and could swap the queue for
   * a link between two calls: everything below goes through one
   * descriptor of the real directory (openat, unlinkat, /proc/self/fd/N
   * for the path-based atomicfile), so nothing elsewhere is read, removed
   * or written. */
  int qfd = open(qdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if(qfd < 0) {
    if(errno == ENOENT) {
      fprintf(stderr, "storeqr-update: nothing queued in %s\n", qdir);
      return SQR_EXIT_DONE;
    }
    record(LOG_ERROR, "cannot open the queue %s: %s (it must be a directory, not a link)", qdir,
           strerror(errno));
    return SQR_EXIT_IO;
  }
  snprintf(via, sizeof via, "/proc/self/fd/%d", qfd);
  int f = openat(qfd, "queued", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if(f < 0) {
    fprintf(stderr, "storeqr-update: nothing queued in %s\n", qdir);
    close(qfd);
    return SQR_EXIT_DONE;
  }
  ssize_t n = read(f, line, sizeof line - 1);
  close(f);
  line[n > 0 ? n : 0] = '\0';
  line[strcspn(line, "\r\n")] = '\0';
  /* Gone before the install starts: a crash must not make the path unit
   * start this again and again; the sync client queues it again. */
  unlinkat(qfd, "queued", 0);
  int ok = strlen(line) == 64;
  for(int i = 0; ok && i < 64; i++)
    ok = (line[i] >= '0' && line[i] <= '9') || (line[i] >= 'a' && line[i] <= 'f');
  if(!ok) {
    record(LOG_ERROR, "%s/queued does not name a bundle (64 hex digits); ignored", qdir);
    close(qfd);
    return SQR_EXIT_USAGE;
  }
  snprintf(bundle, sizeof bundle, "%s/%s.bundle", qdir, line);
  snprintf(open_path, sizeof open_path, "%s/%s.bundle", via, line);
  queue_open = open_path;
  int ret = cmd_install(o, bundle);
  queue_open = NULL;
  /* 0 and 1 are verdicts on this bundle; anything else (busy, I/O) may
   * pass, and the next sync pass queues it again. */
  if(ret == SQR_EXIT_DONE || ret == SQR_EXIT_REFUSED) {
    char answer[200];
    snprintf(answer, sizeof answer, "%s %s exit %d\n", line,
             ret == SQR_EXIT_DONE ? "ok" : "refused", ret);
    write_answer(via, "result", answer);
  }
  if(ret == SQR_EXIT_DONE) {
    snprintf(open_path, sizeof open_path, "%s.bundle", line);
    unlinkat(qfd, open_path, 0);
  }
  close(qfd);
  return ret;
}

/* ---- seed ---------------------------------------------------------------- */

static char seed_src[4096], seed_dst[4300], seed_why[BUNDLE_MAX_PATH + 300];
static size_t seed_src_len;

/* One file of the package's release into the slot, by the rules a bundle
 * entry obeys (bundle_check_entry): what a bundle could not bring, the
 * package does not either. */
static int seed_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)ftw;
  const char *rel = path + seed_src_len;
  if(*rel == '/') rel++;
  if(!*rel) return 0; /* the top directory: the slot itself */
  bundle_entry e;
  memset(&e, 0, sizeof e);
  if(strlen(rel) > BUNDLE_MAX_PATH) {
    snprintf(seed_why, sizeof seed_why, "%s: path longer than %u bytes", path, BUNDLE_MAX_PATH);
    return -1;
  }
  memcpy(e.path, rel, strlen(rel) + 1);
  mode_t mode = st->st_mode & 07777 & ~(mode_t)06000; /* never setuid/setgid */
  e.mode = (uint32_t)((st->st_mode & S_IFMT) | mode);
  if(bundle_check_entry(&e, seed_why, sizeof seed_why)) return -1;
  char out[8500];
  snprintf(out, sizeof out, "%s/%s", seed_dst, rel);
  if(flag == FTW_D) return mkdir(out, mode) == 0 ? 0 : -1;
  if(flag != FTW_F || !S_ISREG(st->st_mode)) return -1;
  int in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  int o2 = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  int rc = in >= 0 && o2 >= 0 ? 0 : -1;
  char buf[65536];
  while(!rc) {
    ssize_t n = read(in, buf, sizeof buf);
    if(n < 0 && errno == EINTR) continue;
    if(n <= 0) {
      rc = n < 0 ? -1 : 0;
      break;
    }
    if(write(o2, buf, (size_t)n) != n) rc = -1;
  }
  if(!rc && (fchmod(o2, mode) != 0 || fsync(o2) != 0)) rc = -1;
  if(in >= 0) close(in);
  if(o2 >= 0) close(o2);
  return rc;
}

static int cmd_seed(const opts *o, const char *src, const char *version) {
  uint32_t newv[4], oldv[4];
  char cur = 0, target, why[4400];
  struct stat st;
  if(bundle_parse_version(version, newv)) {
    fprintf(stderr, "storeqr-update: seed: version \"%s\" is not numeric\n", version);
    return SQR_EXIT_USAGE;
  }
  if(stat(src, &st) != 0 || !S_ISDIR(st.st_mode) ||
     (size_t)snprintf(seed_src, sizeof seed_src, "%s", src) >= sizeof seed_src) {
    fprintf(stderr, "storeqr-update: seed: %s is not a directory\n", src);
    return SQR_EXIT_USAGE;
  }
  if(current_slot(&cur)) return SQR_EXIT_DATA;
  /* What runs: `installed`, or — a box from before it existed, or whose
   * record is damaged — the current slot's release file, which only root
   * wrote, in root's /opt/storeqr. Either way `installed` is right after. */
  release inst, now;
  const char *running = NULL;
  int migrate = 0;
  if(cur) {
    sqr_rc rc = read_installed(&inst, why, sizeof why);
    if(rc == SQR_OK && inst.slot == cur) {
      running = inst.version;
    } else {
      if(rc == SQR_OK)
        snprintf(why, sizeof why, "%s names slot %c, but current is slots/%c", P.installed,
                 inst.slot, cur);
      if(read_release(cur, &now) == SQR_OK && !bundle_parse_version(now.version, oldv)) {
        running = now.version;
        migrate = 1;
        record(LOG_WARN, "%s; the running version, %s, comes from slot %c's %s", why, now.version,
               cur, RELEASE_FILE);
      } else {
        record(LOG_WARN, "%s, and slot %c has no usable %s: the package's release replaces it", why,
               cur, RELEASE_FILE);
      }
    }
  }
  if(running && !bundle_parse_version(running, oldv) && bundle_version_cmp(oldv, newv) >= 0) {
    if(migrate && write_installed(cur, o->product, running)) {
      record(LOG_ERROR, "cannot write %s: %s", P.installed, strerror(errno));
      return SQR_EXIT_IO;
    }
    if(migrate) record(LOG_INFO, "%s written: slot %c runs %s", P.installed, cur, running);
    printf("slot %c runs %s %s, not older than the package's %s: kept\n", cur, o->product, running,
           version);
    return SQR_EXIT_DONE;
  }
  target = cur == 'a' ? 'b' : 'a';
  char slots[4200];
  snprintf(slots, sizeof slots, "%s/slots", P.base);
  snprintf(seed_dst, sizeof seed_dst, "%s/slots/%c", P.base, target);
  seed_src_len = strlen(seed_src);
  while(seed_src_len > 1 && seed_src[seed_src_len - 1] == '/')
    seed_src[--seed_src_len] = '\0';
  char rel[300], relpath[4400];
  snprintf(rel, sizeof rel, "product %s\nversion %s\nbundle-sha256 (package)\n", o->product,
           version);
  snprintf(relpath, sizeof relpath, "%s/%s", seed_dst, RELEASE_FILE);
  seed_why[0] = '\0';
  if(mkdir_p(slots, 0755) || rm_tree(seed_dst) || mkdir(seed_dst, 0755) != 0 ||
     nftw(seed_src, seed_one, 16, FTW_PHYS) != 0 || write_small_file(relpath, rel) ||
     nftw(seed_dst, fsync_one, 16, FTW_PHYS) != 0 || fsync_path(slots)) {
    record(LOG_ERROR, "seeding slot %c from %s failed: %s; slot %c removed, nothing switched",
           target, src, seed_why[0] ? seed_why : strerror(errno), target);
    (void)rm_tree(seed_dst);
    return SQR_EXIT_IO;
  }
  if(switch_to(target)) return SQR_EXIT_IO;
  /* The package's release supersedes a switch left unconfirmed. */
  unlink(P.pending);
  if(write_installed(target, o->product, version)) {
    record(LOG_ERROR, "cannot write %s: %s", P.installed, strerror(errno));
    return SQR_EXIT_IO;
  }
  record(LOG_INFO, "slot %c holds %s %s from the package (%s); current -> slots/%c", target,
         o->product, version, src, target);
  return SQR_EXIT_DONE;
}

static int cmd_status(void) {
  char cur = 0, why[4400];
  if(current_slot(&cur)) return SQR_EXIT_DATA;
  if(!cur) {
    printf("no release installed\n");
  } else {
    release r;
    if(read_release(cur, &r))
      printf("slot %c (no release file)\n", cur);
    else
      printf("slot %c %s %s\n", cur, r.product, r.version);
  }
  release inst;
  if(read_installed(&inst, why, sizeof why) == SQR_OK)
    printf("installed: slot %c %s %s\n", inst.slot, inst.product, inst.version);
  else
    printf("installed: unknown (%s)\n", why);
  if(access(P.pending, F_OK) == 0) printf("pending health confirmation\n");
  return SQR_EXIT_DONE;
}

static void usage(void) {
  fprintf(stderr,
          "usage: storeqr-update [OPTIONS] install BUNDLE | recover | status\n"
          "       storeqr-update [OPTIONS] install-queued [--queue DIR] | seed DIR VERSION\n"
          "  install checks the bundle's signature, its entries (regular files and\n"
          "  directories, no .storeqr-* names), product and version against\n"
          "  ROOT/var/lib/storeqr-update/installed: newer, or forced over exactly its\n"
          "  forced-from version before its forced-until time. Without a readable\n"
          "  installed file it refuses (exit 3): run seed (the package's postinst).\n"
          "  --queue DIR         install-queued: the sync client's downloads\n"
          "                      (default ROOT/var/lib/storeqr/updates)\n"
          "  --root DIR          file system root (default /)\n"
          "  --pub FILE          update public key (default ROOT/etc/storeqr/update.pub)\n"
          "  --product NAME      this box's product (default storeqr-kiosk)\n"
          "  --restart-cmd CMD   (default: systemctl restart storeqr-kiosk.service; '' none)\n"
          "  --health-cmd CMD    (default: systemctl is-active --quiet storeqr-kiosk.service)\n"
          "  --health-file PATH  healthy once PATH is touched after the restart\n"
          "  --timeout SEC       wait this long for health (default 60)\n"
          "  --settle SEC        health must hold this long (default 5)\n");
}

int main(int argc, char **argv) {
  opts o = {"/",
            NULL,
            "storeqr-kiosk",
            "systemctl restart storeqr-kiosk.service",
            "systemctl is-active --quiet storeqr-kiosk.service",
            NULL,
            60,
            5};
  static const struct option lo[] = {
      {"root", required_argument, NULL, 'r'},       {"pub", required_argument, NULL, 'k'},
      {"product", required_argument, NULL, 'p'},    {"restart-cmd", required_argument, NULL, 'R'},
      {"health-cmd", required_argument, NULL, 'H'}, {"health-file", required_argument, NULL, 'F'},
      {"timeout", required_argument, NULL, 't'},    {"settle", required_argument, NULL, 's'},
      {"queue", required_argument, NULL, 'q'},      {NULL, 0, NULL, 0}};
  int c;
  char *end;
  const char *queue = NULL;
  while((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch(c) {
    case 'r':
      o.root = optarg;
      break;
    case 'k':
      o.pub = optarg;
      break;
    case 'p':
      o.product = optarg;
      break;
    case 'R':
      o.restart_cmd = optarg;
      break;
    case 'H':
      o.health_cmd = optarg;
      break;
    case 'F':
      o.health_file = optarg;
      break;
    case 'q':
      queue = optarg;
      break;
    case 't':
    case 's': {
      double v = strtod(optarg, &end);
      if(*end || v < 0 || v > 86400) {
        usage();
        return SQR_EXIT_USAGE;
      }
      if(c == 't')
        o.timeout = v;
      else
        o.settle = v;
      break;
    }
    default:
      usage();
      return SQR_EXIT_USAGE;
    }
  }
  if(optind >= argc) {
    usage();
    return SQR_EXIT_USAGE;
  }
  const char *cmd = argv[optind];
  const char *root = strcmp(o.root, "/") ? o.root : "";
  snprintf(P.base, sizeof P.base, "%s/opt/storeqr", root);
  snprintf(P.state, sizeof P.state, "%s/var/lib/storeqr-update", root);
  snprintf(P.queue, sizeof P.queue, "%s/var/lib/storeqr/updates", root);
  snprintf(P.log, sizeof P.log, "%s/update.log", P.state);
  snprintf(P.pending, sizeof P.pending, "%s/update.pending", P.state);
  snprintf(P.lock, sizeof P.lock, "%s/update.lock", P.state);
  snprintf(P.installed, sizeof P.installed, "%s/installed", P.state);
  if(o.pub)
    snprintf(P.pub, sizeof P.pub, "%s", o.pub);
  else
    snprintf(P.pub, sizeof P.pub, "%s/etc/storeqr/update.pub", root);

  if(!strcmp(cmd, "status") && optind + 1 == argc) return cmd_status();
  /* Root's state: readable by all (status, the update log), writable by
   * root only, whoever the umask says. */
  if(mkdir_p(P.state, 0755) || chmod(P.state, 0755) != 0 || mkdir_p(P.base, 0755)) {
    fprintf(stderr, "storeqr-update: cannot create %s or %s: %s\n", P.state, P.base,
            strerror(errno));
    return SQR_EXIT_IO;
  }
  /* One update at a time: the sync client and a person at a terminal may
   * both try. The lock dies with the process, SIGKILL included. */
  int lk = open(P.lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if(lk < 0 || flock(lk, LOCK_EX | LOCK_NB) != 0) {
    fprintf(stderr, "storeqr-update: another update is running (%s)\n", P.lock);
    return SQR_EXIT_IO;
  }
  /* Commands inherit where the new release lives, for health checks. */
  setenv("STOREQR_ROOT", *root ? root : "/", 1);
  int ret;
  if(!strcmp(cmd, "install") && optind + 2 == argc)
    ret = cmd_install(&o, argv[optind + 1]);
  else if(!strcmp(cmd, "recover") && optind + 1 == argc)
    ret = recover(&o);
  else if(!strcmp(cmd, "seed") && optind + 3 == argc)
    ret = cmd_seed(&o, argv[optind + 1], argv[optind + 2]);
  else if(!strcmp(cmd, "install-queued") && optind + 1 == argc) {
    ret = cmd_install_queued(&o, queue ? queue : P.queue);
  } else {
    usage();
    ret = SQR_EXIT_USAGE;
  }
  close(lk);
  return ret;
}
