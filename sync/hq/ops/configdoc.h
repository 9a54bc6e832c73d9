/* configdoc.h — the configuration document HQ sends a kiosk (the
 * format is docs/CONFIG.md): the store's template, its groups, keys,
 * erasures and the release it should run, validated with config_parse
 * before it leaves, so HQ never sends what a kiosk would refuse.
 *
 * The document holds the kiosk's own keys (keys.h; docs/PROTOCOL.md
 * "Identity and keys"): callers wipe it when done. Never logs a key.
 */
#ifndef SQR_HQ_CONFIGDOC_H
#define SQR_HQ_CONFIGDOC_H

#include <stddef.h>
#include <stdint.h>
#include "hq.h"

/* The document for one kiosk incarnation (kiosk_id "STORE/N" or
 * "STORE/N@INC"; compact JSON, malloc'ed), and its version: the store's
 * config_version plus the releases that named it. With kiosk_id NULL, the
 * store's own view (store_id's settings as kiosk 1 with all-zero keys),
 * for reading and validating its settings; it never leaves HQ.
 * hq_time_ms, unless 0, is added as "hq_time_ms". err gets a sentence on
 * failure. */
sqr_rc hq_config_doc(hq *h, const char *store_id, const char *kiosk_id, int64_t hq_time_ms,
                     char **json, int64_t *version, char *err, size_t errlen) SQR_WARN_UNUSED;

/* GET /v1/config for an enrolled kiosk ("STORE/N", "STORE/N@INC"), after
 * issuing its next key version when rotation is due (keys.h): *json NULL when the
 * kiosk already holds version `since` or newer (304), else the document
 * with HQ's clock (hq_time_ms) added. Errors: "storage", "internal". */
sqr_rc hq_config_get(hq *h, const char *kiosk_id, int64_t since, char **json,
                     hq_err *e) SQR_WARN_UNUSED;

#endif
