/* storefeed.c — see storefeed.h. */
#include "storefeed.h"
#include "hq_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "feed.h"
#include "hqdb_feed.h"
#include "log.h"
#include "proto.h"

#define PAGE_MAX PROTO_FEED_MAX_ENTRIES

void hq__feed_init(hq__feed *f, const char *sid, const char *kiosk_id) {
  memset(f, 0, sizeof *f);
  f->store = sid;
  f->kiosk_id = kiosk_id;
}

void hq__feed_free(hq__feed *f) {
  free(f->members);
  free(f->checkins);
  free(f->erased);
  free(f->marketing);
  memset(f, 0, sizeof *f);
}

/* Room for one more of an array of size sz (doubling). */
static int grow(void **a, size_t n, size_t *cap, size_t sz) {
  if(n < *cap) return 1;
  size_t c = *cap ? *cap * 2 : 16;
  void *p = realloc(*a, c * sz);
  if(!p) return 0;
  *a = p;
  *cap = c;
  return 1;
}

static int hex32(const char *s) {
  size_t n = 0;
  for(; s[n]; n++)
    if(!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'))) return 0;
  return n == 32;
}

/* null, or an id as configurations write them: 1..32 letters, digits,
 * '-' and '_' (so nothing in a page needs escaping). */
static int id_or_null(const cJSON *v) {
  if(cJSON_IsNull(v) || !v) return 1;
  if(!cJSON_IsString(v)) return 0;
  size_t n = 0;
  for(const char *c = v->valuestring; *c; c++, n++)
    if(!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
         *c == '-' || *c == '_'))
      return 0;
  return n >= 1 && n <= CONFIG_ID_MAX;
}

static void entry_of_member(const hq_feed_member *m, proto_feed_entry *e);

