/* main.c — storeqr-sync: the kiosk's only network process. Enrols the
 * kiosk with HQ, uploads its event log and pulls its configuration, once
 * or as a daemon (trickle sync, backoff with jitter, a nightly full pass
 * at a randomized time). The kiosk UI never waits on it: they share the
 * database through SQLite WAL.
 *
 * Exit codes (also in --help):
 *   0 done   1 refused by HQ (certificate, enrolment code, a batch)
 *   2 usage or bad input   3 database unusable   4 I/O error or disk full
 *   5 HQ unreachable or the connection broke (try again later)
 *   6 HQ answered something unusable (protocol error)
 *
 * Never logs a payload or a phone number.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "crypto.h"
#include "enroll.h"
#include "log.h"
#include "store.h"
#include "syncpass.h"

#define COMPONENT "sync"

enum {
  EX_DONE = SQR_EXIT_DONE,
  EX_REFUSED = SQR_EXIT_REFUSED,
  EX_USAGE = SQR_EXIT_USAGE,
  EX_DATA = SQR_EXIT_DATA,
  EX_IO = SQR_EXIT_IO,
  EX_NET = SQR_EXIT_NET,
  EX_PROTO = SQR_EXIT_PROTO
};

static const char *usage_text =
    "usage: storeqr-sync enroll --db DB --hq URL --code CODE --ca HQ-CA.crt\n"
    "       storeqr-sync --once [--db DB] [--hq URL] [--batch N] [--max-batches N]\n"
    "                    [--no-config]\n"
    "       storeqr-sync --daemon [--db DB] [--hq URL] [--interval S] [--nightly HH:MM]\n"
    "                    [--nightly-delay S] [--backoff-max S] [--max-runtime S]\n"
    "       (--once and --daemon also: [--no-update] [--update-dir DIR]\n"
    "        [--update-cmd CMD] [--release-file FILE])\n"
    "\n"
    "The kiosk's link to HQ (mutual TLS, HQ's CA pinned). The database is --db,\n"
    "else $STOREQR_DB, else /var/lib/storeqr/kiosk.db; kiosk.key, kiosk.crt,\n"
    "hq-ca.crt and hq.url live beside it.\n"
    "\n"
    "  enroll          generate the kiosk key, send a CSR with the one-time code,\n"
    "                  store the certificate and apply HQ's configuration\n"
    "  --once          upload every pending event (batches of --batch, max 500),\n"
    "                  advancing only on HQ's acknowledgement, then pull the\n"
    "                  configuration; one recorded attempt. --max-batches N\n"
    "                  (1..1000000) stops after N batches and leaves the rest for\n"
    "                  later (a metered link); HQ is told how many still wait\n"
    "  --daemon        trickle sync every --interval seconds (default 300), a full\n"
    "                  pass nightly at --nightly local time (default 02:30) plus a\n"
    "                  random delay up to --nightly-delay seconds (default 3600);\n"
    "                  after a failure, exponential backoff with jitter up to\n"
    "                  --backoff-max seconds (default 3600). Stops on SIGTERM, or\n"
    "                  after --max-runtime seconds (for tests).\n"
    "  --hq URL        HQ's address (default: the config's hq.url, else the one\n"
    "                  used at enrolment)\n"
    "  --timeout S     per-request limit in seconds (default 120)\n"
    "  update bundles  when the configuration names a release newer than the one\n"
    "                  running (--release-file, default\n"
    "                  /opt/storeqr/current/.storeqr-release), it is downloaded to\n"
    "                  --update-dir (default: updates/ beside the database), its\n"
    "                  SHA-256 checked, and queued for storeqr-update-queue.path;\n"
    "                  --update-cmd CMD runs CMD BUNDLE instead (e.g. storeqr-update\n"
    "                  install, where sync runs as root); --no-update skips it\n"
    "\n"
    "exit codes: 0 done, 1 refused by HQ (certificate, code, batch), 2 usage or bad\n"
    "input, 3 database unusable, 4 I/O error or disk full, 5 HQ unreachable or the\n"
    "connection broke (try later), 6 protocol error. SQR_LOG=debug for detail.\n";

static volatile int stopping;

static void on_term(int sig) {
  (void)sig;
  stopping = 1;
}

static int exit_for(sqr_rc rc) {
  return sqr_exit_code(rc);
}

static int usage_error(const char *why, const char *arg) {
  if(why)
    fprintf(stderr, "storeqr-sync: %s%s%s%s\n", why, arg ? " (got '" : "", arg ? arg : "",
            arg ? "')" : "");
  fputs(usage_text, stderr);
  return EX_USAGE;
}

static int parse_long(const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if(errno || end == s || *end || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t random_u64(void) {
  uint64_t r = 0;
  if(crypto_random(&r, sizeof r)) r = (uint64_t)mono_ms() * 6364136223846793005ULL;
  return r;
}

/* Sleeps until mono deadline or a signal, in slices so SIGTERM is seen. */
static void sleep_until(int64_t deadline) {
  while(!stopping) {
    int64_t left = deadline - mono_ms();
    if(left <= 0) return;
    if(left > 500) left = 500;
    struct timespec ts = {left / 1000, (left % 1000) * 1000000};
    nanosleep(&ts, NULL);
  }
}

