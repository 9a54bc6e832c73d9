/* clock.h — the kiosk's idea of time.
 *
 * Two backends behind one opaque type: the real clock (CLOCK_REALTIME and
 * CLOCK_MONOTONIC) and a fixed clock that only moves when a test says so.
 * Both carry an offset learned from HQ, so tokens are minted in HQ's time
 * even when the box's RTC drifts. clock_check_jump compares how far wall
 * time and monotonic time moved since the last check: a difference is
 * someone (or NTP) setting the clock, which the store records as an event.
 */
#ifndef SQR_CLOCK_H
#define SQR_CLOCK_H

#include <stdint.h>
#include "sqr.h"

typedef struct sqr_clock sqr_clock;

sqr_rc clock_new_real(sqr_clock **out) SQR_WARN_UNUSED;
/* A clock frozen at unix_ms (wall) with its monotonic clock at 0. */
sqr_rc clock_new_fixed(int64_t unix_ms, sqr_clock **out) SQR_WARN_UNUSED;
void clock_free(sqr_clock *c);

int clock_is_fixed(const sqr_clock *c);

/* Wall time plus the HQ offset, in milliseconds since the epoch. */
int64_t clock_now_ms(sqr_clock *c);
/* The same in whole seconds. */
int64_t clock_now(sqr_clock *c);
/* Monotonic milliseconds (arbitrary origin); never jumps. */
int64_t clock_mono_ms(sqr_clock *c);

/* HQ's clock minus ours, as measured by the sync client. */
void clock_set_offset_ms(sqr_clock *c, int64_t offset_ms);
int64_t clock_offset_ms(const sqr_clock *c);

/* Fixed clock only: move wall and monotonic time forward together. */
void clock_advance_ms(sqr_clock *c, int64_t ms);
/* Fixed clock only: move wall time alone, as a person setting the RTC. */
void clock_set_wall_ms(sqr_clock *c, int64_t unix_ms);

/* Returns 1 and sets *jump_ms (wall moved minus monotonic moved) when the
 * two disagree by more than threshold_ms since the previous call;
 * 0 otherwise. The first call only takes the reference points. */
int clock_check_jump(sqr_clock *c, int64_t threshold_ms, int64_t *jump_ms);

/* Days since the epoch in local time, for a UTC offset in minutes
 * (China: +480). Check-ins are limited per local day. */
int64_t clock_local_day(int64_t unix_ms, int utc_offset_min);
/* Minutes since local midnight (0..1439), for time-of-day campaign slots. */
int clock_local_minute(int64_t unix_ms, int utc_offset_min);

#endif
