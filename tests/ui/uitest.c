/* uitest.c — see uitest.h. */
#define _GNU_SOURCE
#include "uitest.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <png.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zbar.h>

#include "crypto.h"
#include "demo.h"
#include "live.h"
#include "livecode.h"
#include "pin.h"
#include "seal.h"
#include "store.h"

extern char **environ;
const char *ut_kiosk;
const char *ut_dir;

const char *ut_setup(const char *name) {
  static char dir[1024];
  const char *base = getenv("SQR_TEST_TMP");
  snprintf(dir, sizeof dir, "%s/%s", base && *base ? base : "/tmp/storeqr-ui", name);
  char cmd[2200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
  UT_CHECK(system(cmd) == 0, "cannot make %s", dir);
  ut_dir = dir;
  return dir;
}

int64_t ut_now_aligned(void) {
  int64_t t = (int64_t)time(NULL);
  return t - t % 30 + 2;
}

void ut_make_store(const char *db, int64_t t, const ut_store_opts *o) {
  static char tmpl[64 * 1024];
  FILE *f = fopen(SQR_SOURCE_DIR "/assets/config/demo.json", "r");
  UT_CHECK(f, "demo.json");
  size_t n = fread(tmpl, 1, sizeof tmpl - 1, f);
  fclose(f);
  tmpl[n] = '\0';
  uint8_t pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN], key[32];
  UT_CHECK(seal_keypair_generate(pub, priv) == SQR_OK, "keypair");
  UT_CHECK(crypto_random(key, sizeof key) == SQR_OK, "random");
  char *json = NULL;
  UT_CHECK(demo_config_json(tmpl, 1, key, pub, t, &json) == SQR_OK, "demo config");
  cJSON *root = cJSON_Parse(json);
  free(json);
  char pinhash[PIN_HASH_MAX];
  UT_CHECK(pin_hash(UT_PIN, PIN_MIN_ITERATIONS, pinhash) == SQR_OK, "pin hash");
  cJSON *mgr = cJSON_GetObjectItem(root, "manager");
  cJSON_ReplaceItemInObject(mgr, "pin_hash", cJSON_CreateString(pinhash));
  if(o && o->direct) cJSON_ReplaceItemInObject(root, "mode", cJSON_CreateString("direct"));
  if(o && o->campaign_image) {
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "campaigns")) {
      cJSON_DeleteItemFromObject(c, "image");
      cJSON_AddItemToObject(c, "image", cJSON_CreateString(o->campaign_image));
    }
  }
  if(o && o->group1_capacity) {
    cJSON *g = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "groups"), 0);
    cJSON_ReplaceItemInObject(g, "capacity", cJSON_CreateNumber(o->group1_capacity));
  }
  json = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  sqr_clock *c;
  store *st;
  char err[256];
  UT_CHECK(clock_new_fixed(t * 1000, &c) == SQR_OK, "clock");
  UT_CHECK(store_open(db, c, &st, err, sizeof err) == SQR_OK, "%s", err);
  UT_CHECK(store_apply_config(st, json, strlen(json), err, sizeof err) == SQR_OK, "%s", err);
  free(json);
  store_close(st);
  clock_free(c);
}

const char *ut_extra_arg;
char *ut_extra_value;