/* Milliseconds from now to the next local hh:mm for a UTC offset. */
static int64_t ms_until_local(int hhmm_min, int utc_offset_min) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  int64_t local_min_ms = (int64_t)clock_local_minute(now, utc_offset_min) * 60000 + now % 60000;
  int64_t target = (int64_t)hhmm_min * 60000;
  int64_t d = target - local_min_ms;
  if(d <= 0) d += 86400000;
  return d;
}

static void report(const char *what, sqr_rc rc, const syncpass_result *r) {
  if(rc)
    log_error(COMPONENT, "%s failed (%s): %s; acked %lld of %lld", what, sqr_strerror(rc), r->error,
              (long long)r->acked_after, (long long)r->last_seq);
  else
    log_info(COMPONENT,
             "%s done: %lld event(s) in %lld batch(es), acked %lld of %lld, config v%lld", what,
             (long long)r->sent_events, (long long)r->batches, (long long)r->acked_after,
             (long long)r->last_seq, (long long)r->config_after);
}

/* Pruning more often would only free a few pages at a time. */
#define PRUNE_EVERY_MS (3600 * 1000)

typedef struct daemon_opts {
  long interval_s, nightly_min, nightly_delay_s, backoff_max_s, max_runtime_s;
} daemon_opts;

static int run_daemon(syncpass_opts *so, const daemon_opts *d) {
  int64_t start = mono_ms();
  int64_t end = d->max_runtime_s ? start + d->max_runtime_s * 1000 : INT64_MAX;
  int failures = 0;
  sqr_rc last = SQR_OK;
  int utc_off = 480;
  int64_t next_trickle = start; /* a first pass at once */
  int64_t next_prune = start;   /* retention: about once an hour */
  int64_t next_nightly = INT64_MAX;
  while(!stopping && mono_ms() < end) {
    int64_t now = mono_ms();
    if(next_nightly == INT64_MAX) {
      uint64_t jitter =
          d->nightly_delay_s ? random_u64() % (uint64_t)(d->nightly_delay_s * 1000) : 0;
      next_nightly = now + ms_until_local((int)d->nightly_min, utc_off) + (int64_t)jitter;
      log_info(COMPONENT, "next full pass in %lld s", (long long)((next_nightly - now) / 1000));
    }
    int64_t wake = next_trickle < next_nightly ? next_trickle : next_nightly;
    if(wake > end) wake = end;
    sleep_until(wake);
    if(stopping || mono_ms() >= end) break;
    int full = mono_ms() >= next_nightly;
    syncpass_opts o = *so;
    if(!full && !o.max_batches) o.max_batches = 20; /* a trickle stays short */
    o.skip_prune = so->skip_prune || mono_ms() < next_prune;
    syncpass_result r;
    last = syncpass_run(&o, &r);
    if(last == SQR_OK && !o.skip_prune) next_prune = mono_ms() + PRUNE_EVERY_MS;
    report(full ? "nightly pass" : "trickle sync", last, &r);
    if(full) next_nightly = INT64_MAX;
    now = mono_ms();
    if(last == SQR_OK) {
      failures = 0;
      /* More waiting than one trickle can carry: go again soon. */
      next_trickle =
          now + (r.acked_after < r.last_seq && o.max_batches ? 1000 : d->interval_s * 1000);
    } else {
      /* Exponential backoff, capped, with "equal jitter" (half fixed, half
       * random) so a chain's kiosks do not retry in step. */
      if(failures < 30) failures++;
      int64_t cap = d->backoff_max_s * 1000, b = 5000;
      for(int i = 1; i < failures && b < cap; i++)
        b *= 2;
      if(b > cap) b = cap;
      next_trickle = now + b / 2 + (int64_t)(random_u64() % (uint64_t)(b / 2 + 1));
      log_info(COMPONENT, "retrying in %lld s", (long long)((next_trickle - now) / 1000));
    }
    /* The store's UTC offset decides "local" for the nightly pass. */
    if(r.config_after) {
      sqr_clock *c = NULL;
      store *st = NULL;
      char err[256];
      if(!clock_new_real(&c) && !store_open(so->db_path, c, &st, err, sizeof err) &&
         store_config(st))
        utc_off = store_config(st)->utc_offset_min;
      store_close(st);
      clock_free(c);
    }
  }
  log_info(COMPONENT, "daemon stopping%s", stopping ? " (signal)" : "");
  return EX_DONE;
}

