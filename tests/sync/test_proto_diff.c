/* test_proto_diff.c — the one-pass batch parser (sync/proto/batch.c)
 * against the cJSON decoder, on many bodies: the fuzz corpus, generated
 * batches (valid ones with correct body hashes, and every field written in
 * the ways JSON allows or almost allows), and random mutations of both.
 * Wherever the parser answers, the answer must be the cJSON decoder's:
 * the same accept or refusal (status, code, message, seq) and the same
 * decoded fields. proto_batch_decode must always equal the cJSON decoder.
 * The counts at the end show the parser answered for most of them.
 *
 * SQR_DIFF_SEED=N runs another random sequence; SQR_DIFF_ROUNDS=N more. */
#include "testutil.h"
#include "batch_diff.h"
#include "chain.h"
#include "crypto.h"
#include "proto.h"
#include "proto_int.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small deterministic random source -------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 16);
}

static uint32_t below(uint32_t n) {
  return rnd() % n;
}

static int chance(uint32_t percent) {
  return below(100) < percent;
}

static const char *pick(const char *const *list, size_t n) {
  return list[below((uint32_t)n)];
}
#define PICK(a) pick(a, SQR_ARRAY_LEN(a))

/* ---- a growing buffer ---------------------------------------------------- */

typedef struct buf {
  char *p;
  size_t n, cap;
} buf;

