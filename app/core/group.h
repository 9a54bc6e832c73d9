/* group.h — which WeChat group a live code or a new member is sent to:
 * the one group rule, used by the kiosk (direct mode and sign-ups), HQ's
 * scan resolver and HQ's figures alike.
 *
 * Pure rules over a small array of group states, no database and no
 * configuration: each side fills the states from what it knows (the kiosk
 * from its configuration and join counters, HQ from its tables and the
 * shoppers it sent) and asks the same questions. Groups fill one at a
 * time in order: the first one not retired, not marked full, not within
 * the expiry margin (a WeChat group QR lasts 7 days) and with fewer than
 * min(capacity, GROUP_SCAN_LIMIT) minus the reserve counted. Interest
 * groups are not in the live-code rotation; a new member who names an
 * interest is sent to the matching one.
 */
#ifndef SQR_GROUP_H
#define SQR_GROUP_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"

/* WeChat lets at most 200 join a group by scanning its QR code, whatever
 * capacity the group has: a group moves on before that. */
#define GROUP_SCAN_LIMIT 200

typedef struct group_state {
  int capacity;       /* what the group holds (1..500) */
  int64_t count;      /* joins counted (at HQ: plus shoppers sent to it) */
  int64_t expires_at; /* unix seconds its QR expires, 0 = never */
  int marked_full;    /* the manager (or HQ) said it is full */
  int retired;        /* no longer used */
  int interest;       /* an interest group: not in the live rotation */
  const char *tag;    /* an interest group's tag, or NULL */
} group_state;

typedef struct group_rule {
  int reserve;             /* places kept free in every group */
  int64_t expiry_margin_s; /* leave a group this long before its QR expires */
} group_rule;

/* How many may be counted before the group is full: min(capacity, 200)
 * minus the reserve, at least 1 (a reserve larger than a tiny group still
 * lets one in). */
int group_limit(const group_state *g, const group_rule *r);
/* Marked full, or count reached the limit. */
int group_is_full(const group_state *g, const group_rule *r);
/* Not retired, not full, not within the expiry margin at now (seconds). */
int group_is_usable(const group_state *g, const group_rule *r, int64_t now);
/* Index of the live-code group (the first usable one that is not an
 * interest group), or -1: none has room and the staff contact is shown. */
int group_pick(const group_state *g, size_t n, const group_rule *r, int64_t now);
/* Index of a usable interest group whose tag is one of tags, else
 * group_pick's answer. */
int group_pick_for_member(const group_state *g, size_t n, const group_rule *r, int64_t now,
                          const char *const *tags, size_t ntags);
/* count / min(capacity, 200), clamped to 0..1: how far the counts have
 * come, whatever a manager marked. */
double group_fill_ratio(const group_state *g);

/* ---- the kiosk's side: states from its configuration ---------------------- */

typedef struct group_fill {
  int joined;      /* joins counted for this group */
  int marked_full; /* the manager (or HQ) said it is full */
} group_fill;

/* The rule's parameters from a configuration. */
group_rule group_rule_of(const sqr_config *cfg);
/* out[i] for each of cfg->ngroups groups (tags point into cfg). */
void group_states_of(const sqr_config *cfg, const group_fill *fill, group_state *out);

/* The same questions asked of a configuration and its counters. */
int group_usable(const sqr_config *cfg, size_t i, const group_fill *fill, int64_t now);
int group_choose(const sqr_config *cfg, const group_fill *fill, int64_t now);
int group_for_member(const sqr_config *cfg, const group_fill *fill, int64_t now,
                     const char *const *tags, size_t ntags);

#endif
