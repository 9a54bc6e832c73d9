/* storeqr — the admin CLI, for people at a terminal (store staff with a
 * laptop, installers, HQ support). A thin layer over storeqr_core: every
 * rule lives in the library; this file parses arguments and prints.
 *
 * Exit codes (documented in --help and README.md):
 *   0 done   1 refused by the rules (not a member, already checked in,
 *   no consent, a token or log that does not verify)   2 usage or bad input
 *   3 database unusable (corrupt, foreign, newer)   4 I/O error or disk full
 *
 * Phone numbers are read from the command line or, with "-", from stdin;
 * they are never printed back, and no copy outlives the command: the one
 * buffer that holds a number (cli.phone) is wiped when the command ends,
 * the argument's own bytes at once, and the process is not dumpable.
 */
#include "config.h"
#include "coupon.h"
#include "crypto.h"
#include "demo.h"
#include "live.h"
#include "livecode.h"
#include "log.h"
#include "member.h"
#include "phone.h"
#include "pin.h"
#include "seal.h"
#include "store.h"

#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>

#ifndef SQR_ASSETS_DIR
#define SQR_ASSETS_DIR "/usr/share/storeqr"
#endif

enum {
  EX_DONE = SQR_EXIT_DONE,
  EX_REFUSED = SQR_EXIT_REFUSED,
  EX_USAGE = SQR_EXIT_USAGE,
  EX_DATA = SQR_EXIT_DATA,
  EX_IO = SQR_EXIT_IO,
  EX_NET = SQR_EXIT_NET,
  EX_PROTO = SQR_EXIT_PROTO
};

typedef struct cli {
  const char *db_path;
  sqr_clock *clock;
  store *st;
  char phone[64]; /* the number a command was given; wiped by main */
} cli;

static int exit_for(sqr_rc rc) {
  return sqr_exit_code(rc);
}

static const char *main_usage =
    "usage: storeqr [--db PATH] [--now UNIX_SECONDS] COMMAND [ARGS]\n"
    "\n"
    "The kiosk's admin tool. The database is --db, else $STOREQR_DB, else\n"
    "/var/lib/storeqr/kiosk.db.\n"
    "\n"
    "commands:\n"
    "  init [--demo | --config FILE]   create the database (and a demo store)\n"
    "  config apply FILE | show        apply a configuration document, or show it\n"
    "  signup --phone P --consent --age-confirmed [--marketing] [--tag T]... [--staff S]\n"
    "  checkin --phone P\n"
    "  status [--json]                 members, today's figures, groups, staff, sync\n"
    "  live                            what the QR code says now\n"
    "  token mint [--at T] | verify TOKEN-or-URL [--at T]\n"
    "  coupon verify CODE\n"
    "  export --csv [--out FILE]       members, without phone numbers\n"
    "  erase --phone P                 erase a member at their request\n"
    "  withdraw --phone P              withdraw a member's marketing consent\n"
    "  verify-log                      check the event log's hash chain\n"
    "  prune                           drop acknowledged events past retention\n"
    "  pin-hash [--iterations N]       hash a manager PIN read from stdin\n"
    "\n"
    "Each command takes --help. Phone \"-\" reads the number from stdin.\n"
    "exit codes: 0 done, 1 refused by the rules, 2 usage or bad input,\n"
    "            3 database unusable, 4 I/O error or disk full\n";

SQR_PRINTF(2, 3)
static int usage_error(const char *usage, const char *fmt, ...) {
  if(fmt) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "storeqr: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
  }
  fputs(usage, stderr);
  return EX_USAGE;
}

/* Resets getopt for a subcommand and parses; returns -2 on --help. */
#define OPT_HELP 1000

static int open_store(cli *c) {
  char err[512];
  sqr_rc rc = store_open(c->db_path, c->clock, &c->st, err, sizeof err);
  if(rc) {
    fprintf(stderr, "storeqr: %s\n", err);
    return exit_for(rc);
  }
  return EX_DONE;
}

static int need_config(cli *c) {
  if(!store_config(c->st)) {
    fprintf(stderr, "storeqr: no configuration applied yet: run 'storeqr init --demo' or"
                    " 'storeqr config apply FILE'\n");
    return EX_REFUSED;
  }
  return EX_DONE;
}

static int fail(cli *c, sqr_rc rc, const char *what) {
  const char *msg = c->st ? store_errmsg(c->st) : "";
  fprintf(stderr, "storeqr: %s: %s\n", what, msg && *msg ? msg : sqr_strerror(rc));
  return exit_for(rc);
}

/* The number into c->phone: from the argument, whose own bytes are then
 * overwritten (argv lives as long as the process), or with "-" one line
 * of stdin, so it stays out of `ps`; read unbuffered, so no stdio buffer
 * keeps the line. NULL when it does not fit (cut short, it could pass for
 * a number it is not). */
