/* test_pages.c — HQ's pages without a server (sync/hq/web/pages_*.c and
 * sync/hq/templates): each page, from a fixed view model, must equal its
 * golden file in tests/hqweb/golden; and with every string field of every
 * view model set to hostile text, the text may appear only escaped.
 *
 * The golden files are the pages exactly as HQ serves them. After an
 * intended change of a page, rewrite them with
 *   SQR_UPDATE_GOLDEN=1 ./test_pages
 * and read the diff before committing it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pages_dash.h"
#include "pages_shopper.h"

/* Script, quotes, ampersand and a phone-like number: each must reach a
 * page only as ESCAPED. */
#define HOSTILE "<script>alert(1)</script>\"'&13800138000"
#define ESCAPED "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;13800138000"
#define MARKER  "13800138000"
#define QR                                                                                         \
  "data:image/"                                                                                    \
  "png;base64,"                                                                                    \
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABAQAAAAA3bvkkAAAACklEQVR4AWNgAAAAAgABc3UBGAAAAABJRU5ErkJggg=="
#define NOW_MS 1796500000000LL /* 2026-12-06 Shanghai */

/* Every string a view model holds comes through S (or LINK), so the
 * hostile run replaces all of them. */
static int hostile;
static const char *S(const char *normal) {
  return hostile ? HOSTILE : normal;
}
/* Links must be https to be shown at all: keep the scheme. */
static const char *LINK(const char *normal) {
  return hostile ? "https://x/" HOSTILE : normal;
}

/* ---- the pages, from fixed view models ------------------------------------------ */

static sqr_rc notices(dynbuf *b) {
  /* every notice in both languages, one after the other */
  sqr_rc rc = SQR_OK;
  for(int l = 0; l < SHOPPER_NLANG && !rc; l++)
    for(int k = 0; k < SHOPPER_NNOTICE && !rc; k++) {
      shopper_notice_view vm = {.lang = l, .kind = (shopper_notice)k};
      rc = shopper_notice_render(&vm, b);
    }
  return rc;
}

static sqr_rc group_zh(dynbuf *b) {
  shopper_group_view vm = {.lang = SHOPPER_LANG_ZH,
                           .store_name = S("静安寺店"),
                           .offer = S("入会礼：免费咖啡一杯"),
                           .group_name = S("静安寺一群"),
                           .qr_src = S(QR),
                           .join_link = LINK("https://weixin.qq.com/g/ja-1?a=1&b=2")};
  return shopper_group_render(&vm, b);
}

/* No offer, no name, no QR code, a link that is not https: no button. */
static sqr_rc group_en_bare(dynbuf *b) {
  shopper_group_view vm = {.lang = SHOPPER_LANG_EN,
                           .store_name = S("Jing'an <Temple> & Co"),
                           .offer = S(""),
                           .group_name = S(""),
                           .join_link = S("javascript:alert(1)")};
  return shopper_group_render(&vm, b);
}

static sqr_rc full_en(dynbuf *b) {
  shopper_full_view vm = {.lang = SHOPPER_LANG_EN,
                          .store_name = S("Jing'an"),
                          .offer = S("Welcome gift: a \"free\" coffee"),
                          .staff_qr_src = S(QR),
                          .staff_link = LINK("https://work.weixin.qq.com/ca/staff-contact")};
  return shopper_full_render(&vm, b);
}

static sqr_rc full_zh_bare(dynbuf *b) {
  shopper_full_view vm = {.lang = SHOPPER_LANG_ZH, .store_name = S("满员店")};
  return shopper_full_render(&vm, b);
}

static sqr_rc brand(dynbuf *b, int lang, const char *note) {
  const shopper_brand_store stores[] = {
      {S("SH-NOCITY"), S("No city"), S("")},
      {S("SH-JA01"), S("静安寺店"), S("上海")},
      {S("SH-XH02"), S("徐汇<b>店</b>"), S("上海")},
      {S("BJ-WFJ01"), S("王府井店"), S("北京")},
  };
  shopper_brand_view vm = {
      .lang = lang, .brand = S("CAFE"), .note = note, .stores = stores, .nstores = 4};
  return shopper_brand_render(&vm, b);
}

static sqr_rc brand_zh(dynbuf *b) {
  return brand(b, SHOPPER_LANG_ZH, NULL);
}

