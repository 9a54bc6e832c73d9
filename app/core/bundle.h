/* bundle.h — the signed release bundle: one file that HQ makes with
 * storeqr-bundle and a box installs with storeqr-update. In storeqr_core
 * because four programs share the one rule: the two tools, HQ (checks a
 * release when it is added) and the sync client (compares versions).
 *
 * Format 2 ("SQRBNDL2", what storeqr-bundle writes; integers big-endian,
 * strings NUL-padded):
 *   off  len  field
 *     0    8  magic "SQRBNDL2"
 *     8   32  product      (e.g. "storeqr-kiosk"; [A-Za-z0-9._-], NUL-padded)
 *    40   32  version      ("MAJOR.MINOR.PATCH", 1 to 4 numeric parts)
 *    72    4  flags        (BUNDLE_FLAG_FORCED: HQ allows a downgrade; no
 *                           other bit may be set)
 *    76    4  entry count
 *    80    8  payload length in bytes
 *    88   32  forced_from  (forced only: the one version it may replace;
 *                           all NUL otherwise)
 *   120    8  forced_until (forced only: unix seconds, the last second a
 *                           box may install it; 0 otherwise)
 *   128    8  key id: the first 8 bytes of SHA-256 of the signer's public key
 *   136   64  signature: ECDSA P-256, r || s (32 bytes each), over
 *             SHA-256(bytes 0..135 || payload)
 *   200       payload
 * Format 1 ("SQRBNDL1", read only, for bundles packed before forced
 * bundles were bound): the same up to offset 88, then key id at 88,
 * signature at 96 over SHA-256(bytes 0..95 || payload), payload at 160.
 * A format-1 bundle has no forced_from / forced_until, so storeqr-update
 * and HQ refuse a format-1 bundle that is forced (it would install over
 * any version, for ever); a format-1 normal bundle is accepted.
 *
 * The payload is `entry count` records, back to back:
 *   u16 path length | path | u32 mode | u64 size | size bytes
 * and a box installs only what bundle_check_entry and the walk below
 * allow: regular files and directories (no symbolic links, device nodes,
 * FIFOs or sockets; the format has no hard links), permission bits
 * 07777 & ~06000 (never setuid/setgid), a directory of size 0; paths
 * relative, '/'-separated, without empty, "." or ".." components or
 * control characters, and no component starting with ".storeqr-"
 * (BUNDLE_RESERVED_PREFIX: the updater's own files in a slot, such as
 * .storeqr-release and its temporary .storeqr-release.tmp). Records come
 * in the order storeqr-bundle walks a tree — depth first, names in byte
 * order, a directory before what it holds — so each entry's directory is
 * an earlier directory entry (none is reached through a file) and no
 * path appears twice.
 *
 * Everything the box acts on — product, version, the forced flag and its
 * binding, every byte of every file — is covered by the signature; a
 * bundle that is not signed has an all-zero signature and is refused.
 *
 * Owns: the header codec, signing and verifying, the payload record codec
 * and the entry rules. Must never: trust a header field before the
 * signature over it verified, or read past the hard limits below.
 */
#ifndef SQR_BUNDLE_H
#define SQR_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "crypto.h"
#include "seal.h"
#include "sqr.h"

#define BUNDLE_MAGIC_V1        "SQRBNDL1"
#define BUNDLE_MAGIC_V2        "SQRBNDL2"
#define BUNDLE_MAGIC_LEN       8
#define BUNDLE_HEADER_LEN_V1   160
#define BUNDLE_HEADER_LEN_V2   200
#define BUNDLE_HEADER_MAX      200 /* the longest header, for buffers */
#define BUNDLE_NAME_LEN        32  /* product, version and forced_from fields */
#define BUNDLE_KEYID_LEN       8
#define BUNDLE_SIG_LEN         64 /* the last bytes of every header */
#define BUNDLE_FLAG_FORCED     0x1u
#define BUNDLE_RESERVED_PREFIX ".storeqr-" /* names only the updater writes */

