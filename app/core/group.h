/* group.h — which WeChat group the live code leads to.
 *
 * Pure rules, no database: given the configured groups and how many have
 * joined each, pick one. Groups fill one at a time in configuration order:
 * the first one not retired, not marked full by the manager, not within the
 * expiry margin (a WeChat group QR lasts 7 days) and with fewer joins than
 * capacity minus the reserve. Interest groups are not in the live-code
 * rotation; a new member who names an interest is sent to the matching one.
 * The store (store_live_group) records the choice and its changes.
 */
#ifndef SQR_GROUP_H
#define SQR_GROUP_H

#include <stdint.h>
#include "config.h"

typedef struct group_fill {
  int joined;      /* joins counted for this group */
  int marked_full; /* the manager (or HQ) said it is full */
} group_fill;

/* 1 if the group can take one more member at now (unix seconds). */
int group_usable(const sqr_config *cfg, size_t i, const group_fill *fill, int64_t now);

/* Index of the live-code group (a store or welfare group), or -1 when none
 * is usable and the staff contact code must be shown. fill has
 * cfg->ngroups entries. */
int group_choose(const sqr_config *cfg, const group_fill *fill, int64_t now);

/* Index of a usable interest group whose tag is one of tags, else the
 * live-code choice (which may be -1). */
int group_for_member(const sqr_config *cfg, const group_fill *fill, int64_t now,
                     const char *const *tags, size_t ntags);

#endif
