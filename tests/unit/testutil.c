/* testutil.c — see testutil.h. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *tu_tmpdir(const char *name) {
  static char dir[512];
  const char *base = getenv("SQR_TEST_TMP");
  if(!base) base = "/tmp/storeqr-test";
  mkdir(base, 0755);
  snprintf(dir, sizeof dir, "%s/%s-%d", base, name, (int)getpid());
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if(system(cmd) != 0) abort();
  if(mkdir(dir, 0755) != 0) abort();
  return dir;
}

const char *tu_path(const char *dir, const char *file) {
  static char buf[2][600];
  static int which;
  which ^= 1;
  snprintf(buf[which], sizeof buf[which], "%s/%s", dir, file);
  return buf[which];
}

int tu_file_contains(const char *path, const void *needle, size_t n) {
  FILE *f = fopen(path, "rb");
  if(!f) return 0;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  if(len <= 0) { fclose(f); return 0; }
  char *data = malloc((size_t)len);
  size_t got = fread(data, 1, (size_t)len, f);
  fclose(f);
  int found = 0;
  for(size_t i = 0; i + n <= got && !found; i++)
    if(memcmp(data + i, needle, n) == 0) found = 1;
  free(data);
  return found;
}
