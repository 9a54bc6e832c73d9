/* demo.h — turns the configuration template (assets/config/demo.json) into
 * a usable document: fresh keys filled in and group expiries set relative
 * to now (a WeChat group QR lasts 7 days). Used by `storeqr init --demo`,
 * the demo script and the tests, so all three run on the same store. */
#ifndef SQR_DEMO_H
#define SQR_DEMO_H

#include <stdint.h>
#include "sqr.h"

/* template_json: the template text. version: the document version to set.
 * Groups whose expires_at is 0 get now + 6 days (+ 1 day per position) so
 * they do not expire during a demo week. *out is malloc'ed JSON text. */
sqr_rc demo_config_json(const char *template_json, int64_t version, const uint8_t store_key[32],
                        const uint8_t hq_pub[65], int64_t now, char **out) SQR_WARN_UNUSED;

#endif
