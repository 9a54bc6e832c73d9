/* syncpass.c — see syncpass.h.
 *
 * The invariant: the kiosk's acknowledged seq moves only on HQ's acked_seq
 * answer (and never backwards, store_set_acked_seq), and what is sent next
 * always starts right after what HQ says it holds. A cut, a lost answer, a
 * retry or a killed process can therefore only cause a resend, which HQ
 * ignores; never a gap and never a duplicate.
 */
#include "syncpass.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "clock.h"
#include "fetch.h"
#include "synchttp.h"
#include "log.h"
#include "store.h"
#include "feed.h"
#include "member.h"
#include "proto.h"

#define COMPONENT "sync"
/* "HQ's answer carried no time" for the offset out-parameters. */
#define NO_OFFSET INT64_MIN
/* 409 gap answers tolerated in one pass before giving up. */
#define MAX_GAP_RESTARTS 8

sqr_rc syncpass_paths_for(const char *db_path, syncpass_paths *out) {
  char copy[1024];
  if((size_t)snprintf(copy, sizeof copy, "%s", db_path) >= sizeof copy) return SQR_EINVAL;
  snprintf(out->dir, sizeof out->dir, "%s", dirname(copy));
  snprintf(out->key, sizeof out->key, "%s/kiosk.key", out->dir);
  snprintf(out->cert, sizeof out->cert, "%s/kiosk.crt", out->dir);
  snprintf(out->ca, sizeof out->ca, "%s/hq-ca.crt", out->dir);
  snprintf(out->url, sizeof out->url, "%s/hq.url", out->dir);
  return SQR_OK;
}

typedef struct fill_ctx {
  proto_batch *b;
  sqr_rc rc;
} fill_ctx;

static int add_one(const store_event *ev, void *ud) {
  fill_ctx *f = ud;
  f->rc = proto_batch_add(f->b, ev);
  return f->rc != SQR_OK; /* stop when full (SQR_ENOSPC) or on error */
}

/* The local wall clock, without HQ's offset: offset = hq - local. */
static int64_t local_ms(sqr_clock *c) {
  return clock_now_ms(c) - clock_offset_ms(c);
}

static void refused(syncpass_result *res, const char *what, const synchttp_response *r,
                    const proto_answer *a) {
  snprintf(res->error, sizeof res->error, "%s: HQ answered %ld %s%s%.200s", what, r->status,
           a->error[0] ? a->error : "(no error code)", a->message[0] ? ": " : "", a->message);
}

static sqr_rc rc_for_status(long status) {
  if(status == 401 || status == 403) return SQR_EAUTH;
  if(status >= 500) return SQR_ENET; /* HQ in trouble: try again later */
  return SQR_EPROTO;
}

static sqr_rc read_url_file(const char *path, char *out, size_t size) {
  FILE *f = fopen(path, "r");
  if(!f) return SQR_EINVAL;
  char *ok = fgets(out, (int)size, f);
  fclose(f);
  if(!ok) return SQR_EINVAL;
  out[strcspn(out, "\r\n")] = 0;
  return out[0] ? SQR_OK : SQR_EINVAL;
}

/* The last pruned seq (0: none); on a read error 0, and the resend then
 * fails on HQ's answer as before. */
static int64_t pruned_to(store *st) {
  store_anchor a;
  return store_anchor_get(st, &a) ? 0 : a.seq;
}

