/* config.h — the kiosk's configuration document.
 *
 * One JSON document (parsed with cJSON) carries everything HQ decides for a
 * store: the store and kiosk identity, HQ's URL, keys, groups, campaigns,
 * staff, tags, consent text and version, rotation, points, the manager PIN
 * hash and pending erasures. The schema is documented in docs/CONFIG.md and
 * an example lives in assets/config/demo.json.
 *
 * sqr_config is plain, fixed-size data on purpose: the UI reads dozens of
 * fields every frame, a parsed document is immutable once built, and fixed
 * bounds mean a hostile document can never make it grow. It owns no
 * pointers; config_free releases the one allocation.
 *
 * Parsing validates everything and reports the first problem as
 * "field.path: what is wrong" so a person can fix the file.
 * This module never touches the database: store_apply_config does that.
 */
#ifndef SQR_CONFIG_H
#define SQR_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "sqr.h"

#define CONFIG_MAX_BYTES     (1024 * 1024)
#define CONFIG_MAX_GROUPS    32
#define CONFIG_MAX_CAMPAIGNS 16
#define CONFIG_MAX_STAFF     64
#define CONFIG_MAX_TAGS      32
#define CONFIG_MAX_ERASURES  256
#define CONFIG_ID_MAX        32
#define CONFIG_LINK_MAX      512
#define CONFIG_TEXT_MAX      256
#define CONFIG_CONSENT_MAX   8192
#define CONFIG_MARKETING_MAX 1024
#define CONFIG_MEMBER_ID_HEX 32 /* a member id: 128 bits in lower-case hex */
/* retention bounds (days) and defaults */
#define CONFIG_RETAIN_MEMBER_MIN     30
#define CONFIG_RETAIN_MEMBER_MAX     3650
#define CONFIG_RETAIN_MEMBER_DEFAULT 730
#define CONFIG_RETAIN_EVENT_MIN      7
#define CONFIG_RETAIN_EVENT_MAX      3650
#define CONFIG_RETAIN_EVENT_DEFAULT  90
#define CONFIG_AGE_ZH_DEFAULT        "我已年满14周岁"
#define CONFIG_AGE_EN_DEFAULT        "I am 14 or older"

typedef enum config_mode { CONFIG_MODE_HQ = 0, CONFIG_MODE_DIRECT } config_mode;

typedef enum config_group_kind {
  GROUP_KIND_STORE = 0, /* 门店群 */
  GROUP_KIND_WELFARE,   /* 福利群 */
  GROUP_KIND_INTEREST   /* 兴趣群 */
} config_group_kind;

typedef struct config_group {
  char id[CONFIG_ID_MAX + 1];
  config_group_kind kind;
  char name[CONFIG_TEXT_MAX];
  char tag[CONFIG_ID_MAX + 1]; /* "" when the group is for everyone */
  char link[CONFIG_LINK_MAX];
  int capacity;       /* WeChat lets 200 join by QR */
  int64_t expires_at; /* unix seconds; 0 = never */
  int retired;        /* HQ took it out of rotation */
} config_group;

typedef struct config_campaign {
  char id[CONFIG_ID_MAX + 1];
  int start_min, end_min; /* local minutes since midnight, [start, end) */
  char text_zh[CONFIG_TEXT_MAX];
  char text_en[CONFIG_TEXT_MAX];
  char image[CONFIG_TEXT_MAX]; /* asset path, may be "" */
  int coupon_campaign;         /* 1..255 when sign-ups get a coupon, else 0 */
  char coupon_title_zh[CONFIG_TEXT_MAX];
  char coupon_title_en[CONFIG_TEXT_MAX];
} config_campaign;

typedef struct config_staff {
  char id[CONFIG_ID_MAX + 1];
  char name[CONFIG_TEXT_MAX];
} config_staff;

typedef struct config_tag {
  char id[CONFIG_ID_MAX + 1];
  char zh[CONFIG_TEXT_MAX];
  char en[CONFIG_TEXT_MAX];
} config_tag;

/* A release HQ wants this kiosk to run (docs/CONFIG.md "update"): the
 * sync client fetches the bundle from HQ and hands it to storeqr-update,
 * which checks the signature; sha256 and size only bound and check the
 * download. present is 0 when the document names none. */
#define CONFIG_UPDATE_VERSION_MAX 32 /* as the bundle header's version field */
#define CONFIG_UPDATE_URL_MAX     128
#define CONFIG_UPDATE_MAX_SIZE    ((INT64_C(1) << 30) + 160) /* bundle.h: payload + header */
typedef struct config_update {
  int present;
  char version[CONFIG_UPDATE_VERSION_MAX + 1]; /* "MAJOR.MINOR.PATCH", 1..4 parts */
  char sha256[65];                             /* lower-case hex of the whole file */
  int64_t size;                                /* bytes, 1..CONFIG_UPDATE_MAX_SIZE */
  char url[CONFIG_UPDATE_URL_MAX];             /* a path on HQ: "/v1/bundles/..." */
  int forced;                                  /* HQ signed a downgrade/reinstall */
} config_update;

/* How the blind index that finds a returning member is computed
 * (member_index_derive). */
#define CONFIG_INDEX_HMAC     0 /* HMAC-SHA256: configurations from before key versions */
#define CONFIG_INDEX_ARGON2ID 1 /* Argon2id, memory-hard (docs/PROTOCOL.md "Members") */

/* Bounds of keys.index (Argon2id: m >= 8 p KiB is the algorithm's own).
 * The most memory a kiosk (2 GiB boards, the UI and SQLite beside it)
 * gives one index computation is 256 MiB, and 10 passes of that already
 * take seconds per candidate; HQ refuses a store template past these
 * (hq_open), a kiosk a configuration past them (it keeps the one it
 * has). The minimum stays Argon2's own: tests use 64 KiB to stay fast. */