int main(int argc, char **argv) {
  enum {
    O_DB = 256,
    O_HQ,
    O_CODE,
    O_CA,
    O_ONCE,
    O_DAEMON,
    O_BATCH,
    O_NOCONFIG,
    O_INTERVAL,
    O_NIGHTLY,
    O_NDELAY,
    O_BACKOFF,
    O_MAXRUN,
    O_TIMEOUT,
    O_HELP,
    O_NOUPDATE,
    O_UPDIR,
    O_UPCMD,
    O_RELFILE,
    O_MAXBATCHES
  };
  static const struct option opts[] = {{"db", required_argument, NULL, O_DB},
                                       {"hq", required_argument, NULL, O_HQ},
                                       {"code", required_argument, NULL, O_CODE},
                                       {"ca", required_argument, NULL, O_CA},
                                       {"once", no_argument, NULL, O_ONCE},
                                       {"daemon", no_argument, NULL, O_DAEMON},
                                       {"batch", required_argument, NULL, O_BATCH},
                                       {"no-config", no_argument, NULL, O_NOCONFIG},
                                       {"max-batches", required_argument, NULL, O_MAXBATCHES},
                                       {"interval", required_argument, NULL, O_INTERVAL},
                                       {"nightly", required_argument, NULL, O_NIGHTLY},
                                       {"nightly-delay", required_argument, NULL, O_NDELAY},
                                       {"backoff-max", required_argument, NULL, O_BACKOFF},
                                       {"max-runtime", required_argument, NULL, O_MAXRUN},
                                       {"timeout", required_argument, NULL, O_TIMEOUT},
                                       {"no-update", no_argument, NULL, O_NOUPDATE},
                                       {"update-dir", required_argument, NULL, O_UPDIR},
                                       {"update-cmd", required_argument, NULL, O_UPCMD},
                                       {"release-file", required_argument, NULL, O_RELFILE},
                                       {"help", no_argument, NULL, O_HELP},
                                       {0}};
  const char *db = getenv("STOREQR_DB"), *hq = NULL, *code = NULL, *ca = NULL;
  const char *update_dir = NULL, *update_cmd = NULL, *release_file = NULL;
  int once = 0, daemon = 0, enroll = 0, noconfig = 0, noupdate = 0, o;
  long batch = 0, max_batches = 0, timeout = 0;
  daemon_opts d = {.interval_s = 300,
                   .nightly_min = 150,
                   .nightly_delay_s = 3600,
                   .backoff_max_s = 3600,
                   .max_runtime_s = 0};
  if(!db) db = "/var/lib/storeqr/kiosk.db";
  if(argc > 1 && strcmp(argv[1], "enroll") == 0) {
    enroll = 1;
    argv++;
    argc--;
  }
  while((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch(o) {
    case O_DB:
      db = optarg;
      break;
    case O_HQ:
      hq = optarg;
      break;
    case O_CODE:
      code = optarg;
      break;
    case O_CA:
      ca = optarg;
      break;
    case O_ONCE:
      once = 1;
      break;
    case O_DAEMON:
      daemon = 1;
      break;
    case O_NOCONFIG:
      noconfig = 1;
      break;
    case O_NOUPDATE:
      noupdate = 1;
      break;
    case O_UPDIR:
      update_dir = optarg;
      break;
    case O_UPCMD:
      update_cmd = optarg;
      break;
    case O_RELFILE:
      release_file = optarg;
      break;
    case O_BATCH:
      if(parse_long(optarg, 1, 500, &batch)) return usage_error("--batch wants 1..500", optarg);
      break;
    case O_MAXBATCHES:
      if(parse_long(optarg, 1, 1000000, &max_batches))
        return usage_error("--max-batches wants 1..1000000", optarg);
      break;
    case O_TIMEOUT:
      if(parse_long(optarg, 1, 3600, &timeout))
        return usage_error("--timeout wants 1..3600 seconds", optarg);
      break;
    case O_INTERVAL:
      if(parse_long(optarg, 1, 86400, &d.interval_s))
        return usage_error("--interval wants 1..86400", optarg);
      break;
    case O_NDELAY:
      if(parse_long(optarg, 0, 86400, &d.nightly_delay_s))
        return usage_error("--nightly-delay wants 0..86400", optarg);
      break;
    case O_BACKOFF:
      if(parse_long(optarg, 10, 86400, &d.backoff_max_s))
        return usage_error("--backoff-max wants 10..86400", optarg);
      break;
    case O_MAXRUN:
      if(parse_long(optarg, 1, 31 * 86400, &d.max_runtime_s))
        return usage_error("--max-runtime wants seconds", optarg);
      break;
    case O_NIGHTLY: {
      int hh, mm;
      char extra;
      if(sscanf(optarg, "%d:%d%c", &hh, &mm, &extra) != 2 || hh < 0 || hh > 23 || mm < 0 || mm > 59)
        return usage_error("--nightly wants HH:MM", optarg);
      d.nightly_min = hh * 60 + mm;
      break;
    }
    case O_HELP:
      fputs(usage_text, stdout);
      return EX_DONE;
    default:
      return usage_error(NULL, NULL);
    }
  }
  if(optind != argc) return usage_error("unexpected argument", argv[optind]);
  if(enroll + once + daemon != 1)
    return usage_error("give exactly one of enroll, --once, --daemon", NULL);
  /* the daemon paces itself (a trickle is 20 batches, a nightly pass all) */
  if(max_batches && !once) return usage_error("--max-batches goes with --once", NULL);
  if(curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "storeqr-sync: libcurl failed to initialise\n");
    return EX_IO;
  }
  struct sigaction sa = {.sa_handler = on_term};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  int ex;
  if(enroll) {
    char err[512];
    enroll_opts eo = {.db_path = db, .hq_url = hq, .code = code, .ca_file = ca};
    sqr_rc rc = enroll_run(&eo, err, sizeof err);
    if(rc)
      fprintf(stderr, "storeqr-sync: enrol: %s\n", err[0] ? err : sqr_strerror(rc));
    else
      printf("enrolled; certificate and keys beside %s\n", db);
    ex = rc == SQR_EEXISTS ? EX_REFUSED : exit_for(rc);
  } else {
    syncpass_opts so = {.db_path = db,
                        .hq_url = hq,
                        .batch_events = (int)batch,
                        .max_batches = (int)max_batches,
                        .skip_config = noconfig,
                        .total_timeout_s = timeout,
                        .abort_flag = &stopping,
                        .skip_update = noupdate,
                        .update_dir = update_dir,
                        .update_cmd = update_cmd,
                        .release_file = release_file};
    if(once) {
      syncpass_result r;
      sqr_rc rc = syncpass_run(&so, &r);
      report("sync", rc, &r);
      if(!rc)
        printf("synced: %lld event(s) sent, acked %lld of %lld, config v%lld, %lld feed "
               "entr%s\n",
               (long long)r.sent_events, (long long)r.acked_after, (long long)r.last_seq,
               (long long)r.config_after, (long long)r.feed_entries,
               r.feed_entries == 1 ? "y" : "ies");
      if(r.pruned)
        printf("pruned %lld acknowledged event(s) past retention\n", (long long)r.pruned);
      if(r.update_note[0]) printf("%s\n", r.update_note);
      ex = exit_for(rc);
    } else {
      ex = run_daemon(&so, &d);
    }
  }
  curl_global_cleanup();
  return ex;
}
