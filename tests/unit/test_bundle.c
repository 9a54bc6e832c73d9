/* test_bundle.c — the bundle format's rules apart from any file: the two
 * header formats (a forced flag only with both bounds in format 2, no
 * unknown flag), the entry rules, and the payload walk fed whole and one
 * byte at a time (storeqr-update and HQ feed it in whatever pieces their
 * reads return), with the first problem kept and named. */
#include "testutil.h"
#include "bundle.h"

#include <string.h>
#include <sys/stat.h>

typedef struct payload {
  uint8_t b[4096];
  size_t len;
  uint32_t count;
} payload;

/* Appends one record as storeqr-bundle would, without its checks (the
 * hostile ones are the point). */
static void add(payload *p, const char *path, uint32_t mode, const char *data) {
  size_t plen = strlen(path), dlen = strlen(data);
  uint8_t *r = p->b + p->len;
  r[0] = (uint8_t)(plen >> 8), r[1] = (uint8_t)plen;
  memcpy(r + 2, path, plen);
  for(int i = 0; i < 4; i++)
    r[2 + plen + (size_t)i] = (uint8_t)(mode >> (24 - 8 * i));
  for(int i = 0; i < 8; i++)
    r[6 + plen + (size_t)i] = (uint8_t)((uint64_t)dlen >> (56 - 8 * i));
  memcpy(r + 14 + plen, data, dlen);
  p->len += 14 + plen + dlen;
  p->count++;
}

/* The walk's verdict, fed whole and byte by byte: both must agree. */
static sqr_rc walk(const payload *p, uint32_t count, char *why, size_t whylen) {
  bundle_walk w1, w2;
  bundle_walk_init(&w1, count);
  bundle_walk_feed(&w1, p->b, p->len);
  sqr_rc rc1 = bundle_walk_end(&w1);
  bundle_walk_init(&w2, count);
  for(size_t i = 0; i < p->len; i++)
    bundle_walk_feed(&w2, p->b + i, 1);
  sqr_rc rc2 = bundle_walk_end(&w2);
  assert_int_equal(rc1, rc2);
  assert_string_equal(w1.why, w2.why);
  snprintf(why, whylen, "%s", w1.why);
  return rc1;
}

static void expect_bad(const payload *p, const char *msg) {
  char why[512];
  assert_int_equal(walk(p, p->count, why, sizeof why), SQR_ECORRUPT);
  if(!strstr(why, msg)) fail_msg("walk said \"%s\", want \"%s\"", why, msg);
}

static void test_walk_good(void **state) {
  (void)state;
  payload p = {0};
  add(&p, "bin", S_IFDIR | 0755, "");
  add(&p, "bin/a", S_IFREG | 0755, "hello");
  add(&p, "bin/empty", S_IFREG | 0644, "");
  add(&p, "bin-x", S_IFREG | 0644, "x"); /* after bin/…: '/' sorts first */
  add(&p, "share", S_IFDIR | 0755, "");
  add(&p, "share/s", S_IFDIR | 0755, "");
  add(&p, "share/s/t", S_IFREG | 0644, "t");
  add(&p, "z", S_IFREG | 0644, "z");
  char why[512];
  assert_int_equal(walk(&p, p.count, why, sizeof why), SQR_OK);
  /* The count is part of the rule: one more or one less is refused. */
  assert_int_equal(walk(&p, p.count + 1, why, sizeof why), SQR_ECORRUPT);
  assert_non_null(strstr(why, "ends inside entry"));
  assert_int_equal(walk(&p, p.count - 1, why, sizeof why), SQR_ECORRUPT);
  assert_non_null(strstr(why, "bytes after its last entry"));
  payload none = {0};
  assert_int_equal(walk(&none, 0, why, sizeof why), SQR_OK);
}

