/* export.c — see export.h. */
#include "export.h"
#include "hq_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "hqdb_consent.h"
#include "hqdb_resolve.h"
#include "hqdb_stats.h"
#include "livecode.h"
#include "log.h"

struct hq_export {
  hq *h;
  hq_export_filter f;
  char store[HQ_ID_MAX], brand[HQ_ID_MAX];
  int jsonl, started, done;
  char after_store[HQ_ID_MAX], after_member[HQ_ID_MAX]; /* where the next page starts */
  hq_export_row *page;                                  /* HQ_EXPORT_PAGE, reused */
  int64_t rows, skipped;
  int64_t audit_ms;
  char who[HQ_ID_MAX * 2], what[HQ_AUDIT_WHAT_MAX];
};

/* A filter's id: "" when not given. */
static int id_arg(const char *v, char out[HQ_ID_MAX]) {
  out[0] = '\0';
  if(!v || !v[0]) return 1;
  if(!livecode_store_id_valid(v)) return 0;
  snprintf(out, HQ_ID_MAX, "%s", v);
  return 1;
}

sqr_rc hq_export_open(hq *h, const hq_export_req *q, const char *who, hq_export **out, hq_err *e) {
  *out = NULL;
  hq_export *x = calloc(1, sizeof *x);
  if(!x || !(x->page = calloc(HQ_EXPORT_PAGE, sizeof *x->page))) {
    if(x) free(x);
    return hq_fail(e, SQR_ENOMEM, "internal", "out of memory");
  }
  x->h = h;
  x->f = (hq_export_filter){.store = x->store, .brand = x->brand, .until_ms = INT64_MAX};
  snprintf(x->who, sizeof x->who, "%s", who ? who : "");
  sqr_rc rc = SQR_OK;
  int64_t since = 0, until = 0;
  const char *fmt = q->format && q->format[0] ? q->format : "csv";
  /* Every filter checked before anything is read or recorded. */
  if(!id_arg(q->store, x->store))
    rc = hq_fail(e, SQR_EINVAL, "bad_request", "store: must be 1..16 of A-Z 0-9 -");
  else if(!id_arg(q->brand, x->brand))
    rc = hq_fail(e, SQR_EINVAL, "bad_request", "brand: must be 1..16 of A-Z 0-9 -");
  else if(q->since && q->since[0] && stats_day_parse(q->since, &since))
    rc = hq_fail(e, SQR_EINVAL, "bad_request", "since: must be a date YYYY-MM-DD (2000..2099)");
  else if(q->until && q->until[0] && stats_day_parse(q->until, &until))
    rc = hq_fail(e, SQR_EINVAL, "bad_request", "until: must be a date YYYY-MM-DD (2000..2099)");
  else if(since && until && since > until)
    rc = hq_fail(e, SQR_EINVAL, "bad_request", "since: must not be after until");
  else if(strcmp(fmt, "csv") != 0 && strcmp(fmt, "jsonl") != 0)
    rc = hq_fail(e, SQR_EINVAL, "bad_request", "format: must be csv or jsonl");
  if(rc) goto fail;
  x->jsonl = strcmp(fmt, "jsonl") == 0;
  /* Shanghai days, both included: [since 00:00, the day after until 00:00) */
  if(since) x->f.since_ms = since * STATS_DAY_MS - STATS_TZ_OFFSET_MS;
  if(until) x->f.until_ms = (until + 1) * STATS_DAY_MS - STATS_TZ_OFFSET_MS;
  if(x->store[0]) {
    hq_store s;
    rc = hqdb_store_get(h->db, x->store, &s);
    if(rc == SQR_ENOTFOUND)
      rc = hq_fail(e, rc, "unknown_store", "store: no such store");
    else if(rc)
      rc = hq_fail_storage(h, e, rc);
    if(rc) goto fail;
  }
  if(x->brand[0]) {
    /* a brand is its stores: none means a mistyped brand, said so rather
     * than answered with an empty export */
    resolve_brand_store *bs = NULL;
    size_t nb = 0;
    rc = hqdb_resolve_brand_stores(h->db, x->brand, &bs, &nb);
    free(bs);
    if(!rc && nb == 0)
      rc = hq_fail(e, SQR_ENOTFOUND, "unknown_brand", "brand: no store has this brand");
    else if(rc)
      rc = hq_fail_storage(h, e, rc);
    if(rc) goto fail;
  }
  /* A sign-up whose sealed phone is still queued has no phone at HQ yet
   * but may have consented: open them first, as a person's data does. */
  if((rc = hq__seal_drain(h))) {
    if(rc == SQR_EBUSY)
      hq_fail(e, rc, "busy", "sealed phones are still being opened; ask again in a minute");
    else
      hq_fail_storage(h, e, rc);
    goto fail;
  }
  snprintf(x->what, sizeof x->what, "export_members format=%s%s%s%s%s%s%s%s%s", fmt,
           x->store[0] ? " store=" : "", x->store, x->brand[0] ? " brand=" : "", x->brand,
           since ? " since=" : "", since ? q->since : "", until ? " until=" : "",
           until ? q->until : "");
  /* Recorded before the first row leaves: an export HQ cannot record
   * does not happen. */
  x->audit_ms = hq_now_ms();
  if((rc = hqdb_audit(h->db, x->audit_ms, x->who, x->what, -1))) {
    hq_fail_storage(h, e, rc);
    goto fail;
  }
  *out = x;
  return SQR_OK;
fail:
  free(x->page);
  free(x);
  return rc;
}

