/* test_memory.c — a stolen kiosk gives away no phone number from memory.
 *   test_memory KIOSK
 * Five shoppers sign up on a headless kiosk, each typing a fresh random
 * number on the keypad with finger taps (the path a shopper's finger
 * takes: SDL finger events at the keys' positions, nothing else carries a
 * digit). They leave in every way the kiosk knows (done, the idle timeout,
 * escape, "join now" after a check-in, a walk-away half-way), one checks in
 * too; then the kiosk idles on the live code and gdb's gcore dumps it
 * while it runs. The core must hold no form of any number: the 11 digits,
 * the keypad's spaced "130 2902 3018", the dashed form, any 8 or more
 * consecutive digits of it, any 8-digit-or-longer prefix as the display
 * showed it while typing; each as UTF-8, UTF-16 and UTF-32 in either byte
 * order, and as the 32-bit code points or glyph indices (of the kiosk's
 * font, through FreeType) one every 8 to 24 bytes that SDL_ttf and
 * HarfBuzz lay a string out in. The database path and the store's name
 * must be found (the core holds the stack and the heap: the search can
 * see).
 *
 * Honest by construction: the script has one digit per line ("touch
 * keypad.7"), so no line, and no stdio buffer of the script, ever holds
 * two digits of a number side by side; the numbers come from getrandom in
 * this process only.
 *
 * gcore attaches with ptrace; PR_SET_DUMPABLE 0 (which the kiosk sets)
 * leaves that to root. Not root and gcore failed: exit 77 (skipped).
 *
 * Then what the kernel does when the watchdog ends a hung kiosk: a kiosk
 * started with RLIMIT_CORE unlimited gets SIGABRT and must die without a
 * core dump (WCOREDUMP clear, no core file in its working directory).
 */
#define _GNU_SOURCE /* memmem */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ft2build.h>
#include FT_FREETYPE_H

#include "member.h"
#include "store.h"
#include "uitest.h"

#define SHOPPERS   5
#define NEEDLE_MAX 16
#define MAX_NEEDLE 20                                                 /* forms per number */
#define STORE_NAME "\xE9\x9D\x99\xE5\xAE\x89\xE5\xAF\xBA\xE5\xBA\x97" /* 静安寺店, demo.json */

static char db[1200];
static char phones[SHOPPERS][12];

typedef struct needle {
  char text[NEEDLE_MAX];
  size_t len;
  int shopper;
  const char *form;
} needle;
static needle needles[SHOPPERS * MAX_NEEDLE];
static int nneedles;

static void random_phones(void) {
  for(int i = 0; i < SHOPPERS; i++) {
    uint8_t r[11];
    int again;
    do {
      UT_CHECK(getrandom(r, sizeof r, 0) == (ssize_t)sizeof r, "getrandom");
      phones[i][0] = '1';
      phones[i][1] = (char)('3' + r[1] % 7); /* a mainland mobile range */
      for(int k = 2; k < 11; k++)
        phones[i][k] = (char)('0' + r[k] % 10);
      phones[i][11] = '\0';
      again = 0;
      for(int j = 0; j < i; j++)
        again |= strcmp(phones[i], phones[j]) == 0;
    } while(again);
  }
}

static void add(int shopper, const char *form, const char *text) {
  UT_CHECK(nneedles < (int)(sizeof needles / sizeof needles[0]), "too many needles");
  needle *n = &needles[nneedles++];
  snprintf(n->text, sizeof n->text, "%s", text);
  n->len = strlen(n->text);
  n->shopper = shopper;
  n->form = form;
}