static sqr_rc upload(store *st, synchttp *h, const sqr_config *cfg, const syncpass_opts *o,
                     syncpass_result *res, int64_t *hq_time) {
  int64_t from = store_acked_seq(st);
  int gaps = 0;
  int limit = o->batch_events > 0 && o->batch_events <= PROTO_MAX_EVENTS ? o->batch_events
                                                                         : PROTO_MAX_EVENTS;
  for(;;) {
    if(o->max_batches && res->batches >= o->max_batches) return SQR_OK;
    if(o->abort_flag && *o->abort_flag) {
      snprintf(res->error, sizeof res->error, "stopped (shutting down)");
      return SQR_ENET;
    }
    proto_batch b;
    char *json = NULL;
    size_t len = 0;
    synchttp_response r = {0};
    proto_answer a;
    char aerr[160];
    sqr_rc rc = proto_batch_init(&b, cfg->store_id, cfg->kiosk_number, cfg->kiosk_incarnation);
    if(rc) {
      snprintf(res->error, sizeof res->error, "kiosk id %s/%d is not valid on the wire",
               cfg->store_id, cfg->kiosk_number);
      return rc;
    }
    fill_ctx f = {&b, SQR_OK};
    rc = store_events_after(st, from, limit, add_one, &f);
    if(!rc && f.rc && f.rc != SQR_ENOSPC) {
      rc = f.rc;
      snprintf(res->error, sizeof res->error, "event %lld cannot be sent: %s",
               (long long)(from + (int64_t)b.count + 1), sqr_strerror(rc));
    }
    if(rc || !b.count) {
      if(rc && !res->error[0])
        snprintf(res->error, sizeof res->error, "reading events: %s", store_errmsg(st));
      proto_batch_clear(&b);
      return rc;
    }
    int64_t first = b.events[0].seq, last = b.events[b.count - 1].seq;
    size_t count = b.count;
    /* HQ cannot see what is still waiting here (a trickle, --max-batches,
     * a cut link): tell it, for its "events behind" figure */
    int64_t held = store_last_seq(st) - last;
    b.behind = held > 0 ? held : 0;
    rc = proto_batch_encode(&b, &json, &len);
    proto_batch_clear(&b);
    if(rc) return rc;
    log_debug(COMPONENT, "sending events %lld..%lld (%zu bytes)", (long long)first, (long long)last,
              len);
    rc = synchttp_request(h, "POST", "/v1/events", json, len, PROTO_MAX_ANSWER, &r, res->error,
                          sizeof res->error);
    free(json);
    if(rc) return rc;
    if(proto_answer_decode(r.body, r.len, &a, aerr, sizeof aerr)) {
      snprintf(res->error, sizeof res->error, "POST /v1/events: HQ answered %ld: %s", r.status,
               aerr);
      rc = r.status >= 500 ? SQR_ENET : SQR_EPROTO;
      synchttp_response_clear(&r);
      return rc;
    }
    if(a.hq_time_ms) *hq_time = a.hq_time_ms - local_ms(store_clock(st));
    if(r.status == 200 && !a.has_acked) {
      snprintf(res->error, sizeof res->error, "POST /v1/events: HQ's answer has no acked_seq");
      synchttp_response_clear(&r);
      return SQR_EPROTO;
    }
    if(r.status == 200) {
      int64_t acked = a.acked_seq;
      if(acked < 0 || acked > store_last_seq(st)) {
        snprintf(res->error, sizeof res->error,
                 "HQ acknowledged seq %lld, beyond the last event %lld", (long long)acked,
                 (long long)store_last_seq(st));
        synchttp_response_clear(&r);
        return SQR_EPROTO;
      }
      if((rc = store_set_acked_seq(st, acked))) {
        snprintf(res->error, sizeof res->error, "recording HQ's acknowledgement: %s",
                 store_errmsg(st));
        synchttp_response_clear(&r);
        return rc;
      }
      res->batches++;
      res->sent_events += (int64_t)count;
      if(acked < last) {
        /* HQ holds less than we sent and said so without a gap: resume
         * right after what it holds, but never loop on it. */
        if(acked <= from || ++gaps > MAX_GAP_RESTARTS) {
          snprintf(res->error, sizeof res->error,
                   "HQ acknowledged %lld after a batch %lld..%lld: no progress", (long long)acked,
                   (long long)first, (long long)last);
          synchttp_response_clear(&r);
          return SQR_EPROTO;
        }
      }
      from = acked;
    } else if(r.status == 409 && a.expected_seq >= 1 && a.expected_seq - 1 < pruned_to(st)) {
      /* HQ lost events it had acknowledged (restored from an old backup)
       * and this kiosk has since pruned them: they cannot be sent again. */
      snprintf(res->error, sizeof res->error,
               "HQ expects seq %lld but this kiosk pruned the events up to %lld after HQ"
               " acknowledged them: restore HQ's copy of this kiosk's log",
               (long long)a.expected_seq, (long long)pruned_to(st));
      synchttp_response_clear(&r);
      return SQR_EPROTO;
    } else if(r.status == 409 && a.expected_seq >= 1 && a.expected_seq - 1 <= from &&
              ++gaps <= MAX_GAP_RESTARTS) {
      /* HQ holds less than we believed (restored, or its answer was lost
       * and our state is older): resend from what it expects. */
      log_warn(COMPONENT, "HQ expects seq %lld; resending from there", (long long)a.expected_seq);
      from = a.expected_seq - 1;
    } else {
      refused(res, "POST /v1/events", &r, &a);
      rc = rc_for_status(r.status);
      synchttp_response_clear(&r);
      return rc;
    }
    synchttp_response_clear(&r);
  }
}

