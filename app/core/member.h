/* member.h — members: sign-up, check-in, erasure, export.
 *
 * A member has a stable id (128 random bits, never derived from the phone)
 * and is found by a blind index of the phone: Argon2id keyed by the store's
 * index key (member_index_derive), memory-hard so that a stolen kiosk tests
 * each candidate number at the cost of tens of milliseconds and 32 MiB
 * (docs/ARCHITECTURE.md "Threat model"). The phone itself is kept only
 * sealed to HQ's public key: the kiosk recognises a returning shopper but
 * cannot read a number back. Rows from before (index_kind 0, the HMAC
 * index) are found by the old index while the configuration allows, moved
 * onto the new one in the same transaction, and dropped at the deadline.
 * Every call is one transaction that appends its event(s); when it returns
 * SQR_OK the result is durable. The phone passed in is normalised and then
 * forgotten (wiped from the stack); it never reaches a log, an event or an
 * error message.
 */
#ifndef SQR_MEMBER_H
#define SQR_MEMBER_H

#include <stdint.h>
#include <stdio.h>
#include "config.h"
#include "store.h"

#define MEMBER_MAX_TAGS 8
#define MEMBER_ID_LEN   12 /* hex digits of the member id shown to people */

/* A blind index derived ahead of the call, off the caller's thread (the UI
 * starts member_index_derive as the 11th digit is typed), with the
 * version of the configuration it was derived under (store_config(st)
 * ->version). A call uses it only while that version is still the applied
 * one and derives anew otherwise: an index under other keys or costs
 * would miss the member and sign them up twice. It must be the index of
 * the same phone the call is given. */
typedef struct member_index {
  uint8_t bytes[32];
  int64_t config_version;
} member_index;

typedef struct member_signup_req {
  const char *phone;           /* as typed; normalised here */
  const member_index *index;   /* derived ahead, or NULL: derived in the call */
  int consented;               /* the shopper ticked the agreement */
  const char *consent_version; /* the policy version they saw */
  const char *tags[MEMBER_MAX_TAGS];
  size_t ntags;
  const char *staff_id; /* who helped (导购), or NULL */
  /* "I am 14 or older" ticked; required while cfg->age_required */
  int age_confirmed;
  /* The optional marketing consent (cfg->marketing_version) ticked: its
   * own marketing_consent event; never a condition of the sign-up */
  int marketing;
} member_signup_req;

typedef struct member_result {
  int64_t seq;                       /* the event recorded (0 when nothing was) */
  int returning;                     /* already a member: welcomed back */
  char member_id[MEMBER_ID_LEN + 1]; /* the first digits of the member id */
  char group_id[CONFIG_ID_MAX + 1];  /* the group that fits, "" for fallback */
  char group_link[CONFIG_LINK_MAX];  /* its join link (or the staff code) */
  char coupon[32];                   /* welcome coupon code, "" when none */
  char coupon_campaign[CONFIG_ID_MAX + 1];
  int points; /* balance after the call */
  int points_added;
  int streak;    /* consecutive local days checked in */
  int marketing; /* the member's marketing consent is current (sign-up) */
} member_result;

/* Signs a shopper up. Errors (nothing recorded on any of them):
 *   SQR_EINVAL    malformed phone, unknown tag or staff, too many tags,
 *                 outdated consent version (store_errmsg says which)
 *   SQR_ECONSENT  no consent, or the age not confirmed while the
 *                 configuration asks (cfg->age_required)
 *   SQR_ENOTFOUND no configuration applied yet
 *   SQR_ENOSPC    disk full
 * A returning member gets SQR_OK with returning=1 and no new member. */
sqr_rc member_signup(store *st, const member_signup_req *req, member_result *out) SQR_WARN_UNUSED;

