/* forge_bundle — test helper: signs a bundle whose entries are exactly
 * what the command line says, with none of storeqr-bundle's rules, so
 * tests/firmware/test_update.sh can hand storeqr-update what a careless
 * or hostile signer could: symbolic links, device nodes, "..", absolute
 * paths, the updater's own file names, duplicates, old-format forced
 * bundles, expired or unbound forced bundles.
 *
 *   forge_bundle --key K.key [--format 1|2] [--product P] [--version V]
 *                [--flags N] [--forced-from V] [--forced-until UNIX]
 *                OUT [PATH MODE SOURCE]...
 * MODE is the whole st_mode in octal (100644 file, 40755 directory,
 * 120777 link, 20644 character device, 10644 FIFO, 140644 socket);
 * SOURCE is "-" (no bytes), "@TEXT" (TEXT itself) or a file to copy.
 * K.pub must sit beside K.key (the key id). Test code only: never built
 * into a package.
 */
#include "bundle.h"
#include "crypto.h"
#include "seal.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

static uint8_t *slurp(const char *src, size_t *len) {
  *len = 0;
  if(!strcmp(src, "-")) return calloc(1, 1);
  if(src[0] == '@') {
    *len = strlen(src + 1);
    return (uint8_t *)strdup(src + 1);
  }
  FILE *f = fopen(src, "rb");
  if(!f) return NULL;
  uint8_t *buf = malloc(1 << 24);
  if(buf) *len = fread(buf, 1, 1 << 24, f);
  fclose(f);
  return buf;
}

static void put(uint8_t *p, uint64_t v, int n) {
  for(int i = n - 1; i >= 0; i--, v >>= 8)
    p[i] = (uint8_t)v;
}

int main(int argc, char **argv) {
  const char *key = NULL;
  bundle_header h;
  memset(&h, 0, sizeof h);
  h.format = 2;
  snprintf(h.product, sizeof h.product, "storeqr-kiosk");
  snprintf(h.version, sizeof h.version, "9.0.0");
  static const struct option lo[] = {
      {"key", required_argument, NULL, 'k'},          {"format", required_argument, NULL, 'F'},
      {"product", required_argument, NULL, 'p'},      {"version", required_argument, NULL, 'v'},
      {"flags", required_argument, NULL, 'f'},        {"forced-from", required_argument, NULL, 'o'},
      {"forced-until", required_argument, NULL, 'u'}, {NULL, 0, NULL, 0}};
  int c;
  while((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch(c) {
    case 'k':
      key = optarg;
      break;
    case 'F':
      h.format = atoi(optarg);
      break;
    case 'p':
      snprintf(h.product, sizeof h.product, "%s", optarg);
      break;
    case 'v':
      snprintf(h.version, sizeof h.version, "%s", optarg);
      break;
    case 'f':
      h.flags = (uint32_t)strtoul(optarg, NULL, 0);
      break;
    case 'o':
      snprintf(h.forced_from, sizeof h.forced_from, "%s", optarg);
      break;
    case 'u':
      h.forced_until = strtoull(optarg, NULL, 10);
      break;
    default:
      return 2;
    }
  }
  if(!key || argc - optind < 1 || (argc - optind - 1) % 3) {
    fprintf(stderr, "usage: forge_bundle --key K.key [options] OUT [PATH MODE SOURCE]...\n");
    return 2;
  }
  const char *out = argv[optind];
  size_t cap = 1 << 26, len = 0;
  uint8_t *payload = malloc(cap);
  if(!payload) return 4;
  for(int i = optind + 1; i < argc; i += 3) {
    size_t plen = strlen(argv[i]), dlen;
    uint8_t *data = slurp(argv[i + 2], &dlen);
    if(!data || len + plen + dlen + 14 > cap) {
      fprintf(stderr, "forge_bundle: cannot use %s\n", argv[i + 2]);
      return 2;
    }
    put(payload + len, plen, 2);
    memcpy(payload + len + 2, argv[i], plen);
    put(payload + len + 2 + plen, strtoul(argv[i + 1], NULL, 8), 4);
    put(payload + len + 6 + plen, dlen, 8);
    memcpy(payload + len + 14 + plen, data, dlen);
    len += 14 + plen + dlen;
    h.count++;
    free(data);
  }
  h.payload_len = len;

  uint8_t priv[SEAL_PRIV_LEN], pub[SEAL_PUB_LEN], hdr[BUNDLE_HEADER_MAX], d[CRYPTO_SHA256_LEN];
  char ppath[4200];
  snprintf(ppath, sizeof ppath, "%.*s.pub", (int)(strlen(key) - 4), key);
  if(bundle_read_priv(key, priv) || bundle_read_pub(ppath, pub)) return 2;
  bundle_keyid(pub, h.keyid);
  size_t hlen = bundle_header_encode(&h, hdr);
  mbedtls_sha256_context sha;
  mbedtls_sha256_init(&sha);
  if(mbedtls_sha256_starts_ret(&sha, 0) ||
     mbedtls_sha256_update_ret(&sha, hdr, hlen - BUNDLE_SIG_LEN) ||
     mbedtls_sha256_update_ret(&sha, payload, len) || mbedtls_sha256_finish_ret(&sha, d) ||
     bundle_sign(priv, d, h.sig))
    return 4;
  mbedtls_sha256_free(&sha);
  (void)bundle_header_encode(&h, hdr);
  FILE *f = fopen(out, "wb");
  if(!f || fwrite(hdr, 1, hlen, f) != hlen || fwrite(payload, 1, len, f) != len || fclose(f))
    return 4;
  free(payload);
  return 0;
}