const char *hq_export_type(const hq_export *x) {
  return x->jsonl ? "application/jsonl; charset=utf-8" : "text/csv; charset=utf-8";
}

int64_t hq_export_rows(const hq_export *x) {
  return x ? x->rows : 0;
}

static void day_of(int64_t ms, char out[11]) {
  stats_day_format(stats_day_of_ms(ms), out);
}

/* One row; phone is the opened number. Tags are the kiosk's JSON array of
 * tag ids: a list in JSON Lines, "a;b" in CSV. */
static void row_csv(dynbuf *b, const hq_export_row *r, const char *phone) {
  char joined[11], given[11];
  day_of(r->joined_ms, joined);
  day_of(r->consent_ms, given);
  const char *cells[] = {r->store, r->member, phone, joined, r->version, given, r->service};
  for(size_t i = 0; i < SQR_ARRAY_LEN(cells); i++) {
    dynbuf_add_csv(b, cells[i]);
    dynbuf_adds(b, ",");
  }
  char tags[HQ_EXPORT_TAGS_MAX] = "";
  size_t len = 0;
  cJSON *a = cJSON_Parse(r->tags), *t;
  cJSON_ArrayForEach(t, a) {
    if(!cJSON_IsString(t)) continue;
    int w = snprintf(tags + len, sizeof tags - len, "%s%s", len ? ";" : "", t->valuestring);
    if(w < 0 || (size_t)w >= sizeof tags - len) break;
    len += (size_t)w;
  }
  cJSON_Delete(a);
  dynbuf_add_csv(b, tags);
  dynbuf_adds(b, ",");
  dynbuf_add_csv(b, r->staff);
  dynbuf_adds(b, ",");
  dynbuf_add_csv(b, r->group);
  dynbuf_adds(b, "\r\n");
}

static void json_field(dynbuf *b, const char *name, const char *v, int first) {
  dynbuf_addf(b, "%s\"%s\":\"", first ? "" : ",", name);
  dynbuf_add_json(b, v);
  dynbuf_adds(b, "\"");
}