static sqr_rc pull_config(store *st, synchttp *h, syncpass_result *res, int64_t *hq_time) {
  const sqr_config *cfg = store_config(st);
  char path[64], cerr[512] = "";
  int64_t since = cfg ? cfg->version : 0;
  synchttp_response r = {0};
  proto_answer a = {0};
  char aerr[160];
  snprintf(path, sizeof path, "/v1/config?since=%lld", (long long)since);
  sqr_rc rc = synchttp_request(h, "GET", path, NULL, 0, CONFIG_MAX_BYTES + 4096, &r, res->error,
                               sizeof res->error);
  if(rc) return rc;
  if(r.status == 304) goto out;
  if(r.status == 200) {
    /* The document can be far larger than any other answer. */
    int64_t t;
    if(proto_config_time(r.body, r.len, &t, aerr, sizeof aerr)) {
      snprintf(res->error, sizeof res->error, "GET /v1/config: HQ answered 200: %s", aerr);
      rc = SQR_EPROTO;
      goto out;
    }
    *hq_time = t - local_ms(store_clock(st));
  } else if(proto_answer_decode(r.body, r.len, &a, aerr, sizeof aerr)) {
    snprintf(res->error, sizeof res->error, "GET /v1/config: HQ answered %ld: %s", r.status, aerr);
    rc = r.status >= 500 ? SQR_ENET : SQR_EPROTO;
    goto out;
  }
  if(r.status != 200) {
    if(a.hq_time_ms) *hq_time = a.hq_time_ms - local_ms(store_clock(st));
    refused(res, "GET /v1/config", &r, &a);
    rc = rc_for_status(r.status);
    goto out;
  }
  rc = store_apply_config(st, r.body, r.len, cerr, sizeof cerr);
  if(rc) snprintf(res->error, sizeof res->error, "HQ's configuration refused: %.250s", cerr);
out:
  synchttp_response_clear(&r);
  return rc;
}

/* Pages of HQ's feed one pass applies at most (1,000 entries each): a
 * new kiosk in a store of 100,000 members catches up in one pass, and a
 * feed without end cannot hold the pass forever. */
#define FEED_PAGES_PER_PASS 400

/* HQ's feed after the configuration (docs/PROTOCOL.md "Feed"): each page
 * applied with its cursor in one transaction, until HQ has no more. An HQ
 * from before the feed answers 404: nothing to do. */
static sqr_rc pull_feed(store *st, synchttp *h, const sqr_config *cfg, syncpass_result *res) {
  char self[PROTO_KIOSK_ID_MAX];
  if(proto_kiosk_format(cfg->store_id, cfg->kiosk_number, cfg->kiosk_incarnation, self))
    return SQR_OK; /* upload refused this kiosk id already */
  sqr_rc rc = SQR_OK;
  for(int pages = 0; !rc && pages < FEED_PAGES_PER_PASS; pages++) {
    char cur[MEMBER_FEED_CURSOR_MAX], path[128], ferr[200];
    synchttp_response r = {0};
    proto_answer a = {0};
    proto_feed_page page = {0};
    member_feed_result fr;
    if((rc = member_feed_cursor(st, cur))) {
      snprintf(res->error, sizeof res->error, "reading the feed cursor: %s", store_errmsg(st));
      break;
    }
    snprintf(path, sizeof path, "/v1/feed?after=%s", cur);
    rc = synchttp_request(h, "GET", path, NULL, 0, PROTO_FEED_MAX_ANSWER, &r, res->error,
                          sizeof res->error);
    if(rc) break;
    if(r.status == 404) {
      synchttp_response_clear(&r);
      break;
    }
    if(r.status != 200) {
      if(proto_answer_decode(r.body, r.len, &a, ferr, sizeof ferr))
        snprintf(res->error, sizeof res->error, "GET /v1/feed: HQ answered %ld: %s", r.status,
                 ferr);
      else
        refused(res, "GET /v1/feed", &r, &a);
      rc = rc_for_status(r.status);
    } else if(proto_feed_decode(r.body, r.len, &page, ferr, sizeof ferr)) {
      snprintf(res->error, sizeof res->error, "GET /v1/feed: a page this kiosk cannot use: %s",
               ferr);
      rc = SQR_EPROTO;
    } else if((rc = member_feed_apply(st, self, cur, page.entries, page.count, page.next, &fr))) {
      snprintf(res->error, sizeof res->error, "applying HQ's feed: %s", store_errmsg(st));
    } else {
      res->feed_pages++;
      res->feed_entries += (int64_t)page.count;
      res->feed_voided += fr.voided_here;
      if(!page.more) pages = FEED_PAGES_PER_PASS;
    }
    proto_feed_clear(&page);
    synchttp_response_clear(&r);
  }
  return rc;
}

