/* app.h — running the kiosk app: options, display backends (a real window
 * with the software renderer, or headless into a surface), the event loop
 * that sleeps in SDL_WaitEventTimeout until the next deadline, and the
 * script runner hooks. main.c only parses the command line. */
#ifndef SQR_UI_APP_H
#define SQR_UI_APP_H

#include <stdint.h>
#include "lang.h"

typedef struct ui_options {
  const char *db_path;
  int headless;
  const char *script_path;
  const char *screenshot_dir;
  int64_t fixed_clock_s; /* 0 = real clock */
  int w, h;              /* 0 = full screen (window) or 1080x1920 (headless) */
  ui_lang lang;
  const char *assets_dir; /* campaign images are relative to it */
  int db_max_pages;       /* test seam: >0 caps the database (store_set_max_pages) */
  const char *hq_url;     /* HQ for first-boot enrolment; NULL: typed on the screen */
  const char *hq_ca;      /* HQ's CA certificate for that first call */
  int64_t min_free_mb;    /* sign-ups and check-ins pause below this much free disk */
  int no_prefetch;        /* bench baseline: the blind index is derived in the calls */
} ui_options;

/* Runs until quit (or the script ends). Returns the process exit code:
 * 0 fine, 1 a script expectation failed, 2 bad usage or script, 3 the
 * database cannot be used, 4 the display or font cannot be set up. */
int ui_app_main(const ui_options *o);

#endif
