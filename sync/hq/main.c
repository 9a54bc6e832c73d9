/* storeqr-hq — HQ's server and its operator commands (docs/PROTOCOL.md).
 *
 *   storeqr-hq init DIR [--host HOST]
 *   storeqr-hq serve --dir DIR --listen IPV4:PORT [--db URL] [--port-file F]
 *              [--seal-now]  (sign-ups' phones opened in the upload's
 *              transaction; by default a background thread opens them
 *              after the acknowledgement: sealjob.h)
 *              [--key-rotate-days N]   (0: never; default 90)
 *              [--kiosk-url https://HQ.NAME[:PORT]]   (kiosks: hq.url, enrolment QR)
 *              [--public-url https://SCAN.NAME[:PORT]]   (phones: live codes)
 *              [--public-cert FILE --public-key FILE]   (picked by SNI for the public
 *              name; server.crt for every other)
 *              Each falls back to STOREQR_HQ_KIOSK_URL, STOREQR_HQ_PUBLIC_URL,
 *              STOREQR_HQ_PUBLIC_CERT, STOREQR_HQ_PUBLIC_KEY (hq.env); the names to
 *              --listen's address, except that a wildcard --listen (0.0.0.0) without
 *              both names is refused (exit 2) with what to set.
 *              [--trusted-proxy ADDR[/BITS][,...]]   (or STOREQR_HQ_TRUSTED_PROXY:
 *              load balancers that send PROXY protocol v2, server.h)
 *   storeqr-hq store add --dir DIR --id ID --name NAME [--city C] [--lat X --lon Y]
 *              [--brand B]   (B: the brand-wide code /N/B leads to this store too)
 *   storeqr-hq kiosk enroll-code --dir DIR --store ID --kiosk N [--ttl S]
 *              [--kiosk-url URL]   (--url too; else STOREQR_HQ_KIOSK_URL)
 *   storeqr-hq kiosk revoke --dir DIR --store ID --kiosk N[@INC]
 *   storeqr-hq coupon verify --dir DIR --store ID CODE
 *   storeqr-hq group add|update --dir DIR --store ID --id G --link URL [--kind K]
 *              [--name N] [--tag T] [--capacity C] [--expires-at T] [--status open|retired]
 *   storeqr-hq erase --dir DIR --store ID --member ID   (32 hex digits)
 *   storeqr-hq member withdraw --dir DIR --phone -   (the person's
 *              marketing consent, at every store; the number on stdin)
 *   storeqr-hq member show --dir DIR --phone -   (the number on standard
 *              input, never argv: everything HQ holds about it, audited)
 *   storeqr-hq export members --dir DIR [--store ID] [--brand B] [--since YYYY-MM-DD]
 *              [--until YYYY-MM-DD] [--format csv|jsonl]   (the CRM export to
 *              standard output: members with a current marketing consent and
 *              their numbers; audited; export.h)
 *   storeqr-hq counts --dir DIR --store ID
 *   storeqr-hq retention run --dir DIR [--now MS|YYYY-MM-DD] [--dry-run]
 *              (erases members inactive for the template's retention.member_days
 *              at a store: retention.h; --now a fixed clock, a date its
 *              Shanghai midnight; --dry-run counts per store, erases nothing)
 *   storeqr-hq release add --dir DIR [--pub FILE] [--stores A,B] BUNDLE
 *              (a signed kiosk release, checked, stored, named in the
 *              configuration of those stores or every store: release.h)
 *   storeqr-hq ingest-file --dir DIR [--seal-later] FILE...   (benchmarks:
 *              recorded batch bodies through the server's decode + ingest,
 *              no TLS; --seal-later queues sealed phones and then drains
 *              the queue with the background opener, timed apart;
 *              --no-drain leaves it for a later run)
 *   storeqr-hq admin add|passwd|remove --dir DIR USER   (dashboard logins;
 *              the password is read from standard input, never argv)
 * Every command but init and serve takes --db URL too (PostgreSQL).
 * Exit codes: 0 done, 1 refused, 2 usage, 3 storage or files unusable.
 */
#include <cjson/cJSON.h>
#include <qrencode.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "atomicfile.h"
#include "auth.h"
#include "crypto.h"
#include "hq.h"
#include "ingest.h"
#include "sealjob.h"
#include "storefeed.h"
#include "person.h"
#include "export.h"
#include "keys.h"
#include "log.h"
#include "pki.h"
#include "manage.h"
#include "release.h"
#include "reply.h"
#include "retention.h"
#include "stats.h"
#include "server.h"

