/* hqweb-mint — mints the live-code token kiosk KIOSK of STORE would show
 * with key version KEY_VERSION, straight from HQ's master key: the
 * kiosk's token key is HKDF-SHA256(master, "storeqr/v2/kiosk-token/"
 * STORE "/" KIOSK "/" VERSION), as ops/keys.c derives it (docs/PROTOCOL.md
 * "Identity and keys"); with --legacy, the store key's token key of a
 * kiosk from before key versions (HKDF(master, "storeqr/v1/store-key/"
 * STORE "/" VERSION), then livecode_key_init). For tests/hqweb and
 * tools/bench/bench-resolver, which need valid, stale, wrong-version and
 * other-kiosk tokens; HQ accepts them only for (store, kiosk, version)
 * rows it holds in kiosk_keys.
 *
 *   hqweb-mint [--legacy] HQ_DIR STORE KEY_VERSION KIOSK [AT_UNIX_SECONDS [PERIOD]]
 *
 * Prints the 24-character token. STORE "-" reads store ids from stdin,
 * one a line, and prints one token a line in the same order (a benchmark
 * of 5,000 stores mints them all in one run, not 5,000). AT defaults to now, PERIOD to 30.
 * Exit 0, 2 usage, 3 unreadable key or mint failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "livecode.h"

int main(int argc, char **argv) {
  int legacy = argc > 1 && strcmp(argv[1], "--legacy") == 0;
  if(legacy) argc--, argv++;
  if(argc < 5) {
    fprintf(stderr, "usage: hqweb-mint [--legacy] HQ_DIR STORE KEY_VERSION KIOSK [AT [PERIOD]]\n");
    return 2;
  }
  char path[1024], info[96];
  snprintf(path, sizeof path, "%s/master.key", argv[1]);
  FILE *f = fopen(path, "rb");
  uint8_t master[32], key[32];
  if(!f || fread(master, 1, 32, f) != 32) {
    fprintf(stderr, "hqweb-mint: cannot read %s\n", path);
    if(f) fclose(f);
    return 3;
  }
  fclose(f);
  int version = atoi(argv[3]);
  long kiosk = atol(argv[4]);
  int64_t at = argc > 5 ? atoll(argv[5]) : (int64_t)time(NULL);
  uint32_t period = argc > 6 ? (uint32_t)atol(argv[6]) : LIVECODE_DEFAULT_PERIOD;
  if(version < 1 || version > 255 || kiosk < 1 || kiosk > 65535) {
    fprintf(stderr, "hqweb-mint: KEY_VERSION 1..255, KIOSK 1..65535\n");
    return 2;
  }
  int many = strcmp(argv[2], "-") == 0, rc = 0;
  char line[64];
  const char *store = argv[2];
  while(!rc && (!many || fgets(line, sizeof line, stdin))) {
    if(many) {
      line[strcspn(line, "\r\n")] = '\0';
      if(!line[0]) continue;
      store = line;
    }
    if(legacy)
      snprintf(info, sizeof info, "storeqr/v1/store-key/%s/%d", store, version);
    else
      snprintf(info, sizeof info, "storeqr/v2/kiosk-token/%s/%ld/%d", store, kiosk, version);
    livecode_key k;
    char token[LIVECODE_TOKEN_LEN + 1];
    if(crypto_hkdf_sha256(NULL, 0, master, 32, info, key, 32) ||
       (legacy ? livecode_key_init(&k, key, (uint8_t)version)
               : livecode_key_set(&k, key, (uint8_t)version)) ||
       livecode_mint(&k, store, (uint16_t)kiosk, at, period, token)) {
      fprintf(stderr, "hqweb-mint: cannot mint for store %s\n", store);
      rc = 3;
    } else {
      puts(token);
    }
    livecode_key_wipe(&k);
    if(!many) break;
  }
  crypto_wipe(master, sizeof master);
  crypto_wipe(key, sizeof key);
  return rc;
}