/* Every form of each number the kiosk could have held. */
static void make_needles(void) {
  for(int i = 0; i < SHOPPERS; i++) {
    const char *p = phones[i];
    char b[NEEDLE_MAX];
    /* Any run of 8..11 consecutive digits (the full number, the keypad's
     * buffer while typing, a prefix or suffix kept somewhere). */
    static const char *const run_form[] = {"8 digits", "9 digits", "10 digits", "11 digits"};
    for(int len = 8; len <= 11; len++)
      for(int at = 0; at + len <= 11; at++) {
        memcpy(b, p + at, (size_t)len);
        b[len] = '\0';
        add(i, run_form[len - 8], b);
      }
    /* The keypad's display line as it grew: "130 2902 3" .. "130 2902 3018". */
    static const char *const shown_form[] = {"display, 8 typed", "display, 9 typed",
                                             "display, 10 typed", "display"};
    for(int typed = 8; typed <= 11; typed++) {
      size_t o = 0;
      for(int k = 0; k < typed; k++) {
        if(k == 3 || k == 7) b[o++] = ' ';
        b[o++] = p[k];
      }
      b[o] = '\0';
      add(i, shown_form[typed - 8], b);
    }
    snprintf(b, sizeof b, "%.4s %.4s", p + 3, p + 7);
    add(i, "display, last 8", b);
    snprintf(b, sizeof b, "%.3s-%.4s-%.4s", p, p + 3, p + 7);
    add(i, "dashed", b);
  }
}

/* How a number may be laid out in memory: code units of unit bytes in
 * either byte order, one every stride bytes. Besides plain text, the
 * arrays SDL_ttf and HarfBuzz lay a string out in hold one 32-bit value
 * per character inside a bigger struct: the code point (HarfBuzz's
 * glyph info before shaping, 20 bytes) or, after, the font's glyph index
 * (the same, and SDL_ttf's glyph positions, 12 bytes). glyphs: the values
 * are glyph indices of the kiosk's font. */
typedef struct enc {
  const char *name;
  int unit, big, stride, glyphs;
} enc;
static const enc encs[] = {
    {"UTF-8", 1, 0, 1, 0},
    {"UTF-16LE", 2, 0, 2, 0},
    {"UTF-16BE", 2, 1, 2, 0},
    {"UTF-32LE", 4, 0, 4, 0},
    {"UTF-32BE", 4, 1, 4, 0},
    {"code points every 8 bytes", 4, 0, 8, 0},
    {"code points every 12 bytes", 4, 0, 12, 0},
    {"code points every 16 bytes", 4, 0, 16, 0},
    {"code points every 20 bytes", 4, 0, 20, 0},
    {"code points every 24 bytes", 4, 0, 24, 0},
    {"glyph indices every 4 bytes", 4, 0, 4, 1},
    {"glyph indices every 8 bytes", 4, 0, 8, 1},
    {"glyph indices every 12 bytes", 4, 0, 12, 1},
    {"glyph indices every 16 bytes", 4, 0, 16, 1},
    {"glyph indices every 20 bytes", 4, 0, 20, 1},
    {"glyph indices every 24 bytes", 4, 0, 24, 1},
};
#define NENCS ((int)(sizeof encs / sizeof encs[0]))

/* '0'..'9', ' ', '-' by their glyph index in the kiosk's font; 0 others. */
#define GLYPHS_MAX 65536
static char glyph_char[GLYPHS_MAX];