static sqr_rc brand_en_note(dynbuf *b) {
  return brand(b, SHOPPER_LANG_EN, S("Location not understood: please choose a store."));
}

static sqr_rc dash_login(dynbuf *b) {
  dash_login_view vm = {0};
  return dash_login_render(&vm, b);
}

static sqr_rc dash_login_error(dynbuf *b) {
  dash_login_view vm = {.error = S("Wrong user name or password.")};
  return dash_login_render(&vm, b);
}

static sqr_rc dash_error(dynbuf *b) {
  return dash_error_render(b);
}

static sqr_rc dash_not_found(dynbuf *b) {
  dash_not_found_view vm = {
      .admin = S("alice"), .title = S("Unknown store"), .message = S("No such store.")};
  return dash_not_found_render(&vm, b);
}

/* 30 days ending 2026-12-06, with some figures. */
static char day_text[30][11];
static dash_day days[30];
static void make_days(void) {
  for(int i = 0; i < 30; i++) {
    int d = 7 + i; /* 2026-11-07 .. 2026-12-06 */
    snprintf(day_text[i], sizeof day_text[i], "2026-%02d-%02d", d <= 30 ? 11 : 12,
             d <= 30 ? d : d - 30);
    days[i] = (dash_day){.day = S(day_text[i]),
                         .signups = (i * 7) % 11,
                         .checkins = i % 4,
                         .scans = i % 5 == 0 ? 0 : (i * 13) % 17};
  }
}

static sqr_rc dash_home(dynbuf *b) {
  make_days();
  const dash_alert alerts[] = {{S("SH-FULL"), NOW_MS - 90 * 1000},
                               {S("BJ-WFJ01"), NOW_MS - 5 * 3600 * 1000LL}};
  const dash_security_alert security[] = {
      {S("revoked_cert"), S("SH-JA01"), 2, NOW_MS - 30 * 1000,
       S("HQ refused the revoked kiosk's certificate")},
      {S("chain_broken"), S("SH-XH02"), 1, NOW_MS - 2 * 3600 * 1000LL,
       S("events: seq 12 does not chain to the event before it; nothing was stored")},
      {S("retired_token"), S("BJ-WFJ01"), 0, NOW_MS - 3 * 86400 * 1000LL, S("")},
  };
  const dash_warning warnings[] = {
      {S("SH-FULL"), S("满员 <店>"), S("full-1"), S("小群"), 1, 1, 0},
      {S("SH-JA01"), S("静安寺店"), S("ja-2"), S("ja-2"), 0, 0, 1},
      {S("SH-XH02"), S("徐汇\"A&B\""), S("xh-1"), S("徐汇一群"), 0, 1, 1},
  };
  const dash_store_row rows[] = {
      {.id = S("SH-JA01"),
       .name = S("静安寺店"),
       .today = {7, 3, 10},
       .week = {21, 9, 40},
       .groups = DASH_GROUPS_LIVE,
       .fill = {0.555, 0, 0},
       .last_sync_ms = NOW_MS - 30 * 1000,
       .events_behind = 4},
      {.id = S("SH-FULL"),
       .name = S("满员 <店>"),
       .today = {0, 0, 3},
       .week = {1, 0, 12},
       .groups = DASH_GROUPS_ALL_FULL,
       .last_sync_ms = NOW_MS - 3 * 86400 * 1000LL,
       .stale = 1,
       .events_behind = 0},
      {.id = S("SH-NEAR"),
       .name = S("Near"),
       .today = {1, 1, 0},
       .week = {2, 2, 0},
       .groups = DASH_GROUPS_LIVE,
       .fill = {0.95, 0, 1},
       .last_sync_ms = NOW_MS - 45 * 60 * 1000,
       .events_behind = -1},
      {.id = S("BJ-IDLE"),
       .name = S("空闲店"),
       .groups = DASH_GROUPS_NONE,
       .stale = 1,
       .events_behind = -1},
  };
  dash_home_view vm = {.admin = S("alice"),
                       .now_ms = NOW_MS,
                       .stores = 250,
                       .stale_stores = 12,
                       .seal_backlog = 3,
                       .seal_oldest_ms = NOW_MS - 90000,
                       .today = {11, 4, 14},
                       .week = {60, 20, 0},
                       .days = days,
                       .ndays = 30,
                       .alerts = alerts,
                       .nalerts = 2,
                       .security = security,
                       .nsecurity = 3,
                       .warnings = warnings,
                       .nwarnings = 3,
                       .rows = rows,
                       .nrows = 4,
                       .sort_key = S("signups7"),
                       .desc = 1,
                       .page = 2,
                       .pages = 3};
  return dash_home_render(&vm, b);
}