#define CONFIG_INDEX_M_KIB_MIN     8
#define CONFIG_INDEX_M_KIB_MAX     262144
#define CONFIG_INDEX_T_MAX         10
#define CONFIG_INDEX_P_MAX         4
#define CONFIG_INDEX_M_KIB_DEFAULT 32768
#define CONFIG_INDEX_T_DEFAULT     2
#define CONFIG_INDEX_P_DEFAULT     1

typedef struct sqr_config {
  int64_t version;   /* increases with every change at HQ */
  char store_id[17]; /* A-Z 0-9 '-', as in the live-code URL */
  char store_name[CONFIG_TEXT_MAX];
  char city[64];
  double lat, lon;
  int utc_offset_min;    /* +480 for China */
  int kiosk_number;      /* 1..65535 */
  int kiosk_incarnation; /* 1..9999: which box holds the number (default 1) */
  char hq_url[CONFIG_LINK_MAX];
  char resolver_host[64]; /* host[:port] in the QR, upper-cased when drawn */
  config_mode mode;
  /* Keys (docs/PROTOCOL.md "Identity and keys"). The kiosk's own token and
   * coupon keys of key_version, already derived by HQ; or, from a
   * document with the legacy keys.store_key, derived here from it (and the
   * store key then wiped: no sqr_config ever holds one). config_free wipes
   * them all. */
  int key_version; /* 1..255 */
  uint8_t token_key[32], coupon_key[32];
  int index_alg;                          /* CONFIG_INDEX_HMAC (legacy) or CONFIG_INDEX_ARGON2ID */
  uint32_t index_m_kib, index_t, index_p; /* Argon2id cost; 0 for HMAC */
  uint8_t index_key[32];                  /* Argon2id secret, or the HMAC key */
  /* The old HMAC index key rows not yet migrated are found by, until
   * legacy_index_until_ms (ms since the epoch); Argon2id documents only. */
  int has_legacy_index;
  uint8_t legacy_index_key[32];
  int64_t legacy_index_until_ms;
  int has_hq_pub;
  uint8_t hq_pub[65];                  /* P-256 point phone numbers are sealed to */
  uint32_t period_s;                   /* token window, default 30 */
  uint32_t skew;                       /* windows back HQ accepts, default 1 */
  int group_reserve;                   /* seats kept free below capacity, default 10 */
  int64_t expiry_margin_s;             /* leave a group this long before it expires */
  char fallback_link[CONFIG_LINK_MAX]; /* staff contact code when no group */
  int points_signup, points_checkin, streak_bonus_every, streak_bonus;
  int idle_timeout_s;         /* screens return to the live code */
  int sync_stale_hours;       /* badge when the last sync is older */
  char manager_pin_hash[200]; /* pbkdf2-sha256$iter$salt-b64$hash-b64 */
  char consent_version[CONFIG_ID_MAX + 1];
  char consent_zh[CONFIG_CONSENT_MAX];
  char consent_en[CONFIG_CONSENT_MAX];
  /* Marketing consent (PIPL: separate from the service consent, optional,
   * unticked). "" version: this HQ offers none (one from before issue 16),
   * so the kiosk neither asks nor records a marketing_consent event. */
  char marketing_version[CONFIG_ID_MAX + 1];
  char marketing_zh[CONFIG_MARKETING_MAX];
  char marketing_en[CONFIG_MARKETING_MAX];
  /* "I am 14 or older" (PIPL art. 31): without it, no record. On unless
   * the document says consent.age.required false. */
  int age_required;
  char age_zh[CONFIG_TEXT_MAX];
  char age_en[CONFIG_TEXT_MAX];
  /* Retention (docs/PRIVACY.md): HQ erases a member this many days after
   * their last sign-up or check-in; the kiosk prunes events HQ has
   * acknowledged once they are this many days old. */
  int retention_member_days;
  int retention_event_days;
  size_t ngroups, ncampaigns, nstaff, ntags, nerasures;
  config_group groups[CONFIG_MAX_GROUPS];
  config_campaign campaigns[CONFIG_MAX_CAMPAIGNS];
  config_staff staff[CONFIG_MAX_STAFF];
  config_tag tags[CONFIG_MAX_TAGS];
  char erasures[CONFIG_MAX_ERASURES][CONFIG_MEMBER_ID_HEX + 1]; /* member ids to erase */
  config_update update;
} sqr_config;

/* Parses and validates a document of len bytes. On failure returns
 * SQR_EINVAL (or SQR_ENOMEM) and writes "path: problem" into err.
 * On success *out is the caller's, freed with config_free. */
sqr_rc config_parse(const char *json, size_t len, sqr_config **out, char *err,
                    size_t errlen) SQR_WARN_UNUSED;

/* Reads a file (at most CONFIG_MAX_BYTES) and parses it. *json_out, if
 * given, receives the file's text (caller frees). */
sqr_rc config_load_file(const char *path, sqr_config **out, char **json_out, char *err,
                        size_t errlen) SQR_WARN_UNUSED;

void config_free(sqr_config *cfg);

/* Lookups; NULL when absent. */
const config_group *config_group_find(const sqr_config *cfg, const char *id);
const config_staff *config_staff_find(const sqr_config *cfg, const char *id);
const config_tag *config_tag_find(const sqr_config *cfg, const char *id);

/* The campaign whose slot holds the local minute, or NULL. */
const config_campaign *config_campaign_at(const sqr_config *cfg, int local_minute);

const char *config_group_kind_name(config_group_kind k);

#endif
