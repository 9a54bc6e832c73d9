/* bench_ingest.c — storeqr-hq-bench, the two halves of bench-sync's
 * "HQ ingest vs raw SQLite insert" figure (tools/bench/bench-sync):
 *
 *   storeqr-hq-bench gen HQDIR STORE KIOSK EVENTS MIX OUTDIR
 *     writes EVENTS events of kiosk STORE/KIOSK (seq 1..) as /v1/events
 *     bodies of 500 (OUTDIR/batch-NNNNN.json), chained and hashed like a
 *     kiosk's log, sign-up phones sealed to HQDIR/seal.pub. MIX "store":
 *     70% check-ins, 15% sign-ups, 10% coupons, 5% impressions (a day at
 *     a store, mostly returning shoppers); "checkin": check-ins only.
 *     Feed them with `storeqr-hq ingest-file`.
 *   storeqr-hq-bench raw SRC_DB DST_DB
 *     reads every row of SRC_DB's events (HQ's database after ingest),
 *     then times inserting them into a new DST_DB with the same table
 *     definition and HQ's pragmas (WAL, synchronous=FULL), 500 rows per
 *     BEGIN IMMEDIATE transaction, one prepared statement. Prints
 *     "ROWS SECONDS".
 *
 * A benchmark tool: never used by the server, never sees a real phone.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain.h"
#include "crypto.h"
#include "proto.h"
#include "seal.h"

#define PER_BATCH 500

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what) {
  fprintf(stderr, "storeqr-hq-bench: %s\n", what);
  return 1;
}

static int write_batch(proto_batch *b, const char *out, int n) {
  char *json = NULL, path[1024];
  size_t len = 0;
  if(proto_batch_encode(b, &json, &len)) return fail("cannot encode a batch");
  snprintf(path, sizeof path, "%s/batch-%05d.json", out, n);
  FILE *f = fopen(path, "wb");
  int ok = f && fwrite(json, 1, len, f) == len;
  if(f && fclose(f)) ok = 0;
  free(json);
  return ok ? 0 : fail("cannot write a batch file");
}

static int gen(const char *hqdir, const char *sid, int kiosk, long events, const char *mix,
               const char *out) {
  char path[1024], b64[256];
  snprintf(path, sizeof path, "%s/seal.pub", hqdir);
  FILE *f = fopen(path, "r");
  if(!f || !fgets(b64, sizeof b64, f)) return fail("cannot read HQDIR/seal.pub");
  fclose(f);
  b64[strcspn(b64, "\r\n")] = '\0';
  uint8_t pub[SEAL_PUB_LEN];
  if(seal_pub_from_b64(b64, pub)) return fail("seal.pub is not a P-256 key");
  int store_mix = strcmp(mix, "store") == 0;
  proto_batch b;
  if(proto_batch_init(&b, sid, kiosk, 1)) return fail("bad store or kiosk");
  uint8_t prev[32] = {0};
  int64_t ts = 1795500000000;
  long members = 0, files = 0;
  long *last_day = calloc((size_t)events + 1, sizeof *last_day); /* by member */
  if(!last_day) return fail("out of memory");
  uint32_t rnd = 12345;
  for(long seq = 1; seq <= events; seq++) {
    char payload[600], hex[65], phone[32];
    uint8_t blind[32];
    rnd = rnd * 1103515245u + 12345u;
    int pick = store_mix ? (int)((rnd >> 16) % 100) : 0;
    const char *type;
    /* A day is 2,000 events; a member checks in once a day at most (the
     * kiosk refuses a second): a returning shopper already seen today is
     * someone else (a few tries), or else an impressions event, so the
     * mix keeps its 15% sign-ups. */
    long today = 20780 + seq / 2000;
    long m = !store_mix ? seq % 5000 : members > 0 ? (long)((rnd >> 8) % (uint32_t)members) : 0;
    for(int t = 0; store_mix && pick < 70 && members > 0 && last_day[m] == today && t < 8; t++) {
      rnd = rnd * 1103515245u + 12345u;
      m = (long)((rnd >> 8) % (uint32_t)members);
    }
    if(store_mix && pick < 70 && members > 0 && last_day[m] == today) pick = 95;
    if(!store_mix || (pick < 70 && members > 0)) {
      /* A returning shopper: one of the members signed up so far. */
      if(store_mix) last_day[m] = today;
      snprintf(phone, sizeof phone, "138%08ld", m % 100000000);
      if(crypto_sha256(phone, 11, blind)) return fail("sha256");
      crypto_hex(blind, 16, hex); /* a stable member id: 32 hex digits */
      type = "checkin";
      snprintf(payload, sizeof payload,
               "{\"member\":\"%s\",\"day\":%ld,\"points\":10,\"streak\":%ld}", hex, today,
               1 + seq % 7);
    } else if(pick < 85 || members == 0) {
      snprintf(phone, sizeof phone, "138%08ld", members++ % 100000000);
      uint8_t box[SEAL_MAX_BOX];
      size_t boxlen = 0;
      char sealed[256], blind64[64];
      if(crypto_sha256(phone, 11, blind) || seal_box(pub, phone, 11, box, sizeof box, &boxlen) ||
         crypto_b64(box, boxlen, sealed, sizeof sealed) ||
         crypto_b64(blind, sizeof blind, blind64, sizeof blind64))
        return fail("cannot seal a phone");
      crypto_hex(blind, 16, hex);
      type = "signup";
      /* as member.c writes it: with the blind index the store's feed shares */
      snprintf(payload, sizeof payload,
               "{\"member\":\"%s\",\"sealed\":\"%s\",\"blind\":\"%s\",\"index_kind\":1,"
               "\"consent_version\":\"2026-11\",\"tags\":[],\"staff\":null,"
               "\"group\":\"bench-1\",\"points\":50}",
               hex, sealed, blind64);
    } else if(pick < 95) {
      snprintf(phone, sizeof phone, "138%08ld", (members - 1) % 100000000);
      if(crypto_sha256(phone, 11, blind)) return fail("sha256");
      crypto_hex(blind, 16, hex);
      type = "coupon_issued";
      snprintf(payload, sizeof payload,
               "{\"campaign\":\"welcome\",\"campaign_no\":1,\"serial\":%ld,\"member\":\"%s\"}", seq,
               hex);
    } else {
      type = "impressions";
      snprintf(payload, sizeof payload, "{\"hour\":%ld,\"shown\":%ld,\"group\":\"bench-1\"}",
               9 + seq % 12, 120 + seq % 50);
    }
    store_event ev = {.seq = seq, .ts_ms = ts += 1000, .payload = payload};
    snprintf(ev.type, sizeof ev.type, "%s", type);
    if(crypto_sha256(payload, strlen(payload), ev.body_hash) ||
       chain_hash(prev, seq, type, ev.ts_ms, ev.body_hash, ev.hash))
      return fail("cannot hash an event");
    memcpy(prev, ev.hash, 32);
    if(proto_batch_add(&b, &ev)) return fail("cannot add an event to a batch");
    if(b.count == PER_BATCH || seq == events) {
      if(write_batch(&b, out, (int)++files)) return 1;
      proto_batch_clear(&b);
      if(proto_batch_init(&b, sid, kiosk, 1)) return fail("bad store or kiosk");
    }
  }
  proto_batch_clear(&b);
  free(last_day);
  printf("%ld events, %ld sign-ups, %ld files\n", events, members, files);
  return 0;
}

