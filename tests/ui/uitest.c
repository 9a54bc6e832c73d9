/* uitest.c — see uitest.h. */
#define _GNU_SOURCE
#include "uitest.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <png.h>
#include <poll.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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
  uint8_t priv[SEAL_PRIV_LEN];
  /* Cheap unless a test asks for the real cost: most tests are not about it. */
  demo_keys keys = {.index_m_kib = o && o->index_m_kib ? o->index_m_kib : 64,
                    .index_t = o && o->index_t ? o->index_t : 1};
  UT_CHECK(seal_keypair_generate(keys.hq_pub, priv) == SQR_OK, "keypair");
  UT_CHECK(demo_keys_random(&keys) == SQR_OK, "random");
  char *json = NULL;
  int64_t version = o && o->version ? o->version : 1;
  UT_CHECK(demo_config_json(tmpl, version, &keys, t, &json) == SQR_OK, "demo config");
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
  cJSON *consent = cJSON_GetObjectItem(root, "consent");
  /* the demo offers one; a test offers one only when it asks */
  cJSON_DeleteItemFromObject(consent, "marketing");
  if(o && o->marketing) {
    cJSON *m = cJSON_AddObjectToObject(consent, "marketing");
    cJSON_AddStringToObject(m, "version", UT_MARKETING_VERSION);
    cJSON *text = cJSON_AddObjectToObject(m, "text");
    cJSON_AddStringToObject(text, "zh",
                            "我同意接收门店的优惠和活动信息（短信、企业微信），可随时退订。");
    cJSON_AddStringToObject(text, "en",
                            "Send me offers and news by SMS and WeCom (I can stop them at any "
                            "time).");
  }
  if(o && o->no_age) cJSON_AddBoolToObject(cJSON_AddObjectToObject(consent, "age"), "required", 0);
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

/* environ with o->env applied; the strings are borrowed, the array leaks
 * with the test process (one per run, a test runs a handful). */
static char **make_env(const char *const *env) {
  size_t n = 0, k = 0;
  while(environ[n])
    n++;
  while(env && env[k])
    k++;
  char **out = calloc(n + k + 1, sizeof *out);
  UT_CHECK(out, "out of memory");
  size_t o = 0;
  for(size_t i = 0; i < n; i++) {
    int drop = 0;
    for(size_t j = 0; j < k && !drop; j++) {
      const char *name = env[j][0] == '-' ? env[j] + 1 : env[j];
      size_t nl = strcspn(name, "=");
      drop = strncmp(environ[i], name, nl) == 0 && environ[i][nl] == '=';
    }
    if(!drop) out[o++] = environ[i];
  }
  for(size_t j = 0; j < k; j++)
    if(env[j][0] != '-') out[o++] = (char *)env[j];
  return out;
}

int ut_spawn(const char *db, const char *script, int64_t t, const ut_kiosk_opts *o) {
  static int n;
  static const ut_kiosk_opts none;
  if(!o) o = &none;
  char spath[1100], tbuf[32];
  const char *argv[48];
  int a = 0;
  argv[a++] = ut_kiosk;
  argv[a++] = "--headless";
  argv[a++] = "--db";
  argv[a++] = db;
  if(!o->no_script) {
    snprintf(spath, sizeof spath, "%s/script%d.txt", ut_dir, ++n);
    FILE *f = fopen(spath, "w");
    UT_CHECK(f, "script file");
    fputs(script ? script : "", f);
    fclose(f);
    argv[a++] = "--script";
    argv[a++] = spath;
  }
  argv[a++] = "--screenshot-dir";
  argv[a++] = ut_dir;
  if(!o->real_clock) {
    snprintf(tbuf, sizeof tbuf, "%lld", (long long)t);
    argv[a++] = "--fixed-clock";
    argv[a++] = tbuf;
  }
  argv[a++] = "--size";
  argv[a++] = o->size ? o->size : "1080x1920";
  argv[a++] = "--lang";
  argv[a++] = o->lang ? o->lang : "zh";
  if(ut_extra_arg) {
    argv[a++] = ut_extra_arg;
    argv[a++] = ut_extra_value;
  }
  for(int i = 0; o->args && o->args[i] && a < 46; i++)
    argv[a++] = o->args[i];
  argv[a] = NULL;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if(o->stderr_fd > 0) posix_spawn_file_actions_adddup2(&fa, o->stderr_fd, 2);
  char **env = o->env ? make_env(o->env) : environ;
  pid_t pid;
  UT_CHECK(posix_spawn(&pid, ut_kiosk, &fa, NULL, (char *const *)argv, env) == 0, "spawn %s",
           ut_kiosk);
  posix_spawn_file_actions_destroy(&fa);
  if(env != environ) free(env);
  return (int)pid;
}

int ut_wait(int pid) {
  int status;
  while(waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  UT_CHECK(WIFEXITED(status), "kiosk died (signal %d)", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return WEXITSTATUS(status);
}

int ut_run_opts(const char *db, const char *script, int64_t t, const ut_kiosk_opts *o) {
  return ut_wait(ut_spawn(db, script, t, o));
}

int ut_run(const char *db, const char *script, int64_t t, const char *size, const char *lang) {
  ut_kiosk_opts o = {.size = size, .lang = lang};
  return ut_run_opts(db, script, t, &o);
}

int ut_notify_bind(const char *addr) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  size_t len = strlen(addr);
  UT_CHECK(len > 0 && len < sizeof sa.sun_path, "notify address %s", addr);
  memcpy(sa.sun_path, addr, len);
  socklen_t sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
  if(addr[0] == '@')
    sa.sun_path[0] = '\0'; /* abstract: no NUL at the end, none counted */
  else {
    unlink(addr);
    sl++;
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  UT_CHECK(fd >= 0, "socket: %s", strerror(errno));
  UT_CHECK(bind(fd, (struct sockaddr *)&sa, sl) == 0, "bind %s: %s", addr, strerror(errno));
  return fd;
}

int ut_notify_recv(int fd, char *buf, size_t n, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int r;
  while((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  if(r <= 0) return 0;
  ssize_t k = recv(fd, buf, n - 1, 0);
  UT_CHECK(k >= 0, "recv: %s", strerror(errno));
  buf[k] = '\0';
  return 1;
}

int64_t ut_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
  UT_CHECK(livecode_key_set(&k, cfg->token_key, (uint8_t)cfg->key_version) == SQR_OK, "key");
  sqr_rc rc = livecode_verify(&k, 1, cfg->store_id, tok + 1, t, cfg->period_s, 0, 0, &claim);
  UT_CHECK(rc == SQR_OK, "token %s does not verify at %lld: %s", tok + 1, (long long)t,
           sqr_strerror(rc));
  UT_CHECK(claim.window == (uint32_t)(t / cfg->period_s), "window");
  livecode_key_wipe(&k);
  store_close(st);
  clock_free(c);
}
