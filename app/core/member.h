/* member.h — members: sign-up, check-in, erasure, export.
 *
 * A member is found by a blind index (HMAC of the phone under a key derived
 * from the store key) and carries the phone only sealed to HQ's public key:
 * the kiosk can recognise a returning shopper but cannot read a number back.
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

typedef struct member_signup_req {
  const char *phone;           /* as typed; normalised here */
  int consented;               /* the shopper ticked the agreement */
  const char *consent_version; /* the policy version they saw */
  const char *tags[MEMBER_MAX_TAGS];
  size_t ntags;
  const char *staff_id; /* who helped (导购), or NULL */
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
  int streak; /* consecutive local days checked in */
} member_result;

/* Signs a shopper up. Errors (nothing recorded on any of them):
 *   SQR_EINVAL    malformed phone, unknown tag or staff, too many tags,
 *                 outdated consent version (store_errmsg says which)
 *   SQR_ECONSENT  no consent
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

/* Checks a member in for today (store-local day). SQR_EEXISTS when already
 * checked in today (out still holds points and streak), SQR_ENOTFOUND when
 * the phone is not a member, SQR_EINVAL for a malformed phone. */
sqr_rc member_checkin(store *st, const char *phone, member_result *out) SQR_WARN_UNUSED;

/* Looks a phone up without changing anything: SQR_OK and out filled
 * (points, streak, group) for a member, SQR_ENOTFOUND otherwise. */
sqr_rc member_lookup(store *st, const char *phone, member_result *out) SQR_WARN_UNUSED;

/* Erases the member with this phone (a request made at the kiosk):
 * removes the row, strips sealed numbers from past events, records an
 * erase event. SQR_ENOTFOUND when there is no such member. */
sqr_rc member_erase_phone(store *st, const char *phone) SQR_WARN_UNUSED;

/* The blind index of a phone under the current store key (for HQ-side
 * erasure requests and tests). */
sqr_rc member_blind_index(store *st, const char *phone, uint8_t out[32]) SQR_WARN_UNUSED;

/* Writes members as CSV (member id, joined, consent version, tags, staff,
 * group, points, streak, last check-in day) — never a phone number, not
 * even sealed. */
sqr_rc member_export_csv(store *st, FILE *f) SQR_WARN_UNUSED;

#endif