/* One pass at a time per database: the trickle daemon runs by default,
 * and "sync now" (a child of the kiosk, or storeqr-sync.service) may start
 * while its pass runs. Two passes would be safe for the events (HQ's
 * answer alone moves the acked seq) but could both apply one configuration
 * version. The second waits for the first (flock on sync.lock beside the
 * database; the kernel drops it when a pass dies), then finds little left
 * to do. */
static sqr_rc pass_lock(const syncpass_paths *p, const syncpass_opts *o, int *fd,
                        syncpass_result *res) {
  char path[1100];
  snprintf(path, sizeof path, "%s/sync.lock", p->dir);
  *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
  if(*fd < 0) {
    snprintf(res->error, sizeof res->error, "cannot open %.200s: %s", path, strerror(errno));
    return SQR_EIO;
  }
  /* a nightly pass of a big backlog can take minutes */
  const long wait_s = 900;
  for(long i = 0; flock(*fd, LOCK_EX | LOCK_NB) != 0; i++) {
    if(errno != EWOULDBLOCK && errno != EINTR) {
      snprintf(res->error, sizeof res->error, "cannot lock %.200s: %s", path, strerror(errno));
      return SQR_EIO;
    }
    if(i == 0) log_info(COMPONENT, "another sync pass is running; waiting for it");
    if(i >= wait_s * 5 || (o->abort_flag && *o->abort_flag)) {
      snprintf(res->error, sizeof res->error, "another sync pass is still running");
      return SQR_EBUSY;
    }
    usleep(200 * 1000);
  }
  return SQR_OK;
}