static sqr_rc dash_home_empty(dynbuf *b) {
  dash_home_view vm = {.admin = S("(token)"), .now_ms = NOW_MS, .sort_key = S("id"), .page = 1};
  return dash_home_render(&vm, b);
}

static sqr_rc dash_store(dynbuf *b) {
  make_days();
  const dash_group_row groups[] = {
      {S("ja-1"), S("一群"), 0, 190, 0, 190, {1.0, 1, 1}, S("2026-12-20"), 0},
      {S("ja-2"), S("二群 <b>"), 1, 12, 40, 200, {0.26, 0, 0}, S("2026-12-06"), 1},
      {S("ja-3"), S(""), 0, 170, 10, 200, {0.9, 0, 1}, NULL, 0},
  };
  const dash_kiosk_row kiosks[] = {
      {.number = 1,
       .acked = 120,
       .last_sync_ms = NOW_MS - 10 * 1000,
       .behind = 3,
       .clock_jumps = 2,
       .last_jump_ts_ms = NOW_MS - 3 * 3600 * 1000LL,
       .last_jump_ms = 3600 * 1000LL + 5 * 60 * 1000},
      {.number = 2,
       .revoked = 1,
       .stale = 1,
       .acked = 40,
       .behind = -1,
       .clock_jumps = 1,
       .last_jump_ts_ms = NOW_MS - 2 * 86400 * 1000LL,
       .last_jump_ms = -(2 * 86400 + 3 * 3600) * 1000LL,
       .last_jump_hq = 1},
      {.number = 3, .stale = 1, .acked = 7, .last_sync_ms = NOW_MS - 9 * 86400 * 1000LL},
  };
  const dash_staff_row staff[] = {{S("anna"), 3}, {S("bo"), 2}, {S(""), 2}};
  dash_store_view vm = {.admin = S("alice"),
                        .now_ms = NOW_MS,
                        .id = S("SH-JA01"),
                        .name = S("静安寺店 \"A&B\""),
                        .city = S("上海"),
                        .members = 77,
                        .today = {7, 3, 10},
                        .week = {21, 9, 40},
                        .days = days,
                        .ndays = 30,
                        .exhausted = 1,
                        .groups = groups,
                        .ngroups = 3,
                        .kiosks = kiosks,
                        .nkiosks = 3,
                        .staff = staff,
                        .nstaff = 3};
  return dash_store_render(&vm, b);
}

static sqr_rc dash_store_empty(dynbuf *b) {
  make_days();
  dash_store_view vm = {.admin = S("alice"),
                        .now_ms = NOW_MS,
                        .id = S("BJ-IDLE"),
                        .name = S("空闲店"),
                        .city = S(""),
                        .days = days,
                        .ndays = 30};
  return dash_store_render(&vm, b);
}

static sqr_rc dash_audit(dynbuf *b) {
  const dash_audit_row audit[] = {
      {NOW_MS - 60 * 1000, S("alice"), S("export_members format=csv store=SH-JA01"), 1200},
      {NOW_MS - 3600 * 1000LL, S("admin-token"), S("export_members format=jsonl"), -1},
      {NOW_MS - 86400 * 1000LL, S("cli"), S("member_show"), 4},
  };
  const dash_erasure_row erasures[] = {
      {NOW_MS - 7200 * 1000LL, S("SH-JA01"), S("0123456789abcdef0123456789abcdef"), S("hq"),
       S("hq")},
      {NOW_MS - 2 * 86400 * 1000LL, S("SH-XH01"), S("fedcba9876543210fedcba9876543210"),
       S("kiosk SH-XH01/1"), S("kiosk")},
  };
  dash_audit_view vm = {.admin = S("alice"),
                        .limit = 200,
                        .audit = audit,
                        .naudit = 3,
                        .erasures = erasures,
                        .nerasures = 2};
  return dash_audit_render(&vm, b);
}

