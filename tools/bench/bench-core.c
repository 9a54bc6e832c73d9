/* bench-core.c — figures for the kiosk core's performance goals, from one
 * run on the machine at hand.
 *
 * Measures, against the goals in DESIGN.md:
 *   a. a durable sign-up (member_signup: seal, insert, event, commit with
 *      WAL + synchronous=FULL) next to a bare SQLite one-row INSERT commit
 *      with the same pragmas — the sign-up may cost at most 1.3x the bare
 *      commit; the seal alone is timed too, to show where the time goes;
 *   b. a check-in lookup by blind index among 1,000,000 members
 *      (member_lookup), p99 under 200 us;
 *   c. live-code token mint and verify, under 5 us each;
 *   d. QR encoding of a live-code URL: version 4 or less at ECC level M;
 *   e. the Argon2id blind index at the default cost (m 32 MiB, t 2, p 1):
 *      one candidate's time (median) and peak memory, what 10^10
 *      candidates cost one core, beside the old HMAC index in the same
 *      run; and a sign-up and a check-in that derive it inside the call
 *      answer within 300 ms (median).
 * a and b take the blind index derived ahead (as the UI does while the
 * shopper types) so they time the database, on stores with a cheap Argon2
 * cost; e prices the index itself at the default cost.
 *
 * A benchmark, not a test: it prints numbers and says which goals were
 * met; it fails (exit 1) only when something it measures fails outright.
 * Durable commits are only as fast as the disk under them, so the header
 * names the directory and the filesystem used. Every database lives in a
 * fresh mkdtemp directory (under /tmp, or under --dir) that is removed at
 * the end. Phone numbers are synthetic and never printed.
 *
 * Usage: bench-core [--quick] [--only PARTS] [--dir DIR] [--template demo.json]
 */
#include "clock.h"
#include "crypto.h"
#include "demo.h"
#include "livecode.h"
#include "log.h"
#include "member.h"
#include "seal.h"
#include "store.h"

#include <argon2.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mbedtls/version.h>
#include <qrencode.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define BENCH_GOAL_SIGNUP_RATIO  1.3
#define BENCH_GOAL_LOOKUP_P99_US 200.0
#define BENCH_GOAL_TOKEN_US      5.0
#define BENCH_GOAL_QR_VERSION    4
#define BENCH_GOAL_ANSWER_MS     300.0 /* sign-up / check-in with the index derived inside */
#define BENCH_GOAL_INDEX_MS      50.0  /* at least: one candidate for a thief */
#define BENCH_GOAL_CPU_YEARS     15.0  /* at least: 10^10 mainland numbers, one core */
#define BENCH_CANDIDATES         1e10
#define BENCH_SECONDS_PER_YEAR   31557600.0
#define BENCH_HOST               "HQ01.STOREQR-DEMO.CN" /* 20 characters, a plausible resolver */
#define BENCH_STORE_ID           "SH-JA01"
#define BENCH_CONSENT            "2026-11"

typedef struct bench_counts {
  int signups; /* a: sign-ups, and as many bare commits */
  int seals;   /* a: seal_box alone */
  int members; /* b: rows in the lookup store */
  int lookups; /* b: member_lookup calls */
  int tokens;  /* c: mints, and as many verifies */
  int qr;      /* d: encodes */
  int index;   /* e: Argon2id derivations at the default cost */
  int hmac;    /* e: old HMAC indexes */
  int answers; /* e: sign-ups, and as many check-ins, at the default cost */
} bench_counts;

static const bench_counts FULL_COUNTS = {2000,  2000, 1000000, 10000, 1000000,
                                         10000, 21,   200000,  11};
static const bench_counts QUICK_COUNTS = {100, 200, 20000, 2000, 100000, 500, 5, 20000, 3};

typedef struct bench_stats {
  double p50, p99, max, mean; /* microseconds */
} bench_stats;

static char work_dir[PATH_MAX];
static volatile unsigned bench_sink; /* keeps timed calls from being optimised away */
static int goals_met, goals_total;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CPU time of this thread: what a candidate costs a core, whatever else
 * the machine is running (wall time is what a shopper waits). */
static int64_t cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentiles of n samples in ns; sorts v. */
static bench_stats stats_of(int64_t *v, int n) {
  bench_stats s = {0, 0, 0, 0};
  if(n <= 0) return s;
  qsort(v, (size_t)n, sizeof *v, cmp_i64);
  double sum = 0;
  for(int i = 0; i < n; i++)
    sum += (double)v[i];
  int i50 = (n * 50 + 99) / 100 - 1, i99 = (n * 99 + 99) / 100 - 1;
  s.p50 = (double)v[i50] / 1e3;
  s.p99 = (double)v[i99] / 1e3;
  s.max = (double)v[n - 1] / 1e3;
  s.mean = sum / n / 1e3;
  return s;
}

/* xorshift64*: which members are looked up; quality hardly matters. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng_next(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ULL;
}

static const char *in_dir(const char *file) {
  static char buf[2][PATH_MAX + 64];
  static int which;
  which ^= 1;
  snprintf(buf[which], sizeof buf[which], "%s/%s", work_dir, file);
  return buf[which];
}

/* Removes a database and its WAL companions from the work directory. */
static void remove_db(const char *file) {
  static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
  for(size_t i = 0; i < SQR_ARRAY_LEN(suffix); i++) {
    char p[PATH_MAX + 80];
    snprintf(p, sizeof p, "%s%s", in_dir(file), suffix[i]);
    if(unlink(p) != 0 && errno != ENOENT) fprintf(stderr, "bench: cannot remove %s\n", p);
  }
}

static void goal(const char *what, int met, const char *detail) {
  goals_total++;
  goals_met += met;
  printf("  goal %-44s %s%s%s\n", what, met ? "MET" : "NOT MET", detail[0] ? " — " : "", detail);
}