static void test_walk_hostile(void **state) {
  (void)state;
  struct {
    const char *path;
    uint32_t mode;
    const char *msg;
  } one[] = {
      {".storeqr-release", S_IFREG | 0644, "reserved"},
      {".storeqr-release.tmp", S_IFLNK | 0777, "reserved"},
      {"a/.storeqr-x", S_IFREG | 0644, "reserved"},
      {"link", S_IFLNK | 0777, "symbolic link"},
      {"dev", S_IFCHR | 0644, "device node"},
      {"blk", S_IFBLK | 0644, "device node"},
      {"fifo", S_IFIFO | 0644, "FIFO"},
      {"sock", S_IFSOCK | 0644, "socket"},
      {"odd", 0644, "unknown file type"},
      {"suid", S_IFREG | 04755, "setuid"},
      {"../x", S_IFREG | 0644, "plain relative path"},
      {"/etc/x", S_IFREG | 0644, "plain relative path"},
      {"a//b", S_IFREG | 0644, "plain relative path"},
      {"./a", S_IFREG | 0644, "plain relative path"},
      {"a/", S_IFREG | 0644, "plain relative path"},
      {"tab\tname", S_IFREG | 0644, "plain relative path"},
      {"x/y", S_IFREG | 0644, "not inside a directory entry"},
  };
  for(size_t i = 0; i < sizeof one / sizeof one[0]; i++) {
    payload p = {0};
    if(!strncmp(one[i].path, "a/", 2)) add(&p, "a", S_IFDIR | 0755, "");
    add(&p, one[i].path, one[i].mode, "");
    expect_bad(&p, one[i].msg);
  }
  payload p = {0};
  add(&p, "d", S_IFDIR | 0755, "abc");
  expect_bad(&p, "directory with a size");
  memset(&p, 0, sizeof p);
  add(&p, "b", S_IFREG | 0644, "");
  add(&p, "a", S_IFREG | 0644, "");
  expect_bad(&p, "\"a\" is out of order");
  memset(&p, 0, sizeof p);
  add(&p, "a", S_IFREG | 0644, "1");
  add(&p, "a", S_IFREG | 0644, "2");
  expect_bad(&p, "\"a\" appears twice");
  memset(&p, 0, sizeof p);
  add(&p, "a", S_IFREG | 0644, "");
  add(&p, "a/b", S_IFREG | 0644, "");
  expect_bad(&p, "\"a/b\" is not inside a directory entry");
  /* A directory closed by a sibling is not open again for a later child. */
  memset(&p, 0, sizeof p);
  add(&p, "a", S_IFDIR | 0755, "");
  add(&p, "b", S_IFDIR | 0755, "");
  add(&p, "b/c", S_IFREG | 0644, "");
  add(&p, "c", S_IFREG | 0644, "");
  char why[512];
  assert_int_equal(walk(&p, p.count, why, sizeof why), SQR_OK);
  /* The first problem is the one kept, named in printable form. */
  memset(&p, 0, sizeof p);
  add(&p, "new\nline", S_IFREG | 0644, "");
  add(&p, "dev", S_IFCHR | 0644, "");
  expect_bad(&p, "entry \"new?line\"");
}

static void test_header_formats(void **state) {
  (void)state;
  bundle_header h, d;
  uint8_t buf[BUNDLE_HEADER_MAX];
  memset(&h, 0, sizeof h);
  snprintf(h.product, sizeof h.product, "storeqr-kiosk");
  snprintf(h.version, sizeof h.version, "1.2.3");
  h.flags = BUNDLE_FLAG_FORCED;
  snprintf(h.forced_from, sizeof h.forced_from, "1.3.0");
  h.forced_until = 1893456000;
  h.count = 3;
  h.payload_len = 99;
  memset(h.sig, 0xab, sizeof h.sig);
  size_t len = bundle_header_encode(&h, buf);
  assert_int_equal(len, BUNDLE_HEADER_LEN_V2);
  assert_int_equal(bundle_header_len(buf), BUNDLE_HEADER_LEN_V2);
  assert_int_equal(bundle_header_decode(buf, len, &d), SQR_OK);
  assert_int_equal(d.format, 2);
  assert_int_equal(d.signed_len, 136);
  assert_string_equal(d.forced_from, "1.3.0");
  assert_true(d.forced_until == 1893456000u);
  assert_memory_equal(d.sig, h.sig, sizeof h.sig);
  assert_int_equal(bundle_header_decode(buf, BUNDLE_HEADER_LEN_V1, &d), SQR_EINVAL);
  /* Forced needs both bounds; bounds need forced; no unknown flag. */
  bundle_header bad = h;
  bad.forced_until = 0;
  assert_int_equal(bundle_header_decode(buf, bundle_header_encode(&bad, buf), &d), SQR_EINVAL);
  bad = h;
  bad.forced_from[0] = '\0';
  assert_int_equal(bundle_header_decode(buf, bundle_header_encode(&bad, buf), &d), SQR_EINVAL);
  bad = h;
  bad.flags = 0;
  assert_int_equal(bundle_header_decode(buf, bundle_header_encode(&bad, buf), &d), SQR_EINVAL);
  bad = h;
  bad.flags = BUNDLE_FLAG_FORCED | 0x2u;
  assert_int_equal(bundle_header_decode(buf, bundle_header_encode(&bad, buf), &d), SQR_EINVAL);
  /* Format 1: read, with no bounds (the box and HQ refuse it forced). */
  bundle_header v1 = h;
  v1.format = 1;
  len = bundle_header_encode(&v1, buf);
  assert_int_equal(len, BUNDLE_HEADER_LEN_V1);
  assert_int_equal(bundle_header_decode(buf, len, &d), SQR_OK);
  assert_int_equal(d.format, 1);
  assert_int_equal(d.signed_len, 96);
  assert_true((d.flags & BUNDLE_FLAG_FORCED) && !d.forced_from[0] && !d.forced_until);
  memcpy(buf, "SQRBNDL3", 8);
  assert_int_equal(bundle_header_len(buf), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_walk_good),
      cmocka_unit_test(test_walk_hostile),
      cmocka_unit_test(test_header_formats),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
