/* test_tmpl.c — HQ's template engine (sync/hq/web/tmpl.c): escaping,
 * the one raw form, sections and inverted sections, scopes and dotted
 * names, partials, whitespace, bounded output, and templates refused
 * with a message a person can act on.
 *   test_tmpl            the engine (ctest hqweb.tmpl)
 *   test_tmpl embedded   every template embedded in storeqr-hq compiles
 *                        (ctest hqweb.templates)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"

/* src[0] is template "t" (text), then the partials given as name, text
 * pairs in ap, NULL-terminated (at most 7). Returns how many. */
static size_t sources(tmpl_source src[8], const char *text, va_list ap) {
  size_t n = 0;
  src[n++] = (tmpl_source){"t", text, strlen(text)};
  for(const char *name; n < 8 && (name = va_arg(ap, const char *)); n++) {
    const char *pt = va_arg(ap, const char *);
    src[n] = (tmpl_source){name, pt, strlen(pt)};
  }
  return n;
}

/* Renders template "t" (with the partials given as name, text pairs after
 * it, NULL-terminated) with view (JSON text) and returns the page
 * (static, valid until the next call). Fails the test on any error. */
static const char *render(const char *view_json, const char *text, ...) {
  static char page[8192];
  tmpl_source src[8];
  va_list ap;
  va_start(ap, text);
  size_t n = sources(src, text, ap);
  va_end(ap);
  char err[300];
  tmpl_set *s = NULL;
  sqr_rc rc = tmpl_set_new(src, n, &s, err, sizeof err);
  if(rc) fail_msg("compile: %s", err);
  cJSON *view = view_json ? cJSON_Parse(view_json) : NULL;
  if(view_json) assert_non_null(view);
  dynbuf b;
  dynbuf_init(&b, sizeof page);
  assert_int_equal(tmpl_set_render(s, "t", view, &b), SQR_OK);
  snprintf(page, sizeof page, "%s", dynbuf_ptr(&b));
  dynbuf_free(&b);
  cJSON_Delete(view);
  tmpl_set_free(s);
  return page;
}

/* The error a template is refused with ("" if it compiled). */
static const char *refused(const char *text, ...) {
  static char err[300];
  tmpl_source src[8];
  va_list ap;
  va_start(ap, text);
  size_t n = sources(src, text, ap);
  va_end(ap);
  tmpl_set *s = NULL;
  err[0] = '\0';
  sqr_rc rc = tmpl_set_new(src, n, &s, err, sizeof err);
  if(rc) {
    assert_int_equal(rc, SQR_EINVAL);
    assert_null(s);
    assert_true(err[0] != '\0');
  } else {
    assert_string_equal(err, "");
  }
  tmpl_set_free(s);
  return err;
}

static void test_escaping(void **state) {
  (void)state;
  assert_string_equal(
      render("{\"x\":\"<a href=\\\"j\\\">&'</a>\"}", "<p title=\"{{x}}\">{{x}}</p>", NULL),
      "<p title=\"&lt;a href=&quot;j&quot;&gt;&amp;&#39;&lt;/a&gt;\">"
      "&lt;a href=&quot;j&quot;&gt;&amp;&#39;&lt;/a&gt;</p>");
  /* invalid UTF-8 and control characters do not pass either */
  assert_string_equal(render("{\"x\":\"a\\u0001b\"}", "{{x}}", NULL), "a\xEF\xBF\xBD"
                                                                      "b");
  /* spaces inside the braces are allowed */
  assert_string_equal(render("{\"x\":\"<\"}", "{{ x }}{{{ x }}}", NULL), "&lt;<");
}

static void test_raw(void **state) {
  (void)state;
  assert_string_equal(render("{\"x\":\"<b>&amp;</b>\"}", "{{{x}}}", NULL), "<b>&amp;</b>");
  assert_string_equal(render("{\"x\":\"<b>\"}", "{{x}}}", NULL), "&lt;b&gt;}");
}

