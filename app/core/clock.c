/* clock.c — see clock.h. */
#include "clock.h"

#include <stdlib.h>
#include <time.h>

struct sqr_clock {
  int fixed;
  int64_t fixed_wall_ms;
  int64_t fixed_mono_ms;
  int64_t offset_ms;
  int have_ref;
  int64_t ref_wall_ms;
  int64_t ref_mono_ms;
};

static int64_t read_clock(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(const sqr_clock *c) {
  return c->fixed ? c->fixed_wall_ms : read_clock(CLOCK_REALTIME);
}

sqr_rc clock_new_real(sqr_clock **out) {
  sqr_clock *c = calloc(1, sizeof *c);
  if(!c) return SQR_ENOMEM;
  *out = c;
  return SQR_OK;
}

sqr_rc clock_new_fixed(int64_t unix_ms, sqr_clock **out) {
  sqr_clock *c = calloc(1, sizeof *c);
  if(!c) return SQR_ENOMEM;
  c->fixed = 1;
  c->fixed_wall_ms = unix_ms;
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

int clock_check_jump(sqr_clock *c, int64_t threshold_ms, int64_t *jump_ms) {
  int64_t w = wall_ms(c), m = clock_mono_ms(c);
  int jumped = 0;
  if(c->have_ref) {
    int64_t diff = (w - c->ref_wall_ms) - (m - c->ref_mono_ms);
    if(llabs(diff) > threshold_ms) {
      *jump_ms = diff;
      jumped = 1;
    }
  }
  c->have_ref = 1;
  c->ref_wall_ms = w;
  c->ref_mono_ms = m;
  return jumped;
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if((a % b != 0) && ((a < 0) != (b < 0))) q--;
  return q;
}

int64_t clock_local_day(int64_t unix_ms, int utc_offset_min) {
  return floor_div(unix_ms + (int64_t)utc_offset_min * 60000, 86400000);
}

int clock_local_minute(int64_t unix_ms, int utc_offset_min) {
  int64_t local = unix_ms + (int64_t)utc_offset_min * 60000;
  int64_t ms_of_day = local - floor_div(local, 86400000) * 86400000;
  return (int)(ms_of_day / 60000);
}
