/* fetch.c — see fetch.h.
 *
 * The download is only checked against what HQ's configuration says
 * (SHA-256, size): that catches a damaged or swapped file on HQ's disk or
 * on the way. Whether the release may run on this box is storeqr-update's
 * call (signature, product, version), made as root on the file itself.
 */
#include "fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include "atomicfile.h"
#include "bundle.h"
#include "crypto.h"
#include "log.h"

#define COMPONENT "sync"
#ifndef SQR_VERSION
#define SQR_VERSION "0.0.0"
#endif
#define DEFAULT_RELEASE_FILE "/opt/storeqr/current/.storeqr-release"

void fetch_running_version(const char *release_file, char *out, size_t size) {
  char line[128];
  snprintf(out, size, "%s", SQR_VERSION);
  FILE *f = fopen(release_file ? release_file : DEFAULT_RELEASE_FILE, "r");
  if(!f) return;
  while(fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    if(!strncmp(line, "version ", 8) && line[8]) snprintf(out, size, "%.32s", line + 8);
  }
  fclose(f);
}

/* Newer than what runs, or a different version HQ signed as forced. */
static int wanted(const config_update *u, const char *running) {
  uint32_t a[4], b[4];
  if(bundle_parse_version(u->version, a)) return 0;
  if(bundle_parse_version(running, b)) return 1; /* unknown: storeqr-update decides */
  int c = bundle_version_cmp(a, b);
  return c > 0 || (u->forced && c != 0);
}

static sqr_rc hash_file(const char *path, uint8_t sha[32], uint64_t *size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if(fd < 0) return errno == ENOENT ? SQR_ENOTFOUND : SQR_EIO;
  mbedtls_sha256_context c;
  mbedtls_sha256_init(&c);
  sqr_rc rc = mbedtls_sha256_starts_ret(&c, 0) ? SQR_ECRYPTO : SQR_OK;
  uint8_t *buf = malloc(65536);
  if(!buf) rc = SQR_ENOMEM;
  *size = 0;
  while(!rc) {
    ssize_t n = read(fd, buf, 65536);
    if(n < 0 && errno == EINTR) continue;
    if(n < 0) rc = SQR_EIO;
    if(n <= 0) break;
    if(mbedtls_sha256_update_ret(&c, buf, (size_t)n)) rc = SQR_ECRYPTO;
    *size += (uint64_t)n;
  }
  if(!rc && mbedtls_sha256_finish_ret(&c, sha)) rc = SQR_ECRYPTO;
  mbedtls_sha256_free(&c);
  free(buf);
  close(fd);
  return rc;
}

/* The first line of dir/name, "" when absent. */
static void read_line(const char *dir, const char *name, char *out, size_t size) {
  char path[1200];
  out[0] = '\0';
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  if(!f) return;
  if(!fgets(out, (int)size, f)) out[0] = '\0';
  fclose(f);
  out[strcspn(out, "\r\n")] = '\0';
}

/* dir/name = text, whole or not at all: a reader sees the old file or the
 * new one. */
