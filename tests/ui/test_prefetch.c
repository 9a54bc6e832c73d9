/* test_prefetch.c — the kiosk's blind index derived ahead (app/ui/prefetch.c),
 * driven directly, without SDL:
 *   - the bytes a worker derives are member_index_derive's for the number;
 *   - a result is given only for exactly the digits it was derived from
 *     (the last digit changed: none), and only while the configuration it
 *     was derived under is applied (a newer one, with other keys, applied
 *     and reloaded while the worker may still run: none; the worker reads
 *     only its own copy, never the configuration the reload frees);
 *   - discarded, nothing of the number is left in the process: every
 *     writable mapping is searched for the digits (the search finds the
 *     job's copy before the discard, so it can see the heap).
 * The numbers are random and kept XOR-masked here; the plain digits exist
 * only in a buffer handed to a call and wiped after it, so the search
 * does not find the test's own copy.
 *   test_prefetch */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "member.h"
#include "phone.h"
#include "prefetch.h"
#include "store.h"
#include "uitest.h"

#define MASK 0xA5

static char db[1200];

/* A random mainland mobile number, masked. */
static void random_phone(uint8_t masked[PHONE_LEN]) {
  uint8_t r[PHONE_LEN];
  UT_CHECK(getrandom(r, sizeof r, 0) == (ssize_t)sizeof r, "getrandom");
  masked[0] = (uint8_t)('1' ^ MASK);
  masked[1] = (uint8_t)(('3' + r[1] % 7) ^ MASK);
  for(int i = 2; i < PHONE_LEN; i++)
    masked[i] = (uint8_t)(('0' + r[i] % 10) ^ MASK);
  crypto_wipe(r, sizeof r);
}

static void unmask(const uint8_t masked[PHONE_LEN], char plain[PHONE_LEN + 1]) {
  for(int i = 0; i < PHONE_LEN; i++)
    plain[i] = (char)(masked[i] ^ MASK);
  plain[PHONE_LEN] = '\0';
}

/* The calls with the plain digits, wiped after each. */
static void follow(ui_prefetch *p, store *st, const uint8_t masked[PHONE_LEN]) {
  char plain[PHONE_LEN + 1];
  unmask(masked, plain);
  ui_prefetch_follow(p, st, plain);
  crypto_wipe(plain, sizeof plain);
}

static const member_index *get(ui_prefetch *p, store *st, const uint8_t masked[PHONE_LEN],
                               member_index *out) {
  char plain[PHONE_LEN + 1];
  unmask(masked, plain);
  const member_index *r = ui_prefetch_index(p, st, plain, out);
  crypto_wipe(plain, sizeof plain);
  return r;
}

static void expected(store *st, const uint8_t masked[PHONE_LEN], uint8_t out[32]) {
  char plain[PHONE_LEN + 1];
  unmask(masked, plain);
  sqr_rc rc = member_index_derive(store_config(st), plain, out);
  crypto_wipe(plain, sizeof plain);
  UT_CHECK(rc == SQR_OK, "member_index_derive: %s", sqr_strerror(rc));
}

/* The search reads freed memory on purpose: not for a sanitizer to stop. */
#define NOT_SANITIZED __attribute__((no_sanitize("address", "thread")))
/* Copies of the masked number in the process's writable memory, as ASCII
 * digits, compared byte by byte against the mask (never unmasked whole). */
