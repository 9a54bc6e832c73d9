/* driver.c — runs a fuzz target's LLVMFuzzerTestOneInput over every file
 * in the directories given, for builds without libFuzzer. Missing
 * directories are skipped; an empty run is an error (nothing was tested). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if(!f) return 0;
  uint8_t *buf = malloc(1 << 20);
  size_t n = fread(buf, 1, 1 << 20, f);
  fclose(f);
  /* An exact-size copy, so ASan sees any read past the input's end. */
  uint8_t *exact = malloc(n ? n : 1);
  memcpy(exact, buf, n);
  free(buf);
  LLVMFuzzerTestOneInput(exact, n);
  free(exact);
  return 1;
}

int main(int argc, char **argv) {
  int files = 0;
  for(int i = 1; i < argc; i++) {
    DIR *d = opendir(argv[i]);
    if(!d) continue;
    struct dirent *e;
    while((e = readdir(d))) {
      if(e->d_name[0] == '.') continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
      struct stat sb;
      if(stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) files += run_file(path);
    }
    closedir(d);
  }
  printf("fuzz driver: %d input(s) ran without a crash\n", files);
  return files > 0 ? 0 : 1;
}
