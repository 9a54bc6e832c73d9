/* bundle.h — the signed release bundle: one file that HQ makes with
 * storeqr-bundle and a box installs with storeqr-update. In storeqr_core
 * because four programs share the one rule: the two tools, HQ (checks a
 * release when it is added) and the sync client (compares versions).
 *
 * Layout (integers big-endian, strings NUL-padded):
 *   off  len  field
 *     0    8  magic "SQRBNDL1"
 *     8   32  product   (e.g. "storeqr-kiosk"; [A-Za-z0-9._-], NUL-padded)
 *    40   32  version   ("MAJOR.MINOR.PATCH", 1 to 4 numeric parts)
 *    72    4  flags     (BUNDLE_FLAG_FORCED: HQ allows a downgrade)
 *    76    4  entry count
 *    80    8  payload length in bytes
 *    88    8  key id: the first 8 bytes of SHA-256 of the signer's public key
 *    96   64  signature: ECDSA P-256, r || s (32 bytes each), over
 *             SHA-256(bytes 0..95 || payload)
 *   160       payload: `entry count` records, back to back:
 *             u16 path length | path | u32 mode | u64 size | size bytes
 * mode carries the file type (S_IFREG, S_IFDIR, S_IFLNK) and the
 * permission bits 07777 & ~06000 (never setuid/setgid). A directory has
 * size 0; a symbolic link's bytes are its target. Paths are relative,
 * '/'-separated, without empty, "." or ".." components.
 * Everything the box acts on — product, version, the forced flag, every
 * byte of every file — is covered by the signature; a bundle that is not
 * signed has an all-zero signature and is refused.
 *
 * Owns: the header codec, signing and verifying, payload record codec.
 * Must never: trust a header field before the signature over it verified,
 * or read past the hard limits below.
 */
#ifndef SQR_BUNDLE_H
#define SQR_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "crypto.h"
#include "seal.h"
#include "sqr.h"

#define BUNDLE_MAGIC             "SQRBNDL1"
#define BUNDLE_HEADER_LEN        160
#define BUNDLE_SIGNED_HEADER_LEN 96 /* the header bytes the signature covers */
#define BUNDLE_NAME_LEN          32 /* product and version fields */
#define BUNDLE_KEYID_LEN         8
#define BUNDLE_SIG_LEN           64
#define BUNDLE_FLAG_FORCED       0x1u

/* Hard limits: a bundle that exceeds any of them is refused. */
#define BUNDLE_MAX_ENTRIES 20000u
#define BUNDLE_MAX_PATH    255u
#define BUNDLE_MAX_PAYLOAD (1ull << 30) /* 1 GiB */

typedef struct bundle_header {
  char product[BUNDLE_NAME_LEN + 1];
  char version[BUNDLE_NAME_LEN + 1];
  uint32_t flags;
  uint32_t count;
  uint64_t payload_len;
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

/* Encodes h into buf (the signature field as it stands in h). */
void bundle_header_encode(const bundle_header *h, uint8_t buf[BUNDLE_HEADER_LEN]);

/* Decodes buf into *h. Checks only the framing (magic, NUL-padded names,
 * limits); nothing in *h may be trusted before bundle_verify.
 * SQR_EINVAL with a logged reason otherwise. */
sqr_rc bundle_header_decode(const uint8_t buf[BUNDLE_HEADER_LEN], bundle_header *h) SQR_WARN_UNUSED;

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

/* Reads the file's key file (one line of base64, see seal.h) into pub /
 * priv. SQR_EIO if it cannot be read, SQR_EINVAL if it is not a key. */
sqr_rc bundle_read_pub(const char *path, uint8_t pub[SEAL_PUB_LEN]) SQR_WARN_UNUSED;
sqr_rc bundle_read_priv(const char *path, uint8_t priv[SEAL_PRIV_LEN]) SQR_WARN_UNUSED;

/* Checks a whole bundle file the way a box will before it installs it:
 * framing, exact length (header + payload, nothing after), key id and the
 * signature under pub. *h gets the (now trustworthy) header and file_sha
 * the SHA-256 of the whole file (HQ names and serves bundles by it).
 * Errors, with a sentence in err: SQR_EIO (unreadable), SQR_ECORRUPT
 * (framing, truncated, trailing bytes), SQR_EAUTH (unsigned, another key,
 * tampered with). */
sqr_rc bundle_verify_file(const char *path, const uint8_t pub[SEAL_PUB_LEN], bundle_header *h,
                          uint8_t file_sha[CRYPTO_SHA256_LEN], char *err,
                          size_t errlen) SQR_WARN_UNUSED;

#endif /* SQR_BUNDLE_H */