static const char usage[] =
    "usage: storeqr-hq init DIR [--host HOST]\n"
    "       storeqr-hq cert renew --dir DIR [--host HOST]\n"
    "                  (a new server.crt from hq-ca, same key; restart serve to use it)\n"
    "       storeqr-hq serve --dir DIR --listen IPV4:PORT [--db URL] [--port-file FILE]\n"
    "                  [--key-rotate-days N] [--kiosk-url https://HQ.NAME[:PORT]]\n"
    "                  [--public-url https://SCAN.NAME[:PORT]] [--public-cert F --public-key F]\n"
    "                  (names default to --listen's address; required with 0.0.0.0;\n"
    "                  STOREQR_HQ_KIOSK_URL, _PUBLIC_URL, _PUBLIC_CERT, _PUBLIC_KEY likewise)\n"
    "                  [--trusted-proxy ADDR[/BITS][,ADDR...]]   (balancers sending PROXY\n"
    "                  protocol v2; default $STOREQR_HQ_TRUSTED_PROXY)\n"
    "                  [--seal-now]   (open sign-ups' sealed phones in the upload, not after)\n"
    "       storeqr-hq store add --dir DIR --id ID --name NAME [--city C] [--lat X --lon Y]\n"
    "                  [--brand B]\n"
    "       storeqr-hq kiosk enroll-code --dir DIR --store ID --kiosk N [--ttl SECONDS]\n"
    "                  [--kiosk-url https://HQ.NAME[:PORT]]   (or STOREQR_HQ_KIOSK_URL)\n"
    "       storeqr-hq kiosk revoke --dir DIR --store ID --kiosk N[@INC]\n"
    "                  (N: its newest incarnation; N@INC: that one)\n"
    "       storeqr-hq coupon verify --dir DIR --store ID CODE\n"
    "                  (coupons are verified by HQ: no till holds a key, which could mint them)\n"
    "       storeqr-hq group add|update --dir DIR --store ID --id G --link URL [--kind K]\n"
    "                  [--name N] [--tag T] [--capacity C] [--expires-at T] [--status S]\n"
    "       storeqr-hq erase --dir DIR --store ID --member ID\n"
    "       storeqr-hq member show --dir DIR --phone -   (number on stdin)\n"
    "       storeqr-hq member withdraw --dir DIR --phone -   (marketing consent; number on stdin)\n"
    "       storeqr-hq export members --dir DIR [--store ID] [--brand B] [--since YYYY-MM-DD]\n"
    "                  [--until YYYY-MM-DD] [--format csv|jsonl]   (CRM export to stdout)\n"
    "       storeqr-hq counts --dir DIR --store ID\n"
    "       storeqr-hq retention run --dir DIR [--now MS|YYYY-MM-DD] [--dry-run]\n"
    "       storeqr-hq release add --dir DIR [--pub FILE] [--stores ID,ID] BUNDLE\n"
    "       storeqr-hq ingest-file --dir DIR [--seal-later [--no-drain]] FILE...\n"
    "       storeqr-hq admin add|passwd|remove --dir DIR USER   (password on stdin)\n"
    "Every command but init takes --db postgresql://... to use PostgreSQL.\n";

/* "--name value" pairs after the command words. */
static const char *opt(int argc, char **argv, int from, const char *name) {
  for(int i = from; i + 1 < argc; i++)
    if(strcmp(argv[i], name) == 0) return argv[i + 1];
  return NULL;
}

