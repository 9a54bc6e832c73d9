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
#include "proto.h"
#include "sqr.h"

#define PROTO_FEED_MAX_ENTRIES 1000          /* entries in one page */
#define PROTO_FEED_MAX_ANSWER  (1024 * 1024) /* one page on the wire */
#define PROTO_FEED_CURSOR_MAX  72            /* with the NUL */
#define PROTO_FEED_BLIND_LEN   32            /* a blind index (member.h) */
#define PROTO_FEED_DAY_MAX     200000        /* days since 1970: year 2517 */
#define PROTO_FEED_POINTS_MAX  1000000000    /* |points| in one entry */

typedef enum proto_feed_kind {
  PROTO_FEED_MEMBER = 1, /* a member of the store, as HQ knows them */
  PROTO_FEED_CHECKIN,    /* a check-in at a kiosk of the store */
  PROTO_FEED_VOID,       /* a check-in HQ did not keep: its points come off */
  PROTO_FEED_ERASE       /* erase this member */
} proto_feed_kind;

typedef struct proto_feed_entry {
  int64_t seq; /* 1..2^53-1; a snapshot entry: its state_seq */
  proto_feed_kind kind;
  char origin[PROTO_KIOSK_ID_MAX];       /* the kiosk whose event made it, or "hq" */
  char member[CONFIG_MEMBER_ID_HEX + 1]; /* the stable member id, 32 lower-case hex */
  /* member */
  uint8_t blind[PROTO_FEED_BLIND_LEN];
  int index_kind; /* CONFIG_INDEX_HMAC or CONFIG_INDEX_ARGON2ID */
  int64_t created_ms;
  int64_t last_day;  /* last check-in day (local days since 1970), 0: never */
  int64_t state_seq; /* the last entry the state includes (>= 1) */
  char consent_version[CONFIG_ID_MAX + 1];
  char staff[CONFIG_ID_MAX + 1]; /* "" for none */
  char group[CONFIG_ID_MAX + 1]; /* "" for none */
  char *tags;                    /* compact JSON array of tag ids, owned by the page */
  /* member: the balance; checkin: added; void: taken off (positive) */
  int64_t points;
  int64_t streak; /* member, checkin */
  /* checkin, void */
  int64_t day;
  int64_t ts_ms;                  /* checkin: when the kiosk took it */
  char kiosk[PROTO_KIOSK_ID_MAX]; /* void: the kiosk whose check-in it was */
} proto_feed_entry;

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