/* ---- header ------------------------------------------------------------ */

static void cpu_model(char *out, size_t n) {
  snprintf(out, n, "unknown CPU");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if(!f) return;
  char line[512];
  while(fgets(line, sizeof line, f)) {
    if(strncmp(line, "model name", 10) != 0) continue;
    const char *v = strchr(line, ':');
    if(!v) break;
    v++;
    while(*v == ' ' || *v == '\t')
      v++;
    snprintf(out, n, "%s", v);
    out[strcspn(out, "\n")] = '\0';
    break;
  }
  fclose(f);
}

/* The mount holding path: the longest mount point that prefixes it. */
static void filesystem_of(const char *path, char *out, size_t n) {
  snprintf(out, n, "filesystem unknown");
  FILE *f = fopen("/proc/mounts", "r");
  if(!f) return;
  char dev[256], mnt[PATH_MAX], type[64], opts[1024];
  size_t best = 0;
  while(fscanf(f, "%255s %4095s %63s %1023s %*d %*d", dev, mnt, type, opts) == 4) {
    size_t len = strlen(mnt);
    int prefix =
        strncmp(path, mnt, len) == 0 && (len == 1 || path[len] == '/' || path[len] == '\0');
    if(!prefix || len < best) continue;
    best = len;
    /* Only the options that change what fsync costs. */
    char keep[256] = "";
    for(char *o = strtok(opts, ","); o; o = strtok(NULL, ","))
      if(!strncmp(o, "barrier", 7) || !strncmp(o, "nobarrier", 9) || !strncmp(o, "data=", 5) ||
         !strcmp(o, "sync") || !strcmp(o, "dirsync") || !strncmp(o, "commit=", 7))
        snprintf(keep + strlen(keep), sizeof keep - strlen(keep), ",%s", o);
    snprintf(out, n, "%s on %s (mounted at %s%s%s)", type, dev, mnt, keep[0] ? ", " : "",
             keep[0] ? keep + 1 : "");
  }
  fclose(f);
}

static void print_header(const bench_counts *c, int quick) {
  char date[64], cpu[256], fs[PATH_MAX + 512];
  time_t t = time(NULL);
  strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %z", localtime(&t));
  cpu_model(cpu, sizeof cpu);
  filesystem_of(work_dir, fs, sizeof fs);
  struct utsname u;
  if(uname(&u) != 0) memset(&u, 0, sizeof u);
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

  printf("bench-core — StoreQR core performance%s\n",
         quick ? " (--quick: smoke run, small counts)" : "");
  printf("date:     %s\n", date);
  printf("machine:  %ld CPUs (nproc), %s, %s %s %s\n", ncpu, cpu, u.sysname, u.release, u.machine);
  printf("software: SQLite %s, mbedtls %s, libqrencode %s, %s%s\n", sqlite3_libversion(),
         MBEDTLS_VERSION_STRING, QRcode_APIVersionString(),
#ifdef __VERSION__
         "cc " __VERSION__,
#else
         "cc ?",
#endif
#ifdef __OPTIMIZE__
         ", optimised"
#else
         ", NOT optimised (build with -DCMAKE_BUILD_TYPE=Release for real figures)"
#endif
  );
  printf("data dir: %s\n          %s\n", work_dir, fs);
  printf("goals:\n");
  printf("  a. sign-up durable commit (WAL, synchronous=FULL) <= %.1fx a bare one-row SQLite\n"
         "     INSERT commit with the same pragmas, at p50 and p99 (%d of each, interleaved)\n",
         BENCH_GOAL_SIGNUP_RATIO, c->signups);
  printf("  b. check-in lookup by blind index among %d members: p99 < %.0f us (%d lookups)\n",
         c->members, BENCH_GOAL_LOOKUP_P99_US, c->lookups);
  printf("  c. live-code token mint and verify: mean < %.0f us each (%d of each)\n",
         BENCH_GOAL_TOKEN_US, c->tokens);
  printf("  d. QR code of a live-code URL (%zu-character host): version <= %d at ECC M\n",
         strlen(BENCH_HOST), BENCH_GOAL_QR_VERSION);
  printf(
      "  e. blind index at the default cost: >= %.0f ms a candidate and >= %.0f CPU-years for\n"
      "     10^10 candidates on one core (%d derivations); a sign-up and a check-in deriving it\n"
      "     inside the call answer in < %.0f ms (median of %d each)\n",
      BENCH_GOAL_INDEX_MS, BENCH_GOAL_CPU_YEARS, c->index, BENCH_GOAL_ANSWER_MS, c->answers);
  printf("\n");
}

/* ---- a demo store ------------------------------------------------------ */

/* The demo template: --template, else assets/config/demo.json from the
 * current directory, else from the source tree this file was built from. */
static char *load_template(const char *explicit_path) {
  char guess[PATH_MAX];
  const char *paths[3] = {explicit_path, "assets/config/demo.json", NULL};
  const char *src = __FILE__, *tail = strstr(src, "tools/bench/bench-core.c");
  if(tail && src[0] == '/') {
    snprintf(guess, sizeof guess, "%.*sassets/config/demo.json", (int)(tail - src), src);
    paths[2] = guess;
  }
  for(size_t i = 0; i < SQR_ARRAY_LEN(paths); i++) {
    if(!paths[i]) continue;
    FILE *f = fopen(paths[i], "rb");
    if(!f) {
      if(explicit_path && i == 0) break;
      continue;
    }
    char *buf = malloc(CONFIG_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, CONFIG_MAX_BYTES, f) : 0;
    fclose(f);
    if(!buf) return NULL;
    buf[n] = '\0';
    return buf;
  }
  fprintf(stderr, "bench: cannot find the demo template (assets/config/demo.json);"
                  " run from the source tree or pass --template PATH\n");
  return NULL;
}