static void row_jsonl(dynbuf *b, const hq_export_row *r, const char *phone) {
  char joined[11], given[11];
  day_of(r->joined_ms, joined);
  day_of(r->consent_ms, given);
  dynbuf_adds(b, "{");
  json_field(b, "store", r->store, 1);
  json_field(b, "member_id", r->member, 0);
  json_field(b, "phone", phone, 0);
  json_field(b, "joined", joined, 0);
  json_field(b, "marketing_version", r->version, 0);
  json_field(b, "marketing_date", given, 0);
  json_field(b, "service_version", r->service, 0);
  dynbuf_adds(b, ",\"tags\":[");
  cJSON *a = cJSON_Parse(r->tags), *t;
  int n = 0;
  cJSON_ArrayForEach(t, a) {
    if(!cJSON_IsString(t)) continue;
    dynbuf_adds(b, n++ ? ",\"" : "\"");
    dynbuf_add_json(b, t->valuestring);
    dynbuf_adds(b, "\"");
  }
  cJSON_Delete(a);
  dynbuf_adds(b, "]");
  json_field(b, "staff", r->staff, 0);
  json_field(b, "group", r->group, 0);
  dynbuf_adds(b, "}\n");
}

sqr_rc hq_export_next(hq_export *x, dynbuf *out, int *done, hq_err *e) {
  *done = x->done;
  if(x->done) return SQR_OK;
  if(!x->started && !x->jsonl)
    dynbuf_adds(out, "store,member_id,phone,joined,marketing_version,marketing_date,"
                     "service_version,tags,staff,group\r\n");
  x->started = 1;
  size_t n = 0;
  sqr_rc rc = hqdb_consent_export(x->h->db, &x->f, x->after_store, x->after_member, HQ_EXPORT_PAGE,
                                  x->page, &n);
  if(rc) return hq_fail_storage(x->h, e, rc);
  for(size_t i = 0; i < n; i++) {
    const hq_export_row *r = &x->page[i];
    char phone[HQ_PHONE_ENC_MAX];
    if(!r->enclen || hq__phone_open(x->h, r->index, r->enc, r->enclen, phone, sizeof phone)) {
      /* a phone HQ's key does not open: left out, and said (no number) */
      log_warn("hq", "export: the phone of %s/%.8s does not open; row left out", r->store,
               r->member);
      x->skipped++;
      continue;
    }
    if(x->jsonl)
      row_jsonl(out, r, phone);
    else
      row_csv(out, r, phone);
    crypto_wipe(phone, sizeof phone);
    x->rows++;
  }
  if(n) {
    snprintf(x->after_store, sizeof x->after_store, "%s", x->page[n - 1].store);
    snprintf(x->after_member, sizeof x->after_member, "%s", x->page[n - 1].member);
  }
  /* the rows' copies of the encrypted phones go with the page */
  crypto_wipe(x->page, n * sizeof *x->page);
  if(n < HQ_EXPORT_PAGE) x->done = 1;
  *done = x->done;
  rc = dynbuf_error(out);
  if(rc) return hq_fail(e, rc, "internal", "the export does not fit its buffer");
  return SQR_OK;
}

void hq_export_close(hq_export *x, int complete) {
  if(!x) return;
  complete = complete && x->done;
  if(!complete)
    log_warn("hq", "export_members by %s cut short after %lld rows", x->who, (long long)x->rows);
  /* the rows that left either way: an export stopped near its end is
   * still counted, and marked */
  if(hqdb_audit_rows(x->h->db, x->audit_ms, x->who, x->what, x->rows, complete))
    log_warn("hq", "export_members by %s: %lld rows not counted in the audit log: %s", x->who,
             (long long)x->rows, hq_storage_error(x->h));
  free(x->page);
  free(x);
}

sqr_rc hq_audit_recent(hq *h, size_t max, hq_audit_row *audit, size_t *naudit,
                       hq_erasure_row *erasures, size_t *nerasures, hq_err *e) {
  sqr_rc rc = hqdb_audit_recent(h->db, max, audit, naudit);
  if(!rc) rc = hqdb_erasures_recent(h->db, max, erasures, nerasures);
  return rc ? hq_fail_storage(h, e, rc) : SQR_OK;
}
