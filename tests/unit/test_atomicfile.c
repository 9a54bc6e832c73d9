/* test_atomicfile.c — a file written whole or not at all: content and
 * exact mode, a link at the temporary name never followed, and on every
 * failure the old file untouched, no temporary file left and the FIRST
 * error reported (a full disk is SQR_ENOSPC, not SQR_EIO). The full disk
 * is /dev/full for the write step and, when the test runs as root, a
 * small tmpfs for the write and create steps (skipped otherwise). */
#include "testutil.h"
#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* The whole file at path into buf (NUL-terminated); -1 if absent. */
static long slurp(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "rb");
  if(!f) return -1;
  size_t n = fread(buf, 1, size - 1, f);
  fclose(f);
  buf[n] = '\0';
  return (long)n;
}

static void put(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fputs(text, f) >= 0, 1);
  assert_int_equal(fclose(f), 0);
}

static int exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

static void test_content_and_mode(void **state) {
  (void)state;
  const char *dir = tu_tmpdir("atomicfile-mode");
  char path[600], tmp[610], buf[64], err[256] = "";
  snprintf(path, sizeof path, "%s/kiosk.crt", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  /* A umask that would take the group and world bits off: the caller's
   * mode is what the file gets. */
  mode_t old = umask(077);
  sqr_rc rc = atomicfile_write(path, "first\n", 6, 0644, 0, err, sizeof err);
  umask(old);
  assert_int_equal(rc, SQR_OK);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0644);
  assert_int_equal(slurp(path, buf, sizeof buf), 6);
  assert_string_equal(buf, "first\n");
  assert_false(exists(tmp));

  /* Replacing: the new bytes, the new mode, nothing left over. */
  assert_int_equal(atomicfile_write(path, "second", 6, 0600, 0, err, sizeof err), SQR_OK);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_int_equal(slurp(path, buf, sizeof buf), 6);
  assert_string_equal(buf, "second");
  assert_false(exists(tmp));

  /* Empty is a file too. */
  assert_int_equal(atomicfile_write(path, "", 0, 0640, 0, err, sizeof err), SQR_OK);
  assert_int_equal(slurp(path, buf, sizeof buf), 0);
}

/* A link planted at PATH.tmp (the name is predictable; the directory may
 * belong to a less trusted user) is replaced, never written through,
 * whether it points at a file or at a name that does not exist yet. */