typedef struct bench_store {
  sqr_clock *clock;
  store *st;
  demo_keys keys; /* keys.hq_pub: HQ's public key */
} bench_store;

static void bench_store_close(bench_store *b) {
  store_close(b->st);
  clock_free(b->clock);
  crypto_wipe(&b->keys, sizeof b->keys);
  memset(b, 0, sizeof *b);
}

/* The Argon2id cost of a bench store: the template's (the default a kiosk
 * gets) or a cheap one, where the index is derived ahead and untimed. */
typedef enum bench_cost { BENCH_COST_CHEAP, BENCH_COST_DEFAULT } bench_cost;

/* A store at file in the work dir with the demo config applied, fresh
 * keys, and the real clock. */
static sqr_rc bench_store_open(bench_store *b, const char *file, const char *tmpl,
                               bench_cost cost) {
  uint8_t hq_priv[SEAL_PRIV_LEN];
  char err[256] = "", *json = NULL;
  memset(b, 0, sizeof *b);
  sqr_rc rc = seal_keypair_generate(b->keys.hq_pub, hq_priv);
  crypto_wipe(hq_priv, sizeof hq_priv); /* a kiosk never holds it */
  if(!rc) rc = demo_keys_random(&b->keys);
  if(cost == BENCH_COST_CHEAP) {
    b->keys.index_m_kib = 64;
    b->keys.index_t = 1;
  }
  if(!rc) rc = clock_new_real(&b->clock);
  if(!rc) rc = store_open(in_dir(file), b->clock, &b->st, err, sizeof err);
  if(!rc) rc = demo_config_json(tmpl, 1, &b->keys, clock_now(b->clock), &json);
  if(!rc) rc = store_apply_config(b->st, json, strlen(json), err, sizeof err);
  free(json);
  if(rc) {
    fprintf(stderr, "bench: cannot make a demo store in %s: %s %s\n", work_dir, sqr_strerror(rc),
            err);
    bench_store_close(b);
  }
  return rc;
}

/* ---- a: sign-up vs bare commit ----------------------------------------- */

static int exec_sql(sqlite3 *db, const char *sql) {
  char *msg = NULL;
  int src = sqlite3_exec(db, sql, NULL, NULL, &msg);
  if(src != SQLITE_OK) fprintf(stderr, "bench: %s: %s\n", sql, msg ? msg : sqlite3_errstr(src));
  sqlite3_free(msg);
  return src;
}

/* The bare baseline: the members table's shape and row width, one row
 * per BEGIN IMMEDIATE ... COMMIT, as the store does it. */
