/* clock.h — the kiosk's idea of time.
 *
 * Two backends behind one opaque type: the real clock (CLOCK_REALTIME,
 * CLOCK_MONOTONIC and CLOCK_BOOTTIME) and a fixed clock that only moves when a test says so.
 * Both carry an offset learned from HQ, so tokens are minted in HQ's time
 * even when the box's RTC drifts. A clock_ref is a reading of wall and
 * monotonic time with the boot it was taken in; clock_ref_compare says how
 * far wall time moved beyond monotonic time between two readings: a
 * difference is someone (or NTP) setting the clock, which the store
 * records as an event. The store keeps the reference reading in the kiosk
 * database, so the app and the sync daemon (two processes) compare with
 * the same one and a jump is recorded once.
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

/* A reading for jump detection. boot names the boot it was taken in:
 * the kernel's boot id (/proc/sys/kernel/random/boot_id, else
 * $STOREQR_BOOT_ID, which the units set from systemd's %b because their
 * sandbox hides /proc/sys), "" when neither can be read; a fixed clock's
 * is "fixed@" and the wall time it was created at, so two fixed clocks
 * made at the same time behave as two processes of one boot. mono_ms is
 * CLOCK_BOOTTIME (a suspended box has not jumped) for the real clock. */
#define CLOCK_BOOT_MAX 48
typedef struct clock_ref {
  char boot[CLOCK_BOOT_MAX];
  int64_t wall_ms; /* without the HQ offset */
  int64_t mono_ms;
} clock_ref;
void clock_read_ref(sqr_clock *c, clock_ref *out);
/* Returns 1 and sets *drift_ms (how far wall time moved minus how far
 * monotonic time moved, from then to now) when the two readings can be
 * compared: the same boot (or both unknown) and monotonic time not gone
 * backwards. 0 when they cannot (a reboot in between): nothing is known
 * about the wall clock across it. */
int clock_ref_compare(const clock_ref *then, const clock_ref *now, int64_t *drift_ms);

/* Days since the epoch in local time, for a UTC offset in minutes
 * (China: +480). Check-ins are limited per local day. */
int64_t clock_local_day(int64_t unix_ms, int utc_offset_min);
/* A day number (clock_local_day) as "YYYY-MM-DD" (proleptic Gregorian),
 * for exports people read. */
void clock_day_date(int64_t day, char out[11]);
/* Minutes since local midnight (0..1439), for time-of-day campaign slots. */
int clock_local_minute(int64_t unix_ms, int utc_offset_min);

#endif
