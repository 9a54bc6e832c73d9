/* test_joinlink.c — the one rule for join and contact links: https, not
 * empty after the scheme, nothing that could leave an HTML attribute. */
#include "testutil.h"
#include "joinlink.h"

#include <stdio.h>

static void test_accepted(void **state) {
  (void)state;
  assert_true(joinlink_valid("https://weixin.qq.com/g/demo-ja-store-1"));
  assert_true(joinlink_valid("https://work.weixin.qq.com/ca/demo-staff-contact"));
  assert_true(joinlink_valid("https://x"));
  assert_true(joinlink_valid("https://example.cn/j?g=1&s=SH-JA01#top"));
  assert_true(joinlink_valid("https://example.cn/%20encoded"));
  assert_true(joinlink_valid("https://例子.cn/群")); /* UTF-8 passes */
}

static void test_refused(void **state) {
  (void)state;
  static const char *bad[] = {
      NULL,
      "",
      "https://",
      "http://weixin.qq.com/g/x",
      "HTTPS://weixin.qq.com/g/x", /* as HQ: the scheme in lower case */
      "weixin.qq.com/g/x",
      " https://weixin.qq.com/g/x",
      "https://weixin.qq.com/g/a b",
      "https://weixin.qq.com/g/x\"onmouseover=\"alert(1)",
      "https://weixin.qq.com/g/x'",
      "https://weixin.qq.com/g/<script>",
      "https://weixin.qq.com/g/x>",
      "https://weixin.qq.com\\@evil.example/",
      "https://weixin.qq.com/g/x\t",
      "https://weixin.qq.com/g/x\n",
      "https://weixin.qq.com/g/x\r",
      "https://weixin.qq.com/g/\x01",
      "https://weixin.qq.com/g/\x7f",
  };
  for(size_t i = 0; i < SQR_ARRAY_LEN(bad); i++)
    if(joinlink_valid(bad[i]))
      fail_msg("accepted bad link #%zu: \"%s\"", i, bad[i] ? bad[i] : "(null)");
}

/* Every ASCII byte after a valid prefix: exactly the listed ones refused. */
static void test_every_ascii_byte(void **state) {
  (void)state;
  for(int b = 1; b < 128; b++) {
    char link[32];
    snprintf(link, sizeof link, "https://a/%c", b);
    int want =
        !(b <= ' ' || b == 0x7f || b == '"' || b == '\'' || b == '<' || b == '>' || b == '\\');
    if(joinlink_valid(link) != want) fail_msg("byte 0x%02x: got %d, want %d", b, !want, want);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_accepted),
      cmocka_unit_test(test_refused),
      cmocka_unit_test(test_every_ascii_byte),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