static int raw(const char *src_path, const char *dst_path) {
  sqlite3 *src = NULL, *dst = NULL;
  sqlite3_stmt *s = NULL, *ins = NULL;
  int rc = 1;
  typedef struct row {
    char *kiosk, *store, *type, *payload;
    int64_t seq, ts_ms, redacted, received_ms;
    uint8_t body_hash[32], hash[32];
  } row;
  row *rows = NULL;
  size_t n = 0, cap = 0;
  char *schema = NULL;
  if(sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY, NULL) ||
     sqlite3_prepare_v2(src, "SELECT sql FROM sqlite_master WHERE name = 'events'", -1, &s, NULL) ||
     sqlite3_step(s) != SQLITE_ROW) {
    fail("cannot read the events table of SRC_DB");
    goto out;
  }
  schema = strdup((const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  s = NULL;
  if(sqlite3_prepare_v2(src,
                        "SELECT kiosk, seq, store, type, ts_ms, payload, body_hash, hash,"
                        " redacted, received_ms FROM events ORDER BY kiosk, seq",
                        -1, &s, NULL)) {
    fail("cannot read SRC_DB");
    goto out;
  }
  while(sqlite3_step(s) == SQLITE_ROW) {
    if(n == cap) {
      cap = cap ? cap * 2 : 1024;
      row *r = realloc(rows, cap * sizeof *r);
      if(!r) goto out;
      rows = r;
    }
    row *r = &rows[n++];
    r->kiosk = strdup((const char *)sqlite3_column_text(s, 0));
    r->seq = sqlite3_column_int64(s, 1);
    r->store = strdup((const char *)sqlite3_column_text(s, 2));
    r->type = strdup((const char *)sqlite3_column_text(s, 3));
    r->ts_ms = sqlite3_column_int64(s, 4);
    r->payload = strdup((const char *)sqlite3_column_text(s, 5));
    memcpy(r->body_hash, sqlite3_column_blob(s, 6), 32);
    memcpy(r->hash, sqlite3_column_blob(s, 7), 32);
    r->redacted = sqlite3_column_int64(s, 8);
    r->received_ms = sqlite3_column_int64(s, 9);
  }
  remove(dst_path);
  if(sqlite3_open(dst_path, &dst) ||
     sqlite3_exec(dst, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) ||
     sqlite3_exec(dst, "PRAGMA synchronous=FULL", NULL, NULL, NULL) ||
     sqlite3_exec(dst, schema, NULL, NULL, NULL) ||
     sqlite3_prepare_v2(dst,
                        "INSERT INTO events(kiosk, seq, store, type, ts_ms, payload,"
                        " body_hash, hash, redacted, received_ms)"
                        " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        -1, &ins, NULL)) {
    fail(dst ? sqlite3_errmsg(dst) : "cannot open DST_DB");
    goto out;
  }
  double t0 = now_s();
  for(size_t i = 0; i < n; i++) {
    if(i % PER_BATCH == 0 && sqlite3_exec(dst, "BEGIN IMMEDIATE", NULL, NULL, NULL)) goto dberr;
    row *r = &rows[i];
    sqlite3_bind_text(ins, 1, r->kiosk, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 2, r->seq);
    sqlite3_bind_text(ins, 3, r->store, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 4, r->type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 5, r->ts_ms);
    sqlite3_bind_text(ins, 6, r->payload, -1, SQLITE_STATIC);
    sqlite3_bind_blob(ins, 7, r->body_hash, 32, SQLITE_STATIC);
    sqlite3_bind_blob(ins, 8, r->hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 9, r->redacted);
    sqlite3_bind_int64(ins, 10, r->received_ms);
    if(sqlite3_step(ins) != SQLITE_DONE) goto dberr;
    sqlite3_reset(ins);
    if((i % PER_BATCH == PER_BATCH - 1 || i == n - 1) &&
       sqlite3_exec(dst, "COMMIT", NULL, NULL, NULL))
      goto dberr;
  }
  printf("%zu %.6f\n", n, now_s() - t0);
  rc = 0;
  goto out;
dberr:
  fail(sqlite3_errmsg(dst));
out:
  sqlite3_finalize(s);
  sqlite3_finalize(ins);
  sqlite3_close(src);
  sqlite3_close(dst);
  for(size_t i = 0; i < n; i++) {
    free(rows[i].kiosk);
    free(rows[i].store);
    free(rows[i].type);
    free(rows[i].payload);
  }
  free(rows);
  free(schema);
  return rc;
}

int main(int argc, char **argv) {
  if(argc == 8 && strcmp(argv[1], "gen") == 0)
    return gen(argv[2], argv[3], atoi(argv[4]), atol(argv[5]), argv[6], argv[7]);
  if(argc == 4 && strcmp(argv[1], "raw") == 0) return raw(argv[2], argv[3]);
  fputs("usage: storeqr-hq-bench gen HQDIR STORE KIOSK EVENTS store|checkin OUTDIR\n"
        "       storeqr-hq-bench raw SRC_DB DST_DB\n",
        stderr);
  return 2;
}