/* Does the slow part of sealing (ECDH with HQ's key) for up to n future
 * sign-ups (at most 4), so member_signup need not while a shopper waits.
 * The UI calls it when a shopper starts typing or the screen is idle. The
 * keys live in memory only, each seals one number, and are dropped if HQ's
 * key changes. SQR_ENOTFOUND when no HQ key is configured. */
sqr_rc member_prepare_seals(store *st, int n) SQR_WARN_UNUSED;

/* Checks a member in for today (store-local day). index: as in
 * member_signup_req (NULL: derived here). SQR_EEXISTS when already
 * checked in today (out still holds points and streak), SQR_ENOTFOUND when
 * the phone is not a member, SQR_EINVAL for a malformed phone. */
sqr_rc member_checkin(store *st, const char *phone, const member_index *index,
                      member_result *out) SQR_WARN_UNUSED;

/* Looks a phone up without changing anything (a member still on the old
 * index is found, not moved): SQR_OK and out filled (points, streak,
 * group) for a member, SQR_ENOTFOUND otherwise. index as above. */
sqr_rc member_lookup(store *st, const char *phone, const member_index *index,
                     member_result *out) SQR_WARN_UNUSED;

/* Erases the member with this phone (a request made at the kiosk):
 * removes the row, strips sealed numbers from past events, records an
 * erase event. SQR_ENOTFOUND when there is no such member. index as above. */
sqr_rc member_erase_phone(store *st, const char *phone, const member_index *index) SQR_WARN_UNUSED;

/* Withdraws the marketing consent of the member with this phone (asked
 * at the kiosk): clears it here and records a marketing_consent event
 * (given false), which HQ applies to the person at every store. Recorded
 * even when this kiosk holds no consent (one given at another kiosk may
 * not have reached it). SQR_ENOTFOUND, nothing recorded, when the phone
 * is not a member; SQR_EINVAL for a malformed phone, or when the
 * configuration offers no marketing consent (its HQ may not know the
 * event) and the member holds none here. index as above. */
sqr_rc member_withdraw_marketing(store *st, const char *phone, const member_index *index,
                                 member_result *out) SQR_WARN_UNUSED;

/* The blind index of a normalised phone (exactly 11 ASCII digits, as
 * phone_normalize gives) under cfg (docs/PROTOCOL.md "Members"):
 *   CONFIG_INDEX_ARGON2ID: Argon2id v1.3, password = the 11 digits,
 *     salt = "storeqr-index/" store id, secret = cfg->index_key,
 *     m = cfg->index_m_kib KiB, t = cfg->index_t, p = cfg->index_p lanes
 *     (one thread), 32 bytes;
 *   CONFIG_INDEX_HMAC: HMAC-SHA256(cfg->index_key, the 11 digits), the old
 *     index (seal_blind_index_hmac).
 * Pure and thread-safe: it reads only cfg, which must stay valid for the
 * call (a worker thread derives from its own copy, or from a configuration
 * the store will not free meanwhile), and touches no store. Slow on
 * purpose (about 50-100 ms and m KiB at the defaults). Every copy of the
 * number and key it makes is wiped, and libargon2 wipes its memory.
 * SQR_EINVAL for NULL, a phone that is not 11 digits or an unknown
 * algorithm; SQR_ENOMEM when the m KiB cannot be had; SQR_ECRYPTO if
 * Argon2 or HMAC fail otherwise (logged without the number). On error out
 * is wiped. */
sqr_rc member_index_derive(const sqr_config *cfg, const char *phone11,
                           uint8_t out[32]) SQR_WARN_UNUSED;

/* ---- HQ's feed (docs/PROTOCOL.md "Feed") ----------------------------------
 *
 * What the store's other kiosks did, as HQ tells it: members signed up
 * there (without phone or sealed box: this kiosk knows them by blind
 * index), their check-ins, the check-ins HQ did not keep (one a day
 * across the store's kiosks), erasures. sync/proto/feed.h decodes a page
 * into these entries; member_feed_apply applies it whole or not at all. */
