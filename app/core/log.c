/* log.c — leveled, component-tagged logging with a phone-number scrubber.
 * Owns: the threshold and the sink. Never allocates: a line is formatted
 * into a fixed stack buffer and truncated if longer. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static log_level initial_level(void);

log_level log__threshold = LOG_INFO;
static int threshold_read;

/* SQR_LOG must be in force before the first LOG_AT test, which reads the
 * threshold without calling in here: read it when the program loads. */
__attribute__((constructor)) static void read_env_level(void) {
  if(!threshold_read) log__threshold = initial_level();
}
static log_sink_fn sink;
static void *sink_ud;

static const char *const level_names[] = {"fatal", "error", "warn", "info", "debug"};

static log_level initial_level(void) {
  const char *env = getenv("SQR_LOG");
  log_level l;
  if(env && log_level_parse(env, &l) == SQR_OK) return l;
  return LOG_INFO;
}

void log_set_level(log_level level) {
  log__threshold = level;
  threshold_read = 1;
}

sqr_rc log_level_parse(const char *name, log_level *out) {
  for(size_t i = 0; i < SQR_ARRAY_LEN(level_names); i++) {
    if(strcmp(name, level_names[i]) == 0) {
      *out = (log_level)i;
      return SQR_OK;
    }
  }
  return SQR_EINVAL;
}

void log_set_sink(log_sink_fn fn, void *ud) {
  sink = fn;
  sink_ud = ud;
}

int log_scrub(char *s) {
  int masked = 0;
  char *p = s;
  while(*p) {
    if(*p >= '0' && *p <= '9') {
      char *start = p;
      while(*p >= '0' && *p <= '9')
        p++;
      if(p - start >= 11) {
        memset(start, '#', (size_t)(p - start));
        masked++;
      }
    } else {
      p++;
    }
  }
  return masked;
}

void log_write(log_level level, const char *component, const char *fmt, ...) {
  if(level > log__threshold) return; /* log_write called directly */
  char line[1024];
  int n = snprintf(line, sizeof line, "%s %s: ", level_names[level], component);
  if(n < 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  log_scrub(line);
  if(sink) {
    sink(level, line, sink_ud);
  } else {
    fprintf(stderr, "%s\n", line);
  }
}
