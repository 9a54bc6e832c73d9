/* test_dynbuf.c — the bounded buffer: growth, the hard maximum and its
 * sticky error, hand-over, and each escaper against hostile text. */
#include "testutil.h"
#include "csv.h"
#include "dynbuf.h"

#include <stdlib.h>
#include <string.h>

static void test_grow_and_take(void **state) {
  (void)state;
  dynbuf b;
  dynbuf_init(&b, 1 << 20);
  assert_string_equal(dynbuf_ptr(&b), "");
  for(int i = 0; i < 1000; i++)
    assert_int_equal(dynbuf_addf(&b, "%04d,", i), SQR_OK);
  assert_int_equal(dynbuf_len(&b), 5000);
  assert_memory_equal(dynbuf_ptr(&b) + 4995, "0999,", 5);
  /* A long printf goes past the small stack buffer. */
  char big[1000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  assert_int_equal(dynbuf_addf(&b, "[%s]", big), SQR_OK);
  assert_int_equal(dynbuf_len(&b), 5000 + 1001);
  size_t n = 0;
  char *t = dynbuf_take(&b, &n);
  assert_non_null(t);
  assert_int_equal(n, 6001);
  assert_int_equal(strlen(t), 6001);
  free(t);
  assert_int_equal(dynbuf_len(&b), 0);
  /* An empty buffer hands over "". */
  t = dynbuf_take(&b, &n);
  assert_string_equal(t, "");
  assert_int_equal(n, 0);
  free(t);
  dynbuf_free(&b);
}

static void test_toobig_is_sticky(void **state) {
  (void)state;
  dynbuf b;
  dynbuf_init(&b, 16); /* at most 15 bytes of text */
  assert_int_equal(dynbuf_adds(&b, "0123456789"), SQR_OK);
  assert_int_equal(dynbuf_adds(&b, "01234"), SQR_OK);
  assert_int_equal(dynbuf_len(&b), 15);
  assert_int_equal(dynbuf_adds(&b, "x"), SQR_ETOOBIG);
  /* Sticky: even a fitting append (there is none left) or an empty one fails. */
  assert_int_equal(dynbuf_add(&b, "", 0), SQR_ETOOBIG);
  assert_int_equal(dynbuf_addf(&b, "%d", 1), SQR_ETOOBIG);
  assert_int_equal(dynbuf_add_html(&b, "<"), SQR_ETOOBIG);
  assert_int_equal(dynbuf_error(&b), SQR_ETOOBIG);
  assert_string_equal(dynbuf_ptr(&b), "");
  assert_null(dynbuf_take(&b, NULL));
  /* Reset clears the error. */
  dynbuf_reset(&b);
  assert_int_equal(dynbuf_adds(&b, "ok"), SQR_OK);
  assert_string_equal(dynbuf_ptr(&b), "ok");
  dynbuf_free(&b);
  dynbuf_free(NULL);
}

static const char *esc(int kind, const char *s) {
  static char out[512];
  dynbuf b;
  dynbuf_init(&b, sizeof out);
  sqr_rc rc = kind == 0   ? dynbuf_add_html(&b, s)
              : kind == 1 ? dynbuf_add_json(&b, s)
                          : dynbuf_add_csv(&b, s);
  assert_int_equal(rc, SQR_OK);
  strcpy(out, dynbuf_ptr(&b));
  dynbuf_free(&b);
  return out;
}

static void test_html(void **state) {
  (void)state;
  assert_string_equal(esc(0, "<script>alert(\"x\")</script>&'"),
                      "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
  assert_string_equal(esc(0, "静安寺店"), "静安寺店");
  assert_string_equal(esc(0, "a\x01"
                             "b\xff"
                             "c"),
                      "a\xEF\xBF\xBD"
                      "b\xEF\xBF\xBD"
                      "c");
  assert_string_equal(esc(0, "tab\there\nline"), "tab\there\nline");
}

static void test_json(void **state) {
  (void)state;
  assert_string_equal(esc(1, "a\"b\\c\n\x7f</"), "a\\\"b\\\\c\\u000a\\u007f</");
  assert_string_equal(esc(1, "\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

static void test_csv(void **state) {
  (void)state;
  assert_string_equal(esc(2, "plain"), "plain");
  assert_string_equal(esc(2, "a,b"), "\"a,b\"");
  assert_string_equal(esc(2, "say \"hi\""), "\"say \"\"hi\"\"\"");
  assert_string_equal(esc(2, "=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
  assert_string_equal(esc(2, "+1"), "'+1");
  assert_string_equal(esc(2, "-1"), "'-1");
  assert_string_equal(esc(2, "@SUM"), "'@SUM");
  assert_string_equal(esc(2, "\tx"), "'\tx");
  assert_string_equal(esc(2, "line\nbreak"), "\"line\nbreak\"");
}

static void test_csv_rows(void **state) {
  (void)state;
  dynbuf b;
  dynbuf_init(&b, 4096);
  csv_row r;
  csv_row_start(&r, &b);
  csv_text(&r, "store");
  csv_text(&r, "name");
  csv_text(&r, "n");
  assert_int_equal(csv_row_end(&r), SQR_OK);
  csv_row_start(&r, &b);
  csv_text(&r, "SH-JA01");
  csv_text(&r, "=HYPERLINK(\"x\"), <script>");
  csv_int(&r, -5); /* a number is never defused */
  csv_fixed(&r, 0.33333, 3);
  csv_empty(&r);
  csv_text(&r, NULL);
  assert_int_equal(csv_row_end(&r), SQR_OK);
  assert_string_equal(dynbuf_ptr(&b),
                      "store,name,n\r\n"
                      "SH-JA01,\"'=HYPERLINK(\"\"x\"\"), <script>\",-5,0.333,,\r\n");
  dynbuf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_grow_and_take), cmocka_unit_test(test_toobig_is_sticky),
      cmocka_unit_test(test_html),          cmocka_unit_test(test_json),
      cmocka_unit_test(test_csv),           cmocka_unit_test(test_csv_rows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
