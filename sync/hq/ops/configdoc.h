/* configdoc.h — the configuration document HQ sends a kiosk (the
 * format is docs/CONFIG.md): the store's template, its groups, keys,
 * erasures and the release it should run, validated with config_parse
 * before it leaves, so HQ never sends what a kiosk would refuse.
 *
 * The document holds the store key: callers wipe it when done. Never
 * logs a key.
 */
#ifndef SQR_HQ_CONFIGDOC_H
#define SQR_HQ_CONFIGDOC_H

#include <stddef.h>
#include <stdint.h>
#include "hq.h"

/* The document for kiosk number `kiosk` of store sid (compact JSON,
 * malloc'ed), and its version: the store's config_version plus the
 * releases that named it. err gets a sentence on failure. */
sqr_rc hq_config_doc(hq *h, const char *sid, int kiosk, char **json, int64_t *version, char *err,
                     size_t errlen) SQR_WARN_UNUSED;

/* GET /v1/config for an enrolled kiosk ("STORE/N"): *json NULL when the
 * kiosk already holds version `since` or newer (304), else the document
 * with HQ's clock (hq_time_ms) added. Errors: "storage", "internal". */
sqr_rc hq_config_get(hq *h, const char *kiosk_id, int64_t since, char **json,
                     hq_err *e) SQR_WARN_UNUSED;

#endif