sqr_rc syncpass_run(const syncpass_opts *o, syncpass_result *res) {
  memset(res, 0, sizeof *res);
  syncpass_paths p;
  sqr_clock *clk = NULL;
  store *st = NULL;
  synchttp *h = NULL;
  char url[1024];
  /* The offset measured in this pass; NO_OFFSET = none. Not 0: an HQ whose
   * clock agrees with the box to the millisecond (one machine, or good
   * NTP on both) measures 0, and taking that for "none" kept the previous
   * offset, which the clock-jump check then saw as HQ's time moving. */
  int64_t hq_time = NO_OFFSET;
  int have_offset = 0, lockfd = -1;
  sqr_rc rc = syncpass_paths_for(o->db_path, &p);
  if(rc) {
    snprintf(res->error, sizeof res->error, "database path too long");
    return rc;
  }
  if((rc = clock_new_real(&clk))) return rc;
  if((rc = pass_lock(&p, o, &lockfd, res))) goto done;
  if((rc = store_open(o->db_path, clk, &st, res->error, sizeof res->error))) goto done;
  /* Before anything is measured or sent: a jump of the box's clock is
   * recorded (and goes up in this pass) even when the UI is not running,
   * and the HQ offset this pass measures is compared knowing of it. The
   * reference is shared with the app through the database, so a jump
   * either of them saw first is not recorded twice. */
  int jumped = 0;
  if(store_check_clock(st, &jumped))
    log_warn(COMPONENT, "could not check the clock: %s", store_errmsg(st));
  const sqr_config *cfg = store_config(st);
  res->acked_before = store_acked_seq(st);
  res->config_before = cfg ? cfg->version : 0;
  /* Enrolled but without a configuration (HQ's was refused at enrolment):
   * nothing can be uploaded before one applies, so pull it first. */
  if(o->hq_url)
    snprintf(url, sizeof url, "%s", o->hq_url);
  else if(cfg && cfg->hq_url[0])
    snprintf(url, sizeof url, "%s", cfg->hq_url);
  else if(read_url_file(p.url, url, sizeof url)) {
    snprintf(res->error, sizeof res->error, "no HQ URL: give --hq, or enrol this kiosk first");
    rc = SQR_EINVAL;
    goto record;
  }
  if(access(p.cert, R_OK) || access(p.key, R_OK) || access(p.ca, R_OK)) {
    snprintf(res->error, sizeof res->error,
             "not enrolled: kiosk.crt, kiosk.key or hq-ca.crt missing in %.200s", p.dir);
    rc = SQR_EINVAL;
    goto record;
  }
  synchttp_opts ho = {.base_url = url,
                      .ca_file = p.ca,
                      .cert_file = p.cert,
                      .key_file = p.key,
                      .connect_timeout_s = o->connect_timeout_s,
                      .total_timeout_s = o->total_timeout_s,
                      .abort_flag = o->abort_flag};
  if((rc = synchttp_new(&ho, &h))) {
    snprintf(res->error, sizeof res->error, "HQ URL must start with https://");
    goto record;
  }
  if(!cfg) {
    int64_t t = NO_OFFSET;
    if((rc = pull_config(st, h, res, &t))) goto record;
    if(t != NO_OFFSET) hq_time = t, have_offset = 1;
    if(!(cfg = store_config(st))) {
      snprintf(res->error, sizeof res->error, "HQ sent no configuration for this kiosk");
      rc = SQR_EPROTO;
      goto record;
    }
  }
  rc = upload(st, h, cfg, o, res, &hq_time);
  if(hq_time != NO_OFFSET) have_offset = 1;
  if(!rc && !o->skip_config) {
    int64_t t = NO_OFFSET;
    rc = pull_config(st, h, res, &t);
    if(t != NO_OFFSET) hq_time = t, have_offset = 1;
  }
  if(!rc && !o->skip_config && (cfg = store_config(st))) {
    rc = pull_feed(st, h, cfg, res);
    /* What the configuration and the feed made here (an erasure done, a
     * check-in taken back) reaches HQ in this pass, not the next. */
    if(!rc && store_last_seq(st) > store_acked_seq(st)) rc = upload(st, h, cfg, o, res, &hq_time);
  }
  if(!rc && !o->skip_config && !o->skip_update && (cfg = store_config(st))) {
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/updates", p.dir);
    fetch_opts fo = {.dir = o->update_dir ? o->update_dir : dir,
                     .release_file = o->release_file,
                     .update_cmd = o->update_cmd};
    /* Its failure is a note in the record, never the pass's failure. */
    if(fetch_update(cfg, h, &fo, res->update_note, sizeof res->update_note))
      log_debug(COMPONENT, "update bundle not handled this pass");
  }
  /* Retention, now that HQ holds what it acknowledged: cheap when there
   * is nothing to prune; a failure is logged, never the pass's. */
  if(!rc && !o->skip_prune && store_prune_events(st, clock_now_ms(clk), &res->pruned) != SQR_OK)
    log_warn(COMPONENT, "could not prune old events: %s", store_errmsg(st));
record:
  res->acked_after = store_acked_seq(st);
  res->last_seq = store_last_seq(st);
  cfg = store_config(st);
  res->config_after = cfg ? cfg->version : 0;
  res->hq_offset_ms = have_offset ? hq_time : clock_offset_ms(clk);
  if(store_sync_record(st, rc == SQR_OK,
                       rc                    ? res->error
                       : res->update_note[0] ? res->update_note
                                             : NULL,
                       res->hq_offset_ms))
    log_warn(COMPONENT, "could not record the sync attempt: %s", store_errmsg(st));
done:
  synchttp_free(h);
  store_close(st);
  clock_free(clk);
  if(lockfd >= 0) close(lockfd); /* releases the lock */
  return rc;
}