static void test_values(void **state) {
  (void)state;
  assert_string_equal(render("{\"a\":42,\"b\":-3,\"c\":1.5,\"d\":1e15,\"e\":true,\"f\":false,"
                             "\"g\":null,\"h\":[1],\"i\":{\"j\":1}}",
                             "{{a}} {{b}} {{c}} {{d}} {{e}} {{f}} [{{g}}{{h}}{{i}}]", NULL),
                      "42 -3 1.5 1000000000000000 true false []");
  /* missing keys, also part way down a dotted name, render as nothing */
  assert_string_equal(render("{\"a\":{\"b\":1}}", "[{{nope}}{{a.nope}}{{a.b.c}}{{x.y}}]", NULL),
                      "[]");
  assert_string_equal(render(NULL, "[{{x}}]{{#x}}no{{/x}}{{^x}}yes{{/x}}", NULL), "[]yes");
}

static void test_sections(void **state) {
  (void)state;
  /* arrays repeat, with the item as the innermost scope */
  assert_string_equal(render("{\"l\":[{\"n\":\"a\"},{\"n\":\"b\"}]}", "{{#l}}<{{n}}>{{/l}}", NULL),
                      "<a><b>");
  assert_string_equal(render("{\"l\":[\"x\",\"<y>\",3]}", "{{#l}}[{{.}}]{{/l}}", NULL),
                      "[x][&lt;y&gt;][3]");
  /* truthy and falsy */
  const char *t = "{{#v}}T{{/v}}{{^v}}F{{/v}}";
  assert_string_equal(render("{\"v\":\"s\"}", t, NULL), "T");
  assert_string_equal(render("{\"v\":\"\"}", t, NULL), "F");
  assert_string_equal(render("{\"v\":1}", t, NULL), "T");
  assert_string_equal(render("{\"v\":-1}", t, NULL), "T");
  assert_string_equal(render("{\"v\":0}", t, NULL), "F");
  assert_string_equal(render("{\"v\":true}", t, NULL), "T");
  assert_string_equal(render("{\"v\":false}", t, NULL), "F");
  assert_string_equal(render("{\"v\":null}", t, NULL), "F");
  assert_string_equal(render("{\"v\":[]}", t, NULL), "F");
  assert_string_equal(render("{\"v\":{}}", t, NULL), "F");
  assert_string_equal(render("{\"v\":{\"a\":1}}", t, NULL), "T");
  assert_string_equal(render("{}", t, NULL), "F");
  /* a truthy scalar shows once, and is "." inside */
  assert_string_equal(render("{\"v\":\"<x>\"}", "{{#v}}({{.}}){{/v}}", NULL), "(&lt;x&gt;)");
  /* an object is the scope inside */
  assert_string_equal(render("{\"o\":{\"a\":1},\"a\":2}", "{{#o}}{{a}}{{/o}}{{a}}", NULL), "12");
  /* nested sections and text around them stay in their place */
  assert_string_equal(render("{\"l\":[{\"m\":[1,2]},{\"m\":[]}]}",
                             "A{{#l}}B{{#m}}{{.}}{{/m}}{{^m}}-{{/m}}C{{/l}}D", NULL),
                      "AB12CB-CD");
}

static void test_scopes(void **state) {
  (void)state;
  /* the innermost object holding the key wins; outer keys stay visible */
  const char *v = "{\"name\":\"root\",\"brand\":\"B\",\"l\":[{\"name\":\"one\"},{\"other\":1}]}";
  assert_string_equal(render(v, "{{#l}}{{name}}/{{brand}};{{/l}}", NULL), "one/B;root/B;");
  /* a dotted name finds its first key up the chain, then descends */
  assert_string_equal(
      render("{\"a\":{\"b\":{\"c\":\"deep\"}},\"l\":[1]}", "{{#l}}{{a.b.c}}{{/l}}", NULL), "deep");
  /* a key present in an inner object stops the search even when its
   * value is deeper missing (mustache's rule) */
  assert_string_equal(render("{\"a\":{\"b\":1},\"l\":[{\"a\":{}}]}", "{{#l}}[{{a.b}}]{{/l}}", NULL),
                      "[]");
  /* scalars on the scope chain are skipped by name lookups */
  assert_string_equal(render("{\"x\":\"X\",\"l\":[\"s\"]}", "{{#l}}{{x}}{{/l}}", NULL), "X");
}

