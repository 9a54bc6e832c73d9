/* fuzz_config.c — the configuration document parser (comes from HQ and
 * from files people edit). Must refuse or accept, never crash or leak. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int quiet;
  if(!quiet) {
    log_set_level(LOG_FATAL);
    quiet = 1;
  }
  sqr_config *cfg = NULL;
  char err[256];
  if(config_parse((const char *)data, size, &cfg, err, sizeof err) == SQR_OK) {
    /* Touch what the UI reads, so bad bounds show up under ASan. */
    (void)config_campaign_at(cfg, 600);
    for(size_t i = 0; i < cfg->ngroups; i++)
      (void)strlen(cfg->groups[i].link);
    config_free(cfg);
  }
  return 0;
}
