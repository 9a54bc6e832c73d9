/* fuzz_feed.c — the feed page decoder (sync/proto/feed.c), what the kiosk
 * runs over bytes from the network before anything reaches its database.
 * What must hold: a page the decoder takes re-encodes (HQ's encoder
 * accepts every entry it let through, but for the kinds a later HQ adds,
 * which it kept with their seq only and this HQ never sends) to a page
 * that decodes to the same entries; one it refuses leaves nothing
 * allocated. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_entry(const proto_feed_entry *a, const proto_feed_entry *b) {
  if(a->seq != b->seq || a->kind != b->kind || strcmp(a->origin, b->origin) ||
     strcmp(a->member, b->member))
    return 0;
  switch(a->kind) {
  case PROTO_FEED_MEMBER:
    return !memcmp(a->blind, b->blind, sizeof a->blind) && a->index_kind == b->index_kind &&
           a->points == b->points && a->streak == b->streak && a->last_day == b->last_day &&
           a->state_seq == b->state_seq && a->created_ms == b->created_ms &&
           !strcmp(a->consent_version, b->consent_version) && !strcmp(a->staff, b->staff) &&
           !strcmp(a->group, b->group) && !strcmp(a->tags, b->tags);
  case PROTO_FEED_CHECKIN:
    return a->day == b->day && a->points == b->points && a->streak == b->streak &&
           a->ts_ms == b->ts_ms;
  case PROTO_FEED_VOID:
    return a->day == b->day && a->points == b->points && !strcmp(a->kiosk, b->kiosk);
  default:
    return 1;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  log_set_level(LOG_FATAL);
  proto_feed_page p;
  char err[256];
  if(proto_feed_decode((const char *)data, size, &p, err, sizeof err) != SQR_OK) {
    if(p.entries || p.count) abort(); /* refused: nothing kept */
    return 0;
  }
  proto_feed_page again = {.snapshot = p.snapshot, .more = p.more, .hq_time_ms = p.hq_time_ms};
  memcpy(again.next, p.next, sizeof again.next);
  size_t known = 0;
  for(size_t i = 0; i < p.count; i++) {
    if(p.entries[i].kind == PROTO_FEED_LATER) {
      if(p.entries[i].seq < 1 || proto_feed_add(&again, &p.entries[i]) != SQR_EINVAL) abort();
      continue;
    }
    if(proto_feed_add(&again, &p.entries[i]) != SQR_OK) abort();
    known++;
  }
  char *json;
  size_t len;
  if(proto_feed_encode(&again, &json, &len) != SQR_OK) abort();
  proto_feed_page q;
  if(proto_feed_decode(json, len, &q, err, sizeof err) != SQR_OK) abort();
  if(q.count != known || q.snapshot != p.snapshot || q.more != p.more ||
     q.hq_time_ms != p.hq_time_ms || strcmp(q.next, p.next))
    abort();
  for(size_t i = 0, j = 0; i < p.count; i++)
    if(p.entries[i].kind != PROTO_FEED_LATER && !same_entry(&p.entries[i], &q.entries[j++]))
      abort();
  free(json);
  proto_feed_clear(&q);
  proto_feed_clear(&again);
  proto_feed_clear(&p);
  return 0;
}