static void test_partials(void **state) {
  (void)state;
  assert_string_equal(render("{\"t\":\"<T>\",\"l\":[{\"n\":1},{\"n\":2}]}",
                             "{{>head}}{{#l}}{{>item}}{{/l}}{{>tail}}", "head", "<h>{{t}}</h>",
                             "item", "<i>{{n}}{{>deep}}</i>", "deep", "{{t}}", "tail", "</end>",
                             NULL),
                      "<h>&lt;T&gt;</h><i>1&lt;T&gt;</i><i>2&lt;T&gt;</i></end>");
}

static void test_whitespace(void **state) {
  (void)state;
  /* a line break and the next line's indentation are not part of it */
  assert_string_equal(render("{\"x\":1}", "<a>\n  <b>{{x}}</b>\n\t\t<c>\n\n</c>\n", NULL),
                      "<a><b>1</b><c></c>");
  /* CRLF too; spaces before the break stay */
  assert_string_equal(render(NULL, "a \r\n  b", NULL), "a b");
  /* around tags and comments */
  assert_string_equal(
      render("{\"l\":[1,2]}",
             "{{! a comment\n   over lines }}\n<ul>\n  {{#l}}\n    <li>{{.}}</li>\n  "
             "{{/l}}\n</ul>\n",
             NULL),
      "<ul><li>1</li><li>2</li></ul>");
  /* {{\n}} writes one */
  assert_string_equal(render(NULL, "<!DOCTYPE html>{{\\n}}<html>\n</html>{{\\n}}\n", NULL),
                      "<!DOCTYPE html>\n<html></html>\n");
}

static void test_refused(void **state) {
  (void)state;
  assert_string_equal(refused("ok {{x}}", NULL), "");
  assert_string_equal(refused("line one\n  {{x", NULL), "t:2:3: '{{' is never closed");
  assert_non_null(strstr(refused("{{{x}}", NULL), "'{{{' is never closed"));
  assert_non_null(strstr(refused("{{#a}}x", NULL), "t:1:1: '{{#a}}' is never closed"));
  assert_non_null(strstr(refused("{{^a}}{{#b}}{{/b}}", NULL), "'{{^a}}' is never closed"));
  assert_non_null(strstr(refused("x{{/a}}", NULL), "t:1:2: '{{/a}}' closes no section"));
  assert_non_null(
      strstr(refused("{{#a}}\n{{/b}}", NULL), "t:2:1: '{{/b}}' does not close '{{#a}}' (line 1)"));
  assert_non_null(strstr(refused("{{x y}}", NULL), "bad name 'x y'"));
  assert_non_null(strstr(refused("{{}}", NULL), "bad name ''"));
  assert_non_null(strstr(refused("{{a..b}}", NULL), "bad name"));
  assert_non_null(strstr(refused("{{.a}}", NULL), "bad name"));
  assert_non_null(strstr(refused("{{a.}}", NULL), "bad name"));
  assert_non_null(strstr(refused("{{<script>}}", NULL), "bad name"));
  assert_non_null(strstr(refused("{{#}}{{/}}", NULL), "bad name"));
  assert_non_null(strstr(refused("{{>a.b}}", "a.b", "", NULL), "bad name"));
  assert_non_null(strstr(refused("{{&x}}", NULL), "'{{&' is not supported"));
  assert_non_null(strstr(refused("{{=<% %>=}}", NULL), "delimiters"));
  assert_non_null(strstr(refused("a\n {{>nope}}", NULL), "t:2:2: unknown partial 'nope'"));
  assert_non_null(strstr(refused("{{>a}}", "a", "{{>b}}", "b", "{{>a}}", NULL),
                         "includes itself through partials"));
  assert_non_null(strstr(refused("{{>t}}", NULL), "t: includes itself through partials"));
  assert_non_null(strstr(refused("x", "t", "y", NULL), "two templates of that name"));
  assert_non_null(strstr(refused("x", "bad name", "y", NULL), "not a template name"));
  char deep[40 * 12 + 1] = "";
  for(int i = 0; i < 33; i++)
    strcat(deep, "{{#a}}");
  for(int i = 0; i < 33; i++)
    strcat(deep, "{{/a}}");
  assert_non_null(strstr(refused(deep, NULL), "nested deeper than 32"));
}