#define PHONE_TOO_LONG "--phone: more than 63 characters"
static const char *phone_arg(cli *c, char *arg) {
  size_t n = strlen(arg);
  if(strcmp(arg, "-") != 0) {
    if(n < sizeof c->phone) memcpy(c->phone, arg, n + 1);
    crypto_wipe(arg, n);
    return n < sizeof c->phone ? c->phone : NULL;
  }
  setvbuf(stdin, NULL, _IONBF, 0);
  if(!fgets(c->phone, (int)sizeof c->phone, stdin)) c->phone[0] = '\0';
  n = strcspn(c->phone, "\r\n");
  if(!c->phone[n] && n == sizeof c->phone - 1) {
    crypto_wipe(c->phone, sizeof c->phone); /* a longer line: refused, not cut */
    return NULL;
  }
  c->phone[n] = '\0';
  return c->phone;
}

static char *read_file(const char *path, size_t max, size_t *len) {
  FILE *f = fopen(path, "rb");
  if(!f) return NULL;
  char *buf = malloc(max + 1);
  size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
  fclose(f);
  if(!buf || n > max) {
    free(buf);
    errno = EFBIG;
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

static int cmd_init(cli *c, int argc, char **argv) {
  static const char *usage =
      "usage: storeqr init [--demo [--template FILE] [--hq-key-out FILE]] [--config FILE]\n"
      "Creates the kiosk database. --demo makes a demo store (静安寺店) with fresh\n"
      "keys: random token, coupon and index keys, and an HQ key pair whose private\n"
      "half is written to --hq-key-out (default: hq-demo.key beside the database,\n"
      "mode 0600) so sealed phone numbers can be opened in a demo. --config\n"
      "applies FILE.\n";
  static const struct option opts[] = {
      {"demo", no_argument, NULL, 'd'},           {"config", required_argument, NULL, 'c'},
      {"template", required_argument, NULL, 't'}, {"hq-key-out", required_argument, NULL, 'k'},
      {"help", no_argument, NULL, OPT_HELP},      {0}};
  int demo = 0, o;
  const char *config = NULL, *tmpl = SQR_ASSETS_DIR "/config/demo.json", *keyout = NULL;
  optind = 0; /* glibc: 0 re-initialises getopt fully between commands */
  while((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch(o) {
    case 'd':
      demo = 1;
      break;
    case 'c':
      config = optarg;
      break;
    case 't':
      tmpl = optarg;
      break;
    case 'k':
      keyout = optarg;
      break;
    case OPT_HELP:
      fputs(usage, stdout);
      return EX_DONE;
    default:
      return usage_error(usage, NULL);
    }
  }
  if(demo && config) return usage_error(usage, "--demo and --config exclude each other");
  int ex = open_store(c);
  if(ex) return ex;
  char err[512] = "";
  sqr_rc rc = SQR_OK;
  if(config) {
    size_t len;
    char *json = read_file(config, CONFIG_MAX_BYTES, &len);
    if(!json) {
      fprintf(stderr, "storeqr: %s: %s\n", config, strerror(errno));
      return EX_IO;
    }
    rc = store_apply_config(c->st, json, len, err, sizeof err);
    free(json);
  } else if(demo) {
    size_t len;
    char *t = read_file(tmpl, CONFIG_MAX_BYTES, &len);
    if(!t) {
      fprintf(stderr, "storeqr: template %s: %s\n", tmpl, strerror(errno));
      return EX_IO;
    }
    /* A demo kiosk holds what HQ would send it: its own token and coupon
     * keys, the store's index key (drawn here, as no HQ derives them) and
     * HQ's public key. */
    demo_keys keys = {0};
    uint8_t priv[SEAL_PRIV_LEN];
    char *json = NULL;
    rc = demo_keys_random(&keys);
    if(!rc) rc = seal_keypair_generate(keys.hq_pub, priv);
    int64_t version = store_config(c->st) ? store_config(c->st)->version + 1 : 1;
    if(!rc) rc = demo_config_json(t, version, &keys, clock_now(c->clock), &json);
    free(t);
    if(!rc) rc = store_apply_config(c->st, json, strlen(json), err, sizeof err);
    free(json);
    if(!rc) {
      char path[1024], b64[SEAL_PRIV_B64_LEN];
      if(!keyout) {
        char dbcopy[1024];
        snprintf(dbcopy, sizeof dbcopy, "%s", c->db_path);
        snprintf(path, sizeof path, "%s/hq-demo.key", dirname(dbcopy));
        keyout = path;
      }
      rc = seal_priv_to_b64(priv, b64);
      FILE *f = rc ? NULL : fopen(keyout, "w");
      if(f) {
        chmod(keyout, 0600);
        fprintf(f, "%s\n", b64);
        fclose(f);
        printf("demo HQ private key written to %s (demo only: HQ keeps this)\n", keyout);
      } else if(!rc) {
        fprintf(stderr, "storeqr: cannot write %s: %s\n", keyout, strerror(errno));
        rc = SQR_EIO;
      }
      crypto_wipe(b64, sizeof b64);
    }
    crypto_wipe(&keys, sizeof keys);
    crypto_wipe(priv, sizeof priv);
  }
  if(rc) {
    fprintf(stderr, "storeqr: %s\n", err[0] ? err : sqr_strerror(rc));
    return exit_for(rc);
  }
  int schema = 0;
  rc = store_schema_version(c->st, &schema);
  if(rc) return fail(c, rc, "init");
  const sqr_config *cfg = store_config(c->st);
  printf("database %s ready (schema %d)", c->db_path, schema);
  if(cfg)
    printf(", store %s %s, config version %lld", cfg->store_id, cfg->store_name,
           (long long)cfg->version);
  printf("\n");
  return EX_DONE;
}

static int cmd_config(cli *c, int argc, char **argv) {
  static const char *usage =
      "usage: storeqr config apply FILE   validate and apply a configuration document\n"
      "       storeqr config show         print the applied document's summary\n";
  if(argc < 2 || strcmp(argv[1], "--help") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? EX_USAGE : EX_DONE;
  }
  int ex = open_store(c);
  if(ex) return ex;
  if(strcmp(argv[1], "apply") == 0) {
    if(argc != 3) return usage_error(usage, "config apply needs one FILE");
    size_t len;
    char *json = read_file(argv[2], CONFIG_MAX_BYTES, &len);
    if(!json) {
      fprintf(stderr, "storeqr: %s: %s\n", argv[2], strerror(errno));
      return EX_IO;
    }
    char err[512] = "";
    sqr_rc rc = store_apply_config(c->st, json, len, err, sizeof err);
    free(json);
    if(rc) {
      fprintf(stderr, "storeqr: %s: %s\n", argv[2], err);
      return exit_for(rc);
    }
    printf("configuration version %lld applied\n", (long long)store_config(c->st)->version);
    return EX_DONE;
  }
  if(strcmp(argv[1], "show") == 0) {
    if((ex = need_config(c))) return ex;
    const sqr_config *cfg = store_config(c->st);
    printf("version %lld\nstore %s %s (%s)\nkiosk %d\nmode %s\nresolver %s\nkey version %d\n"
           "rotation %us, skew %u\nconsent %s\ngroups %zu, campaigns %zu, staff %zu, tags %zu\n",
           (long long)cfg->version, cfg->store_id, cfg->store_name, cfg->city, cfg->kiosk_number,
           cfg->mode == CONFIG_MODE_HQ ? "hq" : "direct", cfg->resolver_host, cfg->key_version,
           cfg->period_s, cfg->skew, cfg->consent_version, cfg->ngroups, cfg->ncampaigns,
           cfg->nstaff, cfg->ntags);
    return EX_DONE;
  }
  return usage_error(usage, "unknown config command '%s'", argv[1]);
}

static int cmd_signup(cli *c, int argc, char **argv) {
  static const char *usage =
      "usage: storeqr signup --phone P --consent --age-confirmed [--marketing]\n"
      "                      [--consent-version V] [--tag T]... [--staff S]\n"
      "Signs a shopper up (--consent says they agreed to the current policy,\n"
      "--age-confirmed that they are 14 or older; without them nothing is\n"
      "recorded). --marketing: they also ticked the optional marketing consent.\n"
      "A returning member is welcomed back.\n";
  static const struct option opts[] = {{"phone", required_argument, NULL, 'p'},
                                       {"consent", no_argument, NULL, 'c'},
                                       {"consent-version", required_argument, NULL, 'v'},
                                       {"age-confirmed", no_argument, NULL, 'a'},
                                       {"marketing", no_argument, NULL, 'm'},
                                       {"tag", required_argument, NULL, 't'},
                                       {"staff", required_argument, NULL, 's'},
                                       {"help", no_argument, NULL, OPT_HELP},
                                       {0}};
  member_signup_req req = {0};
  int o;
  optind = 0; /* glibc: 0 re-initialises getopt fully between commands */
  while((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch(o) {
    case 'p':
      if(!(req.phone = phone_arg(c, optarg))) return usage_error(usage, PHONE_TOO_LONG);
      break;
    case 'c':
      req.consented = 1;
      break;
    case 'v':
      req.consent_version = optarg;
      break;
    case 'a':
      req.age_confirmed = 1;
      break;
    case 'm':
      req.marketing = 1;
      break;
    case 't':
      if(req.ntags >= MEMBER_MAX_TAGS) return usage_error(usage, "at most 8 tags");
      req.tags[req.ntags++] = optarg;
      break;
    case 's':
      req.staff_id = optarg;
      break;
    case OPT_HELP:
      fputs(usage, stdout);
      return EX_DONE;
    default:
      return usage_error(usage, NULL);
    }
  }
  if(!req.phone) return usage_error(usage, "--phone is required");
  int ex = open_store(c);
  if(ex || (ex = need_config(c))) return ex;
  if(!req.consent_version) req.consent_version = store_config(c->st)->consent_version;
  member_result r;
  sqr_rc rc = member_signup(c->st, &req, &r);
  crypto_wipe(c->phone, sizeof c->phone);
  if(rc) return fail(c, rc, "sign-up refused");
  printf("%s member %s\n", r.returning ? "welcome back," : "signed up:", r.member_id);
  printf("group: %s %s\n", r.group_id[0] ? r.group_id : "(staff contact)", r.group_link);
  printf("points: %d\n", r.points);
  if(r.coupon[0]) printf("coupon: %s (%s)\n", r.coupon, r.coupon_campaign);
  printf("marketing: %s\n", r.marketing ? "yes" : "no");
  if(r.seq) printf("event: %lld\n", (long long)r.seq);
  return EX_DONE;
}

/* Commands that take only --phone: parses, opens the store, needs a
 * config. Returns an exit code to stop with, or -1 to go on. */
static int phone_command(cli *c, int argc, char **argv, const char *usage, const char **phone) {
  static const struct option opts[] = {
      {"phone", required_argument, NULL, 'p'}, {"help", no_argument, NULL, OPT_HELP}, {0}};
  int o;
  optind = 0; /* glibc: 0 re-initialises getopt fully between commands */
  while((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if(o == 'p') {
      if(!(*phone = phone_arg(c, optarg))) return usage_error(usage, PHONE_TOO_LONG);
    } else if(o == OPT_HELP) {
      fputs(usage, stdout);
      return EX_DONE;
    } else
      return usage_error(usage, NULL);
  }
  if(!*phone) return usage_error(usage, "--phone is required");
  int ex = open_store(c);
  if(ex || (ex = need_config(c))) return ex;
  return -1;
}

static int cmd_checkin(cli *c, int argc, char **argv) {
  static const char *usage = "usage: storeqr checkin --phone P\n"
                             "Checks a member in for today (once per local day).\n";
  const char *phone = NULL;
  int ex = phone_command(c, argc, argv, usage, &phone);
  if(ex >= 0) return ex;
  member_result r;
  sqr_rc rc = member_checkin(c->st, phone, NULL, &r);
  crypto_wipe(c->phone, sizeof c->phone);
  if(rc == SQR_EEXISTS) {
    printf("already checked in today: points %d, streak %d\n", r.points, r.streak);
    return EX_REFUSED;
  }
  if(rc) return fail(c, rc, "check-in refused");
  printf("checked in: +%d points, %d total, streak %d day(s)\n", r.points_added, r.points,
         r.streak);
  return EX_DONE;
}

static void fmt_time(int64_t ms, int off_min, char *out, size_t size) {
  if(!ms) {
    snprintf(out, size, "never");
    return;
  }
  time_t t = (time_t)(ms / 1000 + off_min * 60);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, size, "%Y-%m-%d %H:%M", &tm);
}

static int cmd_status(cli *c, int argc, char **argv) {
  static const char *usage = "usage: storeqr status [--json]\n"
                             "Members, today's sign-ups and check-ins, group fill and expiry,\n"
                             "sign-ups per staff member today, sync state.\n";
  static const struct option opts[] = {
      {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, OPT_HELP}, {0}};
  int json = 0, o;
  optind = 0; /* glibc: 0 re-initialises getopt fully between commands */
  while((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if(o == 'j')
      json = 1;
    else if(o == OPT_HELP) {
      fputs(usage, stdout);
      return EX_DONE;
    } else
      return usage_error(usage, NULL);
  }
  int ex = open_store(c);
  if(ex) return ex;
  if(!store_config(c->st)) {
    /* Not configured (not enrolled yet): still show what enrolment and
     * sync attempts recorded, then refuse like every other command. */
    if(!json) {
      store_status s;
      char t[32];
      sqr_rc rc = store_status_get(c->st, &s);
      if(rc) return fail(c, rc, "status");
      if(s.last_sync_attempt_ms) {
        fmt_time(s.last_sync_attempt_ms, 480, t, sizeof t);
        printf("sync        last attempt %s\n", t);
        if(s.last_sync_error[0]) printf("            last error: %s\n", s.last_sync_error);
      }
    }
    return need_config(c);
  }
  const sqr_config *cfg = store_config(c->st);
  store_status s;
  group_fill fill[CONFIG_MAX_GROUPS];
  store_live live;
  sqr_rc rc = store_status_get(c->st, &s);
  if(!rc) rc = store_group_fill(c->st, fill, CONFIG_MAX_GROUPS);
  if(!rc) rc = store_live_group(c->st, &live);
  if(rc) return fail(c, rc, "status");
  int64_t now = clock_now(c->clock);
  if(json) {
    printf("{\"store\":\"%s\",\"members\":%lld,\"signups_today\":%d,\"checkins_today\":%d,"
           "\"pending_events\":%lld,\"last_seq\":%lld,\"acked_seq\":%lld,\"config_version\":%lld,"
           "\"live_group\":%s%s%s,\"groups\":[",
           cfg->store_id, (long long)s.members, s.signups_today, s.checkins_today,
           (long long)s.pending_events, (long long)s.last_seq, (long long)s.acked_seq,
           (long long)s.config_version, live.g ? "\"" : "", live.g ? live.g->id : "null",
           live.g ? "\"" : "");
    for(size_t i = 0; i < cfg->ngroups; i++)
      printf("%s{\"id\":\"%s\",\"joined\":%d,\"capacity\":%d,\"expires_at\":%lld,\"usable\":%s}",
             i ? "," : "", cfg->groups[i].id, fill[i].joined, cfg->groups[i].capacity,
             (long long)cfg->groups[i].expires_at,
             group_usable(cfg, i, fill, now) ? "true" : "false");
    printf("],\"staff_today\":{");
    for(size_t i = 0; i < s.nstaff; i++)
      printf("%s\"%s\":%d", i ? "," : "", s.staff_today[i].staff, s.staff_today[i].signups);
    printf("},\"last_sync_ok_ms\":%lld,\"hq_offset_ms\":%lld,\"clock_jumps\":%lld,"
           "\"last_clock_jump\":",
           (long long)s.last_sync_ok_ms, (long long)s.hq_offset_ms, (long long)s.clock_jumps);
    if(s.clock_jumps)
      printf("{\"at_ms\":%lld,\"jump_ms\":%lld,\"source\":\"%s\"}}\n",
             (long long)s.last_clock_jump_ms, (long long)s.last_clock_jump_by_ms,
             s.last_clock_jump_source);
    else
      printf("null}\n");
    return EX_DONE;
  }
  char t[32];
  printf("store       %s %s (kiosk %d, config v%lld)\n", cfg->store_id, cfg->store_name,
         cfg->kiosk_number, (long long)s.config_version);
  printf("members     %lld\n", (long long)s.members);
  printf("today       %d sign-ups, %d check-ins\n", s.signups_today, s.checkins_today);
  printf("last 7 days sign-ups ");
  for(int i = 0; i < STORE_DAYS; i++)
    printf("%d ", s.signups_by_day[i]);
  printf("| check-ins ");
  for(int i = 0; i < STORE_DAYS; i++)
    printf("%d ", s.checkins_by_day[i]);
  printf("\nlive code   %s\n",
         live.g ? live.g->id : "NO GROUP LEFT: showing the staff contact code");
  printf("groups:\n");
  for(size_t i = 0; i < cfg->ngroups; i++) {
    const config_group *g = &cfg->groups[i];
    fmt_time(g->expires_at * 1000, cfg->utc_offset_min, t, sizeof t);
    printf("  %-14s %-8s %3d/%-3d expires %s%s%s\n", g->id, config_group_kind_name(g->kind),
           fill[i].joined, g->capacity, g->expires_at ? t : "never",
           fill[i].marked_full ? " [marked full]" : "",
           group_usable(cfg, i, fill, now) ? "" : " [not usable]");
  }
  printf("sign-ups by staff today:\n");
  if(!s.nstaff) printf("  (none)\n");
  for(size_t i = 0; i < s.nstaff; i++) {
    const config_staff *st = config_staff_find(cfg, s.staff_today[i].staff);
    printf("  %-6s %-12s %d\n", s.staff_today[i].staff[0] ? s.staff_today[i].staff : "-",
           st ? st->name : "(no staff)", s.staff_today[i].signups);
  }
  fmt_time(s.last_sync_ok_ms, cfg->utc_offset_min, t, sizeof t);
  printf("sync        last success %s, %lld event(s) not yet synced (last seq %lld, acked %lld)\n",
         t, (long long)s.pending_events, (long long)s.last_seq, (long long)s.acked_seq);
  if(s.last_sync_error[0]) printf("            last error: %s\n", s.last_sync_error);
  printf("clock       HQ offset %lld ms", (long long)s.hq_offset_ms);
  if(s.clock_jumps) {
    fmt_time(s.last_clock_jump_ms, cfg->utc_offset_min, t, sizeof t);
    printf(", %lld jump(s), the last %s by %+lld s (%s)\n", (long long)s.clock_jumps, t,
           (long long)(s.last_clock_jump_by_ms / 1000),
           strcmp(s.last_clock_jump_source, "hq_offset") == 0 ? "against HQ" : "box clock");
  } else {
    printf(", no jumps\n");
  }
  return EX_DONE;
}

static int cmd_live(cli *c, int argc, char **argv) {
  (void)argv;
  if(argc > 1) {
    fputs("usage: storeqr live\nPrints what the kiosk's QR code encodes right now.\n", stdout);
    return strcmp(argv[1], "--help") == 0 ? EX_DONE : EX_USAGE;
  }
  int ex = open_store(c);
  if(ex || (ex = need_config(c))) return ex;
  live_view v;
  sqr_rc rc = live_current(c->st, &v);
  if(rc) return fail(c, rc, "live code");
  printf("%s\n", v.text);
  return EX_DONE;
}

static int cmd_token(cli *c, int argc, char **argv) {
  static const char *usage = "usage: storeqr token mint [--at UNIX_SECONDS]\n"
                             "       storeqr token verify TOKEN-or-URL [--at UNIX_SECONDS]\n"
                             "Mints the live-code token for this kiosk, or checks one as HQ would\n"
                             "(current window and 'skew' windows before it).\n";
  static const struct option opts[] = {
      {"at", required_argument, NULL, 'a'}, {"help", no_argument, NULL, OPT_HELP}, {0}};
  if(argc < 2) return usage_error(usage, NULL);
  const char *sub = argv[1];
  if(strcmp(sub, "--help") == 0) {
    fputs(usage, stdout);
    return EX_DONE;
  }
  int64_t at = -1;
  int o;
  /* Parse after the subcommand word: argv[1] becomes getopt's argv[0]. */
  argc--;
  argv++;
  optind = 0;
  while((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if(o == 'a') {
      char *end;
      at = strtoll(optarg, &end, 10);
      if(*end || at < 0) return usage_error(usage, "--at wants unix seconds, not '%s'", optarg);
    } else if(o == OPT_HELP) {
      fputs(usage, stdout);
      return EX_DONE;
    } else {
      return usage_error(usage, NULL);
    }
  }
  int ex = open_store(c);
  if(ex || (ex = need_config(c))) return ex;
  const sqr_config *cfg = store_config(c->st);
  if(at < 0) at = clock_now(c->clock);
  livecode_key key;
  sqr_rc rc = livecode_key_set(&key, cfg->token_key, (uint8_t)cfg->key_version);
  if(rc) return fail(c, rc, "token key");
  if(strcmp(sub, "mint") == 0) {
    char token[LIVECODE_TOKEN_LEN + 1], url[LIVECODE_URL_MAX];
    rc = livecode_mint(&key, cfg->store_id, (uint16_t)cfg->kiosk_number, at, cfg->period_s, token);
    if(!rc) rc = livecode_url(cfg->resolver_host, cfg->store_id, token, url, sizeof url);
    livecode_key_wipe(&key);
    if(rc) return fail(c, rc, "mint");
    printf("%s\n%s\n", token, url);
    return EX_DONE;
  }
  if(strcmp(sub, "verify") == 0) {
    if(optind >= argc) return usage_error(usage, "verify needs a TOKEN");
    const char *token = argv[optind];
    const char *slash = strrchr(token, '/');
    if(slash) token = slash + 1; /* accept the whole URL */
    livecode_claim claim;
    rc = livecode_verify(&key, 1, cfg->store_id, token, at, cfg->period_s, cfg->skew,
                         LIVECODE_LEAD_S, &claim);
    livecode_key_wipe(&key);
    if(rc == SQR_EEXPIRED) {
      printf("expired: minted for window %u, now is window %lld\n", claim.window,
             (long long)(at / cfg->period_s));
      return EX_REFUSED;
    }
    if(rc) {
      printf("invalid: %s\n", sqr_strerror(rc));
      return rc == SQR_EINVAL ? EX_USAGE : EX_REFUSED;
    }
    printf("valid: store %s, kiosk %u, key version %u, window %u\n", cfg->store_id, claim.kiosk,
           claim.key_version, claim.window);
    return EX_DONE;
  }
  livecode_key_wipe(&key);
  return usage_error(usage, "unknown token command '%s'", sub);
}

static int cmd_coupon(cli *c, int argc, char **argv) {
  static const char *usage = "usage: storeqr coupon verify CODE\n"
                             "Checks a welcome coupon this kiosk issued, offline, with its\n"
                             "coupon key (HQ verifies the coupons of every kiosk).\n";
  if(argc >= 2 && strcmp(argv[1], "--help") == 0) {
    fputs(usage, stdout);
    return EX_DONE;
  }
  if(argc != 3 || strcmp(argv[1], "verify") != 0) return usage_error(usage, NULL);
  int ex = open_store(c);
  if(ex || (ex = need_config(c))) return ex;
  const sqr_config *cfg = store_config(c->st);
  coupon_info info;
  sqr_rc rc =
      coupon_verify(cfg->coupon_key, (uint8_t)cfg->key_version, cfg->store_id, argv[2], &info);
  if(rc) {
    printf("invalid coupon: %s\n", sqr_strerror(rc));
    return rc == SQR_EINVAL ? EX_USAGE : EX_REFUSED;
  }
  const char *campaign = "?";
  for(size_t i = 0; i < cfg->ncampaigns; i++)
    if(cfg->campaigns[i].coupon_campaign == info.campaign) campaign = cfg->campaigns[i].id;
  printf("valid coupon: store %s, kiosk %u, campaign %u (%s), serial %u\n", cfg->store_id,
         info.kiosk, info.campaign, campaign, info.serial);
  return EX_DONE;
}

static int cmd_export(cli *c, int argc, char **argv) {
  static const char *usage =
      "usage: storeqr export --csv [--out FILE]\n"
      "Writes members as CSV. No phone number, sealed or not, is exported.\n";
  static const struct option opts[] = {{"csv", no_argument, NULL, 'c'},
                                       {"out", required_argument, NULL, 'o'},
                                       {"help", no_argument, NULL, OPT_HELP},
                                       {0}};
  int csv = 0, o;
  const char *outpath = NULL;
  optind = 0; /* glibc: 0 re-initialises getopt fully between commands */
  while((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if(o == 'c')
      csv = 1;
    else if(o == 'o')
      outpath = optarg;
    else if(o == OPT_HELP) {
      fputs(usage, stdout);
      return EX_DONE;
    } else
      return usage_error(usage, NULL);
  }
  if(!csv) return usage_error(usage, "only --csv is supported");
  int ex = open_store(c);
  if(ex) return ex;
  FILE *f = outpath ? fopen(outpath, "w") : stdout;
  if(!f) {
    fprintf(stderr, "storeqr: %s: %s\n", outpath, strerror(errno));
    return EX_IO;
  }
  sqr_rc rc = member_export_csv(c->st, f);
  if(outpath && fclose(f) != 0 && !rc) rc = SQR_EIO;
  if(rc) return fail(c, rc, "export");
  return EX_DONE;
}

static int cmd_erase(cli *c, int argc, char **argv) {
  static const char *usage =
      "usage: storeqr erase --phone P\n"
      "Erases a member at their request: the member row goes, sealed numbers are\n"
      "stripped from past events, and an erase event tells HQ to do the same.\n";
  const char *phone = NULL;
  int ex = phone_command(c, argc, argv, usage, &phone);
  if(ex >= 0) return ex;
  sqr_rc rc = member_erase_phone(c->st, phone, NULL);
  crypto_wipe(c->phone, sizeof c->phone);
  if(rc) return fail(c, rc, "erase");
  printf("member erased\n");
  return EX_DONE;
}

static int cmd_withdraw(cli *c, int argc, char **argv) {
  static const char *usage =
      "usage: storeqr withdraw --phone P\n"
      "Withdraws a member's marketing consent at their request; HQ applies it to\n"
      "them at every store. Membership and points stay.\n";
  const char *phone = NULL;
  int ex = phone_command(c, argc, argv, usage, &phone);
  if(ex >= 0) return ex;
  member_result r;
  sqr_rc rc = member_withdraw_marketing(c->st, phone, NULL, &r);
  crypto_wipe(c->phone, sizeof c->phone);
  if(rc) return fail(c, rc, "withdraw");
  printf("marketing consent withdrawn: member %s\n", r.member_id);
  return EX_DONE;
}

static int cmd_verify_log(cli *c, int argc, char **argv) {
  if(argc > 1) {
    fputs("usage: storeqr verify-log\nChecks every kept event's hash and the chain linking them,"
          " from the\nprune anchor when older events were pruned.\n",
          stdout);
    return strcmp(argv[1], "--help") == 0 ? EX_DONE : EX_USAGE;
  }
  int ex = open_store(c);
  if(ex) return ex;
  int64_t checked = 0, bad = 0;
  char why[256] = "";
  store_anchor from = {0};
  sqr_rc rc = store_verify_log_from(c->st, &from, &checked, &bad, why, sizeof why);
  if(rc == SQR_ECORRUPT && bad) {
    printf("event log BROKEN at seq %lld: %s\n", (long long)bad, why);
    return EX_REFUSED;
  }
  if(rc) return fail(c, rc, "verify-log");
  if(from.seq) {
    char hex[65];
    crypto_hex(from.hash, sizeof from.hash, hex);
    printf("event log ok: verified %lld event(s) from seq %lld (older pruned, anchor seq %lld"
           " hash %.16s...), chain intact\n",
           (long long)checked, (long long)from.seq + 1, (long long)from.seq, hex);
  } else {
    printf("event log ok: %lld event(s), chain intact\n", (long long)checked);
  }
  return EX_DONE;
}

/* prune: what the sync client does after an acknowledged pass, now, for a
 * store manager or a test (the global --now gives a fixed clock). */
static int cmd_prune(cli *c, int argc, char **argv) {
  static const char *usage =
      "usage: storeqr [--now UNIX_SECONDS] prune\n"
      "Deletes events HQ has acknowledged that are older than the configuration's\n"
      "retention.event_days (never one HQ has not acknowledged, never the newest),\n"
      "keeps the last one's seq and hash as the anchor verify-log starts from, and\n"
      "gives the space back.\n";
  if(argc > 1) {
    fputs(usage, strcmp(argv[1], "--help") == 0 ? stdout : stderr);
    return strcmp(argv[1], "--help") == 0 ? EX_DONE : EX_USAGE;
  }
  int ex = open_store(c);
  if(!ex) ex = need_config(c);
  if(ex) return ex;
  int64_t pruned = 0;
  store_anchor a;
  sqr_rc rc = store_prune_events(c->st, clock_now_ms(c->clock), &pruned);
  if(!rc) rc = store_anchor_get(c->st, &a);
  if(rc) return fail(c, rc, "prune");
  printf("pruned %lld event(s); kept from seq %lld (retention %d days)\n", (long long)pruned,
         (long long)a.seq + 1, store_config(c->st)->retention_event_days);
  return EX_DONE;
}

/* pin-hash: the manager.pin_hash value for a PIN read from stdin (so it
 * stays out of the process list and the shell history). No database. */
static int cmd_pin_hash(cli *c, int argc, char **argv) {
  (void)c;
  static const char usage[] =
      "usage: storeqr pin-hash [--iterations N] < pin.txt\n"
      "Prints pbkdf2-sha256$ITER$SALT$HASH for manager.pin_hash. The PIN is read\n"
      "from stdin (4-12 digits). Default iterations: 100000.\n";
  static const struct option opts[] = {{"iterations", required_argument, NULL, 'i'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  long iter = PIN_DEFAULT_ITERATIONS;
  int o;
  optind = 1;
  while((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if(o == 'i') {
      char *end;
      iter = strtol(optarg, &end, 10);
      if(*end || iter < PIN_MIN_ITERATIONS || iter > PIN_MAX_ITERATIONS)
        return usage_error(usage, "--iterations wants %d..%d", PIN_MIN_ITERATIONS,
                           PIN_MAX_ITERATIONS);
    } else if(o == 'h') {
      fputs(usage, stdout);
      return EX_DONE;
    } else {
      return usage_error(usage, NULL);
    }
  }
  char pin[64] = "";
  if(!fgets(pin, sizeof pin, stdin)) return usage_error(usage, "no PIN on stdin");
  pin[strcspn(pin, "\r\n")] = '\0';
  size_t n = strlen(pin);
  int digits = n >= 4 && n <= 12;
  for(size_t i = 0; i < n; i++)
    if(pin[i] < '0' || pin[i] > '9') digits = 0;
  if(!digits) {
    crypto_wipe(pin, sizeof pin);
    return usage_error(usage, "a PIN is 4 to 12 digits");
  }
  char out[PIN_HASH_MAX];
  sqr_rc rc = pin_hash(pin, (uint32_t)iter, out);
  crypto_wipe(pin, sizeof pin);
  if(rc) {
    fprintf(stderr, "storeqr: pin-hash: %s\n", sqr_strerror(rc));
    return EX_IO;
  }
  puts(out);
  return EX_DONE;
}

int main(int argc, char **argv) {
  static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                       {"now", required_argument, NULL, 'n'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
  /* A number passed to signup, checkin or erase is in memory for the
   * command's length: no core dump, no ptrace by another process of the
   * same user (as the kiosk, app/ui/main.c). */
  if(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    fprintf(stderr, "storeqr: prctl(PR_SET_DUMPABLE, 0): %s\n", strerror(errno));
  cli c = {0};
  int64_t now = -1;
  int o;
  c.db_path = getenv("STOREQR_DB");
  if(!c.db_path) c.db_path = "/var/lib/storeqr/kiosk.db";
  /* '+' stops at the command so its own options are left for it. */
  while((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
    switch(o) {
    case 'd':
      c.db_path = optarg;
      break;
    case 'n': {
      char *end;
      now = strtoll(optarg, &end, 10);
      if(*end || now < 0)
        return usage_error(main_usage, "--now wants unix seconds, not '%s'", optarg);
      break;
    }
    case 'h':
      fputs(main_usage, stdout);
      return EX_DONE;
    default:
      return usage_error(main_usage, NULL);
    }
  }
  if(optind >= argc) return usage_error(main_usage, "no command given");
  /* Library progress lines are for the journal; a person at a terminal
   * wants the answer (SQR_LOG=info brings them back). */
  if(!getenv("SQR_LOG")) log_set_level(LOG_WARN);
  sqr_rc rc = now >= 0 ? clock_new_fixed(now * 1000, &c.clock) : clock_new_real(&c.clock);
  if(rc) return EX_IO;
  static const struct {
    const char *name;
    int (*fn)(cli *, int, char **);
  } cmds[] = {
      {"init", cmd_init},         {"config", cmd_config},         {"signup", cmd_signup},
      {"checkin", cmd_checkin},   {"status", cmd_status},         {"live", cmd_live},
      {"token", cmd_token},       {"coupon", cmd_coupon},         {"export", cmd_export},
      {"erase", cmd_erase},       {"verify-log", cmd_verify_log}, {"pin-hash", cmd_pin_hash},
      {"withdraw", cmd_withdraw}, {"prune", cmd_prune},
  };
  const char *name = argv[optind];
  int ex = -1;
  for(size_t i = 0; i < SQR_ARRAY_LEN(cmds); i++) {
    if(strcmp(name, cmds[i].name) == 0) {
      ex = cmds[i].fn(&c, argc - optind, argv + optind);
      break;
    }
  }
  if(ex < 0) ex = usage_error(main_usage, "unknown command '%s'", name);
  crypto_wipe(c.phone, sizeof c.phone); /* whichever way the command ended */
  store_close(c.st);
  clock_free(c.clock);
  return ex;
}