static sqlite3 *raw_open(void) {
  sqlite3 *db = NULL;
  if(sqlite3_open(in_dir("raw.db"), &db) != SQLITE_OK ||
     exec_sql(db,
              "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
              "CREATE TABLE raw(id INTEGER PRIMARY KEY, blind BLOB NOT NULL UNIQUE,"
              " sealed BLOB NOT NULL, consent_version TEXT NOT NULL, consent_ms INTEGER NOT NULL,"
              " tags TEXT NOT NULL, staff TEXT, group_id TEXT, created_ms INTEGER NOT NULL,"
              " points INTEGER NOT NULL)") != SQLITE_OK) {
    fprintf(stderr, "bench: cannot create raw.db: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    return NULL;
  }
  return db;
}

static int raw_insert(sqlite3 *db, sqlite3_stmt *ins, int i) {
  uint8_t blind[32], sealed[SEAL_OVERHEAD + 11];
  if(crypto_random(blind, sizeof blind) != SQR_OK) return -1;
  memset(sealed, i & 0xff, sizeof sealed);
  int64_t ms = (int64_t)time(NULL) * 1000;
  if(exec_sql(db, "BEGIN IMMEDIATE") != SQLITE_OK) return -1;
  sqlite3_bind_blob(ins, 1, blind, sizeof blind, SQLITE_TRANSIENT);
  sqlite3_bind_blob(ins, 2, sealed, sizeof sealed, SQLITE_TRANSIENT);
  sqlite3_bind_text(ins, 3, BENCH_CONSENT, -1, SQLITE_STATIC);
  sqlite3_bind_int64(ins, 4, ms);
  sqlite3_bind_text(ins, 5, "[]", -1, SQLITE_STATIC);
  sqlite3_bind_null(ins, 6);
  sqlite3_bind_text(ins, 7, "ja-store-1", -1, SQLITE_STATIC);
  sqlite3_bind_int64(ins, 8, ms);
  sqlite3_bind_int(ins, 9, 10);
  int src = sqlite3_step(ins);
  sqlite3_reset(ins);
  if(src != SQLITE_DONE) {
    fprintf(stderr, "bench: raw insert: %s\n", sqlite3_errmsg(db));
    exec_sql(db, "ROLLBACK");
    return -1;
  }
  return exec_sql(db, "COMMIT") == SQLITE_OK ? 0 : -1;
}

/* What the disk charges for a flush: 4 KiB pwrite + fdatasync, the floor
 * under every durable commit. Tells a reader whether the device really
 * flushes (eMMC and SD cards take milliseconds; a VM disk with a host
 * write-back cache, tens of microseconds). Negative on failure. */
static double flush_p50_us(int n) {
  const char *p = in_dir("flush.probe");
  int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if(fd < 0) return -1;
  int64_t *t = calloc((size_t)n, sizeof *t);
  char page[4096];
  memset(page, 0x5a, sizeof page);
  double r = -1;
  if(!t) goto out;
  for(int i = 0; i < n; i++) {
    int64_t t0 = now_ns();
    if(pwrite(fd, page, sizeof page, (off_t)(i % 16) * (off_t)sizeof page) !=
           (ssize_t)sizeof page ||
       fdatasync(fd) != 0)
      goto out;
    t[i] = now_ns() - t0;
  }
  r = stats_of(t, n).p50;
out:
  free(t);
  close(fd);
  unlink(p);
  return r;
}

static int bench_signup(const bench_counts *c, const char *tmpl) {
  int ok = -1;
  bench_store b;
  sqlite3 *raw = NULL;
  sqlite3_stmt *ins = NULL;
  int64_t *t_sign = calloc((size_t)c->signups, sizeof *t_sign);
  int64_t *t_raw = calloc((size_t)c->signups, sizeof *t_raw);
  int64_t *t_seal = calloc((size_t)c->seals, sizeof *t_seal);
  int64_t *t_cold = calloc((size_t)c->signups, sizeof *t_cold);
  if(!t_sign || !t_raw || !t_seal || !t_cold) goto out_free;
  if(bench_store_open(&b, "signup.db", tmpl, BENCH_COST_CHEAP) != SQR_OK) goto out_free;
  raw = raw_open();
  if(!raw) goto out;
  if(sqlite3_prepare_v2(raw,
                        "INSERT INTO raw(blind, sealed, consent_version, consent_ms, tags,"
                        " staff, group_id, created_ms, points) VALUES(?,?,?,?,?,?,?,?,?)",
                        -1, &ins, NULL) != SQLITE_OK)
    goto out;

  /* Interleaved, so both see the same disk weather. */
  int coupons = 0;
  for(int i = 0; i < c->signups; i++) {
    char phone[16];
    member_index idx = {.config_version = store_config(b.st)->version};
    snprintf(phone, sizeof phone, "138%08d", i);
    member_signup_req req = {.phone = phone,
                             .index = &idx,
                             .consented = 1,
                             .age_confirmed = 1,
                             .consent_version = BENCH_CONSENT};
    member_result res;
    /* The blind index is derived while the shopper types (untimed). */
    if(member_index_derive(store_config(b.st), phone, idx.bytes) != SQR_OK) goto out;
    /* Cold: the ECDH is paid inside the call. */
    int64_t t0 = now_ns();
    sqr_rc rc = member_signup(b.st, &req, &res);
    t_cold[i] = now_ns() - t0;
    if(rc || res.returning) {
      fprintf(stderr, "bench: cold sign-up %d: %s (%s)\n", i, sqr_strerror(rc), store_errmsg(b.st));
      goto out;
    }
    /* As the kiosk does it: the ECDH is prepared while the shopper types
     * the number (untimed), the sign-up is then timed from "submit". */
    if(member_prepare_seals(b.st, 1) != SQR_OK) goto out;
    snprintf(phone, sizeof phone, "139%08d", i);
    if(member_index_derive(store_config(b.st), phone, idx.bytes) != SQR_OK) goto out;
    t0 = now_ns();
    rc = member_signup(b.st, &req, &res);
    t_sign[i] = now_ns() - t0;
    if(rc || res.returning) {
      fprintf(stderr, "bench: sign-up %d: %s (%s)\n", i, sqr_strerror(rc), store_errmsg(b.st));
      goto out;
    }
    coupons += res.coupon[0] != '\0';
    t0 = now_ns();
    if(raw_insert(raw, ins, i) != 0) goto out;
    t_raw[i] = now_ns() - t0;
  }
  for(int i = 0; i < c->seals; i++) {
    uint8_t box[SEAL_MAX_BOX];
    size_t len;
    char phone[16];
    snprintf(phone, sizeof phone, "138%08d", i);
    int64_t t0 = now_ns();
    sqr_rc rc = seal_box(b.keys.hq_pub, phone, 11, box, sizeof box, &len);
    t_seal[i] = now_ns() - t0;
    if(rc) {
      fprintf(stderr, "bench: seal_box: %s\n", sqr_strerror(rc));
      goto out;
    }
  }

  bench_stats s = stats_of(t_sign, c->signups), r = stats_of(t_raw, c->signups);
  bench_stats z = stats_of(t_seal, c->seals), k = stats_of(t_cold, c->signups);
  double r50 = s.p50 / r.p50, r99 = s.p99 / r.p99;
  printf("a. durable sign-up vs bare SQLite commit (WAL, synchronous=FULL, %d each)\n", c->signups);
  printf("   %-34s %10s %10s %10s %10s\n", "", "p50 us", "p99 us", "max us", "mean us");
  printf("   %-34s %10.0f %10.0f %10.0f %10.0f\n", "member_signup (seal prepared)", s.p50, s.p99,
         s.max, s.mean);
  printf("   %-34s %10.0f %10.0f %10.0f %10.0f\n", "member_signup (cold, ECDH inside)", k.p50,
         k.p99, k.max, k.mean);
  printf("   %-34s %10.0f %10.0f %10.0f %10.0f\n", "bare INSERT + COMMIT", r.p50, r.p99, r.max,
         r.mean);
  printf("   %-34s %10.0f %10.0f %10.0f %10.0f\n", "seal_box alone (ECDH+HKDF+GCM)", z.p50, z.p99,
         z.max, z.mean);
  double flush = flush_p50_us(c->signups / 4 > 50 ? c->signups / 4 : 50);
  printf("   %-34s %10.0f\n", "disk flush (4 KiB write+fdatasync)", flush);
  printf(
      "   ratio sign-up (seal prepared) / bare: p50 %.2fx, p99 %.2fx; cold: p50 %.2fx, p99 %.2fx\n",
      r50, r99, k.p50 / r.p50, k.p99 / r.p99);
  printf("   (welcome coupons are issued only in campaign hours: %d of the sign-ups issued one)\n",
         coupons);
  char detail[160];
  snprintf(detail, sizeof detail, "p50 %.2fx, p99 %.2fx of the bare commit", r50, r99);
  goal("a. sign-up <= 1.3x bare commit",
       r50 <= BENCH_GOAL_SIGNUP_RATIO && r99 <= BENCH_GOAL_SIGNUP_RATIO, detail);
  printf("\n");
  ok = 0;
out:
  sqlite3_finalize(ins);
  sqlite3_close(raw);
  bench_store_close(&b);
  remove_db("signup.db");
  remove_db("raw.db");
out_free:
  free(t_sign);
  free(t_raw);
  free(t_seal);
  free(t_cold);
  return ok;
}

/* ---- b: lookup among many members -------------------------------------- */

static void lookup_phone(int i, char out[16]) {
  snprintf(out, 16, "139%08d", i);
}

/* Member i's blind index in the lookup store: SHA-256 of i. Argon2id
 * output looks as random, and a million Argon2id derivations would take a
 * day and measure nothing new (e prices one). */
static void lookup_index(int i, uint8_t out[32]) {
  uint8_t be[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
  if(crypto_sha256(be, sizeof be, out) != SQR_OK) memset(out, 0, 32);
}

/* Fills the members table directly, bypassing member_signup (a million
 * ECDH seals would take many minutes and measure nothing new). */
static int bulk_members(int n) {
  sqlite3 *db = NULL;
  sqlite3_stmt *ins = NULL;
  int ok = -1;
  if(sqlite3_open_v2(in_dir("lookup.db"), &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) goto out;
  if(exec_sql(db, "PRAGMA cache_size=-524288; BEGIN IMMEDIATE") != SQLITE_OK) goto out;
  if(sqlite3_prepare_v2(db,
                        "INSERT INTO members(blind, sealed, consent_version, consent_ms,"
                        " created_ms, mid, index_kind) VALUES(?,?,?,?,?,printf('%032x', ?), 1)",
                        -1, &ins, NULL) != SQLITE_OK)
    goto out;
  uint8_t sealed[SEAL_OVERHEAD + 11];
  memset(sealed, 0xa5, sizeof sealed);
  sealed[0] = SEAL_VERSION;
  int64_t ms = (int64_t)time(NULL) * 1000;
  for(int i = 0; i < n; i++) {
    uint8_t blind[SEAL_BLIND_LEN];
    lookup_index(i, blind);
    sqlite3_bind_blob(ins, 1, blind, sizeof blind, SQLITE_TRANSIENT);
    sqlite3_bind_blob(ins, 2, sealed, sizeof sealed, SQLITE_STATIC);
    sqlite3_bind_text(ins, 3, BENCH_CONSENT, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 4, ms);
    sqlite3_bind_int64(ins, 5, ms);
    sqlite3_bind_int(ins, 6, i);
    if(sqlite3_step(ins) != SQLITE_DONE) goto out;
    sqlite3_reset(ins);
  }
  if(exec_sql(db, "COMMIT") != SQLITE_OK) goto out;
  if(exec_sql(db, "PRAGMA wal_checkpoint(TRUNCATE)") != SQLITE_OK) goto out;
  ok = 0;
out:
  if(ok) fprintf(stderr, "bench: bulk insert: %s\n", sqlite3_errmsg(db));
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return ok;
}

static int bench_lookup(const bench_counts *c, const char *tmpl) {
  int ok = -1;
  bench_store b;
  int64_t *t = calloc((size_t)c->lookups, sizeof *t);
  if(!t) return -1;
  if(bench_store_open(&b, "lookup.db", tmpl, BENCH_COST_CHEAP) != SQR_OK) {
    free(t);
    return -1;
  }
  int64_t t0 = now_ns();
  if(bulk_members(c->members) != 0) goto out;
  double fill_s = (double)(now_ns() - t0) / 1e9;

  for(int i = 0; i < c->lookups; i++) {
    char phone[16];
    member_result res;
    int who = (int)(rng_next() % (uint64_t)c->members);
    member_index idx = {.config_version = store_config(b.st)->version};
    lookup_phone(who, phone);
    lookup_index(who, idx.bytes); /* derived while the shopper typed */
    int64_t t1 = now_ns();
    sqr_rc rc = member_lookup(b.st, phone, &idx, &res);
    t[i] = now_ns() - t1;
    if(rc) {
      fprintf(stderr, "bench: member_lookup: %s (%s)\n", sqr_strerror(rc), store_errmsg(b.st));
      goto out;
    }
  }
  bench_stats s = stats_of(t, c->lookups);
  printf("b. check-in lookup by blind index, %d members (filled in %.1f s), %d random lookups\n",
         c->members, fill_s, c->lookups);
  printf("   member_lookup: p50 %.1f us, p99 %.1f us, max %.1f us, mean %.1f us\n", s.p50, s.p99,
         s.max, s.mean);
  printf(
      "   (the blind index derived ahead, as the UI does while the shopper types: e prices it)\n");
  char detail[96];
  snprintf(detail, sizeof detail, "p99 %.1f us", s.p99);
  goal("b. lookup p99 < 200 us among 1M members", s.p99 < BENCH_GOAL_LOOKUP_P99_US, detail);
  if(c->members < FULL_COUNTS.members) printf("   (fewer members than the goal names: --quick)\n");
  printf("\n");
  ok = 0;
out:
  bench_store_close(&b);
  remove_db("lookup.db");
  free(t);
  return ok;
}

/* ---- c: tokens ------------------------------------------------------------ */

#define BENCH_TOKEN_RING 256

static int bench_tokens(const bench_counts *c) {
  uint8_t store_key[32];
  livecode_key k;
  char ring[BENCH_TOKEN_RING][LIVECODE_TOKEN_LEN + 1];
  const uint32_t period = LIVECODE_DEFAULT_PERIOD;
  const int64_t base = (int64_t)time(NULL);
  int ok = -1;
  if(crypto_random(store_key, sizeof store_key) != SQR_OK) return -1;
  if(livecode_key_init(&k, store_key, 1) != SQR_OK) goto out;
  for(int i = 0; i < BENCH_TOKEN_RING; i++)
    if(livecode_mint(&k, BENCH_STORE_ID, 1, base + (int64_t)i * period, period, ring[i]) != SQR_OK)
      goto out;

  unsigned sink = 0;
  char tok[LIVECODE_TOKEN_LEN + 1];
  int64_t t0 = now_ns();
  for(int i = 0; i < c->tokens; i++) {
    if(livecode_mint(&k, BENCH_STORE_ID, 1, base + i, period, tok) != SQR_OK) goto out;
    sink += (unsigned char)tok[20];
  }
  double mint_us = (double)(now_ns() - t0) / 1e3 / c->tokens;

  t0 = now_ns();
  for(int i = 0; i < c->tokens; i++) {
    int j = i % BENCH_TOKEN_RING;
    livecode_claim claim;
    if(livecode_verify(&k, 1, BENCH_STORE_ID, ring[j], base + (int64_t)j * period, period, 1,
                       LIVECODE_LEAD_S, &claim) != SQR_OK)
      goto out;
    sink += claim.window;
  }
  double verify_us = (double)(now_ns() - t0) / 1e3 / c->tokens;

  bench_sink = sink;
  printf("c. live-code tokens (HMAC-SHA256, %d of each)\n", c->tokens);
  printf("   livecode_mint:   %.2f us mean\n", mint_us);
  printf("   livecode_verify: %.2f us mean\n", verify_us);
  char detail[96];
  snprintf(detail, sizeof detail, "mint %.2f us, verify %.2f us", mint_us, verify_us);
  goal("c. token mint and verify < 5 us each",
       mint_us < BENCH_GOAL_TOKEN_US && verify_us < BENCH_GOAL_TOKEN_US, detail);
  printf("\n");
  ok = 0;
out:
  if(ok) fprintf(stderr, "bench: token mint/verify failed\n");
  livecode_key_wipe(&k);
  crypto_wipe(store_key, sizeof store_key);
  return ok;
}

/* ---- d: QR --------------------------------------------------------------- */

static int bench_qr(const bench_counts *c) {
  uint8_t store_key[32];
  livecode_key k;
  char tok[LIVECODE_TOKEN_LEN + 1], url[LIVECODE_URL_MAX];
  int ok = -1;
  if(crypto_random(store_key, sizeof store_key) != SQR_OK) return -1;
  if(livecode_key_init(&k, store_key, 1) != SQR_OK ||
     livecode_mint(&k, BENCH_STORE_ID, 1, (int64_t)time(NULL), LIVECODE_DEFAULT_PERIOD, tok) !=
         SQR_OK ||
     livecode_url(BENCH_HOST, BENCH_STORE_ID, tok, url, sizeof url) != SQR_OK) {
    fprintf(stderr, "bench: cannot build a live-code URL\n");
    goto out;
  }
  int version = 0, width = 0;
  int64_t t0 = now_ns();
  for(int i = 0; i < c->qr; i++) {
    QRcode *q = QRcode_encodeString(url, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if(!q) {
      fprintf(stderr, "bench: QRcode_encodeString: %s\n", strerror(errno));
      goto out;
    }
    version = q->version;
    width = q->width;
    QRcode_free(q);
  }
  double us = (double)(now_ns() - t0) / 1e3 / c->qr;
  /* The URL is printed by shape only: it carries a live token. */
  printf("d. QR of a live-code URL: %zu characters (\"HTTPS://\" + %zu-char host + \"/J/%s/\" + "
         "token)\n",
         strlen(url), strlen(BENCH_HOST), BENCH_STORE_ID);
  printf("   version %d (%dx%d modules) at ECC M, encode %.1f us mean over %d\n", version, width,
         width, us, c->qr);
  char detail[64];
  snprintf(detail, sizeof detail, "version %d", version);
  goal("d. QR version <= 4 at ECC M", version > 0 && version <= BENCH_GOAL_QR_VERSION, detail);
  printf("\n");
  ok = 0;
out:
  livecode_key_wipe(&k);
  crypto_wipe(store_key, sizeof store_key);
  return ok;
}

/* ---- e: the blind index at the default cost ------------------------------ */

/* A thief does not give the memory back between candidates: one buffer,
 * faulted in once, reused (libargon2 still clears it after each use). */
static uint8_t *thief_buf;
static size_t thief_len;

static int thief_alloc(uint8_t **memory, size_t bytes) {
  if(!thief_buf) {
    thief_buf = malloc(bytes);
    if(!thief_buf) return -1;
    memset(thief_buf, 0, bytes);
    thief_len = bytes;
  }
  if(bytes != thief_len) return -1;
  *memory = thief_buf;
  return 0;
}

static void thief_free(uint8_t *memory, size_t bytes) {
  (void)memory;
  (void)bytes;
}

/* member_index_derive's construction (member.h) with thief_alloc: CPU ns,
 * or -1. */
static int64_t thief_candidate_ns(const sqr_config *cfg, const char *phone) {
  uint8_t out[32], pwd[11], secret[32], salt[64];
  int n = snprintf((char *)salt, sizeof salt, "storeqr-index/%s", cfg->store_id);
  memcpy(pwd, phone, sizeof pwd);
  memcpy(secret, cfg->index_key, sizeof secret);
  argon2_context ctx = {.out = out,
                        .outlen = 32,
                        .pwd = pwd,
                        .pwdlen = 11,
                        .salt = salt,
                        .saltlen = (uint32_t)n,
                        .secret = secret,
                        .secretlen = 32,
                        .t_cost = cfg->index_t,
                        .m_cost = cfg->index_m_kib,
                        .lanes = cfg->index_p,
                        .threads = 1,
                        .version = ARGON2_VERSION_13,
                        .allocate_cbk = thief_alloc,
                        .free_cbk = thief_free};
  int64_t c0 = cpu_ns();
  int arc = argon2_ctx(&ctx, Argon2_id);
  int64_t ns = cpu_ns() - c0;
  crypto_wipe(secret, sizeof secret);
  bench_sink += out[0];
  return arc == ARGON2_OK ? ns : -1;
}

/* A /proc/self/status field in KiB, or -1. */
static long proc_status_kib(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  if(!f) return -1;
  char line[256];
  long v = -1;
  size_t n = strlen(field);
  while(fgets(line, sizeof line, f))
    if(strncmp(line, field, n) == 0 && sscanf(line + n, "%ld", &v) == 1) break;
  fclose(f);
  return v;
}

/* Resets the peak RSS (VmHWM) to the current RSS (Linux 4.0+), so the
 * peak after it is this section's, whatever the sections before used. */
static int reset_peak_rss(void) {
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if(!f) return -1;
  int ok = fputs("5", f) >= 0;
  ok &= fclose(f) == 0;
  return ok ? 0 : -1;
}

static int bench_index(const bench_counts *c, const char *tmpl) {
  int ok = -1;
  bench_store b;
  int64_t *t = calloc((size_t)c->index, sizeof *t);
  int64_t *t_cpu = calloc((size_t)c->index, sizeof *t_cpu);
  int64_t *t_sign = calloc((size_t)c->answers, sizeof *t_sign);
  int64_t *t_check = calloc((size_t)c->answers, sizeof *t_check);
  uint8_t out[32];
  if(!t || !t_cpu || !t_sign || !t_check ||
     bench_store_open(&b, "index.db", tmpl, BENCH_COST_DEFAULT)) {
    free(t);
    free(t_cpu);
    free(t_sign);
    free(t_check);
    return -1;
  }
  const sqr_config *cfg = store_config(b.st);

  /* One candidate, as a thief with the disk pays it. */
  long rss0 = proc_status_kib("VmRSS:");
  int peak_ok = reset_peak_rss() == 0 && rss0 >= 0;
  for(int i = 0; i < c->index; i++) {
    char phone[16];
    snprintf(phone, sizeof phone, "137%08d", i);
    int64_t t0 = now_ns(), c0 = cpu_ns();
    sqr_rc rc = member_index_derive(cfg, phone, out);
    t_cpu[i] = cpu_ns() - c0;
    t[i] = now_ns() - t0;
    if(rc) {
      fprintf(stderr, "bench: member_index_derive: %s\n", sqr_strerror(rc));
      goto out;
    }
    bench_sink += out[0];
  }
  long hwm = proc_status_kib("VmHWM:");
  double peak_mib = peak_ok && hwm >= 0 ? (double)(hwm - rss0) / 1024 : -1;

  /* The same candidates as a thief computes them (memory kept). */
  int64_t *t_thief = t; /* the wall times are summarised first, below */
  bench_stats s = stats_of(t, c->index), sc = stats_of(t_cpu, c->index);
  for(int i = 0; i < c->index; i++) {
    char phone[16];
    snprintf(phone, sizeof phone, "137%08d", i);
    if((t_thief[i] = thief_candidate_ns(cfg, phone)) < 0) goto out;
  }
  bench_stats st = stats_of(t_thief, c->index);
  free(thief_buf);
  thief_buf = NULL;

  /* The old index, in the same run on the same core. */
  int64_t t0 = cpu_ns();
  for(int i = 0; i < c->hmac; i++) {
    char phone[16];
    snprintf(phone, sizeof phone, "137%08d", i);
    if(seal_blind_index_hmac(cfg->index_key, phone, out) != SQR_OK) goto out;
    bench_sink += out[0];
  }
  double hmac_us = (double)(cpu_ns() - t0) / 1e3 / c->hmac;

  /* What a shopper waits for when the UI did not derive the index ahead:
   * the seal is prepared (it is, while they type), the index is not. */
  for(int i = 0; i < c->answers; i++) {
    char phone[16];
    member_result res;
    snprintf(phone, sizeof phone, "136%08d", i);
    member_signup_req req = {
        .phone = phone, .consented = 1, .age_confirmed = 1, .consent_version = BENCH_CONSENT};
    if(member_prepare_seals(b.st, 1) != SQR_OK) goto out;
    t0 = now_ns();
    sqr_rc rc = member_signup(b.st, &req, &res);
    t_sign[i] = now_ns() - t0;
    if(rc || res.returning) {
      fprintf(stderr, "bench: sign-up: %s (%s)\n", sqr_strerror(rc), store_errmsg(b.st));
      goto out;
    }
  }
  for(int i = 0; i < c->answers; i++) {
    char phone[16];
    member_result res;
    snprintf(phone, sizeof phone, "136%08d", i);
    t0 = now_ns();
    sqr_rc rc = member_checkin(b.st, phone, NULL, &res);
    t_check[i] = now_ns() - t0;
    if(rc) {
      fprintf(stderr, "bench: check-in: %s (%s)\n", sqr_strerror(rc), store_errmsg(b.st));
      goto out;
    }
  }

  bench_stats su = stats_of(t_sign, c->answers), ci = stats_of(t_check, c->answers);
  /* What a candidate costs: the cheaper of the two ways. */
  double cand_ms = (st.p50 < sc.p50 ? st.p50 : sc.p50) / 1e3;
  double years = cand_ms / 1e3 * BENCH_CANDIDATES / BENCH_SECONDS_PER_YEAR;
  double hmac_hours = hmac_us / 1e6 * BENCH_CANDIDATES / 3600;
  printf("e. blind index: Argon2id m=%u KiB t=%u p=%u (the default cost), %d derivations\n",
         cfg->index_m_kib, cfg->index_t, cfg->index_p, c->index);
  printf("   one candidate, member_index_derive: CPU p50 %.1f ms (max %.1f); wall p50 %.1f ms"
         " (max %.1f)\n",
         sc.p50 / 1e3, sc.max / 1e3, s.p50 / 1e3, s.max / 1e3);
  printf("   one candidate, memory kept between candidates (a thief's loop): CPU p50 %.1f ms"
         " (max %.1f)\n",
         st.p50 / 1e3, st.max / 1e3);
  printf("   peak memory of a derivation: ");
  if(peak_mib >= 0)
    printf("+%.1f MiB RSS\n", peak_mib);
  else
    printf("unknown (no /proc/self/clear_refs)\n");
  printf("   10^10 candidates (every mainland number) on one core at %.1f ms: %.1f CPU-years\n"
         "   (libargon2 as Debian builds it; an implementation with SIMD may be a few times"
         " faster)\n",
         cand_ms, years);
  printf("   old HMAC-SHA256 index, same run: %.2f us CPU a candidate; 10^10 in %.1f CPU-hours"
         " (%.0fx cheaper)\n",
         hmac_us, hmac_hours, cand_ms * 1e3 / hmac_us);
  printf("   member_signup, index derived inside (seal prepared): wall p50 %.1f ms, max %.1f ms"
         " (%d)\n",
         su.p50 / 1e3, su.max / 1e3, c->answers);
  printf("   member_checkin, index derived inside:                wall p50 %.1f ms, max %.1f ms"
         " (%d)\n",
         ci.p50 / 1e3, ci.max / 1e3, c->answers);
  char detail[128];
  snprintf(detail, sizeof detail, "%.1f ms CPU a candidate, %.1f CPU-years", cand_ms, years);
  goal("e. index >= 50 ms, >= 15 CPU-years for 10^10",
       cand_ms >= BENCH_GOAL_INDEX_MS && years >= BENCH_GOAL_CPU_YEARS, detail);
  snprintf(detail, sizeof detail, "sign-up p50 %.1f ms, check-in p50 %.1f ms", su.p50 / 1e3,
           ci.p50 / 1e3);
  goal("e. sign-up and check-in answer < 300 ms",
       su.p50 / 1e3 < BENCH_GOAL_ANSWER_MS && ci.p50 / 1e3 < BENCH_GOAL_ANSWER_MS, detail);
  printf("\n");
  ok = 0;
out:
  crypto_wipe(out, sizeof out);
  bench_store_close(&b);
  remove_db("index.db");
  free(t);
  free(t_cpu);
  free(t_sign);
  free(t_check);
  return ok;
}

/* ---- main ----------------------------------------------------------------- */

static void usage(FILE *f) {
  fprintf(f, "usage: bench-core [--quick] [--only PARTS] [--dir DIR] [--template demo.json]\n"
             "  --quick     small counts: a smoke run, not figures to quote\n"
             "  --only      the parts to run, letters of abcde (default all)\n"
             "  --dir DIR   put the temporary databases in a new directory under DIR\n"
             "              (default /tmp); the disk under it decides part a\n"
             "  --template  the demo config template (default assets/config/demo.json)\n");
}

int main(int argc, char **argv) {
  int quick = 0;
  const char *parent = "/tmp", *tmpl_path = NULL, *only = "abcde";
  for(int i = 1; i < argc; i++) {
    if(!strcmp(argv[i], "--quick")) {
      quick = 1;
    } else if(!strcmp(argv[i], "--only") && i + 1 < argc) {
      only = argv[++i];
      if(!only[0] || strspn(only, "abcde") != strlen(only)) {
        usage(stderr);
        return 2;
      }
    } else if(!strcmp(argv[i], "--dir") && i + 1 < argc) {
      parent = argv[++i];
    } else if(!strcmp(argv[i], "--template") && i + 1 < argc) {
      tmpl_path = argv[++i];
    } else if(!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  const bench_counts *c = quick ? &QUICK_COUNTS : &FULL_COUNTS;
  log_set_level(LOG_ERROR); /* store notes would interleave with the table */

  char *tmpl = load_template(tmpl_path);
  if(!tmpl) return 2;
  char templ_dir[PATH_MAX];
  snprintf(templ_dir, sizeof templ_dir, "%s/bench-core-XXXXXX", parent);
  if(!mkdtemp(templ_dir)) {
    fprintf(stderr, "bench: cannot create a directory under %s: %s\n", parent, strerror(errno));
    free(tmpl);
    return 2;
  }
  if(!realpath(templ_dir, work_dir)) snprintf(work_dir, sizeof work_dir, "%s", templ_dir);

  print_header(c, quick);
  int failed = 0;
  fflush(stdout);
  if(strchr(only, 'a')) failed |= bench_signup(c, tmpl) != 0;
  fflush(stdout);
  if(strchr(only, 'b')) failed |= bench_lookup(c, tmpl) != 0;
  fflush(stdout);
  if(strchr(only, 'c')) failed |= bench_tokens(c) != 0;
  if(strchr(only, 'd')) failed |= bench_qr(c) != 0;
  fflush(stdout);
  if(strchr(only, 'e')) failed |= bench_index(c, tmpl) != 0;

  printf("summary: %d of %d goals met%s\n", goals_met, goals_total,
         failed ? "; SOME MEASUREMENTS FAILED (see stderr)" : "");
  if(rmdir(work_dir) != 0)
    fprintf(stderr, "bench: cannot remove %s: %s\n", work_dir, strerror(errno));
  free(tmpl);
  return failed ? 1 : 0;
}
