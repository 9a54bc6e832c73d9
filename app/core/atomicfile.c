/* atomicfile.c — see atomicfile.h.
 *
 * The one invariant: f->err is set once, by the first step that fails,
 * and nothing after (closing, removing the temporary file) may change it;
 * the result code and the message are made from it alone, at the end.
 */
#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct atomicfile {
  int fd;
  mode_t mode;
  unsigned flags;
  int err;           /* the first errno, 0 while all is well */
  sqr_rc rc;         /* what err means, once set */
  const char *what;  /* the step that failed, for the message */
  const char *where; /* the file it failed on (path or tmp) */
  char *path, *tmp;
};

static sqr_rc rc_for(int e) {
  switch(e) {
  case ENOSPC:
#ifdef EDQUOT
  case EDQUOT:
#endif
    return SQR_ENOSPC;
  default:
    return SQR_EIO;
  }
}

/* Remembers a failure, unless an earlier one is already remembered. */
static sqr_rc note(atomicfile *f, int e, sqr_rc rc, const char *what, const char *where) {
  if(f->err) return f->rc;
  f->err = e ? e : EIO; /* a zero errno would read as success */
  f->rc = rc;
  f->what = what;
  f->where = where;
  return rc;
}

static sqr_rc note_errno(atomicfile *f, const char *what, const char *where) {
  int e = errno;
  return note(f, e, rc_for(e), what, where);
}

static void report(const atomicfile *f, char *err, size_t errlen) {
  if(err && errlen) snprintf(err, errlen, "%s %s: %s", f->what, f->where, strerror(f->err));
}

static void release(atomicfile *f) {
  if(f->fd >= 0) close(f->fd);
  free(f->path);
  free(f->tmp);
  free(f);
}

/* The directory holding path ("." for a bare name), fsynced, so the rename
 * itself survives a power cut. */
static int sync_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
  if(!dir) return -1;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free(dir);
  if(fd < 0) return -1;
  int rc = fsync(fd);
  /* Some file systems cannot sync a directory and say EINVAL: nothing more
   * can be done there, and the rename already happened. */
  if(rc != 0 && errno == EINVAL) rc = 0;
  int e = errno;
  close(fd);
  errno = e;
  return rc;
}

sqr_rc atomicfile_open(const char *path, mode_t mode, unsigned flags, atomicfile **out, char *err,
                       size_t errlen) {
  *out = NULL;
  atomicfile *f = calloc(1, sizeof *f);
  size_t n = strlen(path);
  if(f) f->fd = -1;
  if(!f || !(f->path = strdup(path)) || !(f->tmp = malloc(n + 5))) {
    if(f) release(f);
    if(err && errlen) snprintf(err, errlen, "cannot write %s: out of memory", path);
    errno = ENOMEM;
    return SQR_ENOMEM;
  }
  memcpy(f->tmp, path, n);
  memcpy(f->tmp + n, ".tmp", 5);
  f->mode = mode;
  f->flags = flags;
  /* A temporary file left by a crash, or anything planted at its name:
   * removed (unlink never follows a link), and O_EXCL|O_NOFOLLOW refuses
   * whatever appears there again before the open. */
  if(unlink(f->tmp) != 0 && errno != ENOENT) note_errno(f, "cannot remove the stale", f->tmp);
  if(!f->err) {
    f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if(f->fd < 0) note_errno(f, "cannot create", f->tmp);
  }
  /* Exactly the caller's mode: the umask must not take the public bits off
   * a certificate or a reader's answer file. */
  if(!f->err && fchmod(f->fd, mode) != 0) note_errno(f, "cannot set the mode of", f->tmp);
  if(f->err) {
    sqr_rc rc = f->rc;
    int e = f->err;
    report(f, err, errlen);
    if(f->fd >= 0) unlink(f->tmp);
    release(f);
    errno = e;
    return rc;
  }
  *out = f;
  return SQR_OK;
}

int atomicfile_fd(const atomicfile *f) {
  return f->fd;
}

/* atomicfile_append without the warn-unused mark: atomicfile_write leaves
 * the (sticky) error to atomicfile_commit. */
static sqr_rc append(atomicfile *f, const void *p, size_t n) {
  const char *c = p;
  while(!f->err && n > 0) {
    ssize_t w = write(f->fd, c, n);
    if(w < 0 && errno == EINTR) continue;
    if(w <= 0) {
      if(w == 0) errno = EIO;
      return note_errno(f, "cannot write", f->path);
    }
    c += w;
    n -= (size_t)w;
  }
  return f->err ? f->rc : SQR_OK;
}

sqr_rc atomicfile_append(atomicfile *f, const void *p, size_t n) {
  return append(f, p, n);
}

sqr_rc atomicfile_write_at(atomicfile *f, uint64_t off, const void *p, size_t n) {
  const char *c = p;
  while(!f->err && n > 0) {
    if(off > (uint64_t)INT64_MAX - n) {
      errno = EFBIG;
      return note_errno(f, "cannot write", f->path);
    }
    ssize_t w = pwrite(f->fd, c, n, (off_t)off);
    if(w < 0 && errno == EINTR) continue;
    if(w <= 0) {
      if(w == 0) errno = EIO;
      return note_errno(f, "cannot write", f->path);
    }
    c += w;
    n -= (size_t)w;
    off += (uint64_t)w;
  }
  return f->err ? f->rc : SQR_OK;
}

sqr_rc atomicfile_error(const atomicfile *f, char *err, size_t errlen) {
  if(!f->err) return SQR_OK;
  report(f, err, errlen);
  return f->rc;
}

sqr_rc atomicfile_commit(atomicfile *f, char *err, size_t errlen) {
  int placed = 0;
  if(!f->err && fsync(f->fd) != 0) note_errno(f, "cannot write", f->path);
  int fd = f->fd;
  f->fd = -1;
  /* Checked: NFS and some quotas report the lost write only here. */
  if(close(fd) != 0) note_errno(f, "cannot write", f->path);
  if(!f->err && (f->flags & ATOMICFILE_NOREPLACE)) {
    /* link() fails on an existing name, where rename() would replace it. */
    if(link(f->tmp, f->path) != 0) {
      int e = errno;
      note(f, e, e == EEXIST ? SQR_EEXISTS : rc_for(e), "cannot create", f->path);
    } else {
      placed = 1;
      (void)unlink(f->tmp); /* the file is in place; a leftover name is harmless */
    }
  } else if(!f->err) {
    if(rename(f->tmp, f->path) != 0)
      note_errno(f, "cannot rename the new file over", f->path);
    else
      placed = 1;
  }
  if(placed && sync_dir(f->path) != 0)
    note_errno(f, "wrote, but cannot sync the directory of", f->path);
  sqr_rc rc = f->err ? f->rc : SQR_OK;
  int e = f->err;
  if(e) report(f, err, errlen);
  if(e && !placed) unlink(f->tmp);
  release(f);
  if(e) errno = e;
  return rc;
}

void atomicfile_abort(atomicfile *f) {
  if(!f) return;
  int e = errno;
  if(f->fd >= 0) close(f->fd);
  f->fd = -1;
  unlink(f->tmp);
  release(f);
  errno = e;
}

sqr_rc atomicfile_write(const char *path, const void *data, size_t len, mode_t mode, unsigned flags,
                        char *err, size_t errlen) {
  atomicfile *f;
  sqr_rc rc = atomicfile_open(path, mode, flags, &f, err, errlen);
  if(rc) return rc;
  append(f, data, len); /* sticky: commit reports a failure */
  return atomicfile_commit(f, err, errlen);
}