static sqr_rc dash_audit_empty(dynbuf *b) {
  dash_audit_view vm = {.admin = S("(token)"), .limit = 200};
  return dash_audit_render(&vm, b);
}

static const struct page {
  const char *name;
  sqr_rc (*render)(dynbuf *b);
} pages[] = {
    {"shopper_notices", notices},
    {"shopper_group_zh", group_zh},
    {"shopper_group_en_bare", group_en_bare},
    {"shopper_full_en", full_en},
    {"shopper_full_zh_bare", full_zh_bare},
    {"shopper_brand_zh", brand_zh},
    {"shopper_brand_en_note", brand_en_note},
    {"dash_login", dash_login},
    {"dash_login_error", dash_login_error},
    {"dash_error", dash_error},
    {"dash_not_found", dash_not_found},
    {"dash_home", dash_home},
    {"dash_home_empty", dash_home_empty},
    {"dash_store", dash_store},
    {"dash_store_empty", dash_store_empty},
    {"dash_audit", dash_audit},
    {"dash_audit_empty", dash_audit_empty},
};

/* The page, rendered (malloc'ed). */
static char *render_page(const struct page *pg, int hostile_text) {
  hostile = hostile_text;
  dynbuf b;
  dynbuf_init(&b, 1 << 20);
  sqr_rc rc = pg->render(&b);
  hostile = 0;
  if(rc) fail_msg("%s: rendering failed: %s", pg->name, sqr_strerror(rc));
  char *page = dynbuf_take(&b, NULL);
  assert_non_null(page);
  return page;
}

/* ---- what escaping guarantees, checked on the text ------------------------------ */

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for(const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
    n++;
  return n;
}

/* Length of the character reference at s ("&amp;", "&#39;"), 0 if none. */
static size_t entity_len(const char *s) {
  size_t i = 1;
  if(s[i] == '#') {
    i++;
    while(isdigit((unsigned char)s[i]))
      i++;
    return i > 2 && s[i] == ';' ? i + 1 : 0;
  }
  while(isalpha((unsigned char)s[i]))
    i++;
  return i > 1 && s[i] == ';' ? i + 1 : 0;
}

#define BAD(why)                                                                                   \
  do {                                                                                             \
    *at = (size_t)(s - page);                                                                      \
    return why;                                                                                    \
  } while(0)

/* Outside the bodies of <script> and <style>: every '<' opens a tag we
 * can read (a name; attributes as name="value" or a bare name; '>' or
 * '/>'), a '>' only closes one, an attribute value holds no '<', '>' or
 * '"', and every '&' starts a character reference. A quote or bracket that
 * got past the escaping breaks one of these. NULL when none is broken,
 * else what is, and *at where. */
static const char *html_problem(const char *page, size_t *at) {
  const char *s = page;
  while(*s) {
    if(*s == '&') {
      if(!entity_len(s)) BAD("a bare '&'");
      s++;
      continue;
    }
    if(*s == '>') BAD("a '>' outside a tag");
    if(*s != '<') {
      s++;
      continue;
    }
    const char *t = s + 1;
    if(strncasecmp(t, "!doctype html>", 14) == 0) {
      s = t + 14;
      continue;
    }
    int closing = *t == '/';
    if(closing) t++;
    const char *tag = t;
    while(isalnum((unsigned char)*t))
      t++;
    size_t taglen = (size_t)(t - tag);
    if(!taglen) BAD("a '<' that opens no tag");
    for(;;) {
      if(*t == '>') {
        t++;
        break;
      }
      if(t[0] == '/' && t[1] == '>') {
        t += 2;
        break;
      }
      if(*t != ' ' || closing) BAD("a tag that does not end where it should");
      t++;
      const char *attr = t;
      while(isalpha((unsigned char)*t) || *t == '-')
        t++;
      if(t == attr) BAD("an attribute without a name");
      if(*t != '=') continue;
      if(*++t != '"') BAD("an unquoted attribute value");
      for(t++; *t != '"'; t++) {
        if(!*t || *t == '<' || *t == '>') BAD("an attribute value that does not end");
        if(*t == '&' && !entity_len(t)) BAD("a bare '&' in an attribute");
      }
      t++;
    }
    s = t;
    if(!closing && ((taglen == 6 && strncasecmp(tag, "script", 6) == 0) ||
                    (taglen == 5 && strncasecmp(tag, "style", 5) == 0))) {
      const char *e = strstr(s, taglen == 6 ? "</script>" : "</style>");
      if(!e) BAD("a script or style that never ends");
      s = e;
    }
  }
  return NULL;
}