static void copy_id(char *out, size_t size, const cJSON *v) {
  snprintf(out, size, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

sqr_rc hq__feed_signup(hq__feed *f, const proto_event *ev, const cJSON *p) {
  const cJSON *mid = cJSON_GetObjectItemCaseSensitive(p, "member");
  const cJSON *blind = cJSON_GetObjectItemCaseSensitive(p, "blind");
  const cJSON *kind = cJSON_GetObjectItemCaseSensitive(p, "index_kind");
  const cJSON *consent = cJSON_GetObjectItemCaseSensitive(p, "consent_version");
  const cJSON *tags = cJSON_GetObjectItemCaseSensitive(p, "tags");
  const cJSON *points = cJSON_GetObjectItemCaseSensitive(p, "points");
  /* Kiosks from before the feed send no blind index: their members stay
   * their own. So does anything the feed could not carry as it is. */
  if(!cJSON_IsString(mid) || !hex32(mid->valuestring) || !cJSON_IsString(blind) ||
     !cJSON_IsNumber(kind) ||
     (kind->valueint != CONFIG_INDEX_HMAC && kind->valueint != CONFIG_INDEX_ARGON2ID) ||
     !cJSON_IsString(consent) || !consent->valuestring[0] ||
     strlen(consent->valuestring) > CONFIG_ID_MAX || !cJSON_IsNumber(points) ||
     points->valuedouble < -PROTO_FEED_POINTS_MAX || points->valuedouble > PROTO_FEED_POINTS_MAX)
    return SQR_OK;
  if(!grow((void **)&f->members, f->nmembers, &f->capmembers, sizeof *f->members))
    return SQR_ENOMEM;
  hq_feed_member *m = &f->members[f->nmembers];
  memset(m, 0, sizeof *m);
  size_t n = 0;
  if(crypto_unb64(blind->valuestring, m->blind, sizeof m->blind, &n) || n != sizeof m->blind)
    return SQR_OK;
  char *t = cJSON_IsArray(tags) ? cJSON_PrintUnformatted(tags) : NULL;
  int fits = !t || strlen(t) < sizeof m->tags;
  snprintf(m->tags, sizeof m->tags, "%s", t && fits ? t : "[]");
  cJSON_free(t);
  if(!fits) return SQR_OK;
  snprintf(m->member, sizeof m->member, "%s", mid->valuestring);
  snprintf(m->origin, sizeof m->origin, "%s", f->kiosk_id);
  m->index_kind = kind->valueint;
  m->created_ms = ev->ts_ms;
  snprintf(m->consent, sizeof m->consent, "%s", consent->valuestring);
  const cJSON *staff = cJSON_GetObjectItemCaseSensitive(p, "staff");
  const cJSON *group = cJSON_GetObjectItemCaseSensitive(p, "group");
  if(!id_or_null(staff) || !id_or_null(group)) return SQR_OK;
  copy_id(m->staff, sizeof m->staff, staff);
  copy_id(m->group, sizeof m->group, group);
  m->points = (int64_t)points->valuedouble;
  m->seq = 1;
  m->state_seq = 1;
  /* Only what HQ can send: a member the encoder refused would stop every
   * page it falls on. */
  proto_feed_entry e;
  entry_of_member(m, &e);
  if(!proto_feed_entry_valid(&e)) return SQR_OK;
  f->nmembers++;
  return SQR_OK;
}

/* A non-negative decimal at *s, no leading zero unless alone, at most 15
 * digits; advances *s. -1 if none. */
static int64_t number_at(const char **s) {
  const char *p = *s;
  int64_t v = 0;
  int n = 0;
  while(*p >= '0' && *p <= '9' && n < 16)
    v = v * 10 + (*p++ - '0'), n++;
  if(n == 0 || n > 15 || (n > 1 && **s == '0')) return -1;
  *s = p;
  return v;
}

static int literal(const char **s, const char *lit) {
  size_t n = strlen(lit);
  if(strncmp(*s, lit, n) != 0) return 0;
  *s += n;
  return 1;
}

/* {"member":"<32 hex>","day":D,"points":P,"streak":S}: a batch is
 * mostly check-ins, and cJSON would allocate for each. */
int hq__checkin_text(const char *s, hq__checkin_row *c) {
  if(!literal(&s, "{\"member\":\"")) return 0;
  for(int i = 0; i < 32; i++) {
    char ch = s[i];
    if(!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return 0;
    c->member[i] = ch;
  }
  c->member[32] = '\0';
  s += 32;
  if(!literal(&s, "\",\"day\":") || (c->day = number_at(&s)) < 0 || !literal(&s, ",\"points\":") ||
     (c->points = number_at(&s)) < 0 || !literal(&s, ",\"streak\":") ||
     (c->streak = number_at(&s)) < 0 || !literal(&s, "}"))
    return 0;
  return *s == '\0';
}

/* Any other shape of a check-in payload, through cJSON. */
static int checkin_json(const char *s, hq__checkin_row *c) {
  cJSON *p = cJSON_Parse(s);
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(p, "member");
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(p, "day");
  const cJSON *pt = cJSON_GetObjectItemCaseSensitive(p, "points");
  const cJSON *st = cJSON_GetObjectItemCaseSensitive(p, "streak");
  /* ranges on the doubles: a cast of 1e300 is undefined */
  int ok = cJSON_IsString(m) && hex32(m->valuestring) && cJSON_IsNumber(d) && d->valuedouble >= 1 &&
           d->valuedouble <= PROTO_FEED_DAY_MAX && cJSON_IsNumber(pt) && pt->valuedouble >= 0 &&
           pt->valuedouble <= PROTO_FEED_POINTS_MAX && cJSON_IsNumber(st) && st->valuedouble >= 1 &&
           st->valuedouble <= PROTO_FEED_DAY_MAX;
  if(ok) {
    snprintf(c->member, sizeof c->member, "%s", m->valuestring);
    c->day = (int64_t)d->valuedouble;
    c->points = (int64_t)pt->valuedouble;
    c->streak = (int64_t)st->valuedouble;
  }
  cJSON_Delete(p);
  return ok;
}

sqr_rc hq__feed_checkin(hq__feed *f, const proto_event *ev) {
  hq__checkin_row c;
  if(!hq__checkin_text(ev->payload, &c) && !checkin_json(ev->payload, &c)) return SQR_OK;
  /* What the feed could not carry is not shared (feed.c's ranges). */
  if(c.day < 1 || c.day > PROTO_FEED_DAY_MAX || c.points < 0 || c.points > PROTO_FEED_POINTS_MAX ||
     c.streak < 1 || c.streak > PROTO_FEED_DAY_MAX || ev->ts_ms < 0)
    return SQR_OK;
  c.ts_ms = ev->ts_ms;
  if(!grow((void **)&f->checkins, f->ncheckins, &f->capcheckins, sizeof *f->checkins))
    return SQR_ENOMEM;
  f->checkins[f->ncheckins++] = c;
  return SQR_OK;
}

sqr_rc hq__feed_erase(hq__feed *f, const char *member) {
  if(!grow((void **)&f->erased, f->nerased, &f->caperased, sizeof *f->erased)) return SQR_ENOMEM;
  snprintf(f->erased[f->nerased++], sizeof f->erased[0], "%s", member);
  return SQR_OK;
}

sqr_rc hq__feed_marketing(hq__feed *f, const char *member, const char *version, int64_t ts_ms,
                          int from_hq) {
  if(!grow((void **)&f->marketing, f->nmarketing, &f->capmarketing, sizeof *f->marketing))
    return SQR_ENOMEM;
  hq__marketing_row *m = &f->marketing[f->nmarketing++];
  snprintf(m->member, sizeof m->member, "%s", member);
  snprintf(m->version, sizeof m->version, "%s", version);
  m->ts_ms = ts_ms;
  m->from_hq = from_hq;
  return SQR_OK;
}

/* ---- writing ------------------------------------------------------------- */

typedef struct writer {
  hq *h;
  const char *store;
  int locked;
  int64_t head;
  hq_feed_row *rows;
  size_t nrows, caprows;
} writer;

static sqr_rc lock(writer *w) {
  if(w->locked) return SQR_OK;
  sqr_rc rc = hqdb_feed_lock(w->h->db, w->store, &w->head);
  if(!rc) w->locked = 1;
  return rc;
}

static hq_feed_row *add_row(writer *w, int kind, const char *origin, const char *member) {
  if(!grow((void **)&w->rows, w->nrows, &w->caprows, sizeof *w->rows)) return NULL;
  hq_feed_row *r = &w->rows[w->nrows++];
  memset(r, 0, sizeof *r);
  r->seq = ++w->head;
  r->kind = kind;
  snprintf(r->origin, sizeof r->origin, "%s", origin);
  snprintf(r->member, sizeof r->member, "%s", member);
  return r;
}

/* 1 if member is one this upload erased (its entries are not shared). */
static int erased_here(const hq__feed *f, const char *member) {
  for(size_t i = 0; i < f->nerased; i++)
    if(strcmp(f->erased[i], member) == 0) return 1;
  return 0;
}

static sqr_rc write_members(writer *w, hq__feed *f) {
  size_t keep = 0;
  for(size_t i = 0; i < f->nmembers; i++)
    if(!erased_here(f, f->members[i].member)) f->members[keep++] = f->members[i];
  f->nmembers = keep;
  if(!f->nmembers) return SQR_OK;
  uint8_t *added = malloc(f->nmembers);
  sqr_rc rc = added ? lock(w) : SQR_ENOMEM;
  for(size_t i = 0; !rc && i < f->nmembers; i++)
    f->members[i].seq = w->head + 1 + (int64_t)i;
  if(!rc) rc = hqdb_feed_members_add(w->h->db, w->store, f->members, f->nmembers, added);
  int64_t base = w->head;
  for(size_t i = 0; !rc && i < f->nmembers; i++) {
    if(!added[i]) continue; /* the store holds this member already */
    w->head = base + (int64_t)i;
    if(!add_row(w, HQ_FEED_MEMBER, f->kiosk_id, f->members[i].member)) rc = SQR_ENOMEM;
  }
  if(!rc) w->head = base + (int64_t)f->nmembers;
  free(added);
  return rc;
}

/* a's check-in came before b's: earlier kiosk time, then smaller kiosk. */
static int earlier(int64_t ts_a, const char *kiosk_a, int64_t ts_b, const char *kiosk_b) {
  return ts_a != ts_b ? ts_a < ts_b : strcmp(kiosk_a, kiosk_b) < 0;
}

static hq_feed_day *find_day(hq_feed_day *d, size_t n, const char *member, int64_t day) {
  for(size_t i = 0; i < n; i++)
    if(d[i].day == day && strcmp(d[i].member, member) == 0) return &d[i];
  return NULL;
}

static sqr_rc write_checkins(writer *w, hq__feed *f) {
  size_t n = f->ncheckins;
  if(!n) return SQR_OK;
  const char **ids = malloc(n * sizeof *ids);
  int64_t *days = malloc(n * sizeof *days);
  uint8_t *shared = malloc(n);
  hq_feed_day *known = NULL;
  size_t nknown = 0, m = 0;
  sqr_rc rc = ids && days && shared ? SQR_OK : SQR_ENOMEM;
  for(size_t i = 0; !rc && i < n; i++)
    ids[i] = f->checkins[i].member;
  /* Check-ins of members the store does not share (signed up before the
   * feed, or before the kiosk sent blind indexes) are dropped: one read
   * per 64, under the head lock, so an erasure committed meanwhile is
   * seen. */
  if(!rc) rc = hqdb_feed_shared(w->h->db, w->store, ids, n, shared);
  for(size_t i = 0; !rc && i < n; i++)
    if(shared[i] && !erased_here(f, f->checkins[i].member)) {
      f->checkins[m] = f->checkins[i];
      ids[m] = f->checkins[m].member;
      days[m++] = f->checkins[i].day;
    }
  if(!rc && m) rc = lock(w);
  if(!rc && m) rc = hqdb_feed_days(w->h->db, w->store, ids, days, m, &known, &nknown);
  /* Room for a day row per check-in; dirty marks those to write. */
  hq_feed_day *d = NULL;
  uint8_t *dirty = NULL;
  if(!rc && m) {
    d = malloc((nknown + m) * sizeof *d);
    dirty = calloc(nknown + m, 1);
    if(!d || !dirty) rc = SQR_ENOMEM;
  }
  size_t nd = nknown;
  if(!rc && nknown) memcpy(d, known, nknown * sizeof *d);
  for(size_t i = 0; !rc && i < m; i++) {
    const hq__checkin_row *c = &f->checkins[i];
    hq_feed_row *r = add_row(w, HQ_FEED_CHECKIN, f->kiosk_id, c->member);
    if(!r) {
      rc = SQR_ENOMEM;
      break;
    }
    r->day = c->day;
    r->points = c->points;
    r->streak = c->streak;
    r->ts_ms = c->ts_ms;
    hq_feed_day *k = find_day(d, nd, c->member, c->day);
    hq_feed_day mine = {
        .day = c->day, .ts_ms = c->ts_ms, .points = c->points, .streak = c->streak, .seq = r->seq};
    snprintf(mine.member, sizeof mine.member, "%s", c->member);
    snprintf(mine.kiosk, sizeof mine.kiosk, "%s", f->kiosk_id);
    if(!k) {
      d[nd] = mine;
      dirty[nd++] = 1;
      continue;
    }
    /* The day counted already at a kiosk: one of the two is voided. */
    int wins = earlier(c->ts_ms, f->kiosk_id, k->ts_ms, k->kiosk);
    const hq_feed_day *loser = wins ? k : &mine;
    hq_feed_row *v = add_row(w, HQ_FEED_VOID, "hq", c->member);
    if(!v) {
      rc = SQR_ENOMEM;
      break;
    }
    v->day = c->day;
    v->points = loser->points;
    snprintf(v->kiosk, sizeof v->kiosk, "%s", loser->kiosk);
    if(wins) *k = mine;
    k->seq = v->seq;
    dirty[k - d] = 1;
  }
  if(!rc && m) {
    /* the dirty rows packed to the front, each (member, day) once */
    size_t nput = 0;
    for(size_t i = 0; i < nd; i++)
      if(dirty[i]) d[nput++] = d[i];
    rc = hqdb_feed_days_put(w->h->db, w->store, d, nput);
  }
  free(d);
  free(dirty);
  free(known);
  free(ids);
  free(days);
  free(shared);
  return rc;
}

/* Each erased member leaves the feed, then its erase entry goes in: for
 * an erasure HQ was asked for, always; for a kiosk's, only when the store
 * shared the member (each kiosk that applies HQ's entry confirms it with
 * an erase event of its own, which must not echo round the store). Run
 * before the upload's other entries, which skip erased members. */
static sqr_rc write_erasures(writer *w, const char *origin, char (*erased)[33], size_t n) {
  sqr_rc rc = n ? lock(w) : SQR_OK;
  for(size_t i = 0; !rc && i < n; i++) {
    int found = 0;
    rc = hqdb_feed_forget(w->h->db, w->store, erased[i], &found);
    if(!rc && (found || strcmp(origin, "hq") == 0) && !add_row(w, HQ_FEED_ERASE, origin, erased[i]))
      rc = SQR_ENOMEM;
  }
  return rc;
}

/* After the upload's members: a consent given at sign-up follows the
 * member's entry. */
static sqr_rc write_marketing(writer *w, const char *origin, const hq__marketing_row *m, size_t n) {
  sqr_rc rc = n ? lock(w) : SQR_OK;
  for(size_t i = 0; !rc && i < n; i++) {
    hq_feed_row *r = add_row(w, HQ_FEED_MARKETING, m[i].from_hq ? "hq" : origin, m[i].member);
    if(!r) return SQR_ENOMEM;
    snprintf(r->kiosk, sizeof r->kiosk, "%s", m[i].version);
    r->ts_ms = m[i].ts_ms;
  }
  return rc;
}

static sqr_rc finish(writer *w) {
  sqr_rc rc = SQR_OK;
  if(w->nrows) rc = hqdb_feed_append(w->h->db, w->store, w->rows, w->nrows);
  if(!rc && w->locked) rc = hqdb_feed_set_head(w->h->db, w->store, w->head);
  free(w->rows);
  w->rows = NULL;
  return rc;
}

sqr_rc hq__feed_begin(hq *h, hq__feed *f) {
  sqr_rc rc = hqdb_feed_lock(h->db, f->store, &f->head);
  if(!rc) f->locked = 1;
  return rc;
}

sqr_rc hq__feed_end(hq *h, hq__feed *f) {
  writer w = {.h = h, .store = f->store, .locked = f->locked, .head = f->head};
  sqr_rc rc = f->nerased ? write_erasures(&w, f->kiosk_id, f->erased, f->nerased) : SQR_OK;
  if(!rc) rc = write_members(&w, f);
  if(!rc) rc = write_checkins(&w, f);
  if(!rc && f->nmarketing) {
    size_t keep = 0;
    for(size_t i = 0; i < f->nmarketing; i++)
      if(!erased_here(f, f->marketing[i].member)) f->marketing[keep++] = f->marketing[i];
    rc = write_marketing(&w, f->kiosk_id, f->marketing, keep);
  }
  sqr_rc frc = finish(&w);
  return rc ? rc : frc;
}

sqr_rc hq__feed_erase_now(hq *h, const char *sid, const char *member) {
  writer w = {.h = h, .store = sid};
  char one[1][33];
  snprintf(one[0], sizeof one[0], "%s", member);
  sqr_rc rc = write_erasures(&w, "hq", one, 1);
  sqr_rc frc = finish(&w);
  return rc ? rc : frc;
}

sqr_rc hq__feed_marketing_now(hq *h, const char *sid, const char *member, const char *version,
                              int64_t ts_ms) {
  writer w = {.h = h, .store = sid};
  hq__marketing_row one = {.ts_ms = ts_ms};
  snprintf(one.member, sizeof one.member, "%s", member);
  snprintf(one.version, sizeof one.version, "%s", version);
  sqr_rc rc = write_marketing(&w, "hq", &one, 1);
  sqr_rc frc = finish(&w);
  return rc ? rc : frc;
}

/* ---- reading ------------------------------------------------------------- */

/* src into dst of size n, cut short if it must be (ids HQ stored were
 * checked when they came in, so nothing is cut in practice). */
static void cpy(char *dst, size_t n, const char *src) {
  size_t k = strnlen(src, n - 1);
  memcpy(dst, src, k);
  dst[k] = '\0';
}

/* A member's totals as the wire carries them: a kiosk could have sent
 * points past the range, and one such member must not stop every page it
 * falls on. */
static int64_t clamp(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

static void entry_of_member(const hq_feed_member *m, proto_feed_entry *e) {
  memset(e, 0, sizeof *e);
  e->seq = m->state_seq;
  e->kind = PROTO_FEED_MEMBER;
  cpy(e->origin, sizeof e->origin, m->origin);
  cpy(e->member, sizeof e->member, m->member);
  memcpy(e->blind, m->blind, sizeof e->blind);
  e->index_kind = m->index_kind;
  e->created_ms = m->created_ms;
  e->last_day = m->last_day;
  e->state_seq = m->state_seq;
  cpy(e->consent_version, sizeof e->consent_version, m->consent);
  cpy(e->marketing, sizeof e->marketing, m->marketing);
  cpy(e->staff, sizeof e->staff, m->staff);
  cpy(e->group, sizeof e->group, m->group);
  e->tags = (char *)m->tags; /* proto_feed_add copies */
  e->points = clamp(m->points, -PROTO_FEED_POINTS_MAX, PROTO_FEED_POINTS_MAX);
  e->streak = clamp(m->streak, 0, PROTO_FEED_DAY_MAX);
}

/* What an entry can take on the wire at most: its fields (ids are plain,
 * checked at ingest) and its tags, with room. A page stops before the sum
 * passes PAGE_BYTES, well under the kiosk's 1 MiB. */
#define PAGE_BYTES 900000
static size_t entry_cost(const proto_feed_entry *e) {
  return 400 + strlen(e->consent_version) + strlen(e->staff) + strlen(e->group) +
         (e->tags ? strlen(e->tags) : 0);
}

/* Adds e unless the page is full by bytes (*full set) or e is one HQ
 * cannot send (skipped, logged: a kiosk would stop at the whole page). */
static sqr_rc page_add(proto_feed_page *p, size_t *bytes, const proto_feed_entry *e,
                       const char *sid, int *full) {
  size_t cost = entry_cost(e);
  if(*bytes + cost > PAGE_BYTES) {
    *full = 1;
    return SQR_OK;
  }
  sqr_rc rc = proto_feed_add(p, e);
  if(rc == SQR_EINVAL) {
    log_warn("hq", "store %s: a feed entry of seq %lld cannot be sent; skipped", sid,
             (long long)e->seq);
    return SQR_OK;
  }
  if(!rc) *bytes += cost;
  return rc;
}

/* A cursor: "0" (from the start), "m<H>.<member>" (a snapshot begun at
 * head H, past member), "e<H>.<S>" (after the snapshot: the erase entries
 * up to H, past seq S), "l<S>" (the log after seq S). */
typedef struct cursor {
  char phase;   /* '0', 'm', 'e', 'l' */
  int64_t at;   /* H or S */
  int64_t past; /* e: S */
  char after[HQ_FEED_MEMBER_HEX];
} cursor;

static int64_t cursor_number(const char **s) {
  const char *p = *s;
  int64_t v = number_at(&p);
  if(v < 0 || (double)v > 9007199254740991.0) return -1;
  *s = p;
  return v;
}

static int cursor_parse(const char *s, cursor *c) {
  memset(c, 0, sizeof *c);
  if(!proto_feed_cursor_valid(s)) return 0;
  if(strcmp(s, "0") == 0) {
    c->phase = '0';
    return 1;
  }
  c->phase = *s++;
  if(c->phase == 'l') return (c->at = cursor_number(&s)) >= 0 && *s == '\0';
  if(c->phase == 'e')
    return (c->at = cursor_number(&s)) >= 0 && *s++ == '.' && (c->past = cursor_number(&s)) >= 0 &&
           *s == '\0' && c->past <= c->at;
  if(c->phase != 'm') return 0;
  if((c->at = cursor_number(&s)) < 0 || *s++ != '.' || !hex32(s)) return 0;
  snprintf(c->after, sizeof c->after, "%s", s);
  return 1;
}

static sqr_rc snapshot_page(hq *h, const char *sid, const cursor *c, proto_feed_page *p) {
  int64_t head = c->at;
  hq_feed_member *m = NULL;
  size_t n = 0, bytes = 0, taken = 0;
  int full = 0;
  sqr_rc rc = hqdb_feed_members(h->db, sid, c->after, PAGE_MAX, &m, &n);
  for(; !rc && !full && taken < n; taken++) {
    proto_feed_entry e;
    entry_of_member(&m[taken], &e);
    rc = page_add(p, &bytes, &e, sid, &full);
    if(full) taken--;
  }
  if(!rc) {
    p->snapshot = 1;
    p->more = 1;
    if(full || n == PAGE_MAX)
      snprintf(p->next, sizeof p->next, "m%lld.%s", (long long)head,
               taken ? m[taken - 1].member : c->after);
    else
      snprintf(p->next, sizeof p->next, "e%lld.0", (long long)head);
  }
  free(m);
  return rc;
}

/* The erase entries up to the snapshot's head: a member erased before
 * the snapshot is not in it, but a kiosk may hold it (its own, from
 * before it read the feed). */
static sqr_rc erase_page(hq *h, const char *sid, const char *kiosk_id, const cursor *c,
                         proto_feed_page *p) {
  hq_feed_row *rows = NULL;
  size_t n = 0, bytes = 0;
  int64_t past = c->past;
  int full = 0;
  sqr_rc rc = hqdb_feed_erase_entries(h->db, sid, c->past, c->at, PAGE_MAX, &rows, &n);
  for(size_t i = 0; !rc && !full && i < n; i++) {
    if(strcmp(rows[i].origin, kiosk_id) != 0) {
      proto_feed_entry e;
      memset(&e, 0, sizeof e);
      e.seq = rows[i].seq;
      e.kind = PROTO_FEED_ERASE;
      cpy(e.origin, sizeof e.origin, rows[i].origin);
      cpy(e.member, sizeof e.member, rows[i].member);
      rc = page_add(p, &bytes, &e, sid, &full);
    }
    if(!full) past = rows[i].seq;
  }
  if(!rc) {
    p->more = 1;
    if(full || n == PAGE_MAX)
      snprintf(p->next, sizeof p->next, "e%lld.%lld", (long long)c->at, (long long)past);
    else
      snprintf(p->next, sizeof p->next, "l%lld", (long long)c->at);
  }
  free(rows);
  return rc;
}

static sqr_rc log_page(hq *h, const char *sid, const char *kiosk_id, const cursor *c,
                       proto_feed_page *p) {
  hq_feed_row *rows = NULL;
  size_t n = 0, bytes = 0;
  int64_t next = c->at;
  int full = 0;
  sqr_rc rc = hqdb_feed_log(h->db, sid, c->at, PAGE_MAX, &rows, &n);
  for(size_t i = 0; !rc && !full && i < n; i++) {
    const hq_feed_row *r = &rows[i];
    proto_feed_entry e;
    memset(&e, 0, sizeof e);
    /* A kiosk has its own sign-ups, check-ins and erasures already; a
     * member erased since is left out (its erase entry follows). */
    if(strcmp(r->origin, kiosk_id) == 0 || (r->kind == HQ_FEED_MEMBER && !r->has_member) ||
       r->kind < HQ_FEED_MEMBER || r->kind > HQ_FEED_MARKETING) {
      next = r->seq;
      continue;
    }
    if(r->kind == HQ_FEED_MEMBER) {
      entry_of_member(&r->m, &e);
    } else {
      e.kind = (proto_feed_kind)r->kind;
      cpy(e.origin, sizeof e.origin, r->origin);
      cpy(e.member, sizeof e.member, r->member);
      e.day = r->day;
      e.points = r->points;
      e.streak = r->streak;
      e.ts_ms = r->ts_ms;
      if(r->kind == HQ_FEED_MARKETING)
        cpy(e.marketing, sizeof e.marketing, r->kiosk);
      else
        cpy(e.kiosk, sizeof e.kiosk, r->kiosk);
    }
    e.seq = r->seq;
    rc = page_add(p, &bytes, &e, sid, &full);
    if(!full) next = r->seq;
  }
  if(!rc) {
    snprintf(p->next, sizeof p->next, "l%lld", (long long)next);
    p->more = full || n == PAGE_MAX;
  }
  free(rows);
  return rc;
}

/* The first page for cursor "0": a snapshot of the store's members, or,
 * for a kiosk whose own members the store shares already (its first
 * request was cut, say), the whole log: a snapshot's state would include
 * other kiosks' check-ins of those members, which the kiosk, holding them
 * already, would never add. */
static sqr_rc first_page(hq *h, const char *sid, const char *kiosk_id, proto_feed_page *p) {
  int own = 0;
  cursor c = {.phase = 'm'};
  sqr_rc rc = hqdb_feed_has_origin(h->db, sid, kiosk_id, &own);
  if(!rc && own) {
    c.phase = 'l';
    return log_page(h, sid, kiosk_id, &c, p);
  }
  if(!rc) rc = hqdb_feed_head(h->db, sid, &c.at);
  return rc ? rc : snapshot_page(h, sid, &c, p);
}

sqr_rc hq_feed_get(hq *h, const char *kiosk_id, const char *cursor_text, char **json, size_t *len,
                   hq_err *e) {
  char sid[PROTO_STORE_ID_MAX + 1];
  int number = 0;
  cursor c;
  *json = NULL;
  if(proto_kiosk_parse(kiosk_id, sid, &number, NULL))
    return hq_fail(e, SQR_EAUTH, "certificate", "certificate: not a kiosk's");
  if(!cursor_text || !cursor_parse(cursor_text, &c))
    return hq_fail(e, SQR_EINVAL, "bad_cursor",
                   "after: not a cursor HQ gave; start again from \"0\"");
  proto_feed_page p = {0};
  sqr_rc rc = SQR_OK;
  /* A cursor past "0" is one the kiosk stored with a page it applied:
   * from now on erasures reach it here, not in its configuration. */
  if(strcmp(cursor_text, "0") != 0) {
    int reads = 0;
    rc = hqdb_feed_reader(h->db, kiosk_id, &reads);
    if(!rc && !reads) rc = hqdb_feed_reader_mark(h->db, kiosk_id, hq_now_ms());
  }
  if(!rc)
    rc = c.phase == '0'   ? first_page(h, sid, kiosk_id, &p)
         : c.phase == 'm' ? snapshot_page(h, sid, &c, &p)
         : c.phase == 'e' ? erase_page(h, sid, kiosk_id, &c, &p)
                          : log_page(h, sid, kiosk_id, &c, &p);
  if(!rc) {
    p.hq_time_ms = hq_now_ms();
    rc = proto_feed_encode(&p, json, len);
  }
  proto_feed_clear(&p);
  if(rc == SQR_ENOMEM) return hq_fail(e, rc, "internal", "out of memory");
  if(rc) return hq_fail_storage(h, e, rc);
  return SQR_OK;
}

sqr_rc hq_feed_backfill_erasures(hq *h) {
  enum { CHUNK = 64 };
  char stores[CHUNK][HQ_ID_MAX];
  char members[CHUNK][HQ_FEED_MEMBER_HEX];
  for(;;) {
    size_t n = 0;
    sqr_rc rc = hqdb_begin(h->db);
    if(!rc) rc = hqdb_feed_erasures_missing(h->db, CHUNK, stores, members, &n);
    for(size_t i = 0; !rc && i < n; i++)
      rc = hq__feed_erase_now(h, stores[i], members[i]);
    if(!rc) rc = hqdb_commit(h->db);
    if(rc) {
      hqdb_rollback(h->db);
      return rc;
    }
    if(n < CHUNK) return SQR_OK;
  }
}