int ut_run(const char *db, const char *script, int64_t t, const char *size, const char *lang) {
  static int n;
  char spath[1100], tbuf[32];
  snprintf(spath, sizeof spath, "%s/script%d.txt", ut_dir, ++n);
  FILE *f = fopen(spath, "w");
  UT_CHECK(f, "script file");
  fputs(script, f);
  fclose(f);
  snprintf(tbuf, sizeof tbuf, "%lld", (long long)t);
  char *argv[] = {(char *)ut_kiosk, "--headless", "--db", (char *)db, "--script", spath,
                  "--screenshot-dir", (char *)ut_dir, "--fixed-clock", tbuf, "--size",
                  (char *)(size ? size : "1080x1920"), "--lang", (char *)(lang ? lang : "zh"),
                  ut_extra_arg ? (char *)ut_extra_arg : NULL, ut_extra_value, NULL};
  pid_t pid;
  UT_CHECK(posix_spawn(&pid, ut_kiosk, NULL, NULL, argv, environ) == 0, "spawn %s", ut_kiosk);
  int status;
  while(waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  UT_CHECK(WIFEXITED(status), "kiosk died (signal %d)", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return WEXITSTATUS(status);
}

static uint8_t *read_png_gray(const char *path, int *w, int *h) {
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if(!png_image_begin_read_from_file(&img, path)) return NULL;
  img.format = PNG_FORMAT_GRAY;
  uint8_t *buf = malloc(PNG_IMAGE_SIZE(img));
  if(!buf || !png_image_finish_read(&img, NULL, buf, 0, NULL)) {
    free(buf);
    png_image_free(&img);
    return NULL;
  }
  *w = (int)img.width;
  *h = (int)img.height;
  return buf;
}

int ut_decode_gray(const uint8_t *gray, int w, int h, char *out, size_t outlen) {
  zbar_image_scanner_t *sc = zbar_image_scanner_create();
  zbar_image_scanner_set_config(sc, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
  zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
  zbar_image_t *img = zbar_image_create();
  zbar_image_set_format(img, zbar_fourcc('Y', '8', '0', '0'));
  zbar_image_set_size(img, (unsigned)w, (unsigned)h);
  zbar_image_set_data(img, gray, (unsigned long)w * (unsigned long)h, NULL);
  int n = zbar_scan_image(sc, img);
  out[0] = '\0';
  const zbar_symbol_t *sym = zbar_image_first_symbol(img);
  if(n > 0 && sym) snprintf(out, outlen, "%s", zbar_symbol_get_data(sym));
  zbar_image_destroy(img);
  zbar_image_scanner_destroy(sc);
  return n < 0 ? 0 : n;
}

int ut_decode_png(const char *path, char *out, size_t outlen, int *w, int *h) {
  int ww, hh;
  uint8_t *g = read_png_gray(path, &ww, &hh);
  UT_CHECK(g, "cannot read PNG %s", path);
  if(w) *w = ww;
  if(h) *h = hh;
  int n = ut_decode_gray(g, ww, hh, out, outlen);
  free(g);
  return n;
}

int ut_png_count_rgb(const char *path, int r, int g, int b, int tol) {
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  UT_CHECK(png_image_begin_read_from_file(&img, path), "cannot read PNG %s", path);
  img.format = PNG_FORMAT_RGB;
  uint8_t *buf = malloc(PNG_IMAGE_SIZE(img));
  UT_CHECK(buf && png_image_finish_read(&img, NULL, buf, 0, NULL), "cannot decode %s", path);
  int n = 0;
  for(size_t i = 0; i < (size_t)img.width * img.height; i++) {
    const uint8_t *p = buf + 3 * i;
    if(abs(p[0] - r) <= tol && abs(p[1] - g) <= tol && abs(p[2] - b) <= tol) n++;
  }
  free(buf);
  return n;
}

int ut_png_equal(const char *a, const char *b) {
  int wa, ha, wb, hb;
  uint8_t *ga = read_png_gray(a, &wa, &ha), *gb = read_png_gray(b, &wb, &hb);
  UT_CHECK(ga && gb, "cannot read %s or %s", a, b);
  int eq = wa == wb && ha == hb && memcmp(ga, gb, (size_t)wa * (size_t)ha) == 0;
  free(ga);
  free(gb);
  return eq;
}

void ut_live_text(const char *db, int64_t t, char *out, size_t outlen) {
  sqr_clock *c;
  store *st;
  char err[256];
  live_view lv;
  UT_CHECK(clock_new_fixed(t * 1000, &c) == SQR_OK, "clock");
  UT_CHECK(store_open(db, c, &st, err, sizeof err) == SQR_OK, "%s", err);
  UT_CHECK(live_current(st, &lv) == SQR_OK, "live_current");
  snprintf(out, outlen, "%s", lv.text);
  store_close(st);
  clock_free(c);
}

void ut_verify_url(const char *db, const char *url, int64_t t) {
  sqr_clock *c;
  store *st;
  char err[256];
  UT_CHECK(clock_new_fixed(t * 1000, &c) == SQR_OK, "clock");
  UT_CHECK(store_open(db, c, &st, err, sizeof err) == SQR_OK, "%s", err);
  const sqr_config *cfg = store_config(st);
  const char *tok = strrchr(url, '/');
  UT_CHECK(tok && strlen(tok + 1) == LIVECODE_TOKEN_LEN, "no token in %s", url);
  char prefix[128];
  snprintf(prefix, sizeof prefix, "/J/%s/", cfg->store_id);
  UT_CHECK(strstr(url, prefix) != NULL, "URL %s is not for store %s", url, cfg->store_id);
  livecode_key k;
  livecode_claim claim;
  UT_CHECK(livecode_key_init(&k, cfg->store_key, (uint8_t)cfg->key_version) == SQR_OK, "key");
  sqr_rc rc = livecode_verify(&k, 1, cfg->store_id, tok + 1, t, cfg->period_s, 0, &claim);
  UT_CHECK(rc == SQR_OK, "token %s does not verify at %lld: %s", tok + 1, (long long)t,
           sqr_strerror(rc));
  UT_CHECK(claim.window == (uint32_t)(t / cfg->period_s), "window");
  livecode_key_wipe(&k);
  store_close(st);
  clock_free(c);
}