/* Hard limits: a bundle that exceeds any of them is refused. */
#define BUNDLE_MAX_ENTRIES 20000u
#define BUNDLE_MAX_PATH    255u
#define BUNDLE_MAX_PAYLOAD (1ull << 30) /* 1 GiB */

typedef struct bundle_header {
  int format;        /* 1 or 2 (the magic); encode writes 2 when 0 */
  size_t header_len; /* set by decode: BUNDLE_HEADER_LEN_V1 or _V2 */
  size_t signed_len; /* set by decode: header_len - BUNDLE_SIG_LEN */
  char product[BUNDLE_NAME_LEN + 1];
  char version[BUNDLE_NAME_LEN + 1];
  uint32_t flags;
  uint32_t count;
  uint64_t payload_len;
  char forced_from[BUNDLE_NAME_LEN + 1]; /* format 2, forced only; else "" */
  uint64_t forced_until;                 /* format 2, forced only; else 0 */
  uint8_t keyid[BUNDLE_KEYID_LEN];
  uint8_t sig[BUNDLE_SIG_LEN];
} bundle_header;

/* One payload record's metadata; the bytes follow it in the stream. */
typedef struct bundle_entry {
  char path[BUNDLE_MAX_PATH + 1];
  uint32_t mode;
  uint64_t size;
} bundle_entry;

/* SQR_OK if name is a usable product name (1..32 of [A-Za-z0-9._-]). */
sqr_rc bundle_check_product(const char *name) SQR_WARN_UNUSED;

/* Parses "1.2.3" (1 to 4 numeric parts, each < 2^20) into parts[4]
 * (missing parts are 0). SQR_EINVAL otherwise. */
sqr_rc bundle_parse_version(const char *v, uint32_t parts[4]) SQR_WARN_UNUSED;

/* <0, 0, >0 as a is older than, equal to, newer than b; both must parse. */
int bundle_version_cmp(const uint32_t a[4], const uint32_t b[4]);

/* SQR_OK if path is a safe relative path (see the layout above). */
sqr_rc bundle_check_path(const char *path) SQR_WARN_UNUSED;

/* The key id of a public key. */
void bundle_keyid(const uint8_t pub[SEAL_PUB_LEN], uint8_t out[BUNDLE_KEYID_LEN]);

/* The header length that the magic at buf (BUNDLE_MAGIC_LEN bytes)
 * announces: BUNDLE_HEADER_LEN_V1 or _V2; 0 if it is no bundle magic. */
size_t bundle_header_len(const uint8_t *magic);

/* Encodes h into buf in h->format (0: 2), the signature field as it
 * stands in h; returns the header's length. The signed bytes are the
 * first (length - BUNDLE_SIG_LEN). */
size_t bundle_header_encode(const bundle_header *h, uint8_t buf[BUNDLE_HEADER_MAX]);

/* Decodes the len bytes at buf (len: what bundle_header_len announced)
 * into *h. Checks only the framing (magic, NUL-padded names, limits, no
 * unknown flag, forced_from/forced_until set exactly when forced in
 * format 2); nothing in *h may be trusted before bundle_verify.
 * SQR_EINVAL with a logged reason otherwise. */
sqr_rc bundle_header_decode(const uint8_t *buf, size_t len, bundle_header *h) SQR_WARN_UNUSED;

/* Signs digest (SHA-256 of the signed header bytes and the payload) with
 * priv into sig (deterministic ECDSA, RFC 6979). */
sqr_rc bundle_sign(const uint8_t priv[SEAL_PRIV_LEN], const uint8_t digest[CRYPTO_SHA256_LEN],
                   uint8_t sig[BUNDLE_SIG_LEN]) SQR_WARN_UNUSED;

/* SQR_OK if sig is a valid signature of digest under pub; SQR_EAUTH if not
 * (an all-zero signature included); SQR_EINVAL if pub is not a key. */
