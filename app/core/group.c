/* group.c — see group.h. */
#include "group.h"

#include <string.h>

int group_usable(const sqr_config *cfg, size_t i, const group_fill *fill, int64_t now) {
  const config_group *g = &cfg->groups[i];
  if(g->retired || fill[i].marked_full) return 0;
  if(g->expires_at && now + cfg->expiry_margin_s >= g->expires_at) return 0;
  int limit = g->capacity - cfg->group_reserve;
  if(limit < 1) limit = 1; /* a reserve larger than a tiny group still lets one in */
  return fill[i].joined < limit;
}

int group_choose(const sqr_config *cfg, const group_fill *fill, int64_t now) {
  for(size_t i = 0; i < cfg->ngroups; i++) {
    if(cfg->groups[i].kind == GROUP_KIND_INTEREST) continue;
    if(group_usable(cfg, i, fill, now)) return (int)i;
  }
  return -1;
}

int group_for_member(const sqr_config *cfg, const group_fill *fill, int64_t now,
                     const char *const *tags, size_t ntags) {
  for(size_t t = 0; t < ntags; t++) {
    for(size_t i = 0; i < cfg->ngroups; i++) {
      const config_group *g = &cfg->groups[i];
      if(g->kind == GROUP_KIND_INTEREST && strcmp(g->tag, tags[t]) == 0 &&
         group_usable(cfg, i, fill, now))
        return (int)i;
    }
  }
  return group_choose(cfg, fill, now);
}
