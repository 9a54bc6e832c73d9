/* prefetch.h — the blind index of a typed phone number, derived on a
 * worker thread from the moment the 11th digit is typed, so that the
 * sign-up, check-in or join lookup the shopper confirms next does not
 * spend Argon2id's 50-100 ms (member_index_derive) on the UI thread.
 *
 * Owns its workers and all they hold: a copy of the digits, a private
 * sqr_config with only the store id and the index fields (the store may
 * apply a new configuration and free its own meanwhile), the derived
 * bytes, and each worker's stack, which this module maps itself so that it
 * can wipe it after the join (libargon2's BLAKE2b leaves the password's
 * words on the stack it ran on; glibc would keep a stack of its own for
 * the next thread, unwiped). At most one worker is wanted (the one for the
 * digits on the keypad) and at most one more, retired, may still be
 * finishing: Argon2 cannot be interrupted, so a discarded worker is told
 * to drop its result and joined once it has finished. Everything is wiped
 * (crypto_wipe) when discarded or freed. Never called from the worker: the
 * worker touches only its own job, never SDL, the store or the app. Every
 * function takes a NULL prefetcher (none could be made): nothing is
 * derived ahead and every call derives its own. */
#ifndef SQR_UI_PREFETCH_H
#define SQR_UI_PREFETCH_H

#include <stdint.h>

#include "member.h"
#include "store.h"

typedef struct ui_prefetch ui_prefetch;

/* What happened so far (tests assert on it; the bench reads the log). */
typedef struct ui_prefetch_stats {
  int64_t started;   /* workers started */
  int64_t ahead;     /* member calls given an index derived ahead */
  int64_t waited;    /* ... of them, calls that waited for a worker still running */
  int64_t in_call;   /* member calls left to derive the index themselves */
  int64_t discarded; /* workers whose result was dropped (other digits, flow ended) */
} ui_prefetch_stats;

/* A prefetcher; enabled 0 starts no worker (every call derives: the
 * bench's baseline). SQR_ENOMEM. Freed with ui_prefetch_free. */
sqr_rc ui_prefetch_new(int enabled, ui_prefetch **out) SQR_WARN_UNUSED;
/* Discards and joins every worker (waiting at most for the derivations
 * under way) and wipes all; NULL is fine. */
void ui_prefetch_free(ui_prefetch *p);

/* The digits on the keypad changed (or were put back on it): typed as
 * they are, possibly incomplete. A result for other digits is discarded
 * (without waiting); a valid number with no worker yet starts one under
 * st's configuration. A worker that cannot start is logged: the call then
 * derives the index itself. Never blocks, except to join a retired
 * worker still running when a third is wanted (at most one derivation). */
void ui_prefetch_follow(ui_prefetch *p, store *st, const char *typed);

/* The index for a member call about phone (as typed): *out filled and
 * returned when a worker derived it from exactly these digits under the
 * configuration st still applies; NULL when the call must derive it (no
 * worker, other digits, it failed, the configuration changed). Waits for a
 * worker of these digits that is still running: it started when the last
 * digit was typed, so what remains is less than the derivation the call
 * would make itself. The result stays for the next call of the same flow
 * (the join lookup, then the sign-up); the caller wipes *out after its
 * call. */
const member_index *ui_prefetch_index(ui_prefetch *p, store *st, const char *phone,
                                      member_index *out);

/* The number is forgotten (the flow ended, the phone was wiped): every
 * result is discarded, running workers are joined, everything is wiped.
 * Waits at most for a derivation under way. */
void ui_prefetch_discard(ui_prefetch *p);

/* Joins the workers that have finished, without waiting for any that has
 * not: wipes and unmaps their stacks, frees the retired ones. The app
 * calls it on every turn of its loop. */
void ui_prefetch_reap(ui_prefetch *p);

/* 1 while it holds any digits or index (a worker or a result). */
int ui_prefetch_holds(const ui_prefetch *p);

void ui_prefetch_stats_get(const ui_prefetch *p, ui_prefetch_stats *out);

#endif
