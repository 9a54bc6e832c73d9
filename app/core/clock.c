/* clock.c — see clock.h. */
#include "clock.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sqr_clock {
  int fixed;
  int64_t fixed_wall_ms;
  int64_t fixed_mono_ms;
  int64_t offset_ms;
  char boot[CLOCK_BOOT_MAX];
};

static int64_t read_clock(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(const sqr_clock *c) {
  return c->fixed ? c->fixed_wall_ms : read_clock(CLOCK_REALTIME);
}

/* A boot id as 32 lower-case hex digits: the kernel writes it with dashes,
 * systemd's %b without. "" when s is not one. */
static void boot_id_norm(const char *s, char out[CLOCK_BOOT_MAX]) {
  size_t n = 0;
  out[0] = '\0';
  for(; *s && *s != '\n'; s++) {
    if(*s == '-') continue;
    if(!isxdigit((unsigned char)*s) || n == 32) return;
    out[n++] = (char)tolower((unsigned char)*s);
  }
  out[n == 32 ? n : 0] = '\0';
}

static void read_boot_id(char out[CLOCK_BOOT_MAX]) {
  char line[64] = "";
  FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
  if(f) {
    if(!fgets(line, sizeof line, f)) line[0] = '\0';
    fclose(f);
  }
  boot_id_norm(line, out);
  if(!out[0] && getenv("STOREQR_BOOT_ID")) boot_id_norm(getenv("STOREQR_BOOT_ID"), out);
}

sqr_rc clock_new_real(sqr_clock **out) {
  sqr_clock *c = calloc(1, sizeof *c);
  if(!c) return SQR_ENOMEM;
  read_boot_id(c->boot);
  *out = c;
  return SQR_OK;
}

sqr_rc clock_new_fixed(int64_t unix_ms, sqr_clock **out) {
  sqr_clock *c = calloc(1, sizeof *c);
  if(!c) return SQR_ENOMEM;
  c->fixed = 1;
  c->fixed_wall_ms = unix_ms;
  snprintf(c->boot, sizeof c->boot, "fixed@%lld", (long long)unix_ms);
  *out = c;
  return SQR_OK;
}

void clock_free(sqr_clock *c) {
  free(c);
}

int clock_is_fixed(const sqr_clock *c) {
  return c->fixed;
}

int64_t clock_now_ms(sqr_clock *c) {
  return wall_ms(c) + c->offset_ms;
}

int64_t clock_now(sqr_clock *c) {
  int64_t ms = clock_now_ms(c);
  return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

int64_t clock_mono_ms(sqr_clock *c) {
  return c->fixed ? c->fixed_mono_ms : read_clock(CLOCK_MONOTONIC);
}

void clock_set_offset_ms(sqr_clock *c, int64_t offset_ms) {
  c->offset_ms = offset_ms;
}

int64_t clock_offset_ms(const sqr_clock *c) {
  return c->offset_ms;
}

void clock_advance_ms(sqr_clock *c, int64_t ms) {
  SQR_CHECK(c->fixed);
  c->fixed_wall_ms += ms;
  c->fixed_mono_ms += ms;
}

void clock_set_wall_ms(sqr_clock *c, int64_t unix_ms) {
  SQR_CHECK(c->fixed);
  c->fixed_wall_ms = unix_ms;
}

void clock_read_ref(sqr_clock *c, clock_ref *out) {
  memcpy(out->boot, c->boot, sizeof out->boot);
  out->wall_ms = wall_ms(c);
  out->mono_ms = c->fixed ? c->fixed_mono_ms : read_clock(CLOCK_BOOTTIME);
}

int clock_ref_compare(const clock_ref *then, const clock_ref *now, int64_t *drift_ms) {
  /* Without a boot id a reboot shows only as monotonic time going back. */
  if(strcmp(then->boot, now->boot) != 0 || now->mono_ms < then->mono_ms) return 0;
  *drift_ms = (now->wall_ms - then->wall_ms) - (now->mono_ms - then->mono_ms);
  return 1;
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if((a % b != 0) && ((a < 0) != (b < 0))) q--;
  return q;
}

int64_t clock_local_day(int64_t unix_ms, int utc_offset_min) {
  return floor_div(unix_ms + (int64_t)utc_offset_min * 60000, 86400000);
}

void clock_day_date(int64_t day, char out[11]) {
  /* Howard Hinnant's civil_from_days: 400-year eras of 146097 days. */
  int64_t z = day + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  int64_t y = yoe + era * 400 + (m <= 2);
  if(y < 0 || y > 9999) {
    snprintf(out, 11, "0000-00-00");
    return;
  }
  snprintf(out, 11, "%04d-%02d-%02d", (int)y, (int)m, (int)d);
}

int clock_local_minute(int64_t unix_ms, int utc_offset_min) {
  int64_t local = unix_ms + (int64_t)utc_offset_min * 60000;
  int64_t ms_of_day = local - floor_div(local, 86400000) * 86400000;
  return (int)(ms_of_day / 60000);
}