static void test_bounded(void **state) {
  (void)state;
  tmpl_source src[] = {{"t", "{{#l}}{{x}}{{/l}}", 17}};
  tmpl_set *s;
  char err[200];
  assert_int_equal(tmpl_set_new(src, 1, &s, err, sizeof err), SQR_OK);
  cJSON *v = cJSON_Parse("{\"x\":\"<<<<<<<<<<\",\"l\":[1,2,3,4,5,6,7,8,9,10]}");
  dynbuf b;
  dynbuf_init(&b, 100); /* each item is 40 bytes escaped */
  assert_int_equal(tmpl_set_render(s, "t", v, &b), SQR_ETOOBIG);
  assert_int_equal(dynbuf_error(&b), SQR_ETOOBIG);
  dynbuf_free(&b);
  dynbuf_init(&b, 1000);
  assert_int_equal(tmpl_set_render(s, "t", v, &b), SQR_OK);
  assert_int_equal(dynbuf_len(&b), 400);
  assert_int_equal(tmpl_set_render(s, "nope", v, &b), SQR_ENOTFOUND);
  dynbuf_free(&b);
  cJSON_Delete(v);
  tmpl_set_free(s);
  tmpl_set_free(NULL);
}

/* The embedded set compiles once, whichever thread asks first. */
static void *render_notice(void *arg) {
  dynbuf *b = arg;
  cJSON *v = cJSON_Parse("{\"html_lang\":\"en\",\"title\":\"T\",\"hint\":\"H\"}");
  if(v && tmpl_render("shopper_notice", v, b)) dynbuf_free(b);
  cJSON_Delete(v);
  return NULL;
}

static void test_embedded_threads(void **state) {
  (void)state;
  enum { N = 8 };
  pthread_t th[N];
  dynbuf b[N];
  for(int i = 0; i < N; i++) {
    dynbuf_init(&b[i], 1 << 16);
    assert_int_equal(pthread_create(&th[i], NULL, render_notice, &b[i]), 0);
  }
  for(int i = 0; i < N; i++)
    pthread_join(th[i], NULL);
  for(int i = 0; i < N; i++) {
    assert_non_null(strstr(dynbuf_ptr(&b[i]), "<h1 id=\"message\">T</h1>"));
    assert_string_equal(dynbuf_ptr(&b[i]), dynbuf_ptr(&b[0]));
  }
  for(int i = 0; i < N; i++)
    dynbuf_free(&b[i]);
}

static void test_embedded_compile(void **state) {
  (void)state;
  char err[300];
  if(tmpl_check_embedded(err, sizeof err)) fail_msg("sync/hq/templates: %s", err);
  assert_true(tmpl__embedded_count > 0);
}

int main(int argc, char **argv) {
  const struct CMUnitTest engine[] = {
      cmocka_unit_test(test_escaping),   cmocka_unit_test(test_raw),
      cmocka_unit_test(test_values),     cmocka_unit_test(test_sections),
      cmocka_unit_test(test_scopes),     cmocka_unit_test(test_partials),
      cmocka_unit_test(test_whitespace), cmocka_unit_test(test_refused),
      cmocka_unit_test(test_bounded),    cmocka_unit_test(test_embedded_threads),
  };
  const struct CMUnitTest embedded[] = {cmocka_unit_test(test_embedded_compile)};
  if(argc > 1 && strcmp(argv[1], "embedded") == 0)
    return cmocka_run_group_tests(embedded, NULL, NULL);
  return cmocka_run_group_tests(engine, NULL, NULL);
}
