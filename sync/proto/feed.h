/* feed.h — the page of HQ's feed a kiosk pulls (GET /v1/feed?after=,
 * docs/PROTOCOL.md "Feed"), shared by HQ (encode) and the kiosk (decode).
 *
 * The feed is what HQ tells a kiosk besides its configuration: the
 * members of its store signed up at its other kiosks, their check-ins
 * there, the check-ins HQ did not keep (two kiosks of a store accepted
 * the same member's check-in on one day before they synced), erasure
 * requests. Each store has one sequence of entries (seq 1, 2, ...), which
 * every kiosk of the store reads from its own cursor; a new kiosk first
 * reads the store's members as they are now (snapshot pages of member
 * entries), then the sequence after the point the snapshot began. A
 * member entry always carries the member's state as HQ has it when the
 * page is read, with state_seq, the last entry of the sequence that state
 * includes: a kiosk skips that member's entries up to it.
 *
 * The cursor is HQ's opaque text (at most PROTO_FEED_CURSOR_MAX - 1
 * bytes of 0-9 a-z '.'); "0" is the beginning. A kiosk stores the page's
 * next cursor in the transaction that applies the page.
 *
 * Never carries a phone number or a sealed box; bodies are never logged
 * (they carry blind indexes).
 */
#ifndef SQR_FEED_H
#define SQR_FEED_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "member.h"
#include "proto.h"
#include "sqr.h"

#define PROTO_FEED_MAX_ENTRIES 1000          /* entries in one page */
#define PROTO_FEED_MAX_ANSWER  (1024 * 1024) /* one page on the wire */
#define PROTO_FEED_CURSOR_MAX  72            /* with the NUL */
#define PROTO_FEED_BLIND_LEN   32            /* a blind index (member.h) */
#define PROTO_FEED_DAY_MAX     200000        /* days since 1970: year 2517 */
#define PROTO_FEED_POINTS_MAX  1000000000    /* |points| in one entry */

/* The entry is the kiosk's own type (member.h), so a decoded page is
 * applied as it is. */
typedef member_feed_kind proto_feed_kind;
typedef member_feed_entry proto_feed_entry;
#define PROTO_FEED_LATER     MEMBER_FEED_LATER
#define PROTO_FEED_MEMBER    MEMBER_FEED_MEMBER
#define PROTO_FEED_CHECKIN   MEMBER_FEED_CHECKIN
#define PROTO_FEED_VOID      MEMBER_FEED_VOID
#define PROTO_FEED_ERASE     MEMBER_FEED_ERASE
#define PROTO_FEED_MARKETING MEMBER_FEED_MARKETING
_Static_assert(MEMBER_FEED_KIOSK_MAX == PROTO_KIOSK_ID_MAX, "kiosk ids fit both ends");
_Static_assert(MEMBER_FEED_CURSOR_MAX == PROTO_FEED_CURSOR_MAX, "cursors fit both ends");
_Static_assert(sizeof(((member_feed_entry *)0)->blind) == PROTO_FEED_BLIND_LEN, "blind index");

typedef struct proto_feed_page {
  proto_feed_entry *entries;
  size_t count;
  int snapshot; /* entries are the store's members as they are (seq: as of) */
  int more;     /* HQ has more after next: ask again at once */
  char next[PROTO_FEED_CURSOR_MAX];
  int64_t hq_time_ms;
  size_t cap; /* encoder bookkeeping */
} proto_feed_page;

/* 1 if c is a cursor HQ could have written: 1..PROTO_FEED_CURSOR_MAX-1
 * bytes of 0-9 a-z '.'. */
int proto_feed_cursor_valid(const char *c);

/* 1 if proto_feed_add would take e (HQ checks what it stores with it,
 * so no stored entry is one it cannot send). */
int proto_feed_entry_valid(const proto_feed_entry *e);
/* Appends a copy of e (tags copied) to p (HQ side). SQR_ENOSPC at
 * PROTO_FEED_MAX_ENTRIES; SQR_EINVAL for an entry the decoder would
 * refuse. */
sqr_rc proto_feed_add(proto_feed_page *p, const proto_feed_entry *e) SQR_WARN_UNUSED;
/* The answer body (compact JSON, NUL-terminated). Caller frees *json. */
sqr_rc proto_feed_encode(const proto_feed_page *p, char **json, size_t *len) SQR_WARN_UNUSED;
/* Kiosk side: strict decode of an answer of len bytes. SQR_EPROTO with a
 * sentence naming the field in err (nothing kept) when the page is not
 * one HQ could have sent: more than PROTO_FEED_MAX_ANSWER bytes or
 * PROTO_FEED_MAX_ENTRIES entries, an unknown kind, a field missing or of
 * the wrong type or range, a log page whose seqs do not rise. Fields a
 * later HQ may add are ignored. The caller clears *out on success. */
sqr_rc proto_feed_decode(const char *body, size_t len, proto_feed_page *out, char *err,
                         size_t errlen) SQR_WARN_UNUSED;
void proto_feed_clear(proto_feed_page *p);

/* "member", "checkin", "void", "erase"; NULL for anything else. */
const char *proto_feed_kind_name(proto_feed_kind k);

#endif /* SQR_FEED_H */