sqr_rc bundle_verify(const uint8_t pub[SEAL_PUB_LEN], const uint8_t digest[CRYPTO_SHA256_LEN],
                     const uint8_t sig[BUNDLE_SIG_LEN]) SQR_WARN_UNUSED;

/* 1 if sig is all zeros (a bundle that was never signed). */
int bundle_sig_is_zero(const uint8_t sig[BUNDLE_SIG_LEN]);

/* Encodes one record's metadata (path, mode, size) into buf, which must
 * hold 2 + BUNDLE_MAX_PATH + 12 bytes; *len gets the encoded length. */
sqr_rc bundle_entry_encode(const bundle_entry *e, uint8_t *buf, size_t *len) SQR_WARN_UNUSED;

/* SQR_OK if e may go into a slot (the entry rules at the top: path,
 * reserved names, file type, mode, a directory's size); SQR_EINVAL with a
 * sentence in why ("is a symbolic link ...") otherwise. Shared by the
 * packer, the box and HQ, so all three refuse the same entries. */
sqr_rc bundle_check_entry(const bundle_entry *e, char *why, size_t whylen) SQR_WARN_UNUSED;

/* The payload walk: fed every payload byte in order (in any pieces), it
 * parses the records and checks each one (bundle_check_entry, the order,
 * its directory, no path twice, the entry count, nothing after the last
 * record). The first problem sticks: rc and why (naming the entry) keep
 * it and later bytes are ignored, so a caller that must hash the whole
 * file first (the signature verdict comes before any other) can ask
 * afterwards. entry is the record being read, complete once its 12
 * metadata bytes are fed (complete == 1). No allocation. */
typedef struct bundle_walk {
  uint32_t count, seen; /* records announced, records begun */
  int state;            /* what the next byte belongs to */
  uint8_t meta[14];
  size_t have, need;
  uint64_t body_left;
  bundle_entry entry;
  int complete;
  char prev[BUNDLE_MAX_PATH + 1];     /* the previous entry's path */
  char open_dir[BUNDLE_MAX_PATH + 1]; /* innermost directory still open */
  sqr_rc rc;
  char why[BUNDLE_MAX_PATH + 200];
} bundle_walk;

void bundle_walk_init(bundle_walk *w, uint32_t count);
void bundle_walk_feed(bundle_walk *w, const uint8_t *p, size_t n);
/* After the last payload byte: SQR_OK, or SQR_ECORRUPT with w->why. */
sqr_rc bundle_walk_end(bundle_walk *w) SQR_WARN_UNUSED;

/* Reads the file's key file (one line of base64, see seal.h) into pub /
 * priv. SQR_EIO if it cannot be read, SQR_EINVAL if it is not a key. */
sqr_rc bundle_read_pub(const char *path, uint8_t pub[SEAL_PUB_LEN]) SQR_WARN_UNUSED;
sqr_rc bundle_read_priv(const char *path, uint8_t priv[SEAL_PRIV_LEN]) SQR_WARN_UNUSED;

/* Checks a whole bundle file the way a box will before it installs it:
 * framing, exact length (header + payload, nothing after), key id, the
 * signature under pub, then every entry (bundle_walk). *h gets the (now trustworthy) header and
 * file_sha the SHA-256 of the whole file (HQ names and serves bundles by it). Errors, with a
 * sentence in err: SQR_EIO (unreadable), SQR_ECORRUPT (framing, truncated, trailing bytes, an entry
 * a box refuses), SQR_EAUTH (unsigned, another key, tampered with). The forced binding is the
 * caller's to judge (it depends on the box's version and clock). */
sqr_rc bundle_verify_file(const char *path, const uint8_t pub[SEAL_PUB_LEN], bundle_header *h,
                          uint8_t file_sha[CRYPTO_SHA256_LEN], char *err,
                          size_t errlen) SQR_WARN_UNUSED;

#endif /* SQR_BUNDLE_H */