static void check_html(const char *name, const char *page) {
  size_t at = 0;
  const char *why = html_problem(page, &at);
  if(why) fail_msg("%s at byte %zu (\"%.60s\"): %s", name, at, page + at, why);
}

/* ---- the tests ------------------------------------------------------------------ */

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if(!f) return NULL;
  char *text = NULL;
  long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  if(n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)n + 1))) {
    if(fread(text, 1, (size_t)n, f) != (size_t)n) {
      free(text);
      text = NULL;
    } else {
      text[n] = '\0';
    }
  }
  fclose(f);
  return text;
}

static void test_golden(void **state) {
  (void)state;
  int update = getenv("SQR_UPDATE_GOLDEN") && strcmp(getenv("SQR_UPDATE_GOLDEN"), "1") == 0;
  for(size_t i = 0; i < SQR_ARRAY_LEN(pages); i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.html", SQR_GOLDEN_DIR, pages[i].name);
    char *page = render_page(&pages[i], 0);
    check_html(pages[i].name, page);
    if(update) {
      FILE *f = fopen(path, "wb");
      assert_non_null(f);
      assert_int_equal(fwrite(page, 1, strlen(page), f), strlen(page));
      assert_int_equal(fclose(f), 0);
      printf("wrote %s\n", path);
    }
    char *want = read_file(path);
    if(!want) fail_msg("%s: cannot read (SQR_UPDATE_GOLDEN=1 writes it)", path);
    if(strcmp(page, want) != 0) {
      size_t k = 0;
      while(page[k] && page[k] == want[k])
        k++;
      size_t from = k > 40 ? k - 40 : 0;
      fail_msg("%s differs from %s at byte %zu:\n  want ...%.100s\n  got  ...%.100s", pages[i].name,
               path, k, want + from, page + from);
    }
    free(want);
    free(page);
  }
}

static void test_hostile(void **state) {
  (void)state;
  for(size_t i = 0; i < SQR_ARRAY_LEN(pages); i++) {
    const char *name = pages[i].name;
    char *page = render_page(&pages[i], 1), *plain = render_page(&pages[i], 0);
    size_t markers = count(page, MARKER), escaped = count(page, ESCAPED);
    /* the hostile text reaches the page only in its escaped form... */
    if(markers != escaped)
      fail_msg("%s: %zu of %zu hostile strings not escaped:\n%s", name, markers - escaped, markers,
               page);
    /* ...and it does reach the page wherever the page shows a string
     * (the notices and the storage error show none of the view's) */
    if(strcmp(name, "shopper_notices") != 0 && strcmp(name, "dash_error") != 0 &&
       strcmp(name, "dash_login") != 0)
      assert_true(escaped > 0);
    /* no script but the page's own */
    assert_int_equal(count(page, "<script"), count(plain, "<script"));
    assert_int_equal(count(page, "<script"), strcmp(name, "shopper_brand_zh") == 0 ||
                                                     strcmp(name, "shopper_brand_en_note") == 0
                                                 ? 1
                                                 : 0);
    check_html(name, page);
    free(page);
    free(plain);
  }
}

/* The checker itself catches what a raw substitution would let through. */
static void test_checker(void **state) {
  (void)state;
  check_html("ok", "<p title=\"a&amp;b\">x &lt; y</p><br/><a download>z</a>"
                   "<script>if(a<b&&c>d)x();</script>");
  static const char *const bad[] = {
      "<p title=\"\"'&13800138000\">x</p>", /* a quote left an attribute */
      "<p>a & b</p>",                       /* a bare ampersand */
      "<p>a > b</p>",                       /* a bare '>' */
      "<p>1 < 2</p>",                       /* a '<' that opens no tag */
      "<p title=\"<b>\">x</p>",             /* markup inside an attribute */
      "<p title='x'>y</p>",                 /* a value the escaping cannot guard */
  };
  for(size_t i = 0; i < SQR_ARRAY_LEN(bad); i++) {
    size_t at;
    if(!html_problem(bad[i], &at)) fail_msg("not caught: %s", bad[i]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_checker),
      cmocka_unit_test(test_golden),
      cmocka_unit_test(test_hostile),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
