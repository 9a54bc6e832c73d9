/* ingest.c — see ingest.h. */
#include "ingest.h"
#include "hq_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "crypto.h"
#include "log.h"
#include "hqdb_keys.h"
#include "hqdb_seal.h"
#include "hqdb_stats.h"
#include "keys.h"
#include "sealjob.h"

#define MEMBER_ID_HEX 32 /* a stable member id: 128 bits in hex */

/* The event's member id (docs/PROTOCOL.md "Members"): 32 lower-case hex
 * digits, or the 64 of a kiosk from before stable ids, of which the first
 * 32 are the id. 0 when absent or malformed. */
static int member_id_of(const cJSON *payload, char out[MEMBER_ID_HEX + 1]) {
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(payload, "member");
  if(!cJSON_IsString(m)) return 0;
  size_t n = strlen(m->valuestring);
  if(n != MEMBER_ID_HEX && n != 64) return 0;
  for(size_t i = 0; i < MEMBER_ID_HEX; i++) {
    char c = m->valuestring[i];
    if(!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
    out[i] = c;
  }
  out[MEMBER_ID_HEX] = '\0';
  return 1;
}

/* A sign-up: open the sealed phone, index and encrypt it, link the
 * store's member id to HQ's member (hq__seal_link), or, with
 * hq_set_seal_later, queue the box for the background opener
 * (sealjob.h) in this transaction. A box HQ cannot open is stored with
 * the event and reported, never fatal to the batch.
 * staff: the sign-up's staff member ("" when none), for the daily stats;
 * read from the parse this function makes anyway. */
static sqr_rc apply_signup(hq *h, const char *sid, const char *kiosk_id, const proto_event *ev,
                           int64_t now, ingest_timing *t, char staff[HQ_ID_MAX], int *queued,
                           hq__feed *feed) {
  cJSON *p = cJSON_Parse(ev->payload);
  const cJSON *sealed = cJSON_GetObjectItemCaseSensitive(p, "sealed");
  const cJSON *who = cJSON_GetObjectItemCaseSensitive(p, "staff");
  sqr_rc rc = SQR_OK;
  staff[0] = '\0';
  if(cJSON_IsString(who)) snprintf(staff, HQ_ID_MAX, "%s", who->valuestring);
  char mid[MEMBER_ID_HEX + 1];
  if(!member_id_of(p, mid) || !cJSON_IsString(sealed)) {
    cJSON_Delete(p);
    return SQR_OK; /* redacted or a shape we do not know: counted only */
  }
  if((rc = hq__feed_signup(feed, ev, p))) {
    cJSON_Delete(p);
    return rc;
  }
  /* A backlog past its bound is opened here, on the acknowledgement path:
   * slower uploads rather than a queue without end. */
  if(h->seal_later && atomic_load(&h->seal_backlog) < h->seal_backlog_max) {
    rc = hqdb_seal_enqueue(h->db, kiosk_id, ev->seq, sid, mid, sealed->valuestring, now);
    if(rc == SQR_EINVAL) rc = SQR_EAUTH; /* longer than any box */
    if(!rc) (*queued)++;
  } else {
    int64_t ns = 0;
    rc = hq__seal_link(h, sid, mid, sealed->valuestring, now, t ? &ns : NULL);
    if(t && rc != SQR_EAUTH) {
      t->seal_ns += ns;
      t->signups_opened++;
    }
  }
  if(rc == SQR_EAUTH)
    log_warn("hq", "%s seq %lld: a sealed phone HQ cannot open", kiosk_id, (long long)ev->seq);
  cJSON_Delete(p);
  return rc;
}

/* A kiosk erased a member (asked there, or applying HQ's request): the
 * request is settled, the other kiosks of the store hear of it through
 * the feed, and the person is erased at HQ and at every other store
 * (hq__erase_person; *erased: scrub after the commit). */
static sqr_rc apply_erase(hq *h, const proto_batch *b, const proto_event *ev, int64_t now,
                          hq__feed *feed, int *erased) {
  cJSON *p = cJSON_Parse(ev->payload);
  char mid[MEMBER_ID_HEX + 1];
  sqr_rc rc = SQR_OK;
  /* The person first: confirming drops the store's link, which is how
   * the person is found. */
  if(member_id_of(p, mid) &&
     !(rc = hq__erase_person(h, b->store_id, mid, "kiosk", b->kiosk_id, feed, erased)) &&
     !(rc = hqdb_erasure_confirm(h->db, b->store_id, mid, now)))
    rc = hq__feed_erase(feed, mid);
  cJSON_Delete(p);
  return rc;
}

/* A consent version as configurations write it: 1..32 of letters,
 * digits, '-', '_', '.' (the feed sends it on to kiosks). */
static int version_ok(const char *v) {
  size_t n = strlen(v);
  if(n == 0 || n > CONFIG_ID_MAX) return 0;
  for(; *v; v++)
    if(!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
         *v == '-' || *v == '_' || *v == '.'))
      return 0;
  return 1;
}

