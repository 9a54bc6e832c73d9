/* log.h — logging by level and component, for every StoreQR program.
 *
 * Cheap when off: the level is checked before anything is formatted.
 * Lines go to stderr (the journal under systemd) as
 *   "<level> <component>: message".
 * Phone numbers must never reach a log line. Callers never pass one, and as
 * a second wall every formatted line is scrubbed: any run of 11 or more
 * digits is masked before it is written (see log_scrub).
 */
#ifndef SQR_LOG_H
#define SQR_LOG_H

#include <stddef.h>
#include "sqr.h"

typedef enum log_level { LOG_FATAL = 0, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG } log_level;

/* The current threshold: messages above it are dropped unformatted.
 * Starts at LOG_INFO, or whatever SQR_LOG (error|warn|info|debug) says. */
extern log_level log__threshold;

void log_set_level(log_level level);

/* Parses "error", "warn", "info" or "debug". SQR_EINVAL otherwise. */
sqr_rc log_level_parse(const char *name, log_level *out) SQR_WARN_UNUSED;

/* Where lines go; NULL restores stderr. The sink receives a complete,
 * already scrubbed line without the trailing newline. For tests. */
typedef void (*log_sink_fn)(log_level level, const char *line, void *ud);
void log_set_sink(log_sink_fn fn, void *ud);

void log_write(log_level level, const char *component, const char *fmt, ...) SQR_PRINTF(3, 4);

/* Masks, in place, every run of 11 or more consecutive ASCII digits in s
 * (what a mainland mobile number looks like, with or without +86) with '#'.
 * Returns how many runs were masked. */
int log_scrub(char *s);

#define LOG_AT(lvl, comp, ...)                                                                     \
  do {                                                                                             \
    if((lvl) <= log__threshold) log_write((lvl), (comp), __VA_ARGS__);                             \
  } while(0)
#define log_error(comp, ...) LOG_AT(LOG_ERROR, comp, __VA_ARGS__)
#define log_warn(comp, ...)  LOG_AT(LOG_WARN, comp, __VA_ARGS__)
#define log_info(comp, ...)  LOG_AT(LOG_INFO, comp, __VA_ARGS__)
#define log_debug(comp, ...) LOG_AT(LOG_DEBUG, comp, __VA_ARGS__)

#endif /* SQR_LOG_H */