static void put(buf *b, const char *s, size_t n) {
  if(b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->p = realloc(b->p, b->cap);
    assert_non_null(b->p);
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void puts_(buf *b, const char *s) {
  put(b, s, strlen(s));
}

SQR_PRINTF(2, 3)
static void putf(buf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  put(b, tmp, (size_t)n);
}

/* Whitespace between tokens: usually none; sometimes what people write,
 * sometimes the other bytes <= 0x20 cJSON also skips. */
static int ws_level; /* 0: never, 1: sometimes */

static void ws(buf *b) {
  static const char *const common[] = {" ", "  ", "\n", "\t", "\r\n"};
  static const char *const rare[] = {" \x01", "\x0b", "\x1f ", "\x7f"};
  if(!ws_level || !chance(15)) return;
  puts_(b, chance(95) ? PICK(common) : PICK(rare));
}

/* ---- JSON pieces ---------------------------------------------------------- */

static void gen_string(buf *b, int odd) {
  static const char *const plain[] = {
      "a", "member", "2026-11", "x y", "\xc3\xa9", "\xe4\xb8\x8a", "bench-1", "", "AQ==", "0"};
  static const char *const esc[] = {"\\\"",
                                    "\\\\",
                                    "\\n",
                                    "\\t",
                                    "\\b",
                                    "\\f",
                                    "\\r",
                                    "\\/",
                                    "\\u00e9",
                                    "\\u0041",
                                    "\\u0000",
                                    "\\u001f",
                                    "\\ud83d\\ude00",
                                    "\\uD83D\\uDE00",
                                    "\\u20AC"};
  static const char *const bad[] = {"\\x",   "\\ud800", "\\udc00", "\\ud800\\u0041",
                                    "\\u12", "\\uzzzz", "\\'",     "\\ud83d\\",
                                    "\x01",  "\t",      "\x7f",    "\xff"};
  puts_(b, "\"");
  int parts = (int)below(4);
  for(int i = 0; i < parts; i++) {
    if(odd && chance(10))
      puts_(b, PICK(bad));
    else if(odd && chance(25))
      puts_(b, PICK(esc));
    else
      puts_(b, PICK(plain));
  }
  puts_(b, "\"");
}

static void gen_number(buf *b, int odd) {
  static const char *const canon[] = {"0",
                                      "1",
                                      "-1",
                                      "10",
                                      "20780",
                                      "120",
                                      "-12",
                                      "999999999999999",
                                      "-999999999999999",
                                      "1795500000123"};
  static const char *const other[] = {"-0",
                                      "01",
                                      "1.5",
                                      "1.0",
                                      "1e2",
                                      "1E+2",
                                      "1e-2",
                                      "0.1",
                                      "1234567890123456",
                                      "12345678901234567890",
                                      "1e999",
                                      "-1e999",
                                      "9007199254740993",
                                      "2.5e-3",
                                      "00",
                                      "-01",
                                      "1.",
                                      "-.5",
                                      ".5",
                                      "1e",
                                      "+1",
                                      "--1",
                                      "1.2.3",
                                      "0x10",
                                      "1e5e5",
                                      "-",
                                      "1-2"};
  if(odd && chance(40))
    puts_(b, PICK(other));
  else
    puts_(b, PICK(canon));
}

static void gen_value(buf *b, int depth, int odd);

static void gen_object(buf *b, int depth, int odd) {
  puts_(b, "{");
  ws(b);
  int n = (int)below(depth > 2 ? 2 : 5);
  for(int i = 0; i < n; i++) {
    if(i) {
      puts_(b, ",");
      ws(b);
    }
    gen_string(b, odd);
    ws(b);
    puts_(b, ":");
    ws(b);
    gen_value(b, depth + 1, odd);
    ws(b);
  }
  puts_(b, "}");
}

static void gen_value(buf *b, int depth, int odd) {
  uint32_t k = below(depth > 3 ? 4 : 7);
  switch(k) {
  case 0:
    gen_string(b, odd);
    break;
  case 1:
    gen_number(b, odd);
    break;
  case 2:
    puts_(b, below(3) == 0 ? "true" : below(2) ? "false" : "null");
    break;
  case 3:
    gen_string(b, odd);
    break;
  case 4:
  case 5:
    gen_object(b, depth, odd);
    break;
  default: {
    puts_(b, "[");
    ws(b);
    int n = (int)below(4);
    for(int i = 0; i < n; i++) {
      if(i) {
        puts_(b, ",");
        ws(b);
      }
      gen_value(b, depth + 1, odd);
      ws(b);
    }
    puts_(b, "]");
  }
  }
}

/* ---- batches ---------------------------------------------------------------- */

static const char *const known[] = {"config_applied", "signup",           "consent_renewed",
                                    "coupon_issued",  "checkin",          "erase",
                                    "group_switched", "groups_exhausted", "group_marked_full",
                                    "clock_jump",     "impressions",      "sync_note"};

/* A key as written: usually plain, sometimes with an escape cJSON undoes. */
static void key(buf *b, const char *name, int odd) {
  if(odd && chance(3) && strlen(name) > 1) {
    putf(b, "\"%c\\u%04x%s\"", name[0], (unsigned)name[1], name + 2);
  } else {
    putf(b, "\"%s\"", name);
  }
  ws(b);
  puts_(b, ":");
  ws(b);
}

static void hex_value(buf *b, const uint8_t h[32], int odd) {
  char hx[65];
  crypto_hex(h, 32, hx);
  uint32_t k = odd ? below(100) : 0;
  if(k < 90) {
    putf(b, "\"%s\"", hx);
  } else if(k < 93) {
    for(char *c = hx; *c; c++)
      if(*c >= 'a' && *c <= 'f') *c = (char)(*c - 'a' + 'A');
    putf(b, "\"%s\"", hx);
  } else if(k < 95) {
    putf(b, "\"%.63s\"", hx);
  } else if(k < 96) {
    putf(b, "\"%sa\"", hx);
  } else if(k < 97) {
    putf(b, "\"%.62szz\"", hx);
  } else if(k < 98) {
    putf(b, "\"%s\\u0000x\"", hx);
  } else if(k < 99) {
    putf(b, "\"\\u00%.2s%s\"", "41", hx + 1);
  } else {
    puts_(b, "1");
  }
}

static void int_value(buf *b, int64_t v, int odd) {
  static const char *const before[] = {"", "", "", "\"", "0", "-", "", "[", ""};
  static const char *const after[] = {".0", ".5", "e0", "\"", "", "", "000000000000000000",
                                      "]",  ""};
  if(odd && chance(8)) {
    uint32_t k = below(SQR_ARRAY_LEN(before) + 3);
    if(k < SQR_ARRAY_LEN(before))
      putf(b, "%s%lld%s", before[k], (long long)v, after[k]);
    else
      puts_(b, k == SQR_ARRAY_LEN(before)       ? "true"
               : k == SQR_ARRAY_LEN(before) + 1 ? "null"
                                                : "{}");
  } else {
    putf(b, "%lld", (long long)v);
  }
}

/* One event; *seq is the seq it should have, advanced. */
static void gen_event(buf *b, int64_t *seq, int odd) {
  buf payload = {0};
  if(odd && chance(3)) {
    gen_value(&payload, 3, odd);
  } else {
    int saved = ws_level;
    ws_level = odd && chance(20);
    gen_object(&payload, 3, odd && chance(50));
    ws_level = saved;
  }
  /* body_hash: SHA-256 of cJSON's compact print, as the kiosk computes it. */
  uint8_t bh[32], h[32];
  cJSON *t = cJSON_ParseWithLength(payload.p, payload.n);
  char *compact = t ? cJSON_PrintUnformatted(t) : NULL;
  cJSON_Delete(t);
  if(compact && !(odd && chance(5))) {
    assert_int_equal(crypto_sha256(compact, strlen(compact), bh), SQR_OK);
  } else {
    for(int i = 0; i < 32; i++)
      bh[i] = (uint8_t)rnd();
  }
  free(compact);
  for(int i = 0; i < 32; i++)
    h[i] = (uint8_t)rnd();
  int64_t s = *seq;
  if(odd && chance(3)) s += chance(50) ? 1 : -1;
  (*seq)++;
  const char *type = odd && chance(4)
                         ? (chance(50) ? "teleport" : "checkin_but_much_too_long_for_a_type")
                         : PICK(known);
  /* The seven fields, sometimes with one missing, a repeat or a stranger, in
   * the kiosk's order or shuffled. */
  int order[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, n = 7;
  if(odd && chance(10)) order[n++] = 7;                 /* unknown member */
  if(odd && chance(8)) order[n++] = (int)below(7) + 10; /* a repeat of a field */
  if(odd && chance(25))
    for(int i = n - 1; i > 0; i--) {
      int j = (int)below((uint32_t)i + 1), x = order[i];
      order[i] = order[j];
      order[j] = x;
    }
  int skip = odd && chance(6) ? (int)below(7) : -1;
  puts_(b, "{");
  ws(b);
  int first = 1;
  for(int i = 0; i < n; i++) {
    int f = order[i] >= 10 ? order[i] - 10 : order[i];
    if(f == skip) continue;
    if(!first) {
      puts_(b, ",");
      ws(b);
    }
    first = 0;
    int repeat = order[i] >= 10;
    switch(f) {
    case 0:
      key(b, "seq", odd);
      int_value(b, repeat ? s + 5 : s, odd);
      break;
    case 1:
      key(b, "type", odd);
      if(odd && chance(3))
        putf(b, "%s", chance(50) ? "[]" : "\"check\\u0069n\"");
      else
        putf(b, "\"%s\"", repeat ? "erase" : type);
      break;
    case 2:
      key(b, "ts_ms", odd);
      int_value(b, 1795500000000 + s, odd);
      break;
    case 3:
      key(b, "payload", odd);
      if(repeat)
        puts_(b, "{\"other\":1}");
      else
        put(b, payload.p, payload.n);
      break;
    case 4:
      key(b, "body_hash", odd);
      hex_value(b, bh, odd);
      break;
    case 5:
      key(b, "hash", odd);
      hex_value(b, h, odd);
      break;
    case 6:
      key(b, "redacted", odd);
      puts_(b, odd && chance(5) ? (chance(50) ? "0" : "\"false\"") : chance(10) ? "true" : "false");
      break;
    case 7:
      key(b, chance(50) ? "note" : "seq2", odd);
      gen_value(b, 3, odd);
      break;
    default:
      break;
    }
    ws(b);
  }
  puts_(b, "}");
  free(payload.p);
}

/* The envelope's "behind": what kiosks send, or (odd) a value that is
 * refused, read by strtod only, or right at the edges. */
static void gen_behind(buf *b, int odd) {
  static const char *const edges[] = {"-1",
                                      "-0",
                                      "0.0",
                                      "1.5",
                                      "1e3",
                                      "-1e3",
                                      "\"7\"",
                                      "null",
                                      "false",
                                      "[]",
                                      "{}",
                                      "999999999999999",
                                      "-999999999999999",
                                      "9007199254740991",
                                      "9007199254740992",
                                      "9007199254740993",
                                      "-9007199254740993",
                                      "1e999"};
  if(odd && chance(20))
    puts_(b, PICK(edges));
  else
    int_value(b, chance(20) ? 0 : (int64_t)below(chance(10) ? 4000000000u : 1000), odd);
}

/* odd: bend some of it. Each body bends only a few places, so that most
 * are still accepted or refused for one reason the checks name. */
static void gen_batch(buf *b, int odd_body) {
  int odd = odd_body && chance(40);
  b->n = 0;
  ws_level = odd && chance(30);
  ws(b);
  if(odd && chance(2)) {
    gen_value(b, 0, odd);
    return;
  }
  puts_(b, "{");
  ws(b);
  static const char *const kiosks[] = {"\"SH-JA01/1\"",  "\"SH/65535\"",
                                       "\"sh/1\"",       "\"SH/0\"",
                                       "\"SH-JA01\"",    "1",
                                       "null",           "\"ABCDEFGHIJKLMNOPQ/1\"",
                                       "\"SH\\/1\"",     "\"SH/1\\u0000x\"",
                                       "\"SH-JA01/1/2\""};
  int n_ev = odd && chance(5) ? (int)below(3) : 1 + (int)below(6);
  if(odd && chance(1)) n_ev = 501;
  int kiosk_first = !odd || chance(80);
  /* kiosks send behind after kiosk; kiosks before the field, none */
  int behind_at = odd ? (int)below(3) : 1, with_behind = !odd_body || chance(75);
  int members = 0;
  for(int slot = 0, part = 0; slot < 3; slot++) {
    if(slot == behind_at) {
      if(!with_behind) continue;
      if(members++) {
        puts_(b, ",");
        ws(b);
      }
      key(b, "behind", odd);
      gen_behind(b, odd);
      ws(b);
      continue;
    }
    int is_kiosk = (part++ == 0) == kiosk_first;
    if(odd && chance(4)) continue; /* missing */
    if(members++) {
      puts_(b, ",");
      ws(b);
    }
    if(is_kiosk) {
      key(b, "kiosk", odd);
      puts_(b, odd && chance(15) ? PICK(kiosks) : "\"SH-JA01/1\"");
    } else {
      key(b, "events", odd);
      if(odd && chance(3)) {
        gen_value(b, 1, odd);
      } else {
        puts_(b, "[");
        ws(b);
        int64_t seq = odd && chance(5) ? (chance(50) ? 0 : 9007199254740990) : 1 + below(1000);
        for(int i = 0; i < n_ev; i++) {
          if(i) {
            puts_(b, ",");
            ws(b);
          }
          int odd_ev = odd_body && chance(odd ? 10 : 25);
          if(odd_ev && chance(2))
            gen_value(b, 2, odd_ev);
          else
            gen_event(b, &seq, odd_ev);
          ws(b);
        }
        puts_(b, "]");
      }
    }
    ws(b);
  }
  if(odd && chance(8)) {
    puts_(b, ",");
    ws(b);
    const char *again = chance(30)   ? "events"
                        : chance(40) ? "kiosk"
                        : chance(50) ? "behind"
                                     : "extra";
    key(b, again, odd);
    if(strcmp(again, "behind") == 0 && chance(50))
      gen_behind(b, odd);
    else
      gen_value(b, 1, odd);
    ws(b);
  }
  puts_(b, "}");
  if(odd && chance(5)) puts_(b, chance(50) ? " \n" : chance(50) ? " x" : "\x01");
}

/* Small edits that keep most of the body and break or bend it a little. */
static void mutate(buf *b) {
  static const char *const tokens[] = {"{",
                                       "}",
                                       "[",
                                       "]",
                                       ",",
                                       ":",
                                       "\"",
                                       "\\",
                                       "\\u0000",
                                       "\\ud800",
                                       "1e5",
                                       "-0",
                                       "true",
                                       "null",
                                       " ",
                                       "\x00",
                                       "\x01",
                                       "\xef\xbb\xbf",
                                       "0",
                                       "\"seq\":1,",
                                       "\"payload\":{},",
                                       "\"payload\":",
                                       "\"kiosk\":\"SH/1\",",
                                       "\"events\":[],",
                                       ".5",
                                       "\"type\":\"checkin\",",
                                       "99999999999999999",
                                       "\\/"};
  int edits = 1 + (int)below(3);
  for(int k = 0; k < edits && b->n; k++) {
    size_t at = below((uint32_t)b->n + 1);
    switch(below(5)) {
    case 0: /* flip a byte */
      if(at < b->n) b->p[at] = (char)((unsigned char)b->p[at] ^ (1u << below(8)));
      break;
    case 1: { /* delete a run */
      size_t n = 1 + below(8);
      if(at + n > b->n) n = b->n - at;
      memmove(b->p + at, b->p + at + n, b->n - at - n + 1);
      b->n -= n;
      break;
    }
    case 2: { /* insert a token */
      const char *t = PICK(tokens);
      size_t n = t[0] ? strlen(t) : 1;
      put(b, t, n); /* grow, then move into place */
      memmove(b->p + at + n, b->p + at, b->n - n - at);
      memcpy(b->p + at, t, n);
      break;
    }
    case 3: /* cut the end */
      b->n = at;
      b->p[at] = '\0';
      break;
    default: { /* repeat a run */
      size_t n = 1 + below(40);
      if(at + n > b->n) n = b->n - at;
      char *copy = malloc(n + 1);
      memcpy(copy, b->p + at, n);
      put(b, copy, n);
      memmove(b->p + at + n, b->p + at, b->n - n - at);
      memcpy(b->p + at, copy, n);
      free(copy);
      break;
    }
    }
  }
}

/* ---- the comparison -------------------------------------------------------- */

typedef struct tally {
  long bodies, fast_ok, fast_refused, unsure, tree_ok;
} tally;

static void compare(const char *body, size_t len, tally *t) {
  /* An exact-size copy, so ASan sees any read past the body. */
  char *exact = malloc(len ? len : 1);
  memcpy(exact, body, len);
  proto_batch f, r, d;
  proto_error fe, re, de;
  int unsure;
  char why[800];
  sqr_rc frc = proto__batch_parse(exact, len, &f, &fe, &unsure);
  sqr_rc rrc = proto__batch_decode_tree(exact, len, &r, &re);
  sqr_rc drc = proto_batch_decode(exact, len, &d, &de);
  t->bodies++;
  t->tree_ok += rrc == SQR_OK;
  if(unsure) {
    t->unsure++;
    if(f.count || f.events) fail_msg("the parser gave up but left events behind");
  } else {
    if(frc == SQR_OK)
      t->fast_ok++;
    else
      t->fast_refused++;
    if(!batch_diff_same(frc, &f, &fe, rrc, &r, &re, why, sizeof why)) {
      fprintf(stderr, "body (%zu bytes): %.*s\n", len, (int)(len > 3000 ? 3000 : len), exact);
      fail_msg("one-pass parser vs cJSON decoder: %s", why);
    }
  }
  if(!batch_diff_same(drc, &d, &de, rrc, &r, &re, why, sizeof why)) {
    fprintf(stderr, "body (%zu bytes): %.*s\n", len, (int)(len > 3000 ? 3000 : len), exact);
    fail_msg("proto_batch_decode vs cJSON decoder: %s", why);
  }
  proto_batch_clear(&f);
  proto_batch_clear(&r);
  proto_batch_clear(&d);
  free(exact);
}

static long env_long(const char *name, long dflt) {
  const char *v = getenv(name);
  return v && *v ? strtol(v, NULL, 10) : dflt;
}

static void report(const char *what, const tally *t) {
  printf("%s: %ld bodies, parser answered %ld (%ld accepted, %ld refused), left %ld to cJSON; "
         "cJSON accepted %ld\n",
         what, t->bodies, t->fast_ok + t->fast_refused, t->fast_ok, t->fast_refused, t->unsure,
         t->tree_ok);
}

/* Bodies as kiosks send them: the parser must answer every one itself. */
static void test_kiosk_bodies_take_the_fast_path(void **state) {
  (void)state;
  rng_state = 0x5eed0001;
  tally t = {0};
  buf b = {0};
  for(int i = 0; i < 2000; i++) {
    gen_batch(&b, 0);
    compare(b.p, b.n, &t);
  }
  report("kiosk bodies", &t);
  assert_int_equal(t.unsure, 0);
  assert_int_equal(t.fast_ok, t.bodies);
  free(b.p);
}

/* Generated bodies with every field bent, and mutations of them. */
static void test_generated_and_mutated(void **state) {
  (void)state;
  rng_state = 0x5eed0002 ^ (uint64_t)env_long("SQR_DIFF_SEED", 0) * 0x9e3779b97f4a7c15ull;
  if(!rng_state) rng_state = 1;
  long rounds = env_long("SQR_DIFF_ROUNDS", 40000);
  tally gen = {0}, mut = {0};
  buf b = {0};
  for(long i = 0; i < rounds; i++) {
    gen_batch(&b, 1);
    compare(b.p, b.n, &gen);
    for(int m = 0; m < 2; m++) {
      mutate(&b);
      compare(b.p, b.n, &mut);
    }
  }
  report("generated", &gen);
  report("mutated", &mut);
  /* The parser must really be the one answering, both ways. */
  assert_true(gen.fast_ok > gen.bodies / 10);
  assert_true(gen.fast_refused > gen.bodies / 10);
  assert_true(mut.fast_refused > mut.bodies / 20);
  free(b.p);
}

/* The fuzz corpus and every saved crash, as they are and mutated. */
static void test_corpus_and_mutations(void **state) {
  (void)state;
  const char *dirs[] = {SQR_SOURCE_DIR "/tests/fuzz/corpus/fuzz_batch",
                        SQR_SOURCE_DIR "/tests/fuzz/regressions/fuzz_batch"};
  tally t = {0};
  buf b = {0}, orig = {0};
  rng_state = 0x5eed0003;
  int files = 0;
  for(size_t d = 0; d < SQR_ARRAY_LEN(dirs); d++) {
    DIR *dir = opendir(dirs[d]);
    if(!dir) continue;
    struct dirent *de;
    while((de = readdir(dir))) {
      if(de->d_name[0] == '.') continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", dirs[d], de->d_name);
      FILE *fp = fopen(path, "rb");
      if(!fp) continue;
      orig.n = 0;
      char chunk[4096];
      size_t n;
      while((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        put(&orig, chunk, n);
      fclose(fp);
      files++;
      compare(orig.p ? orig.p : "", orig.n, &t);
      for(int m = 0; m < 3000; m++) {
        b.n = 0;
        put(&b, orig.p ? orig.p : "", orig.n);
        mutate(&b);
        compare(b.p, b.n, &t);
      }
    }
    closedir(dir);
  }
  report("corpus", &t);
  assert_true(files >= 4);
  free(b.p);
  free(orig.p);
}

/* Edges named one by one: nesting around the parser's and cJSON's limits,
 * numbers at cJSON's 63-byte copy, strings cJSON ends oddly. */
static void test_edges(void **state) {
  (void)state;
  tally t = {0};
  static const int depths[] = {5, 508, 509, 510, 600, 996, 997, 998, 1100};
  for(size_t k = 0; k < SQR_ARRAY_LEN(depths); k++) {
    buf b = {0};
    puts_(&b, "{\"kiosk\":\"SH/1\",\"events\":[{\"seq\":1,\"type\":\"checkin\",\"ts_ms\":1,"
              "\"body_hash\":\""
              "0000000000000000000000000000000000000000000000000000000000000000"
              "\",\"hash\":\""
              "0000000000000000000000000000000000000000000000000000000000000000"
              "\",\"redacted\":true,\"payload\":{\"a\":");
    for(int i = 0; i < depths[k]; i++)
      puts_(&b, "[");
    for(int i = 0; i < depths[k]; i++)
      puts_(&b, "]");
    puts_(&b, "}}]}");
    compare(b.p, b.n, &t);
    free(b.p);
  }
  static const char *const bodies[] = {
      "{\"kiosk\":\"SH/"
      "1\",\"events\":[{\"seq\":100000000000000000000000000000000000000000000000000000000000001,"
      "\"type\":\"checkin\"}]}",
      "{\"kiosk\":\"SH/"
      "1\",\"events\":[{\"seq\":1000000000000000000000000000000000000000000000000000000000000001,"
      "\"type\":\"checkin\"}]}",
      "{\"kiosk\":\"SH/"
      "1\",\"events\":[{\"seq\":1,\"payload\":{\"n\":"
      "1000000000000000000000000000000000000000000000000000000000000001}}]}",
      "{\"kiosk\":\"SH/"
      "1\",\"events\":[{\"seq\":1,\"payload\":{\"n\":"
      "100000000000000000000000000000000000000000000000000000000000001}}]}",
      "{\"kiosk\":\"SH/1\",\"events\":[{\"seq\":1,\"payload\":{\"s\":\"\\u12\\\"ab\"}}]}",
      "{\"kiosk\":\"SH/1\",\"events\":[{\"seq\":1,\"payload\":{\"s\":\"a\\",
      "\xef\xbb\xbf{\"kiosk\":\"SH/1\",\"events\":[]}",
      "  {\"kiosk\":\"SH/1\",\"events\":[]}\x00",
      "{\"kiosk\":\"SH/1\",\"kiosk\":1,\"events\":[7],\"events\":[]}",
      "{\"kiosk\":\"SH/1\"\x01,\"events\"\x0b:[{}]}",
      "[1,2",
      "\"x\"",
      "{}",
      /* behind: checked after events' length, before any event */
      "{\"kiosk\":\"SH/1\",\"behind\":-1,\"events\":[{}]}",
      "{\"kiosk\":\"SH/1\",\"behind\":-0,\"events\":[{}]}",
      "{\"kiosk\":\"SH/1\",\"behind\":1.5,\"events\":[{}]}",
      "{\"kiosk\":\"SH/1\",\"behind\":\"3\",\"events\":[{}]}",
      "{\"kiosk\":\"SH/1\",\"behind\":\"3\",\"events\":[]}",
      "{\"kiosk\":\"SH/1\",\"behind\":9007199254740991,\"events\":[{}]}",
      "{\"kiosk\":\"SH/1\",\"behind\":9007199254740992,\"events\":[{}]}",
      "{\"kiosk\":\"SH/1\",\"behind\":1,\"behind\":-1,\"events\":[{}]}",
      "{\"kiosk\":\"SH/1\",\"behind\":-1,\"behind\":1,\"events\":[{}]}",
      "{\"kiosk\":\"SH/1\",\"beh\\u0069nd\":-1,\"events\":[{}]}",
      "{\"kiosk\":\"SH/1\",\"events\":[{}],\"behind\":null}",
      "{\"behind\":{\"a\":[1,{}]},\"kiosk\":\"SH/1\",\"events\":[7]}",
  };
  for(size_t k = 0; k < SQR_ARRAY_LEN(bodies); k++) {
    size_t len = strlen(bodies[k]) + (k == 7); /* body 7 ends with a NUL byte */
    compare(bodies[k], len, &t);
  }
  /* Payloads around PROTO_MAX_PAYLOAD, as sent and with whitespace that
   * the compact print drops. */
  for(int pad = -2; pad <= 2; pad++) {
    for(int spaced = 0; spaced < 2; spaced++) {
      size_t fill = (size_t)(PROTO_MAX_PAYLOAD - 8 + pad); /* {"x":"…"} is 8 bytes more */
      buf pl = {0}, b = {0};
      puts_(&pl, spaced ? "{ \"x\" : \"" : "{\"x\":\"");
      for(size_t i = 0; i < fill; i++)
        put(&pl, "a", 1);
      puts_(&pl, "\"}");
      const char *compact_tail = "\"}";
      buf c = {0};
      puts_(&c, "{\"x\":\"");
      for(size_t i = 0; i < fill; i++)
        put(&c, "a", 1);
      puts_(&c, compact_tail);
      uint8_t bh[32];
      char hx[65];
      assert_int_equal(crypto_sha256(c.p, c.n, bh), SQR_OK);
      crypto_hex(bh, 32, hx);
      putf(&b,
           "{\"kiosk\":\"SH/1\",\"events\":[{\"seq\":1,\"type\":\"sync_note\",\"ts_ms\":1,"
           "\"body_hash\":\"%s\",\"hash\":\"%s\",\"payload\":",
           hx, hx);
      put(&b, pl.p, pl.n);
      puts_(&b, "}]}");
      compare(b.p, b.n, &t);
      free(pl.p);
      free(b.p);
      free(c.p);
    }
  }
  report("edges", &t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kiosk_bodies_take_the_fast_path),
      cmocka_unit_test(test_generated_and_mutated),
      cmocka_unit_test(test_corpus_and_mutations),
      cmocka_unit_test(test_edges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
