/* qrpng.h — a QR code as a small PNG in a data: URI, for a page that
 * carries its images inline (the resolver's group and staff contact
 * pages, resolve_pages.c).
 *
 * The image: 1 pixel per module and a 4-module quiet zone (the browser
 * scales it without smoothing), 1-bit grey with 1 = white, no filter,
 * deflated with zlib, from libqrencode's bits (error correction level M,
 * 8-bit mode, the smallest version that fits). About a tenth of the same
 * code as SVG paths, which matters: the page goes out on every scan.
 *
 * A leaf: keeps no state, calls only libqrencode, zlib and core's base64,
 * and is never given a secret (the text is printed in the image). Checked
 * by decoding (tests/hqweb/test_qrpng.c).
 */
#ifndef SQR_QRPNG_H
#define SQR_QRPNG_H

#include "sqr.h"

/* "data:image/png;base64,..." of text's QR code into *out, which the
 * caller frees (free()). On failure *out is NULL: SQR_EINVAL for NULL
 * arguments or text libqrencode refuses, SQR_ETOOBIG when the text does
 * not fit in a QR code, SQR_ENOMEM. */
sqr_rc qrpng_data_uri(const char *text, char **out) SQR_WARN_UNUSED;

#endif