/* A marketing consent given or withdrawn at the kiosk (member.c
 * set_marketing): recorded as the store member's state, a withdrawal
 * for the person everywhere (hq__consent_record). A payload that says
 * neither clearly is kept in the chain and changes nothing. */
static sqr_rc apply_marketing(hq *h, const proto_batch *b, const proto_event *ev, hq__feed *feed) {
  cJSON *p = cJSON_Parse(ev->payload);
  const cJSON *given = cJSON_GetObjectItemCaseSensitive(p, "given");
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, "version");
  char mid[MEMBER_ID_HEX + 1], src[HQ_ID_MAX + 8];
  sqr_rc rc = SQR_OK;
  int changed = 0;
  const char *version = NULL;
  if(cJSON_IsTrue(given) && cJSON_IsString(v) && version_ok(v->valuestring))
    version = v->valuestring;
  else if(cJSON_IsFalse(given))
    version = "";
  snprintf(src, sizeof src, "kiosk %s", b->kiosk_id);
  if(version && member_id_of(p, mid))
    rc = hq__consent_record(h, b->store_id, mid, version, ev->ts_ms, src, feed, &changed);
  else
    log_warn("hq", "%s seq %lld: marketing_consent without a clear state; kept, not applied",
             b->kiosk_id, (long long)ev->seq);
  cJSON_Delete(p);
  return rc;
}

/* The kiosk applied a document: once it reports a key version, its older
 * versions retire after the overlap (keys.h), so no scan fails at the
 * switch and a rotated-out key stops working soon after. */
static sqr_rc apply_config(hq *h, const proto_batch *b, const proto_event *ev, int64_t now,
                           int *keys_changed) {
  cJSON *p = cJSON_Parse(ev->payload);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, "key_version");
  sqr_rc rc = SQR_OK;
  int changed = 0;
  int first = 0;
  /* Reporting a version at all says the kiosk reads its own keys: from
   * then on its documents carry them instead of the store key. */
  if(cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= HQ_KEY_VERSION_MAX &&
     !(rc = hqdb_kiosk_keys_capable(h->db, b->kiosk_id, now, &first)))
    rc = hqdb_key_applied(h->db, b->store_id, b->kiosk, (int)v->valuedouble,
                          now + HQ_KEY_OVERLAP_MS, &changed);
  changed |= first;
  cJSON_Delete(p);
  if(changed) *keys_changed = 1;
  return rc;
}

/* A coupon the kiosk issued: HQ honours it later even if the kiosk's key
 * is retired by then. Kiosks from before key versions send no version:
 * theirs was the store key's, 1. */
static sqr_rc apply_coupon(hq *h, const proto_batch *b, const proto_event *ev) {
  cJSON *p = cJSON_Parse(ev->payload);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, "key_version");
  const cJSON *serial = cJSON_GetObjectItemCaseSensitive(p, "serial");
  const cJSON *campaign = cJSON_GetObjectItemCaseSensitive(p, "campaign_no");
  sqr_rc rc = SQR_OK;
  if(cJSON_IsNumber(serial) && serial->valuedouble >= 0 && serial->valuedouble <= 0xffffff) {
    hq_coupon_row c = {.number = b->kiosk,
                       .version = cJSON_IsNumber(v) ? (int)v->valuedouble : 1,
                       .serial = (int64_t)serial->valuedouble,
                       .campaign = cJSON_IsNumber(campaign) ? (int)campaign->valuedouble : 0,
                       .issued_ms = ev->ts_ms};
    snprintf(c.kiosk_id, sizeof c.kiosk_id, "%s", b->kiosk_id);
    rc = hqdb_coupon_issued(h->db, b->store_id, &c);
  }
  cJSON_Delete(p);
  return rc;
}