/* The kiosk's font as ui_text_find_font picks it (app/ui/text.c). */
static const char *kiosk_font(void) {
  static const char *const candidates[] = {
      "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
      "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
      "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
  };
  const char *env = getenv("SQR_FONT");
  if(env && *env) return env;
  for(size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
    if(access(candidates[i], R_OK) == 0) return candidates[i];
  UT_CHECK(0, "no CJK font (install fonts-wqy-microhei)");
  return NULL;
}

static void load_glyphs(void) {
  FT_Library lib;
  FT_Face face;
  const char *path = kiosk_font();
  UT_CHECK(FT_Init_FreeType(&lib) == 0, "FreeType");
  UT_CHECK(FT_New_Face(lib, path, 0, &face) == 0, "cannot open %s", path); /* face 0, as SDL_ttf */
  static const char chars[] = "0123456789 -";
  for(const char *c = chars; *c; c++) {
    FT_UInt g = FT_Get_Char_Index(face, (FT_ULong)(unsigned char)*c);
    UT_CHECK(g > 0 && g < GLYPHS_MAX, "%s has no glyph for '%c'", path, *c);
    glyph_char[g] = *c;
  }
  FT_Done_Face(face);
  FT_Done_FreeType(lib);
}

/* The character at p in e ('0'..'9', ' ', '-' or anything else), or -1
 * past the end. */
static long char_at(const uint8_t *p, const uint8_t *end, const enc *e) {
  if(end - p < e->unit) return -1;
  unsigned long v = 0;
  for(int k = 0; k < e->unit; k++)
    v |= (unsigned long)p[e->big ? e->unit - 1 - k : k] << (8 * k);
  if(e->glyphs) return v < GLYPHS_MAX && glyph_char[v] ? glyph_char[v] : 0x7fffffff;
  return (long)v;
}

static int is_phone_char(long c) {
  return (c >= '0' && c <= '9') || c == ' ' || c == '-';
}

static void mask_digits(const uint8_t *p, size_t n, char *out) {
  for(size_t i = 0; i < n; i++)
    out[i] = p[i] >= '0' && p[i] <= '9' ? '#' : p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
  out[n] = '\0';
}

/* One pass: wherever a digit starts in some layout, decode the run of
 * digits, spaces and dashes that follows and test every needle as its
 * prefix. Returns the number of places a number was found; each is
 * printed once, as its longest form, with the digits around it masked. */
static int scan(const uint8_t *core, size_t size) {
  const uint8_t *end = core + size;
  const uint8_t *seen[NENCS] = {0}; /* per layout: the last find's end */
  int hits = 0;
  for(const uint8_t *p = core; p < end; p++) {
    for(int e = 0; e < NENCS; e++) {
      const enc *en = &encs[e];
      if(p < seen[e]) continue;
      long c = char_at(p, end, en);
      if(!(c >= '0' && c <= '9')) continue;
      char run[NEEDLE_MAX];
      size_t n = 0;
      for(const uint8_t *q = p; n < sizeof run - 1 && is_phone_char(c);) {
        run[n++] = (char)c;
        q += en->stride;
        c = char_at(q, end, en);
      }
      if(n < 8) continue;
      const needle *best = NULL;
      for(int k = 0; k < nneedles; k++) {
        const needle *nd = &needles[k];
        if(nd->len <= n && memcmp(run, nd->text, nd->len) == 0 && (!best || nd->len > best->len))
          best = nd;
      }
      if(!best) continue;
      seen[e] = p + best->len * (size_t)en->stride;
      if(hits++ < 100) {
        size_t off = (size_t)(p - core), from = off > 24 ? off - 24 : 0;
        size_t to = off + 48 < size ? off + 48 : size;
        char ctx[80];
        mask_digits(core + from, to - from, ctx);
        fprintf(stderr, "FOUND shopper %d's number (%s, %s) at core offset 0x%zx: ...%s...\n",
                best->shopper + 1, best->form, en->name, off, ctx);
      }
    }
  }
  return hits;
}

static int count_plain(const uint8_t *core, size_t size, const char *s) {
  size_t l = strlen(s);
  int n = 0;
  for(const uint8_t *p = core; (p = memmem(p, size - (size_t)(p - core), s, l)); p += l)
    n++;
  return n;
}

static void type_number(char *script, size_t n, int shopper, int typo) {
  char line[64];
  for(int k = 0; k < 11; k++) {
    if(typo && k == 5) {
      /* A wrong key, taken back: what the pad held differs on the way. */
      snprintf(line, sizeof line, "touch keypad.%c\ntouch keypad.del\n",
               phones[shopper][k] == '9' ? '0' : phones[shopper][k] + 1);
      strncat(script, line, n - strlen(script) - 1);
    }
    snprintf(line, sizeof line, "touch keypad.%c\n", phones[shopper][k]);
    strncat(script, line, n - strlen(script) - 1);
  }
}

static void say(char *script, size_t n, const char *text) {
  strncat(script, text, n - strlen(script) - 1);
}

#define SIGN_UP_REST                                                                               \
  "touch ok\nexpect screen consent\ntouch agree\ntouch age\ntouch continue\nexpect screen "        \
  "details\n"                                                                                      \
  "touch finish\nexpect result joined\n"
#define BACK_LIVE "expect screen live\nexpect nodigits\n"

static char *make_script(void) {
  static char s[16384];
  size_t n = sizeof s;
  s[0] = '\0';
  /* 1: joins, taps "done". */
  say(s, n, "touch join\nexpect screen join\n");
  type_number(s, n, 0, 0);
  say(s, n, SIGN_UP_REST "touch done\n" BACK_LIVE);
  /* 2: a typo taken back; walks away from the result: the idle timeout. */
  say(s, n, "touch join\n");
  type_number(s, n, 1, 1);
  say(s, n, SIGN_UP_REST "advance 40\n" BACK_LIVE);
  /* 3: checks in first, is not a member, "join now" carries the number. */
  say(s, n, "touch checkin\nexpect screen checkin\n");
  type_number(s, n, 2, 0);
  say(s, n,
      "touch ok\nexpect result not_member\ntouch join\nexpect screen consent\ntouch agree\ntouch "
      "age\n"
      "touch continue\ntouch finish\nexpect result joined\nkey escape\n" BACK_LIVE);
  /* 4: walks away at the consent screen, comes back and joins. */
  say(s, n, "touch join\n");
  type_number(s, n, 3, 0);
  say(s, n, "touch ok\nexpect screen consent\nadvance 40\n" BACK_LIVE "touch join\n");
  type_number(s, n, 3, 0);
  say(s, n, SIGN_UP_REST "touch done\n" BACK_LIVE);
  /* 5: joins, goes back to the keypad from the consent screen once. */
  say(s, n, "touch join\n");
  type_number(s, n, 4, 0);
  say(s, n,
      "touch ok\nexpect screen consent\ntouch back\nexpect screen join\n" SIGN_UP_REST
      "touch done\n" BACK_LIVE);
  /* 1 again: a check-in. */
  say(s, n, "touch checkin\n");
  type_number(s, n, 0, 0);
  say(s, n, "touch ok\nexpect result checked_in\ntouch done\n" BACK_LIVE);
  /* Idle on the live code (the loop running), then tell the test. */
  say(s, n, "wait 1500\nscreenshot idle\nwait 120000\n");
  UT_CHECK(strlen(s) < n - 1, "script too long");
  return s;
}

static void check_members(int64_t t) {
  sqr_clock *c;
  store *st;
  char err[256];
  store_status ss;
  UT_CHECK(clock_new_fixed(t * 1000, &c) == SQR_OK, "clock");
  UT_CHECK(store_open(db, c, &st, err, sizeof err) == SQR_OK, "%s", err);
  for(int i = 0; i < SHOPPERS; i++) {
    member_result r;
    sqr_rc rc = member_lookup(st, phones[i], NULL, &r);
    UT_CHECK(rc == SQR_OK, "shopper %d is not a member: %s", i + 1, sqr_strerror(rc));
    if(i == 0) UT_CHECK(r.streak == 1, "shopper 1's check-in: streak %d", r.streak);
  }
  UT_CHECK(store_status_get(st, &ss) == SQR_OK, "status");
  UT_CHECK(ss.members == SHOPPERS, "%lld members", (long long)ss.members);
  store_close(st);
  clock_free(c);
}

/* gcore -o prefix pid, bounded; 0 when it wrote prefix.pid. */
static int take_core(int pid, const char *prefix, const char *log) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "timeout 120 gcore -o '%s' %d >'%s' 2>&1", prefix, pid, log);
  int rc = system(cmd);
  char core[1300];
  snprintf(core, sizeof core, "%s.%d", prefix, pid);
  return rc == 0 && access(core, R_OK) == 0 ? 0 : -1;
}