#define MEMBER_FEED_KIOSK_MAX  32 /* "STORE/65535@9999" + NUL, room to spare */
#define MEMBER_FEED_CURSOR_MAX 72

typedef enum member_feed_kind {
  MEMBER_FEED_LATER = 0,  /* a kind a later HQ sends: skipped (seq only) */
  MEMBER_FEED_MEMBER = 1, /* a member of the store, as HQ knows them */
  MEMBER_FEED_CHECKIN,    /* a check-in at a kiosk of the store */
  MEMBER_FEED_VOID,       /* a check-in HQ did not keep: its points come off */
  MEMBER_FEED_ERASE,      /* erase this member */
  MEMBER_FEED_MARKETING   /* the member's marketing consent: marketing, "" withdrawn */
} member_feed_kind;

typedef struct member_feed_entry {
  int64_t seq; /* 1..2^53-1; a snapshot entry: its state_seq */
  member_feed_kind kind;
  char origin[MEMBER_FEED_KIOSK_MAX];    /* the kiosk whose event made it, or "hq" */
  char member[CONFIG_MEMBER_ID_HEX + 1]; /* the stable member id, 32 lower-case hex */
  /* member */
  uint8_t blind[32];
  int index_kind; /* CONFIG_INDEX_HMAC or CONFIG_INDEX_ARGON2ID */
  int64_t created_ms;
  int64_t last_day;  /* last check-in day (local days since 1970), 0: never */
  int64_t state_seq; /* the last entry the state includes (>= 1) */
  char consent_version[CONFIG_ID_MAX + 1];
  /* member: the marketing consent's version ("" none; absent on the wire
   * from an HQ before issue 16); marketing: the new state ("" withdrawn) */
  char marketing[CONFIG_ID_MAX + 1];
  char staff[CONFIG_ID_MAX + 1]; /* "" for none */
  char group[CONFIG_ID_MAX + 1]; /* "" for none */
  char *tags;                    /* compact JSON array of tag ids */
  /* member: the balance; checkin: added; void: taken off (positive) */
  int64_t points;
  int64_t streak; /* member, checkin */
  /* checkin, void */
  int64_t day;
  int64_t ts_ms;                     /* checkin: when the kiosk took it */
  char kiosk[MEMBER_FEED_KIOSK_MAX]; /* void: the kiosk whose check-in it was */
} member_feed_entry;

typedef struct member_feed_result {
  int members;  /* members added */
  int checkins; /* check-ins counted */
  int voids;    /* check-ins taken back (voided_here: of this kiosk) */
  int voided_here;
  int erased;
  int marketing; /* marketing consents given or withdrawn */
  int skipped;   /* entries already in the state, or of members not here */
} member_feed_result;

/* The cursor to ask HQ's feed from next ("0" before the first page). */
sqr_rc member_feed_cursor(store *st, char out[MEMBER_FEED_CURSOR_MAX]) SQR_WARN_UNUSED;

/* Applies n entries of the page that was asked for after `after`, and
 * stores `next` as the cursor, in one transaction: a crash or a cut
 * connection repeats nothing and skips nothing. self: this kiosk's id
 * ("STORE/N[@INC]"); a void of its own check-in also records a
 * `checkin_voided` event. A member is added only if neither its id nor
 * its blind index is here already and it was not erased here; each
 * member's entries up to the seq its state includes are skipped.
 * SQR_EBUSY (nothing applied) when the stored cursor is no longer `after`:
 * another pass applied the page. */
sqr_rc member_feed_apply(store *st, const char *self, const char *after, const member_feed_entry *e,
                         size_t n, const char *next, member_feed_result *out) SQR_WARN_UNUSED;

/* Writes members as CSV (member id, joined, consent version, tags, staff,
 * group, points, streak, last check-in; dates as YYYY-MM-DD in the store's
 * time) — never a phone number, not even sealed. */
sqr_rc member_export_csv(store *st, FILE *f) SQR_WARN_UNUSED;

#endif