/* The batch's figures for the daily stats: one entry per (day, staff),
 * found by a linear search — a batch spans a day or two and a handful of
 * staff, so the list stays a few entries long. */
static sqr_rc add_delta(stats_delta **d, size_t *n, size_t max, int64_t day, const char *staff,
                        int signups, int checkins) {
  for(size_t k = *n; k-- > 0;) {
    stats_delta *e = &(*d)[k];
    if(e->day == day && strcmp(e->staff, staff) == 0) {
      e->signups += signups;
      e->checkins += checkins;
      return SQR_OK;
    }
  }
  if(!*d && !(*d = malloc(max * sizeof **d))) return SQR_ENOMEM;
  stats_delta *e = &(*d)[(*n)++];
  e->day = day;
  snprintf(e->staff, sizeof e->staff, "%s", staff);
  e->signups = signups;
  e->checkins = checkins;
  return SQR_OK;
}

/* A checkin_voided event: the kiosk took back a check-in HQ's feed did
 * not keep (another kiosk of the store checked the member in first that
 * day). The check-in was counted when it arrived; the day's figure comes
 * down by one, so HQ counts one check-in a member and day, as the kiosks
 * do. *day: the check-in's day (the kiosk's local day, Shanghai time as
 * HQ's figures), 0 for a payload without one. */
static int64_t voided_day(const proto_event *ev) {
  cJSON *p = cJSON_Parse(ev->payload);
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(p, "day");
  int64_t day = cJSON_IsNumber(d) && d->valuedouble >= 1 && d->valuedouble <= 200000
                    ? (int64_t)d->valuedouble
                    : 0;
  cJSON_Delete(p);
  return day;
}

/* A clock_jump event (store_check_clock, store_sync_record on the kiosk):
 * counted into j, the newest kept. A payload of another shape counts with
 * jump 0. */
static void add_clock_jump(stats_clock_jump *j, const proto_event *ev) {
  cJSON *p = cJSON_Parse(ev->payload);
  const cJSON *by = cJSON_GetObjectItemCaseSensitive(p, "jump_ms");
  const cJSON *src = cJSON_GetObjectItemCaseSensitive(p, "source");
  j->jumps++;
  j->last_ts_ms = ev->ts_ms;
  j->last_jump_ms = cJSON_IsNumber(by) ? (int64_t)by->valuedouble : 0;
  snprintf(j->last_source, sizeof j->last_source, "%s",
           cJSON_IsString(src) && strcmp(src->valuestring, "hq_offset") == 0 ? "hq_offset"
                                                                             : "wall");
  cJSON_Delete(p);
}

/* "+1 h 5 min", "-2 d 3 h", "+3 min 10 s": how far, for a message. */
static void fmt_jump(int64_t ms, char *out, size_t n) {
  long long s = (long long)(ms < 0 ? -(ms / 1000) : ms / 1000);
  const char *sign = ms < 0 ? "-" : "+";
  if(s >= 86400)
    snprintf(out, n, "%s%lld d %lld h", sign, s / 86400, s % 86400 / 3600);
  else if(s >= 3600)
    snprintf(out, n, "%s%lld h %lld min", sign, s / 3600, s % 3600 / 60);
  else
    snprintf(out, n, "%s%lld min %lld s", sign, s / 60, s % 60);
}

static sqr_rc broken(hq *h, const char *kiosk_id, int64_t seq, const char *why, hq_err *e) {
  char msg[200];
  snprintf(msg, sizeof msg, "events: seq %lld %s; nothing was stored", (long long)seq, why);
  log_warn("hq", "%s: chain broken at seq %lld (%s)", kiosk_id, (long long)seq, why);
  hq_alert_raise_seq(h, kiosk_id, seq, "chain_broken", msg);
  hq_fail(e, SQR_ECORRUPT, "chain_broken", "%s", msg);
  if(e) e->extra_key = "seq", e->extra = seq;
  return SQR_ECORRUPT;
}

sqr_rc ingest_batch(hq *h, const char *cert_kiosk, const proto_batch *b, int64_t *acked_out,
                    hq_err *e) {
  return ingest_batch_timed(h, cert_kiosk, b, acked_out, e, NULL);
}

