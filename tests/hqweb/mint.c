/* hqweb-mint — mints the live-code token a kiosk of STORE would show,
 * straight from HQ's master key (the store key is HKDF-SHA256(master,
 * "storeqr/v1/store-key/" STORE "/" VERSION), as hq_store_key derives it).
 * For tests/hqweb and tools/bench/bench-resolver, which need valid,
 * stale and wrong-version tokens without enrolling a kiosk.
 *
 *   hqweb-mint HQ_DIR STORE KEY_VERSION KIOSK [AT_UNIX_SECONDS [PERIOD]]
 *
 * Prints the 24-character token. AT defaults to now, PERIOD to 30.
 * Exit 0, 2 usage, 3 unreadable key or mint failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "livecode.h"

int main(int argc, char **argv) {
  if(argc < 5) {
    fprintf(stderr, "usage: hqweb-mint HQ_DIR STORE KEY_VERSION KIOSK [AT [PERIOD]]\n");
    return 2;
  }
  char path[1024], info[96];
  snprintf(path, sizeof path, "%s/master.key", argv[1]);
  FILE *f = fopen(path, "rb");
  uint8_t master[32], store_key[32];
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
  snprintf(info, sizeof info, "storeqr/v1/store-key/%s/%d", argv[2], version);
  livecode_key k;
  char token[LIVECODE_TOKEN_LEN + 1];
  if(crypto_hkdf_sha256(NULL, 0, master, 32, info, store_key, 32) ||
     livecode_key_init(&k, store_key, (uint8_t)version) ||
     livecode_mint(&k, argv[2], (uint16_t)kiosk, at, period, token)) {
    fprintf(stderr, "hqweb-mint: cannot mint\n");
    return 3;
  }
  crypto_wipe(master, sizeof master);
  crypto_wipe(store_key, sizeof store_key);
  livecode_key_wipe(&k);
  puts(token);
  return 0;
}