NOT_SANITIZED static int copies(const uint8_t masked[PHONE_LEN]) {
  FILE *f = fopen("/proc/self/maps", "r");
  UT_CHECK(f, "/proc/self/maps");
  char line[512];
  int n = 0;
  while(fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    char perms[8] = "";
    if(sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' || perms[1] != 'w')
      continue;
    /* Nothing of ours is that big: a sanitizer's shadow memory is. */
    if(strstr(line, "[vvar]") || strstr(line, "[vsyscall]") || hi - lo > (1ul << 30)) continue;
    const volatile uint8_t *m = (const volatile uint8_t *)lo;
    size_t len = hi - lo;
    for(size_t i = 0; i + PHONE_LEN <= len; i++) {
      int k = 0;
      while(k < PHONE_LEN && (uint8_t)(m[i + (size_t)k] ^ MASK) == masked[k])
        k++;
      if(k == PHONE_LEN) n++;
    }
  }
  fclose(f);
  return n;
}

static store *open_store(int64_t t, sqr_clock **c) {
  store *st;
  char err[256];
  UT_CHECK(clock_new_fixed(t * 1000, c) == SQR_OK, "clock");
  UT_CHECK(store_open(db, *c, &st, err, sizeof err) == SQR_OK, "%s", err);
  return st;
}

int main(void) {
  ut_setup("prefetch");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = ut_now_aligned();
  /* The real cost: the worker still runs when the configuration changes. */
  ut_store_opts real = {.index_m_kib = CONFIG_INDEX_M_KIB_DEFAULT,
                        .index_t = CONFIG_INDEX_T_DEFAULT};
  ut_make_store(db, t, &real);
  sqr_clock *c;
  store *st = open_store(t, &c);
  ui_prefetch *p;
  UT_CHECK(ui_prefetch_new(1, &p) == SQR_OK, "ui_prefetch_new");
  uint8_t a[PHONE_LEN], b[PHONE_LEN], want[32];
  member_index idx;
  ui_prefetch_stats ps;
  random_phone(a);

  /* 1. Derived ahead: the same bytes the call would derive. */
  follow(p, st, a);
  UT_CHECK(ui_prefetch_holds(p), "no worker for a complete number");
  const member_index *got = get(p, st, a, &idx);
  UT_CHECK(got == &idx, "no index for the number typed");
  UT_CHECK(idx.config_version == store_config(st)->version, "config version %lld",
           (long long)idx.config_version);
  /* The search can see: the job's own copy of the digits is there. */
  int before = copies(a);
  UT_CHECK(before >= 1, "the search found no copy while the job holds one");
  ui_prefetch_discard(p);
  UT_CHECK(!ui_prefetch_holds(p), "something held after the discard");
  int after = copies(a);
  UT_CHECK(after == 0, "%d copies of the number left after the discard (%d before)", after, before);
  expected(st, a, want);
  UT_CHECK(memcmp(idx.bytes, want, 32) == 0, "the worker's index differs from the call's");
  crypto_wipe(&idx, sizeof idx);

  /* 2. The last digit changed after the worker ran: the old number has no
   * index any more, the new one has its own. */
  follow(p, st, a);
  UT_CHECK(get(p, st, a, &idx), "no index for the number typed");
  memcpy(b, a, sizeof b);
  b[PHONE_LEN - 1] = (uint8_t)((((b[PHONE_LEN - 1] ^ MASK) - '0' + 1) % 10 + '0') ^ MASK);
  char partial[PHONE_LEN + 1];
  unmask(a, partial);
  partial[PHONE_LEN - 1] = '\0'; /* the digit deleted */
  ui_prefetch_follow(p, st, partial);
  crypto_wipe(partial, sizeof partial);
  follow(p, st, b);
  UT_CHECK(!get(p, st, a, &idx), "the old number's index given after its last digit changed");
  UT_CHECK(get(p, st, b, &idx) == &idx, "no index for the new number");
  expected(st, b, want);
  UT_CHECK(memcmp(idx.bytes, want, 32) == 0, "the new number's index is not its own");

  /* 3. A new configuration (other keys) applied and reloaded while a
   * worker may still run (it started just before, at the real cost): its
   * result is not given. */
  ui_prefetch_discard(p);
  follow(p, st, a);
  ut_store_opts next = real;
  next.version = 2;
  ut_make_store(db, t, &next); /* another connection, as the sync client */
  UT_CHECK(store_reload_config(st) == SQR_OK, "reload");
  UT_CHECK(store_config(st)->version == 2, "version %lld", (long long)store_config(st)->version);
  UT_CHECK(!get(p, st, a, &idx), "an index of the old configuration given");
  /* Typed again under the new one: given, and it is the new keys' index. */
  ui_prefetch_discard(p);
  follow(p, st, a);
  UT_CHECK(get(p, st, a, &idx) == &idx && idx.config_version == 2, "no index under version 2");
  expected(st, a, want);
  UT_CHECK(memcmp(idx.bytes, want, 32) == 0, "the index is not the new configuration's");
  crypto_wipe(&idx, sizeof idx);
  crypto_wipe(want, sizeof want);

  /* 4. Off: nothing started, every call derives. */
  ui_prefetch_stats_get(p, &ps);
  UT_CHECK(ps.ahead == 4 && ps.in_call == 2, "ahead %lld, in the call %lld", (long long)ps.ahead,
           (long long)ps.in_call);
  ui_prefetch_free(p);
  UT_CHECK(ui_prefetch_new(0, &p) == SQR_OK, "ui_prefetch_new");
  follow(p, st, a);
  UT_CHECK(!ui_prefetch_holds(p) && !get(p, st, a, &idx), "a worker while off");
  ui_prefetch_free(p);
  UT_CHECK(copies(a) == 0 && copies(b) == 0, "a copy of a number left after the free");
  store_close(st);
  clock_free(c);
  puts("prefetch: ok (the worker's bytes are the call's; other digits, a newer configuration "
       "and a discard leave nothing to use or find)");
  return 0;
}