sqr_rc ingest_batch_timed(hq *h, const char *cert_kiosk, const proto_batch *b, int64_t *acked_out,
                          hq_err *e, ingest_timing *t) {
  if(strcmp(cert_kiosk, b->kiosk_id) != 0)
    return hq_fail(e, SQR_EAUTH, "wrong_kiosk", "kiosk: not the kiosk of this certificate");
  int64_t acked = 0, now = hq_now_ms();
  uint8_t last[32], held[32];
  size_t i = 0, bad = 0;
  int signups = 0, checkins = 0, unopened = 0, keys_changed = 0, queued = 0, erased = 0;
  hq_event_row *rows = NULL;
  stats_delta *deltas = NULL;
  size_t ndeltas = 0;
  stats_clock_jump clock = {0};
  hq__feed feed;
  hq__feed_init(&feed, b->store_id, b->kiosk_id);
  sqr_rc rc = hqdb_begin(h->db);
  if(rc) goto dbfail;
  if((rc = hqdb_kiosk_lock(h->db, b->kiosk_id, &acked, last))) goto dbfail;
  int64_t first = b->events[0].seq;
  if(first > acked + 1) {
    char msg[128];
    hqdb_rollback(h->db);
    snprintf(msg, sizeof msg, "events: first seq is %lld, HQ expects %lld", (long long)first,
             (long long)(acked + 1));
    hq_fail(e, SQR_EINVAL, "gap", "%s", msg);
    if(e) e->extra_key = "expected_seq", e->extra = acked + 1;
    return SQR_EINVAL;
  }
  /* The whole batch must chain from the hash HQ holds before it, so an
   * altered copy of an event HQ already has is caught as well. */
  uint8_t prev[32] = {0};
  if(first > 1) {
    if(first - 1 == acked) {
      memcpy(prev, last, 32);
      rc = SQR_OK;
    } else {
      rc = hqdb_event_hash(h->db, b->kiosk_id, first - 1, prev);
    }
    if(rc == SQR_ENOTFOUND) rc = SQR_ECORRUPT;
    if(rc) goto dbfail;
  }
  if(proto_chain_check(prev, b->events, b->count, &bad)) {
    hqdb_rollback(h->db);
    return broken(h, b->kiosk_id, b->events[bad].seq, "does not chain to the event before it", e);
  }
  /* What HQ already holds must be exactly what it holds. */
  for(; i < b->count && b->events[i].seq <= acked; i++) {
    rc = hqdb_event_hash(h->db, b->kiosk_id, b->events[i].seq, held);
    if(rc && rc != SQR_ENOTFOUND) goto dbfail;
    if(rc || !crypto_ct_equal(held, b->events[i].hash, 32)) {
      hqdb_rollback(h->db);
      return broken(h, b->kiosk_id, b->events[i].seq, "differs from the event HQ holds", e);
    }
  }
  if(i == b->count) { /* a replay: nothing new */
    hqdb_rollback(h->db);
    goto ack;
  }
  if((rc = hq__feed_begin(h, &feed))) goto dbfail;
  /* Every new row in as few statements as the backend needs (multi-row
   * INSERTs), then what the events change; one transaction either way. */
  rows = malloc((b->count - i) * sizeof *rows);
  if(!rows) {
    rc = SQR_ENOMEM;
    goto dbfail;
  }
  for(size_t j = i; j < b->count; j++) {
    const proto_event *ev = &b->events[j];
    rows[j - i] = (hq_event_row){.kiosk_id = b->kiosk_id,
                                 .store = b->store_id,
                                 .type = ev->type,
                                 .payload = ev->payload,
                                 .payload_len = ev->payload_len,
                                 .seq = ev->seq,
                                 .ts_ms = ev->ts_ms,
                                 .received_ms = now,
                                 .body_hash = ev->body_hash,
                                 .hash = ev->hash,
                                 .redacted = ev->redacted};
  }
  rc = hqdb_event_insert_many(h->db, rows, b->count - i);
  free(rows);
  rows = NULL;
  if(rc) goto dbfail;
  for(size_t j = i; j < b->count; j++) {
    const proto_event *ev = &b->events[j];
    if(strcmp(ev->type, "checkin") == 0) {
      checkins++;
      if(!ev->redacted && (rc = hq__feed_checkin(&feed, ev))) goto dbfail;
      if((rc = add_delta(&deltas, &ndeltas, b->count, stats_day_of_ms(ev->ts_ms), "", 0, 1)))
        goto dbfail;
    } else if(strcmp(ev->type, "signup") == 0) {
      char staff[HQ_ID_MAX] = "";
      signups++;
      if(!ev->redacted) {
        rc = apply_signup(h, b->store_id, b->kiosk_id, ev, now, t, staff, &queued, &feed);
        if(rc == SQR_EAUTH) unopened++, rc = SQR_OK;
        if(rc) goto dbfail;
      }
      if((rc = add_delta(&deltas, &ndeltas, b->count, stats_day_of_ms(ev->ts_ms), staff, 1, 0)))
        goto dbfail;
    } else if(strcmp(ev->type, "erase") == 0) {
      if((rc = apply_erase(h, b, ev, now, &feed, &erased))) goto dbfail;
    } else if(strcmp(ev->type, "marketing_consent") == 0) {
      if((rc = apply_marketing(h, b, ev, &feed))) goto dbfail;
    } else if(strcmp(ev->type, "config_applied") == 0) {
      if((rc = apply_config(h, b, ev, now, &keys_changed))) goto dbfail;
    } else if(strcmp(ev->type, "coupon_issued") == 0) {
      if((rc = apply_coupon(h, b, ev))) goto dbfail;
    } else if(strcmp(ev->type, "checkin_voided") == 0) {
      int64_t day = voided_day(ev);
      if(day) {
        checkins--;
        if((rc = add_delta(&deltas, &ndeltas, b->count, day, "", 0, -1))) goto dbfail;
      }
    } else if(strcmp(ev->type, "clock_jump") == 0) {
      add_clock_jump(&clock, ev);
    }
  }
  if(keys_changed && (rc = hqdb_keys_changed(h->db, b->store_id))) goto dbfail;
  if((rc = hq__feed_end(h, &feed))) goto dbfail;
  hq__feed_free(&feed);
  const proto_event *tail = &b->events[b->count - 1];
  if((rc = hqdb_kiosk_advance(h->db, b->kiosk_id, tail->seq, tail->hash)) ||
     (rc = hqdb_store_count(h->db, b->store_id, signups, checkins, (int)(b->count - i))) ||
     (rc = hqdb_stats_ingest(h->db, b->store_id, b->kiosk_id, deltas, ndeltas, tail->seq, now)) ||
     (b->behind >= 0 &&
      (rc = hqdb_stats_behind(h->db, b->store_id, b->kiosk_id, b->behind, now))) ||
     (clock.jumps && (rc = hqdb_stats_clock(h->db, b->store_id, b->kiosk_id, &clock, now))) ||
     (rc = hqdb_commit(h->db)))
    goto dbfail;
  free(deltas);
  deltas = NULL;
  acked = tail->seq;
  if(erased) hq__scrub(h); /* after the commit: the erased bytes leave the files */
  if(keys_changed) hq__notify(h, HQ_CHANGE_KEYS, b->store_id);
  if(queued) hq__notify(h, HQ_CHANGE_SEALED, b->store_id);
  log_info("hq", "%s: stored seq %lld..%lld", b->kiosk_id, (long long)b->events[i].seq,
           (long long)acked);
  if(unopened) hq_alert_raise_seq(h, b->kiosk_id, acked, "seal", "sealed phones HQ cannot open");
  if(clock.jumps) {
    /* After the commit: the events are HQ's now, whatever the alert does. */
    char by[64], msg[200];
    fmt_jump(clock.last_jump_ms, by, sizeof by);
    snprintf(msg, sizeof msg, "the kiosk's clock jumped %s (%s)%s", by,
             strcmp(clock.last_source, "hq_offset") == 0
                 ? "against HQ's time: set while the box was off, or HQ's clock moved"
                 : "its own clock was set while running",
             clock.jumps > 1 ? "; more than one jump in this upload" : "");
    hq_alert_raise_seq(h, b->kiosk_id, acked, "clock_jump", msg);
  }
ack:
  *acked_out = acked;
  return SQR_OK;
dbfail:
  free(rows);
  free(deltas);
  hq__feed_free(&feed);
  hqdb_rollback(h->db);
  if(rc == SQR_ENOTFOUND)
    return hq_fail(e, SQR_EAUTH, "certificate", "certificate: kiosk not enrolled");
  log_error("hq", "%s: storing a batch failed: %s", b->kiosk_id, hqdb_errmsg(h->db));
  return hq__fail_db(e, rc);
}

sqr_rc ingest_alert(hq *h, const char *kiosk_id, int64_t seq, const char *kind,
                    const char *message) {
  return hq_alert_raise_seq(h, kiosk_id, seq, kind, message);
}