static int usage_fail(const char *why) {
  if(why) fprintf(stderr, "storeqr-hq: %s\n", why);
  fputs(usage, stderr);
  return 2;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static void print_qr(const char *text) {
  QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if(!q) return;
  int w = q->width, quiet = 2;
  /* Two modules per character cell: upper and lower half blocks. */
  for(int y = -quiet; y < w + quiet; y += 2) {
    for(int x = -quiet; x < w + quiet; x++) {
      int top = y >= 0 && y < w && x >= 0 && x < w && (q->data[y * w + x] & 1);
      int bot = y + 1 >= 0 && y + 1 < w && x >= 0 && x < w && (q->data[(y + 1) * w + x] & 1);
      /* Dark modules print as spaces on a light background. */
      fputs(top && bot ? " "
            : top      ? "\xe2\x96\x84"
            : bot      ? "\xe2\x96\x80"
                       : "\xe2\x96\x88",
            stdout);
    }
    fputc('\n', stdout);
  }
  QRcode_free(q);
}

/* An operation's answer as its route would give it: the JSON on stdout, a
 * refusal's JSON on stderr (exit 1; 3 for HQ's own failures). */
static int answer(sqr_rc rc, const hq_err *e, int status, cJSON *json) {
  hq_reply r = {0};
  if(rc) {
    cJSON_Delete(json);
    hq_reply_fail(&r, rc, e);
  } else {
    hq_reply_json(&r, status, json);
  }
  int bad = r.status < 200 || r.status >= 300;
  FILE *f = bad ? stderr : stdout;
  if(r.body) fprintf(f, "%s\n", r.body);
  int code = !bad ? 0 : r.status >= 500 ? 3 : 1;
  hq_reply_clear(&r);
  return code;
}

/* A whole number from the command line, or -1 (out of every range) when
 * it is not one. */
static int64_t int_arg(const char *v) {
  char *end;
  double d = strtod(v, &end);
  return *v && !*end && d == (double)(int64_t)d ? (int64_t)d : -1;
}

/* An option, else its environment variable (hq.env); empty is unset. */
static const char *opt_env(int argc, char **argv, int from, const char *name, const char *env,
                           const char **what) {
  const char *v = opt(argc, argv, from, name);
  *what = name;
  if(!v && (v = getenv(env)) && *v) *what = env;
  return v && *v ? v : NULL;
}

/* serve's names and public certificate (hq.h, server.h): set on h, or
 * exit code 2 with a message saying what to set. A wildcard --listen
 * gives no address anyone could be sent to, and behind a balancer
 * (behind: --trusted-proxy) the address a process binds is the one
 * kiosks and phones must never be given. */
static int serve_names(hq *h, int argc, char **argv, const char *listen, int behind,
                       const char **cert, const char **key) {
  const char *kw, *pw, *cw, *w;
  const char *kiosk = opt_env(argc, argv, 2, "--kiosk-url", "STOREQR_HQ_KIOSK_URL", &kw);
  const char *pub = opt_env(argc, argv, 2, "--public-url", "STOREQR_HQ_PUBLIC_URL", &pw);
  *cert = opt_env(argc, argv, 2, "--public-cert", "STOREQR_HQ_PUBLIC_CERT", &cw);
  *key = opt_env(argc, argv, 2, "--public-key", "STOREQR_HQ_PUBLIC_KEY", &w);
  char err[300];
  if(strncmp(listen, "0.0.0.0:", 8) == 0 && (!kiosk || !pub)) {
    fprintf(stderr,
            "storeqr-hq: --listen %s binds every address; set --kiosk-url https://HQ.NAME[:PORT] "
            "(kiosks) and --public-url https://SCAN.NAME (shoppers' phones) or "
            "STOREQR_HQ_KIOSK_URL/STOREQR_HQ_PUBLIC_URL in /etc/storeqr/hq.env\n",
            listen);
    return 2;
  }
  if(behind && (!kiosk || !pub)) {
    fprintf(stderr,
            "storeqr-hq: behind a balancer (--trusted-proxy) kiosks and phones must be given the "
            "balancer's names, not --listen %s; set --kiosk-url https://HQ.NAME[:PORT] and "
            "--public-url https://SCAN.NAME or STOREQR_HQ_KIOSK_URL/STOREQR_HQ_PUBLIC_URL in "
            "/etc/storeqr/hq.env\n",
            listen);
    return 2;
  }
  if((kiosk && hq_set_kiosk_url(h, kw, kiosk, err, sizeof err)) ||
     (pub && hq_set_public_url(h, pw, pub, err, sizeof err)))
    return usage_fail(err);
  if(!*cert != !*key) return usage_fail("--public-cert and --public-key go together");
  return 0;
}

static int cmd_serve(hq *h, int argc, char **argv) {
  const char *listen = opt(argc, argv, 2, "--listen");
  const char *port_file = opt(argc, argv, 2, "--port-file");
  const char *rotate = opt(argc, argv, 2, "--key-rotate-days");
  const char *pub_cert, *pub_key;
  if(!listen) return usage_fail("serve needs --listen 127.0.0.1:PORT");
  char err[300];
  const char *proxies = opt(argc, argv, 2, "--trusted-proxy");
  if(proxies && !*proxies) {
    /* storeqr-hq@.service passes it from hq.env, which ships it empty */
    fprintf(stderr, "storeqr-hq: --trusted-proxy is empty; set STOREQR_HQ_TRUSTED_PROXY in "
                    "/etc/storeqr/hq.env to the balancer's address (the one HQ sees connecting)\n");
    return 2;
  }
  if(!proxies) proxies = getenv("STOREQR_HQ_TRUSTED_PROXY");
  if(server_trust_proxies(proxies, err, sizeof err)) return usage_fail(err);
  int names_rc = serve_names(h, argc, argv, listen, proxies && *proxies, &pub_cert, &pub_key);
  if(names_rc) return names_rc;
  if(rotate) {
    int64_t days = int_arg(rotate);
    if(days < 0 || days > 3650) return usage_fail("--key-rotate-days: 0 (never) to 3650");
    hq_set_key_rotation(h, (int)days);
  }
  /* Sealed phones opened by a background thread, off the acknowledgement
   * path (sealjob.h); --seal-now opens them in the upload's transaction,
   * as before (comparisons, and a last resort). --seal-later, once
   * needed, is the default and still accepted. */
  hq_set_seal_later(h, 1);
  for(int i = 2; i < argc; i++)
    if(strcmp(argv[i], "--seal-now") == 0) hq_set_seal_later(h, 0);
  /* Erasure requests from before the feed reach kiosks that read it. */
  if(hq_feed_backfill_erasures(h)) {
    fprintf(stderr, "storeqr-hq: cannot add erasure requests to the feed; see the log\n");
    return 1;
  }
  server *s;
  sigset_t set;
  sigemptyset(&set);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  if(server_start(h, listen, pub_cert, pub_key, &s, err, sizeof err)) {
    fprintf(stderr, "storeqr-hq: %s\n", err);
    return 3;
  }
  log_info("hq", "serving on %s (port %d): kiosks %s, phones https://%s (storage: %s)", listen,
           server_port(s), hq_url(h), hq_resolver_host(h), hq_backend(h));
  if(port_file) {
    char text[16];
    int n = snprintf(text, sizeof text, "%d\n", server_port(s));
    if(atomicfile_write(port_file, text, (size_t)n, 0644, 0, err, sizeof err)) {
      fprintf(stderr, "storeqr-hq: %s\n", err);
      server_stop(s);
      return 3;
    }
  }
  /* systemd (storeqr-hq.service, Type=notify, WatchdogSec=): READY=1
   * once serving; WATCHDOG=1 from this loop only, at half the interval.
   * Never from a database call: an outage of PostgreSQL is HQ's to ride
   * out (hqdb_pg.c reconnects, the resolver keeps its counts), and a
   * restart would only lose those counts. Outside systemd these are
   * no-ops. */
  uint64_t wd_usec = 0;
  int64_t every_ms = sd_watchdog_enabled(0, &wd_usec) > 0 ? (int64_t)(wd_usec / 2000) : 0;
  if(sd_notify(0, "READY=1\nSTATUS=serving") < 0) log_debug("hq", "sd_notify failed");
  while(!stop) {
    if(!every_ms) {
      pause();
      continue;
    }
    (void)sd_notify(0, "WATCHDOG=1");
    /* a signal cuts the sleep short (EINTR), so SIGTERM is seen at once */
    struct timespec ts = {every_ms / 1000, (every_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  log_info("hq", "stopping");
  (void)sd_notify(0, "STOPPING=1");
  server_stop(s);
  return 0;
}

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Each FILE is one /v1/events body (uncompressed), fed through exactly
 * what the server runs after TLS: proto_batch_decode, then ingest_batch
 * as the kiosk the batch names (so that kiosk must be enrolled). Prints
 * one JSON line of timings; stops at the first batch HQ refuses. */
/* A store's line of `retention run`: counts only, never a member. */
static void retention_line(void *arg, const hq_retention_store *s) {
  printf("%s: %lld members %s\n", s->store, (long long)s->members,
         *(const int *)arg ? "inactive (a run would erase them)" : "erased");
}

/* storeqr-hq retention run: one run now (retention.h), its clock --now
 * (unix ms, or a date: its midnight in Shanghai) or the real one. */
static int cmd_retention(hq *h, int argc, char **argv, int from) {
  int dry = 0;
  for(int i = from; i < argc; i++)
    if(strcmp(argv[i], "--dry-run") == 0) dry = 1;
  const char *at = opt(argc, argv, from, "--now");
  int64_t now = hq_now_ms(), day = 0;
  if(at) {
    char *end = NULL;
    long long ms = strtoll(at, &end, 10);
    if(stats_day_parse(at, &day) == SQR_OK)
      now = day * STATS_DAY_MS - STATS_TZ_OFFSET_MS;
    else if(end != at && !*end && ms > 0)
      now = ms;
    else
      return usage_fail("--now wants unix milliseconds or a date YYYY-MM-DD");
    /* A clock ahead would erase members who are active today: only a
     * dry run may look into the future. */
    if(now > hq_now_ms() + STATS_DAY_MS && !dry)
      return usage_fail("--now is in the future: only with --dry-run (a run erases for real)");
  }
  hq_retention_result res;
  sqr_rc rc = hq_retention_run(h, now, dry, retention_line, &dry, &res);
  if(rc) {
    fprintf(stderr, "storeqr-hq: retention: %s (%s)\n", sqr_strerror(rc), hq_storage_error(h));
    return 3;
  }
  if(!res.held) {
    fprintf(stderr, "storeqr-hq: retention: another HQ process is running it now\n");
    return 1;
  }
  printf("retention: %d days; %lld stores, %lld members %s%s\n", hq_retention_member_days(h),
         (long long)res.stores, (long long)res.erased, dry ? "inactive (dry run)" : "erased",
         res.complete ? "" : " (stopped: the job's lease was lost)");
  return res.complete ? 0 : 1;
}

static int cmd_ingest_file(hq *h, int argc, char **argv) {
  int64_t decode_ns = 0, ingest_ns = 0, events = 0, batches = 0, bytes = 0;
  int64_t drain_ns = 0, drained = 0, refused = 0, backlog = 0, oldest = 0;
  int later = 0, no_drain = 0;
  ingest_timing t = {0};
  for(int i = 2; i < argc; i++) {
    if(strcmp(argv[i], "--dir") == 0 || strcmp(argv[i], "--db") == 0) {
      i++;
      continue;
    }
    if(strcmp(argv[i], "--seal-later") == 0) {
      hq_set_seal_later(h, 1);
      later = 1;
      continue;
    }
    if(strcmp(argv[i], "--no-drain") == 0) { /* tests: leave the queue to a later run */
      no_drain = 1;
      continue;
    }
    FILE *f = fopen(argv[i], "rb");
    char *body = NULL;
    long len = -1;
    if(f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
       (body = malloc((size_t)len + 1)) && fread(body, 1, (size_t)len, f) != (size_t)len)
      len = -1;
    if(f) fclose(f);
    if(!body || len < 0) {
      fprintf(stderr, "storeqr-hq: cannot read %s\n", argv[i]);
      free(body);
      return 3;
    }
    body[len] = '\0';
    proto_batch b;
    proto_error pe;
    int64_t t0 = mono_ns();
    sqr_rc rc = proto_batch_decode(body, (size_t)len, &b, &pe);
    int64_t t1 = mono_ns();
    free(body);
    decode_ns += t1 - t0;
    if(rc) {
      fprintf(stderr, "storeqr-hq: %s: %d %s: %s\n", argv[i], pe.status, pe.code, pe.message);
      return 1;
    }
    hq_err e = {0};
    int64_t acked = 0;
    /* As serve's opener thread does a few times a second: the backlog
     * ingest checks its bound against (not timed). */
    if(later && (rc = hq_seal_count(h))) {
      fprintf(stderr, "storeqr-hq: counting the seal queue: %s\n", sqr_strerror(rc));
      proto_batch_clear(&b);
      return 3;
    }
    t1 = mono_ns();
    rc = ingest_batch_timed(h, b.kiosk_id, &b, &acked, &e, &t);
    ingest_ns += mono_ns() - t1;
    events += (int64_t)b.count;
    bytes += len;
    batches++;
    proto_batch_clear(&b);
    if(rc) {
      hq_reply r = {0};
      hq_reply_fail(&r, rc, &e);
      fprintf(stderr, "storeqr-hq: %s: %d %s\n", argv[i], r.status, r.body ? r.body : "");
      hq_reply_clear(&r);
      return 1;
    }
  }
  /* --seal-later: the background opener's work, after every batch was
   * acknowledged, until the queue is empty (this process holds the job). */
  int64_t d0 = mono_ns();
  for(hq_seal_slice sl = {.opened = 1}; later && !no_drain && (sl.opened || sl.refused);) {
    sqr_rc rc = hq_seal_work(h, HQ_SEAL_SLICE, &sl);
    if(rc || !sl.held) {
      fprintf(stderr, "storeqr-hq: the seal opener %s\n",
              rc ? sqr_strerror(rc) : "job is held by another process");
      return rc ? 3 : 1;
    }
    drained += sl.opened;
    refused += sl.refused;
  }
  drain_ns = mono_ns() - d0;
  if(later && hq_seal_backlog(h, &backlog, &oldest)) return 3;
  printf("{\"batches\":%lld,\"events\":%lld,\"bytes\":%lld,\"decode_s\":%.6f,"
         "\"ingest_s\":%.6f,\"seal_open_s\":%.6f,\"signups_opened\":%lld,"
         "\"seal_later\":%s,\"drain_s\":%.6f,\"drained\":%lld,\"refused\":%lld,"
         "\"backlog\":%lld}\n",
         (long long)batches, (long long)events, (long long)bytes, (double)decode_ns / 1e9,
         (double)ingest_ns / 1e9, (double)t.seal_ns / 1e9, (long long)t.signups_opened,
         later ? "true" : "false", later ? (double)drain_ns / 1e9 : 0.0, (long long)drained,
         (long long)refused, (long long)backlog);
  return 0;
}

/* release add: the one argument that is neither an option nor its value. */
static int cmd_release_add(hq *h, int argc, char **argv) {
  const char *bundle = NULL;
  for(int i = 3; i < argc; i++) {
    if(strncmp(argv[i], "--", 2) == 0) {
      i++;
    } else if(bundle) {
      return usage_fail("release add takes one bundle");
    } else {
      bundle = argv[i];
    }
  }
  if(!bundle) return usage_fail("release add needs a bundle (storeqr-bundle pack makes one)");
  hq_release rel;
  char err[600];
  const char *stores = opt(argc, argv, 3, "--stores");
  sqr_rc rc = hq_release_add(h, bundle, opt(argc, argv, 3, "--pub"), stores, &rel, err, sizeof err);
  if(rc) {
    fprintf(stderr, "storeqr-hq: release refused: %s\n", err);
    return rc == SQR_EIO || rc == SQR_ENOMEM ? 3 : 1;
  }
  /* A forced release says what it replaces and until when (bundle.h). */
  char bound[120] = "";
  if(rel.forced)
    snprintf(bound, sizeof bound, ",\"forced_from\":\"%s\",\"forced_until\":%lld", rel.forced_from,
             (long long)rel.forced_until);
  printf("{\"serial\":%lld,\"product\":\"%s\",\"version\":\"%s\",\"sha256\":\"%s\","
         "\"size\":%llu,\"forced\":%s%s,\"stores\":\"%s\"}\n",
         (long long)rel.serial, rel.product, rel.version, rel.sha256, (unsigned long long)rel.size,
         rel.forced ? "true" : "false", bound, stores ? stores : "*");
  return 0;
}

/* One line of standard input into buf (newline dropped); on a terminal
 * with a prompt and without echo. 0 on end of input or a too long line. */
static int read_secret(const char *prompt, char *buf, size_t size) {
  struct termios old, quiet;
  int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
  if(tty) {
    fprintf(stderr, "%s", prompt);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  char *got = fgets(buf, (int)size, stdin);
  if(tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
  }
  if(!got) return 0;
  size_t n = strlen(buf);
  if(n && buf[n - 1] != '\n' && !feof(stdin)) return 0;
  while(n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
    buf[--n] = '\0';
  return 1;
}

/* admin add|passwd|remove USER: dashboard accounts (auth.h). */
static int cmd_admin(hq *h, const char *sub, int argc, char **argv) {
  const char *user = NULL;
  for(int i = 3; i < argc; i++) {
    if(strncmp(argv[i], "--", 2) == 0)
      i++;
    else if(user)
      return usage_fail("admin takes one user name");
    else
      user = argv[i];
  }
  if(!user || !auth_name_valid(user))
    return usage_fail("admin needs a user name (1..32 of A-Z a-z 0-9 . _ -)");
  sqr_rc rc;
  if(strcmp(sub, "remove") == 0) {
    rc = auth_admin_remove(h, user);
  } else {
    char pw[AUTH_PASSWORD_MAX + 2], again[AUTH_PASSWORD_MAX + 2];
    if(!read_secret("Password: ", pw, sizeof pw)) {
      fprintf(stderr, "storeqr-hq: no password on standard input (or longer than %d bytes)\n",
              AUTH_PASSWORD_MAX);
      return 2;
    }
    if(isatty(STDIN_FILENO) &&
       (!read_secret("Again: ", again, sizeof again) || strcmp(pw, again) != 0)) {
      crypto_wipe(pw, sizeof pw);
      crypto_wipe(again, sizeof again);
      fprintf(stderr, "storeqr-hq: the passwords differ\n");
      return 1;
    }
    crypto_wipe(again, sizeof again);
    rc = auth_admin_set(h, user, pw, strcmp(sub, "add") == 0);
    crypto_wipe(pw, sizeof pw);
  }
  switch(rc) {
  case SQR_OK:
    printf("admin %s: %s\n", user,
           strcmp(sub, "add") == 0      ? "added"
           : strcmp(sub, "remove") == 0 ? "removed (sessions ended)"
                                        : "password changed");
    return 0;
  case SQR_EEXISTS:
    fprintf(stderr, "storeqr-hq: admin %s exists (use passwd)\n", user);
    return 1;
  case SQR_ENOTFOUND:
    fprintf(stderr, "storeqr-hq: no admin %s\n", user);
    return 1;
  case SQR_EINVAL:
    fprintf(stderr, "storeqr-hq: a password needs %d..%d bytes\n", AUTH_PASSWORD_MIN,
            AUTH_PASSWORD_MAX);
    return 1;
  default:
    fprintf(stderr, "storeqr-hq: %s\n", hq_storage_error(h));
    return 3;
  }
}

/* The CRM export to standard output, a page at a time; each page's
 * numbers wiped once written. Exit 2 for a filter that is wrong (nothing
 * exported or recorded), 1 refused, 3 storage or the output failed. */
static int cmd_export(hq *h, int argc, char **argv, int from) {
  hq_export_req q = {.store = opt(argc, argv, from, "--store"),
                     .brand = opt(argc, argv, from, "--brand"),
                     .since = opt(argc, argv, from, "--since"),
                     .until = opt(argc, argv, from, "--until"),
                     .format = opt(argc, argv, from, "--format")};
  hq_err e = {0};
  hq_export *x = NULL;
  sqr_rc rc = hq_export_open(h, &q, "cli", &x, &e);
  if(rc == SQR_EINVAL) {
    fprintf(stderr, "storeqr-hq: export members: %s\n", e.message);
    return 2;
  }
  if(rc) return answer(rc, &e, 0, NULL);
  dynbuf b;
  dynbuf_init(&b, 16 * 1024 * 1024);
  dynbuf_secret(&b); /* phone numbers: no copy left in freed memory */
  int done = 0, code = 0;
  while(!done && !code) {
    if(hq_export_next(x, &b, &done, &e)) {
      fprintf(stderr, "storeqr-hq: export members: %s\n", e.message);
      code = 3;
    } else if(fwrite(dynbuf_ptr(&b), 1, dynbuf_len(&b), stdout) != dynbuf_len(&b)) {
      fprintf(stderr, "storeqr-hq: export members: cannot write the output\n");
      code = 3;
    }
    dynbuf_reset(&b);
  }
  if(!code && fflush(stdout)) {
    fprintf(stderr, "storeqr-hq: export members: cannot write the output\n");
    code = 3;
  }
  dynbuf_free(&b);
  fprintf(stderr, "storeqr-hq: export members: %lld rows\n", (long long)hq_export_rows(x));
  hq_export_close(x, !code);
  return code;
}

int main(int argc, char **argv) {
  if(argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
    return usage_fail(NULL);
  const char *cmd = argv[1];
  char err[400];
  if(strcmp(cmd, "init") == 0) {
    if(argc < 3) return usage_fail("init needs a directory");
    const char *host = opt(argc, argv, 3, "--host");
    if(pki_init_dir(argv[2], host ? host : "127.0.0.1", err, sizeof err)) {
      fprintf(stderr, "storeqr-hq: %s\n", err);
      return 3;
    }
    printf("HQ initialised in %s (admin token in %s/admin.token)\n", argv[2], argv[2]);
    return 0;
  }
  if(strcmp(cmd, "cert") == 0) {
    if(argc < 3 || strcmp(argv[2], "renew") != 0) return usage_fail("cert: want cert renew");
    const char *cdir = opt(argc, argv, 3, "--dir");
    if(!cdir) return usage_fail("--dir DIR is required");
    sqr_rc crc =
        pki_renew_server(cdir, opt(argc, argv, 3, "--host"), (int64_t)time(NULL), err, sizeof err);
    if(crc) {
      fprintf(stderr, "storeqr-hq: %s\n", err);
      return crc == SQR_EINVAL ? 1 : 3;
    }
    printf("%s/server.crt renewed for %d days; restart serve to use it\n", cdir,
           PKI_SERVER_CERT_DAYS);
    return 0;
  }
  const char *sub = argc > 2 && argv[2][0] != '-' ? argv[2] : NULL;
  int from = sub ? 3 : 2;
  const char *dir = opt(argc, argv, from, "--dir");
  if(!dir) return usage_fail("--dir DIR is required");
  hq *h;
  if(hq_open(dir, opt(argc, argv, from, "--db"), &h, err, sizeof err)) {
    fprintf(stderr, "storeqr-hq: %s\n", err);
    return 3;
  }
  int rc = 2;
  hq_err e = {0};
  const char *store_id = opt(argc, argv, from, "--store");
  const char *kiosk = opt(argc, argv, from, "--kiosk");
  if(strcmp(cmd, "serve") == 0) {
    rc = cmd_serve(h, argc, argv);
  } else if(strcmp(cmd, "store") == 0 && sub && strcmp(sub, "add") == 0) {
    hq_store_req q = {.id = opt(argc, argv, from, "--id"),
                      .name = opt(argc, argv, from, "--name"),
                      .city = opt(argc, argv, from, "--city"),
                      .brand = opt(argc, argv, from, "--brand")};
    const char *v;
    if((v = opt(argc, argv, from, "--lat"))) q.has_lat = 1, q.lat = atof(v);
    if((v = opt(argc, argv, from, "--lon"))) q.has_lon = 1, q.lon = atof(v);
    hq_store s;
    if(!q.id || !q.name) {
      hq_fail(&e, SQR_EINVAL, "bad_request", "%s: missing", q.id ? "name" : "id");
      rc = answer(SQR_EINVAL, &e, 0, NULL);
    } else {
      sqr_rc orc = hq_store_add(h, &q, &s, &e);
      rc = answer(orc, &e, 201, orc ? NULL : admin_store_json(&s, q.brand));
    }
  } else if(strcmp(cmd, "kiosk") == 0 && sub && strcmp(sub, "enroll-code") == 0) {
    if(!store_id || !kiosk) {
      rc = usage_fail("enroll-code needs --store and --kiosk");
    } else {
      /* --kiosk-url (--url: its older name), else STOREQR_HQ_KIOSK_URL */
      const char *what = "--url", *url = opt(argc, argv, from, "--url");
      if(!url) url = opt_env(argc, argv, from, "--kiosk-url", "STOREQR_HQ_KIOSK_URL", &what);
      if(url && hq_set_kiosk_url(h, what, url, err, sizeof err)) {
        hq_close(h);
        return usage_fail(err);
      }
      const char *ttl = opt(argc, argv, from, "--ttl");
      hq_code_req q = {.store = store_id, .kiosk = atoi(kiosk), .ttl_s = ttl ? atoi(ttl) : 86400};
      hq_code_out c;
      sqr_rc orc = hq_code_new(h, &q, &c, &e);
      rc = answer(orc, &e, 201, orc ? NULL : admin_code_json(&c));
      if(!orc) {
        if(isatty(STDOUT_FILENO)) print_qr(c.qr_text);
        printf("code: %s\n", c.code);
      }
      memset(&c, 0, sizeof c);
    }
  } else if(strcmp(cmd, "kiosk") == 0 && sub && strcmp(sub, "revoke") == 0) {
    if(!store_id || !kiosk) {
      rc = usage_fail("revoke needs --store and --kiosk");
    } else {
      /* --kiosk N (its newest incarnation) or N@INC (exactly that one) */
      const char *at = strchr(kiosk, '@');
      char kiosk_id[HQ_ID_MAX];
      sqr_rc orc = hq_kiosk_revoke(h, store_id, atoi(kiosk), at ? atoi(at + 1) : 0, kiosk_id, &e);
      rc = answer(orc, &e, 200, orc ? NULL : admin_revoked_json(kiosk_id));
    }
  } else if(strcmp(cmd, "group") == 0 && sub &&
            (strcmp(sub, "add") == 0 || strcmp(sub, "update") == 0)) {
    hq_group_req q = {.store = store_id,
                      .id = opt(argc, argv, from, "--id"),
                      .link = opt(argc, argv, from, "--link"),
                      .kind = opt(argc, argv, from, "--kind"),
                      .name = opt(argc, argv, from, "--name"),
                      .tag = opt(argc, argv, from, "--tag"),
                      .status = opt(argc, argv, from, "--status")};
    const char *v;
    if((v = opt(argc, argv, from, "--capacity"))) q.has_capacity = 1, q.capacity = int_arg(v);
    if((v = opt(argc, argv, from, "--expires-at"))) q.has_expires_at = 1, q.expires_at = int_arg(v);
    hq_group_out g;
    sqr_rc orc = hq_group_set(h, &q, &g, &e);
    rc = answer(orc, &e, orc ? 0 : g.created ? 201 : 200, orc ? NULL : admin_group_json(&g));
  } else if(strcmp(cmd, "coupon") == 0 && sub && strcmp(sub, "verify") == 0) {
    /* The code: the one argument that is neither an option nor its value. */
    const char *code = NULL;
    for(int i = from; i < argc; i++) {
      if(strncmp(argv[i], "--", 2) == 0)
        i++;
      else
        code = argv[i];
    }
    hq_coupon_check c;
    sqr_rc orc = !code ? hq_fail(&e, SQR_EINVAL, "bad_request", "code: missing")
                       : hq_coupon_verify(h, store_id, code, &c, &e);
    /* A refused code is an answer, not an error: exit 1 with the reason. */
    rc = answer(orc, &e, 200, orc ? NULL : admin_coupon_json(&c));
    if(!orc && !c.valid) rc = 1;
  } else if(strcmp(cmd, "erase") == 0) {
    char lower[65];
    sqr_rc orc = hq_erasure_add(h, store_id, opt(argc, argv, from, "--member"), lower, &e);
    rc = answer(orc, &e, 202, orc ? NULL : admin_erasure_json(lower));
  } else if(strcmp(cmd, "release") == 0 && sub && strcmp(sub, "add") == 0) {
    rc = cmd_release_add(h, argc, argv);
  } else if(strcmp(cmd, "admin") == 0 && sub &&
            (strcmp(sub, "add") == 0 || strcmp(sub, "passwd") == 0 || strcmp(sub, "remove") == 0)) {
    rc = cmd_admin(h, sub, argc, argv);
  } else if(strcmp(cmd, "ingest-file") == 0) {
    rc = cmd_ingest_file(h, argc, argv);
  } else if(strcmp(cmd, "member") == 0 && sub &&
            (strcmp(sub, "show") == 0 || strcmp(sub, "withdraw") == 0)) {
    const char *ph = opt(argc, argv, from, "--phone");
    char line[64] = "";
    if(!ph || strcmp(ph, "-") != 0) {
      rc = usage_fail("member show and withdraw need --phone - and the number on standard input"
                      " (never on the command line, where others can read it)");
    } else {
      if(!fgets(line, sizeof line, stdin)) line[0] = '\0';
      line[strcspn(line, "\r\n")] = '\0';
      char *json = NULL;
      int reached = 0;
      sqr_rc orc = strcmp(sub, "show") == 0 ? hq_person_data(h, line, "cli", &json, &e)
                                            : hq_person_withdraw(h, line, "cli", &reached, &e);
      crypto_wipe(line, sizeof line);
      rc = answer(orc, &e, 200,
                  orc    ? NULL
                  : json ? cJSON_Parse(json)
                         : admin_withdraw_json(reached));
      free(json);
    }
  } else if(strcmp(cmd, "retention") == 0 && sub && strcmp(sub, "run") == 0) {
    rc = cmd_retention(h, argc, argv, from);
  } else if(strcmp(cmd, "export") == 0 && sub && strcmp(sub, "members") == 0) {
    rc = cmd_export(h, argc, argv, from);
  } else if(strcmp(cmd, "counts") == 0) {
    hq_counts c;
    sqr_rc orc = hq_counts_get(h, store_id, &c, &e);
    rc = answer(orc, &e, 200, orc ? NULL : admin_counts_json(store_id, &c));
    if(!orc) hq_counts_free(&c);
  } else {
    rc = usage_fail("unknown command");
  }
  hq_close(h);
  return rc;
}
