/* live.h — what the kiosk's QR code says right now.
 *
 * Joins the applied configuration, the store's group choice and the token
 * rules: in hq mode the QR is HQ's resolver URL with a token for the
 * current window (HQ-corrected clock); in direct mode it is the chosen
 * group's join link. In both modes, when no group has room, it is the
 * staff contact code (and a groups_exhausted event alerts the manager).
 * The UI asks at every window boundary; the CLI's `token mint` uses it too.
 */
#ifndef SQR_LIVE_H
#define SQR_LIVE_H

#include <stdint.h>
#include "livecode.h"
#include "store.h"

typedef struct live_view {
  char text[CONFIG_LINK_MAX]; /* what to encode in the QR */
  config_mode mode;
  store_live group;       /* the group the code leads to (or none) */
  int64_t window;         /* token window (hq mode) */
  int64_t next_change_ms; /* when the QR text changes next (hq mode) */
} live_view;

/* Fills *out for the store's current time. SQR_ENOTFOUND before a
 * configuration is applied; SQR_EINVAL if the resolver host cannot be put
 * in an alphanumeric QR. */
sqr_rc live_current(store *st, live_view *out) SQR_WARN_UNUSED;

#endif