/* SIGABRT, as systemd's watchdog sends it: no core dump may follow, even
 * with RLIMIT_CORE unlimited (the unit's LimitCORE=0 is the second lock). */
static void abort_leaves_no_core(int64_t t) {
  struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
  UT_CHECK(setrlimit(RLIMIT_CORE, &unlimited) == 0, "setrlimit: %s", strerror(errno));
  UT_CHECK(chdir(ut_dir) == 0, "chdir %s", ut_dir); /* where core_pattern "core" writes */
  ut_kiosk_opts o = {.no_script = 1};
  int pid = ut_spawn(db, NULL, t, &o);
  usleep(1500 * 1000); /* up and drawing, the database open */
  kill(pid, SIGABRT);
  int status;
  while(waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  UT_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "the kiosk did not end on SIGABRT");
  UT_CHECK(!WCOREDUMP(status), "SIGABRT dumped the kiosk's core");
  DIR *d = opendir(ut_dir);
  UT_CHECK(d, "%s", ut_dir);
  for(struct dirent *e; (e = readdir(d));)
    UT_CHECK(strncmp(e->d_name, "core", 4) != 0, "a core file: %s/%s", ut_dir, e->d_name);
  closedir(d);
}

int main(int argc, char **argv) {
  if(argc != 2) {
    fprintf(stderr, "usage: test_memory KIOSK\n");
    return 2;
  }
  ut_kiosk = argv[1];
  if(getenv("SQR_SANITIZED")) {
    /* A core of an ASan process holds its shadow memory (tens of GB), and
     * its quarantine keeps freed memory intact by design. */
    printf("memory: skipped in the sanitizer build\n");
    return 77;
  }
  UT_CHECK(system("command -v gcore >/dev/null") == 0,
           "gcore not found: install gdb (tools/deps/ui.txt)");
  ut_setup("memory");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = ut_now_aligned();
  ut_make_store(db, t, NULL);
  random_phones();
  make_needles();
  load_glyphs();

  int pid = ut_spawn(db, make_script(), t, NULL);
  char idle[1200];
  snprintf(idle, sizeof idle, "%s/idle.png", ut_dir);
  int64_t give_up = ut_mono_ms() + 90000;
  while(access(idle, R_OK) != 0) {
    int status;
    UT_CHECK(waitpid(pid, &status, WNOHANG) == 0, "the kiosk ended before idling");
    if(ut_mono_ms() > give_up) {
      kill(pid, SIGKILL);
      ut_wait(pid);
      UT_CHECK(0, "no idle screenshot after 90 s");
    }
    usleep(50 * 1000);
  }
  usleep(300 * 1000); /* the PNG written, the loop back in its wait */

  char prefix[1200], log[1200], core[1300];
  /* "core" and the pid: what gcore -o names the file. */
  snprintf(prefix, sizeof prefix, "%s/core", ut_dir);
  snprintf(log, sizeof log, "%s/gcore.log", ut_dir);
  snprintf(core, sizeof core, "%s.%d", prefix, pid);
  int got = take_core(pid, prefix, log) == 0;
  kill(pid, SIGTERM);
  int code = ut_wait(pid);
  if(!got) {
    if(geteuid() != 0) {
      printf("memory: skipped: gcore could not attach (not root; see %s)\n", log);
      return 77;
    }
    UT_CHECK(0, "gcore failed as root: see %s", log);
  }
  int fd = open(core, O_RDONLY);
  UT_CHECK(fd >= 0, "%s: %s", core, strerror(errno));
  struct stat sb;
  UT_CHECK(fstat(fd, &sb) == 0 && sb.st_size > 0, "empty core");
  size_t size = (size_t)sb.st_size;
  const uint8_t *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  UT_CHECK(m != MAP_FAILED, "mmap: %s", strerror(errno));
  close(fd);
  /* The search can see: what the kiosk must hold is there. */
  int seen_db = count_plain(m, size, db), seen_name = count_plain(m, size, STORE_NAME);
  UT_CHECK(seen_db > 0, "the database path is not in the core: the core is not what it seems");
  UT_CHECK(seen_name > 0, "the store's name is not in the core: no heap in it?");
  int hits = scan(m, size);
  munmap((void *)m, size);
  UT_CHECK(hits == 0, "%d copies of the typed numbers in the kiosk's memory (core kept at %s)",
           hits, core);
  UT_CHECK(code == 0, "kiosk exit %d: an expectation failed (its stderr above)", code);
  check_members(t + 600);
  unlink(core);
  abort_leaves_no_core(t);
  printf("memory: ok (%d shoppers, %d forms each in %d layouts, %zu MB core; the database "
         "path %d times, the store's name %d times; SIGABRT dumped nothing)\n",
         SHOPPERS, nneedles / SHOPPERS, NENCS, size >> 20, seen_db, seen_name);
  return 0;
}