static sqr_rc write_file(const char *dir, const char *name, const char *text, char *err,
                         size_t errlen) {
  char path[1200];
  if((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
    snprintf(err, errlen, "%s: path too long", dir);
    return SQR_EINVAL;
  }
  return atomicfile_write(path, text, strlen(text), 0640, 0, err, errlen);
}

/* Removes bundles and partial downloads other than keep (NULL: all).
 * A partial download is the atomic write's .bundle.tmp (.bundle.part
 * before it: left by an older client). */
static void prune(const char *dir, const char *keep) {
  DIR *d = opendir(dir);
  if(!d) return;
  struct dirent *e;
  char path[1400];
  while((e = readdir(d))) {
    size_t n = strlen(e->d_name);
    int ours = (n > 7 && !strcmp(e->d_name + n - 7, ".bundle")) ||
               (n > 11 && !strcmp(e->d_name + n - 11, ".bundle.tmp")) ||
               (n > 12 && !strcmp(e->d_name + n - 12, ".bundle.part"));
    if(!ours || (keep && !strncmp(e->d_name, keep, 64))) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if(unlink(path) == 0) log_info(COMPONENT, "removed %s (no longer needed)", path);
  }
  closedir(d);
}

/* Runs `sh -c 'CMD "$1"' sh BUNDLE`; the exit status, or -1. */
static int run_update_cmd(const char *cmd, const char *bundle) {
  char script[2048];
  if((size_t)snprintf(script, sizeof script, "%s \"$1\"", cmd) >= sizeof script) return -1;
  pid_t pid = fork();
  if(pid < 0) return -1;
  if(pid == 0) {
    execl("/bin/sh", "sh", "-c", script, "sh", bundle, (char *)NULL);
    _exit(127);
  }
  int st;
  while(waitpid(pid, &st, 0) < 0)
    if(errno != EINTR) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static sqr_rc download(const config_update *u, synchttp *h, const char *dir, const char *bundle,
                       char *note, size_t notelen) {
  char err[400] = "";
  uint8_t sha[32];
  char hex[65];
  uint64_t written = 0;
  long status = 0;
  struct statvfs vfs;
  if(statvfs(dir, &vfs) == 0 &&
     (uint64_t)vfs.f_bavail * vfs.f_frsize < (uint64_t)u->size + FETCH_DISK_RESERVE) {
    snprintf(note, notelen, "update %s: not downloaded, %llu MB free is too little for %llu MB",
             u->version, (unsigned long long)((uint64_t)vfs.f_bavail * vfs.f_frsize >> 20),
             (unsigned long long)((uint64_t)u->size >> 20));
    return SQR_ENOSPC;
  }
  /* Written as BUNDLE.tmp and renamed only once it matches: a cut or
   * refused download never sits under the name storeqr-update takes. */
  atomicfile *af = NULL;
  sqr_rc rc = atomicfile_open(bundle, 0640, 0, &af, err, sizeof err);
  if(rc) {
    snprintf(note, notelen, "update %s: %s", u->version, err);
    return rc;
  }
  rc = synchttp_download(h, u->url, atomicfile_fd(af), (uint64_t)u->size, &status, sha, &written,
                         err, sizeof err);
  if(!rc && status != 200) rc = status == 401 || status == 403 ? SQR_EAUTH : SQR_EPROTO;
  if(!rc && written != (uint64_t)u->size) {
    snprintf(err, sizeof err, "%llu bytes arrived, HQ's configuration says %lld",
             (unsigned long long)written, (long long)u->size);
    rc = SQR_EPROTO;
  }
  if(!rc) {
    crypto_hex(sha, sizeof sha, hex);
    if(strcmp(hex, u->sha256) != 0) {
      snprintf(err, sizeof err,
               "SHA-256 mismatch: got %.16s..., HQ's configuration says %.16s..."
               " (damaged or altered on HQ or on the way)",
               hex, u->sha256);
      rc = SQR_EAUTH;
    }
  }
  if(rc)
    atomicfile_abort(af);
  else
    rc = atomicfile_commit(af, err, sizeof err);
  if(rc) snprintf(note, notelen, "update %s: download refused: %s", u->version, err);
  return rc;
}

sqr_rc fetch_update(const sqr_config *cfg, synchttp *h, const fetch_opts *o, char *note,
                    size_t notelen) {
  const config_update *u = &cfg->update;
  char running[40], bundle[1200], line[256], path[1200];
  note[0] = '\0';
  fetch_running_version(o->release_file, running, sizeof running);
  if(!u->present || !wanted(u, running)) {
    /* Installed, superseded or withdrawn: the disk space goes back, and
     * nothing stays queued for storeqr-update. */
    prune(o->dir, NULL);
    snprintf(path, sizeof path, "%s/queued", o->dir);
    unlink(path);
    return SQR_OK;
  }
  if(mkdir(o->dir, 0750) != 0 && errno != EEXIST) {
    snprintf(note, notelen, "update %s: cannot create %s: %s", u->version, o->dir, strerror(errno));
    return SQR_EIO;
  }
  prune(o->dir, u->sha256);
  /* A bundle storeqr-update refused (signature, version) or rolled back
   * would be refused again: not handed over until HQ names another. */
  read_line(o->dir, "result", line, sizeof line);
  if(!strncmp(line, u->sha256, 64) && line[64] == ' ') {
    snprintf(note, notelen, "update %s: not installed again; storeqr-update said: %.150s",
             u->version, line + 65);
    return strncmp(line + 65, "ok", 2) ? SQR_EAUTH : SQR_OK;
  }
  snprintf(bundle, sizeof bundle, "%s/%s.bundle", o->dir, u->sha256);
  uint8_t sha[32];
  uint64_t size = 0;
  char hex[65] = "";
  sqr_rc rc = hash_file(bundle, sha, &size);
  if(!rc) crypto_hex(sha, sizeof sha, hex);
  if(rc || strcmp(hex, u->sha256) != 0 || size != (uint64_t)u->size) {
    /* Absent, or not what HQ names (a cut download cannot be here: those
     * stay .tmp): fetch it. */
    unlink(bundle);
    if((rc = download(u, h, o->dir, bundle, note, notelen))) {
      log_warn(COMPONENT, "%s", note);
      return rc;
    }
    log_info(COMPONENT, "update %s: downloaded %lld bytes, SHA-256 matches", u->version,
             (long long)u->size);
  }
  if(o->update_cmd) {
    int ex = run_update_cmd(o->update_cmd, bundle);
    snprintf(note, notelen, "update %s: storeqr-update exited %d%s", u->version, ex,
             ex == 0   ? " (installed)"
             : ex == 1 ? " (refused or rolled back; see update.log)"
                       : "");
    /* 0 and 1 are answers about this bundle; anything else (busy, I/O)
     * may pass, so the next pass tries again. */
    if(ex == 0 || ex == 1) {
      snprintf(path, sizeof path, "%s %s exit %d\n", u->sha256, ex ? "refused" : "ok", ex);
      char werr[300];
      if(write_file(o->dir, "result", path, werr, sizeof werr))
        log_warn(COMPONENT, "update %s: %s", u->version, werr);
    }
    if(ex == 0) unlink(bundle);
    LOG_AT(ex ? LOG_WARN : LOG_INFO, COMPONENT, "%s", note);
    return ex == 0 ? SQR_OK : SQR_EIO;
  }
  read_line(o->dir, "queued", line, sizeof line);
  if(!strcmp(line, u->sha256)) {
    snprintf(note, notelen, "update %s: queued, waiting for storeqr-update", u->version);
    return SQR_OK;
  }
  snprintf(path, sizeof path, "%s\n", u->sha256);
  char werr[300];
  if((rc = write_file(o->dir, "queued", path, werr, sizeof werr))) {
    snprintf(note, notelen, "update %s: cannot queue it: %s", u->version, werr);
    return rc;
  }
  snprintf(note, notelen, "update %s: downloaded, queued for storeqr-update (running %s)",
           u->version, running);
  log_info(COMPONENT, "%s", note);
  return SQR_OK;
}
