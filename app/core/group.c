/* group.c — see group.h. */
#include "group.h"

#include <string.h>

int group_limit(const group_state *g, const group_rule *r) {
  int cap = g->capacity < GROUP_SCAN_LIMIT ? g->capacity : GROUP_SCAN_LIMIT;
  int limit = cap - r->reserve;
  return limit < 1 ? 1 : limit;
}

int group_is_full(const group_state *g, const group_rule *r) {
  return g->marked_full || g->count >= group_limit(g, r);
}

int group_is_usable(const group_state *g, const group_rule *r, int64_t now) {
  if(g->retired || group_is_full(g, r)) return 0;
  return !(g->expires_at && now + r->expiry_margin_s >= g->expires_at);
}

int group_pick(const group_state *g, size_t n, const group_rule *r, int64_t now) {
  for(size_t i = 0; i < n; i++)
    if(!g[i].interest && group_is_usable(&g[i], r, now)) return (int)i;
  return -1;
}

int group_pick_for_member(const group_state *g, size_t n, const group_rule *r, int64_t now,
                          const char *const *tags, size_t ntags) {
  for(size_t t = 0; t < ntags; t++)
    for(size_t i = 0; i < n; i++)
      if(g[i].interest && g[i].tag && strcmp(g[i].tag, tags[t]) == 0 &&
         group_is_usable(&g[i], r, now))
        return (int)i;
  return group_pick(g, n, r, now);
}

double group_fill_ratio(const group_state *g) {
  int cap = g->capacity < GROUP_SCAN_LIMIT ? g->capacity : GROUP_SCAN_LIMIT;
  if(cap < 1) return 1;
  double f = (double)g->count / cap;
  return f < 0 ? 0 : f > 1 ? 1 : f;
}

group_rule group_rule_of(const sqr_config *cfg) {
  return (group_rule){.reserve = cfg->group_reserve, .expiry_margin_s = cfg->expiry_margin_s};
}

void group_states_of(const sqr_config *cfg, const group_fill *fill, group_state *out) {
  for(size_t i = 0; i < cfg->ngroups; i++) {
    const config_group *g = &cfg->groups[i];
    out[i] = (group_state){.capacity = g->capacity,
                           .count = fill[i].joined,
                           .expires_at = g->expires_at,
                           .marked_full = fill[i].marked_full,
                           .retired = g->retired,
                           .interest = g->kind == GROUP_KIND_INTEREST,
                           .tag = g->tag};
  }
}

int group_usable(const sqr_config *cfg, size_t i, const group_fill *fill, int64_t now) {
  group_state s[CONFIG_MAX_GROUPS];
  group_rule r = group_rule_of(cfg);
  group_states_of(cfg, fill, s);
  return group_is_usable(&s[i], &r, now);
}

int group_choose(const sqr_config *cfg, const group_fill *fill, int64_t now) {
  group_state s[CONFIG_MAX_GROUPS];
  group_rule r = group_rule_of(cfg);
  group_states_of(cfg, fill, s);
  return group_pick(s, cfg->ngroups, &r, now);
}

int group_for_member(const sqr_config *cfg, const group_fill *fill, int64_t now,
                     const char *const *tags, size_t ntags) {
  group_state s[CONFIG_MAX_GROUPS];
  group_rule r = group_rule_of(cfg);
  group_states_of(cfg, fill, s);
  return group_pick_for_member(s, cfg->ngroups, &r, now, tags, ntags);
}