static void test_symlink_at_temp_not_followed(void **state) {
  (void)state;
  const char *dir = tu_tmpdir("atomicfile-link");
  char path[600], tmp[610], victim[600], absent[600], buf[64], err[256] = "";
  snprintf(path, sizeof path, "%s/result", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  snprintf(victim, sizeof victim, "%s/victim", dir);
  snprintf(absent, sizeof absent, "%s/created-through-link", dir);
  put(victim, "precious");
  assert_int_equal(symlink(victim, tmp), 0);
  assert_int_equal(atomicfile_write(path, "answer", 6, 0644, 0, err, sizeof err), SQR_OK);
  assert_int_equal(slurp(victim, buf, sizeof buf), 8);
  assert_string_equal(buf, "precious");
  assert_int_equal(slurp(path, buf, sizeof buf), 6);
  assert_string_equal(buf, "answer");
  assert_false(exists(tmp));

  assert_int_equal(symlink(absent, tmp), 0);
  assert_int_equal(atomicfile_write(path, "again", 5, 0644, 0, err, sizeof err), SQR_OK);
  assert_false(exists(absent));
  assert_int_equal(slurp(path, buf, sizeof buf), 5);
  assert_string_equal(buf, "again");
}

/* The write step hits a full disk (/dev/full under the temporary file's
 * descriptor): SQR_ENOSPC with the path, errno ENOSPC, the old file as it
 * was, no temporary file. */
static void test_full_disk_on_write(void **state) {
  (void)state;
  const char *dir = tu_tmpdir("atomicfile-devfull");
  char path[600], tmp[610], buf[64], err[256] = "";
  snprintf(path, sizeof path, "%s/queued", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  put(path, "old\n");
  atomicfile *f = NULL;
  assert_int_equal(atomicfile_open(path, 0640, 0, &f, err, sizeof err), SQR_OK);
  assert_true(exists(tmp));
  int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
  if(full < 0) {
    atomicfile_abort(f);
    skip();
  }
  assert_int_equal(dup2(full, atomicfile_fd(f)), atomicfile_fd(f));
  close(full);
  assert_int_equal(atomicfile_error(f, err, sizeof err), SQR_OK);
  assert_int_equal(atomicfile_append(f, "new\n", 4), SQR_ENOSPC);
  /* Sticky: a later write does not replace the first error. */
  assert_int_equal(atomicfile_append(f, "more", 4), SQR_ENOSPC);
  assert_int_equal(atomicfile_write_at(f, 0, "x", 1), SQR_ENOSPC);
  assert_int_equal(atomicfile_error(f, err, sizeof err), SQR_ENOSPC);
  if(!strstr(err, path)) fail_msg("error \"%s\" does not name %s", err, path);
  err[0] = '\0';
  errno = 0;
  assert_int_equal(atomicfile_commit(f, err, sizeof err), SQR_ENOSPC);
  assert_int_equal(errno, ENOSPC);
  if(!strstr(err, path)) fail_msg("error \"%s\" does not name %s", err, path);
  assert_int_equal(slurp(path, buf, sizeof buf), 4);
  assert_string_equal(buf, "old\n");
  assert_false(exists(tmp));
}

/* The streaming form: appends, a header written last, commit; and an
 * abort that leaves the old file. */
static void test_stream_commit_and_abort(void **state) {
  (void)state;
  const char *dir = tu_tmpdir("atomicfile-stream");
  char path[600], tmp[610], buf[64], err[256] = "";
  snprintf(path, sizeof path, "%s/out.bundle", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  atomicfile *f = NULL;
  assert_int_equal(atomicfile_open(path, 0644, 0, &f, err, sizeof err), SQR_OK);
  assert_int_equal(atomicfile_append(f, "HHHH", 4), SQR_OK);
  assert_int_equal(atomicfile_append(f, "body", 4), SQR_OK);
  assert_int_equal(write(atomicfile_fd(f), "+fd", 3), 3);
  assert_int_equal(atomicfile_write_at(f, 0, "head", 4), SQR_OK);
  assert_int_equal(atomicfile_append(f, "!", 1), SQR_OK); /* write_at left the end alone */
  assert_false(exists(path));                             /* nothing visible before commit */
  assert_int_equal(atomicfile_commit(f, err, sizeof err), SQR_OK);
  assert_int_equal(slurp(path, buf, sizeof buf), 12);
  assert_string_equal(buf, "headbody+fd!");
  assert_false(exists(tmp));

  assert_int_equal(atomicfile_open(path, 0644, 0, &f, err, sizeof err), SQR_OK);
  assert_int_equal(atomicfile_append(f, "half", 4), SQR_OK);
  errno = EPROTO;
  atomicfile_abort(f);
  assert_int_equal(errno, EPROTO); /* the caller's reason survives */
  assert_int_equal(slurp(path, buf, sizeof buf), 12);
  assert_string_equal(buf, "headbody+fd!");
  assert_false(exists(tmp));
  atomicfile_abort(NULL);
}

/* ATOMICFILE_NOREPLACE: a key is never written over an existing one. */
static void test_noreplace(void **state) {
  (void)state;
  const char *dir = tu_tmpdir("atomicfile-noreplace");
  char path[600], tmp[610], buf[64], err[256] = "";
  snprintf(path, sizeof path, "%s/update.key", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  assert_int_equal(atomicfile_write(path, "key1", 4, 0600, ATOMICFILE_NOREPLACE, err, sizeof err),
                   SQR_OK);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_int_equal(atomicfile_write(path, "key2", 4, 0600, ATOMICFILE_NOREPLACE, err, sizeof err),
                   SQR_EEXISTS);
  if(!strstr(err, path)) fail_msg("error \"%s\" does not name %s", err, path);
  assert_int_equal(slurp(path, buf, sizeof buf), 4);
  assert_string_equal(buf, "key1");
  assert_false(exists(tmp));
}

/* A step after the write fails (the target is a directory: rename refuses
 * it): an error naming the path, no temporary file, the directory kept. */
static void test_rename_fails(void **state) {
  (void)state;
  const char *dir = tu_tmpdir("atomicfile-rename");
  char path[600], tmp[610], inside[620], err[256] = "";
  snprintf(path, sizeof path, "%s/config", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  snprintf(inside, sizeof inside, "%s/keep", path);
  assert_int_equal(mkdir(path, 0755), 0);
  put(inside, "x");
  assert_int_equal(atomicfile_write(path, "data", 4, 0644, 0, err, sizeof err), SQR_EIO);
  if(!strstr(err, path)) fail_msg("error \"%s\" does not name %s", err, path);
  assert_false(exists(tmp));
  assert_true(exists(inside));
}

/* ---- a real full disk: a small tmpfs (root only) ------------------------ */

static char mnt[600];

static int mount_small(void **state) {
  (void)state;
  snprintf(mnt, sizeof mnt, "%s", tu_tmpdir("atomicfile-tmpfs"));
  if(geteuid() != 0 || mount("tmpfs", mnt, "tmpfs", 0, "size=64k,nr_inodes=8,mode=0755") != 0)
    mnt[0] = '\0';
  return 0;
}

static int unmount_small(void **state) {
  (void)state;
  if(mnt[0]) umount2(mnt, MNT_DETACH);
  mnt[0] = '\0';
  return 0;
}

/* Out of blocks in the middle of the data: the disk is full, whatever
 * short writes came before; the old file stays as it was. */
static void test_tmpfs_full_on_write(void **state) {
  (void)state;
  if(!mnt[0]) skip(); /* not root, or no tmpfs */
  char path[700], tmp[710], buf[64], err[256] = "";
  snprintf(path, sizeof path, "%s/bundle", mnt);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  put(path, "old\n");
  size_t big = 256 * 1024;
  char *data = malloc(big);
  assert_non_null(data);
  memset(data, 'b', big);
  errno = 0;
  sqr_rc rc = atomicfile_write(path, data, big, 0640, 0, err, sizeof err);
  int e = errno;
  free(data);
  assert_int_equal(rc, SQR_ENOSPC);
  assert_int_equal(e, ENOSPC);
  if(!strstr(err, path)) fail_msg("error \"%s\" does not name %s", err, path);
  assert_int_equal(slurp(path, buf, sizeof buf), 4);
  assert_string_equal(buf, "old\n");
  assert_false(exists(tmp));
}

/* Out of inodes: the temporary file cannot even be created. Removing the
 * temporary file afterwards fails too (ENOENT); the first error is the
 * one reported. */
static void test_tmpfs_full_on_create(void **state) {
  (void)state;
  if(!mnt[0]) skip();
  char path[700], tmp[710], fill[720], err[256] = "";
  snprintf(path, sizeof path, "%s/queued", mnt);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  for(int i = 0; i < 64; i++) {
    snprintf(fill, sizeof fill, "%s/fill%d", mnt, i);
    int fd = open(fill, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if(fd < 0) {
      assert_int_equal(errno, ENOSPC);
      break;
    }
    close(fd);
  }
  errno = 0;
  sqr_rc rc = atomicfile_write(path, "sha\n", 4, 0640, 0, err, sizeof err);
  int e = errno;
  assert_int_equal(rc, SQR_ENOSPC);
  assert_int_equal(e, ENOSPC);
  if(!strstr(err, tmp)) fail_msg("error \"%s\" does not name %s", err, tmp);
  assert_false(exists(path));
  assert_false(exists(tmp));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_content_and_mode),
      cmocka_unit_test(test_symlink_at_temp_not_followed),
      cmocka_unit_test(test_full_disk_on_write),
      cmocka_unit_test(test_stream_commit_and_abort),
      cmocka_unit_test(test_noreplace),
      cmocka_unit_test(test_rename_fails),
      cmocka_unit_test_setup_teardown(test_tmpfs_full_on_write, mount_small, unmount_small),
      cmocka_unit_test_setup_teardown(test_tmpfs_full_on_create, mount_small, unmount_small),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
