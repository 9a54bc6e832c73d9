/* main.c — storeqr-kiosk: the touchscreen app. Makes the process
 * non-dumpable, parses the command line and hands over to ui_app_main
 * (app.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "app.h"
#include "log.h"

#define SQR_DEFAULT_HQ_CA       "/etc/storeqr/hq-ca.crt"
#define SQR_DEFAULT_MIN_FREE_MB 8

static const char usage[] =
    "usage: storeqr-kiosk [--db PATH] [--headless] [--script FILE] [--screenshot-dir DIR]\n"
    "                     [--fixed-clock UNIX_SECONDS] [--size WxH] [--lang zh|en]\n"
    "                     [--assets DIR] [--hq-url URL] [--hq-ca FILE] [--min-free-mb N]\n"
    "                     [--db-max-pages N] [--no-prefetch]\n"
    "The touchscreen app: live QR code, join, check-in, manager screen; first-boot\n"
    "enrolment when the kiosk has no configuration and no certificate yet.\n"
    "  --db PATH            kiosk database (default $STOREQR_DB, else /var/lib/storeqr/kiosk.db)\n"
    "  --headless           no window: SDL dummy driver, software renderer into memory\n"
    "  --script FILE        scripted input (tap, key, advance, screenshot, expect ...);\n"
    "                       the app exits when the script ends (1 if an expect failed)\n"
    "  --screenshot-dir DIR where 'screenshot NAME' writes NAME.png (default .)\n"
    "  --fixed-clock SECS   a clock that moves only with 'advance' (tests)\n"
    "  --size WxH           window (or headless) size; default full screen / 1080x1920\n"
    "  --lang zh|en         default language (zh)\n"
    "  --assets DIR         where campaign images are (default $SQR_ASSETS, else the\n"
    "                       source tree's assets/ this binary was built from)\n"
    "  --hq-url URL         HQ for enrolment (default $STOREQR_HQ_URL; none: the shop\n"
    "                       types it on the screen)\n"
    "  --hq-ca FILE         HQ's CA certificate for enrolment (default $STOREQR_HQ_CA,\n"
    "                       else " SQR_DEFAULT_HQ_CA ")\n"
    "  --min-free-mb N      pause sign-ups and check-ins below N MB free on the\n"
    "                       database's disk (default 8)\n"
    "  --db-max-pages N     test seam: cap the database at N pages (a full disk)\n"
    "  --no-prefetch        bench baseline: derive the blind index in the member calls,\n"
    "                       not on a worker from the 11th digit typed\n"
    "Under systemd (Type=notify): READY=1 after the first frame, WATCHDOG=1 every\n"
    "half $WATCHDOG_USEC from the main loop, STATUS= lines, STOPPING=1 at exit.\n";

int main(int argc, char **argv) {
  /* A shopper's number is in memory while it is typed: no core dump of
   * this process (a crash, or the watchdog's SIGABRT for a hung loop), and
   * no ptrace or /proc/PID/mem by another process of the same user. Only
   * root (CAP_SYS_PTRACE) can still look. The unit sets LimitCORE=0 too. */
  if(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    fprintf(stderr, "storeqr-kiosk: prctl(PR_SET_DUMPABLE, 0): %s\n", strerror(errno));
  static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                       {"headless", no_argument, NULL, 'H'},
                                       {"script", required_argument, NULL, 's'},
                                       {"screenshot-dir", required_argument, NULL, 'o'},
                                       {"fixed-clock", required_argument, NULL, 'c'},
                                       {"size", required_argument, NULL, 'z'},
                                       {"lang", required_argument, NULL, 'l'},
                                       {"help", no_argument, NULL, 'h'},
                                       {"assets", required_argument, NULL, 'a'},
                                       {"db-max-pages", required_argument, NULL, 'm'},
                                       {"hq-url", required_argument, NULL, 'u'},
                                       {"hq-ca", required_argument, NULL, 'C'},
                                       {"min-free-mb", required_argument, NULL, 'F'},
                                       {"no-prefetch", no_argument, NULL, 'P'},
                                       {NULL, 0, NULL, 0}};
  ui_options o;
  memset(&o, 0, sizeof o);
  o.db_path = getenv("STOREQR_DB");
  if(!o.db_path || !*o.db_path) o.db_path = "/var/lib/storeqr/kiosk.db";
  o.assets_dir = getenv("SQR_ASSETS");
  if(!o.assets_dir || !*o.assets_dir) o.assets_dir = SQR_ASSETS_DIR;
  /* Enrolment settings come from /etc/storeqr/kiosk.env under systemd. */
  o.hq_url = getenv("STOREQR_HQ_URL");
  o.hq_ca = getenv("STOREQR_HQ_CA");
  if(!o.hq_ca || !*o.hq_ca) o.hq_ca = SQR_DEFAULT_HQ_CA;
  o.min_free_mb = SQR_DEFAULT_MIN_FREE_MB;
  int c;
  while((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch(c) {
    case 'd':
      o.db_path = optarg;
      break;
    case 'H':
      o.headless = 1;
      break;
    case 's':
      o.script_path = optarg;
      break;
    case 'o':
      o.screenshot_dir = optarg;
      break;
    case 'c': {
      char *end;
      long long v = strtoll(optarg, &end, 10);
      if(*end || v <= 0) {
        fprintf(stderr, "storeqr-kiosk: --fixed-clock wants unix seconds\n%s", usage);
        return 2;
      }
      o.fixed_clock_s = v;
      break;
    }
    case 'z':
      if(sscanf(optarg, "%dx%d", &o.w, &o.h) != 2 || o.w < 200 || o.h < 200 || o.w > 8192 ||
         o.h > 8192) {
        fprintf(stderr, "storeqr-kiosk: --size wants WxH (200..8192)\n%s", usage);
        return 2;
      }
      break;
    case 'l':
      if(strcmp(optarg, "zh") == 0)
        o.lang = UI_LANG_ZH;
      else if(strcmp(optarg, "en") == 0)
        o.lang = UI_LANG_EN;
      else {
        fprintf(stderr, "storeqr-kiosk: --lang is zh or en\n%s", usage);
        return 2;
      }
      break;
    case 'a':
      o.assets_dir = optarg;
      break;
    case 'm': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if(*end || v <= 0 || v > 1000000000L) {
        fprintf(stderr, "storeqr-kiosk: --db-max-pages wants a page count\n%s", usage);
        return 2;
      }
      o.db_max_pages = (int)v;
      break;
    }
    case 'u':
      o.hq_url = optarg;
      break;
    case 'C':
      o.hq_ca = optarg;
      break;
    case 'F': {
      char *end;
      long long v = strtoll(optarg, &end, 10);
      if(*end || end == optarg || v < 0 || v > 1000000000LL) {
        fprintf(stderr, "storeqr-kiosk: --min-free-mb wants megabytes\n%s", usage);
        return 2;
      }
      o.min_free_mb = v;
      break;
    }
    case 'P':
      o.no_prefetch = 1;
      break;
    case 'h':
      fputs(usage, stdout);
      return 0;
    default:
      fputs(usage, stderr);
      return 2;
    }
  }
  /* The core reads SQR_LOG lazily on the first line written; read it now so
   * debug lines (bench timings) are not filtered before that happens. */
  const char *lv = getenv("SQR_LOG");
  log_level level;
  if(lv && log_level_parse(lv, &level) == SQR_OK) log_set_level(level);
  if(optind < argc) {
    fprintf(stderr, "storeqr-kiosk: unexpected argument '%s'\n%s", argv[optind], usage);
    return 2;
  }
  return ui_app_main(&o);
}
