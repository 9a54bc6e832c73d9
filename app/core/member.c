/* member.c — see member.h. Shares the store's internals (store_int.h). */
#include "member.h"
#include "coupon.h"
#include "crypto.h"
#include "log.h"
#include "phone.h"
#include "seal.h"
#include "livecode.h"
#include "store_int.h"

#include <argon2.h>
#include <string.h>
#include <sys/mman.h>

#define COMPONENT "member"

typedef struct member_row {
  int64_t id;
  int points, streak;
  int64_t last_day; /* -1 = never checked in */
  char consent_version[CONFIG_ID_MAX + 1];
  char group_id[CONFIG_ID_MAX + 1];
  char mid[CONFIG_MEMBER_ID_HEX + 1];
  int index_kind; /* members.index_kind: CONFIG_INDEX_HMAC (0) or CONFIG_INDEX_ARGON2ID (1) */
  char marketing[CONFIG_ID_MAX + 1]; /* the marketing consent's version, "" for none */
} member_row;

/* ---- the blind index ------------------------------------------------- */

#define INDEX_SALT_PREFIX "storeqr-index/"

static int is_phone11(const char *p) {
  /* Bounded scan: never walk far into a string that is not a phone. */
  if(!p || strnlen(p, PHONE_LEN + 1) != PHONE_LEN) return 0;
  for(int i = 0; i < PHONE_LEN; i++)
    if(p[i] < '0' || p[i] > '9') return 0;
  return 1;
}

/* Argon2id's m KiB, from the kernel directly: asked for in huge pages
 * (where transparent huge pages are enabled or on madvise), the 8,192 page
 * faults of 32 MiB in 4 KiB pages cost more than the hashing in a VM
 * (bench-core e: about 200 ms against 50 ms CPU); left out of core dumps
 * (they hold what the number was mixed into); and given back whole with
 * munmap, after libargon2 has cleared them. Stateless, so thread-safe. */
static int index_alloc(uint8_t **memory, size_t bytes) {
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if(p == MAP_FAILED) return -1;
#ifdef MADV_HUGEPAGE
  (void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: without it, only slower */
#endif
#ifdef MADV_DONTDUMP
  (void)madvise(p, bytes, MADV_DONTDUMP);
#endif
  *memory = p;
  return 0;
}

static void index_free(uint8_t *memory, size_t bytes) {
  munmap(memory, bytes);
}

static sqr_rc argon2id_index(const sqr_config *cfg, const char *phone11, uint8_t out[32]) {
  /* libargon2 zeroes pwd and secret when done (the CLEAR flags), so it
   * gets copies; ours are wiped as well, whatever it did. */
  uint8_t pwd[PHONE_LEN], secret[32];
  uint8_t salt[sizeof INDEX_SALT_PREFIX - 1 + LIVECODE_STORE_ID_MAX];
  size_t plen = sizeof INDEX_SALT_PREFIX - 1;
  size_t slen = strnlen(cfg->store_id, sizeof cfg->store_id);
  if(slen == 0 || slen > LIVECODE_STORE_ID_MAX) return SQR_EINVAL;
  memcpy(salt, INDEX_SALT_PREFIX, plen);
  memcpy(salt + plen, cfg->store_id, slen);
  memcpy(pwd, phone11, PHONE_LEN);
  memcpy(secret, cfg->index_key, sizeof secret);
  argon2_context ctx = {
      .out = out,
      .outlen = 32,
      .pwd = pwd,
      .pwdlen = PHONE_LEN,
      .salt = salt,
      .saltlen = (uint32_t)(plen + slen),
      .secret = secret,
      .secretlen = sizeof secret,
      .t_cost = cfg->index_t,
      .m_cost = cfg->index_m_kib,
      .lanes = cfg->index_p,
      .threads = 1, /* the kiosk has one core to spare at most */
      .version = ARGON2_VERSION_13,
      .allocate_cbk = index_alloc,
      .free_cbk = index_free,
      .flags = ARGON2_FLAG_CLEAR_PASSWORD | ARGON2_FLAG_CLEAR_SECRET,
  };
  int arc = argon2_ctx(&ctx, Argon2_id);
  crypto_wipe(pwd, sizeof pwd);
  crypto_wipe(secret, sizeof secret);
  crypto_wipe(&ctx, sizeof ctx);
  if(arc == ARGON2_OK) return SQR_OK;
  log_error(COMPONENT, "argon2id blind index: %s", argon2_error_message(arc));
  return arc == ARGON2_MEMORY_ALLOCATION_ERROR ? SQR_ENOMEM : SQR_ECRYPTO;
}

sqr_rc member_index_derive(const sqr_config *cfg, const char *phone11, uint8_t out[32]) {
  sqr_rc rc = SQR_EINVAL;
  if(!out) return SQR_EINVAL;
  if(!cfg || !is_phone11(phone11)) {
    log_error(COMPONENT,
              "blind index needs a configuration and a normalised phone number of %d"
              " digits",
              PHONE_LEN);
  } else if(cfg->index_alg == CONFIG_INDEX_ARGON2ID) {
    rc = argon2id_index(cfg, phone11, out);
  } else if(cfg->index_alg == CONFIG_INDEX_HMAC) {
    rc = seal_blind_index_hmac(cfg->index_key, phone11, out);
  }
  if(rc) crypto_wipe(out, 32);
  return rc;
}

/* ---- finding a member ---------------------------------------------------- */

/* The indexes one phone is looked up by: the current one and, while rows
 * may still be on it, the old HMAC one. Derived before any transaction
 * (Argon2id is the slow part and must not hold the write lock). */
typedef struct phone_keys {
  uint8_t index[32];
  int kind; /* members.index_kind of index: cfg->index_alg */
  int has_legacy;
  uint8_t legacy[32];
} phone_keys;

/* 1 while rows on the old HMAC index may still be looked up and moved. */
static int legacy_index_open(const store *st) {
  const sqr_config *cfg = st->cfg;
  return cfg->index_alg == CONFIG_INDEX_ARGON2ID && cfg->has_legacy_index &&
         clock_now_ms(st->clock) < cfg->legacy_index_until_ms;
}

/* Normalises input into phone (the caller wipes it) and fills *k; a
 * precomputed index is taken while its configuration is the applied one. */
static sqr_rc phone_keys_get(store *st, const char *input, const member_index *pre, phone_keys *k,
                             char phone[PHONE_LEN + 1]) {
  const char *why = NULL;
  memset(k, 0, sizeof *k);
  if(phone_normalize(input, phone, &why) != SQR_OK) {
    snprintf(st->errmsg, sizeof st->errmsg, "phone: %s", why);
    return SQR_EINVAL;
  }
  if(!st->cfg) {
    snprintf(st->errmsg, sizeof st->errmsg, "no configuration applied yet");
    return SQR_ENOTFOUND;
  }
  k->kind = st->cfg->index_alg;
  sqr_rc rc;
  if(pre && pre->config_version == st->cfg->version) {
    memcpy(k->index, pre->bytes, sizeof k->index);
    rc = SQR_OK;
  } else {
    rc = member_index_derive(st->cfg, phone, k->index);
  }
  if(!rc && legacy_index_open(st)) {
    k->has_legacy = 1;
    rc = seal_blind_index_hmac(st->cfg->legacy_index_key, phone, k->legacy);
  }
  if(rc) snprintf(st->errmsg, sizeof st->errmsg, "blind index: %s", sqr_strerror(rc));
  return rc;
}

int member__old_index_closed(const store *st) {
  const sqr_config *cfg = st->cfg;
  return cfg && cfg->index_alg == CONFIG_INDEX_ARGON2ID && !legacy_index_open(st);
}

sqr_rc member__drop_old_index(store *st, int64_t *dropped) {
  *dropped = 0;
  /* The store sets secure_delete, so the old indexes do not linger in
   * free pages either. */
  int src = sqlite3_exec(st->db, "DELETE FROM members WHERE index_kind=0", NULL, NULL, NULL);
  if(src != SQLITE_OK) return store__fail(st, src, "drop members on the old index");
  *dropped = sqlite3_changes64(st->db);
  if(*dropped)
    log_info(COMPONENT,
             "%lld member(s) still on the old blind index dropped (its key is gone or past"
             " keys.legacy_index_until); HQ keeps them",
             (long long)*dropped);
  return SQR_OK;
}

static void phone_keys_wipe(phone_keys *k) {
  crypto_wipe(k, sizeof *k);
}

/* *found: 1 and *m filled, or 0. A failed read is an error (errmsg set). */
static sqr_rc find_member(store *st, const uint8_t blind[32], member_row *m, int *found) {
  sqlite3_stmt *s = NULL;
  sqr_rc rc = store__stmt(st, SQL_FIND_MEMBER, &s);
  if(rc) return rc;
  sqlite3_bind_blob(s, 1, blind, 32, SQLITE_STATIC);
  int src = sqlite3_step(s);
  *found = 0;
  if(src == SQLITE_ROW) {
    m->id = sqlite3_column_int64(s, 0);
    m->points = sqlite3_column_int(s, 1);
    m->streak = sqlite3_column_int(s, 2);
    m->last_day = sqlite3_column_int64(s, 3);
    snprintf(m->consent_version, sizeof m->consent_version, "%s", sqlite3_column_text(s, 4));
    snprintf(m->group_id, sizeof m->group_id, "%s", sqlite3_column_text(s, 5));
    snprintf(m->mid, sizeof m->mid, "%s", sqlite3_column_text(s, 6));
    m->index_kind = sqlite3_column_int(s, 7);
    snprintf(m->marketing, sizeof m->marketing, "%s", sqlite3_column_text(s, 8));
    *found = 1;
  } else if(src != SQLITE_DONE) {
    rc = store__fail(st, src, "find member");
  }
  sqlite3_reset(s);
  return rc;
}

/* By the current index, else by the old one (a row still of kind 0):
 * *found, and *old when it was the old index that found it. */
static sqr_rc locate(store *st, const phone_keys *k, member_row *m, int *found, int *old) {
  *old = 0;
  sqr_rc rc = find_member(st, k->index, m, found);
  if(rc || *found || !k->has_legacy) return rc;
  rc = find_member(st, k->legacy, m, found);
  if(!rc && *found && m->index_kind != CONFIG_INDEX_HMAC) *found = 0;
  *old = *found;
  return rc;
}

/* Inside the caller's transaction: moves a row found by the old index onto
 * the current one, so the old index of this number leaves the database. */
static sqr_rc move_to_index(store *st, const member_row *m, const phone_keys *k) {
  sqlite3_stmt *s = NULL;
  int src = sqlite3_prepare_v2(
      st->db, "UPDATE members SET blind=?, index_kind=? WHERE id=? AND index_kind=0", -1, &s, NULL);
  if(src == SQLITE_OK) {
    sqlite3_bind_blob(s, 1, k->index, 32, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, k->kind);
    sqlite3_bind_int64(s, 3, m->id);
    src = sqlite3_step(s);
  }
  sqlite3_finalize(s);
  return src == SQLITE_DONE ? SQR_OK : store__fail(st, src, "move member to the new index");
}

/* What people see of a member id: its first MEMBER_ID_LEN digits. */
static void member_id_shown(const char *mid, char out[MEMBER_ID_LEN + 1]) {
  snprintf(out, MEMBER_ID_LEN + 1, "%.*s", MEMBER_ID_LEN, mid ? mid : "");
}

/* A new member's id: 128 random bits, never derived from the phone, so
 * nothing about the number can be learnt from it or tested against it. */
static sqr_rc new_member_id(char mid[CONFIG_MEMBER_ID_HEX + 1]) {
  uint8_t raw[CONFIG_MEMBER_ID_HEX / 2];
  sqr_rc rc = crypto_random(raw, sizeof raw);
  if(!rc) crypto_hex(raw, sizeof raw, mid);
  return rc;
}

static sqr_rc check_request(store *st, const member_signup_req *req) {
  const sqr_config *cfg = st->cfg;
  if(!req->consented) {
    snprintf(st->errmsg, sizeof st->errmsg, "consent: the shopper did not agree; nothing recorded");
    return SQR_ECONSENT;
  }
  if(!req->consent_version || strcmp(req->consent_version, cfg->consent_version) != 0) {
    snprintf(st->errmsg, sizeof st->errmsg,
             "consent: agreed to policy version \"%s\" but the current one is \"%s\"",
             req->consent_version ? req->consent_version : "(none)", cfg->consent_version);
    return SQR_EINVAL;
  }
  if(cfg->age_required && !req->age_confirmed) {
    snprintf(st->errmsg, sizeof st->errmsg,
             "age: the shopper did not confirm they are 14 or older; nothing recorded");
    return SQR_ECONSENT;
  }
  if(req->marketing && !cfg->marketing_version[0]) {
    snprintf(st->errmsg, sizeof st->errmsg,
             "marketing: this configuration offers no marketing consent");
    return SQR_EINVAL;
  }
  if(req->ntags > MEMBER_MAX_TAGS) {
    snprintf(st->errmsg, sizeof st->errmsg, "tags: at most %d", MEMBER_MAX_TAGS);
    return SQR_EINVAL;
  }
  for(size_t i = 0; i < req->ntags; i++) {
    if(!req->tags[i] || !config_tag_find(cfg, req->tags[i])) {
      snprintf(st->errmsg, sizeof st->errmsg, "tags: \"%s\" is not a configured tag",
               req->tags[i] ? req->tags[i] : "(null)");
      return SQR_EINVAL;
    }
  }
  if(req->staff_id && req->staff_id[0] && !config_staff_find(cfg, req->staff_id)) {
    snprintf(st->errmsg, sizeof st->errmsg, "staff: \"%s\" is not a configured staff member",
             req->staff_id);
    return SQR_EINVAL;
  }
  if(!cfg->has_hq_pub) {
    snprintf(st->errmsg, sizeof st->errmsg,
             "keys.hq_public: not configured; cannot seal phone numbers");
    return SQR_ENOTFOUND;
  }
  return SQR_OK;
}

static sqr_rc seal_with_pool(store *st, const char *phone, uint8_t *out, size_t outsize,
                             size_t *outlen) {
  const uint8_t *hq_pub = st->cfg->hq_pub;
  while(st->seal_pool_n > 0) {
    seal_prepared *p = &st->seal_pool[--st->seal_pool_n];
    /* A key prepared for an older HQ key (rotated by config) is dropped. */
    if(memcmp(p->hq_pub, hq_pub, SEAL_PUB_LEN) == 0)
      return seal_box_prepared(p, phone, PHONE_LEN, out, outsize, outlen);
    seal_prepared_wipe(p);
  }
  return seal_box(hq_pub, phone, PHONE_LEN, out, outsize, outlen);
}

sqr_rc member_prepare_seals(store *st, int n) {
  if(!st->cfg || !st->cfg->has_hq_pub) return SQR_ENOTFOUND;
  if(n > STORE_SEAL_POOL) n = STORE_SEAL_POOL;
  while(st->seal_pool_n < n) {
    sqr_rc rc = seal_prepare(st->cfg->hq_pub, &st->seal_pool[st->seal_pool_n]);
    if(rc) return rc;
    st->seal_pool_n++;
  }
  return SQR_OK;
}

/* The welcome coupon of the current campaign, if it offers one. */
static sqr_rc issue_coupon(store *st, const char *mid, member_result *out) {
  const sqr_config *cfg = st->cfg;
  int minute = clock_local_minute(clock_now_ms(st->clock), cfg->utc_offset_min);
  const config_campaign *c = config_campaign_at(cfg, minute);
  if(!c || !c->coupon_campaign) return SQR_OK;
  int64_t serial = 0;
  sqr_rc rc = store__meta_int(st, "coupon_serial", 0, &serial);
  if(rc) return rc;
  serial++;
  rc = store__meta_set_int(st, "coupon_serial", serial);
  if(rc) return rc;
  rc = coupon_issue(cfg->coupon_key, (uint8_t)cfg->key_version, cfg->store_id,
                    (uint16_t)cfg->kiosk_number, (uint8_t)c->coupon_campaign,
                    (uint32_t)(serial & 0xffffff), out->coupon);
  if(rc) return rc;
  snprintf(out->coupon_campaign, sizeof out->coupon_campaign, "%s", c->id);
  cJSON *p = cJSON_CreateObject();
  cJSON_AddStringToObject(p, "campaign", c->id);
  cJSON_AddNumberToObject(p, "campaign_no", c->coupon_campaign);
  cJSON_AddNumberToObject(p, "serial", (double)(serial & 0xffffff));
  /* A coupon is (store, kiosk, key version, serial): HQ verifies it with
   * the key of this version and records it at ingest. */
  cJSON_AddNumberToObject(p, "key_version", cfg->key_version);
  cJSON_AddStringToObject(p, "member", mid);
  return store__append(st, "coupon_issued", p, NULL);
}

static sqr_rc bump_group(store *st, const char *group_id) {
  sqlite3_stmt *s = NULL;
  sqr_rc rc = store__stmt(st, SQL_BUMP_GROUP, &s);
  if(rc) return rc;
  sqlite3_bind_text(s, 1, group_id, -1, SQLITE_STATIC);
  int src = sqlite3_step(s);
  sqlite3_reset(s);
  return src == SQLITE_DONE ? SQR_OK : store__fail(st, src, "count group join");
}

static void fill_group(store *st, const char *group_id, member_result *out) {
  const config_group *g = group_id[0] ? config_group_find(st->cfg, group_id) : NULL;
  snprintf(out->group_id, sizeof out->group_id, "%s", g ? g->id : "");
  snprintf(out->group_link, sizeof out->group_link, "%s", g ? g->link : st->cfg->fallback_link);
}

/* Inside the caller's transaction: the member's marketing consent becomes
 * version (given) or nothing (withdrawn), and a marketing_consent event
 * records it apart from the service consent (docs/PROTOCOL.md "Events"). */
static sqr_rc set_marketing(store *st, const char *mid, const char *version, int64_t *seq) {
  sqlite3_stmt *s = NULL;
  int given = version && version[0];
  int src = sqlite3_prepare_v2(st->db, "UPDATE members SET marketing=?, marketing_ms=? WHERE mid=?",
                               -1, &s, NULL);
  if(src == SQLITE_OK) {
    if(given) sqlite3_bind_text(s, 1, version, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, clock_now_ms(st->clock));
    sqlite3_bind_text(s, 3, mid, -1, SQLITE_STATIC);
    src = sqlite3_step(s);
  }
  sqlite3_finalize(s);
  if(src != SQLITE_DONE) return store__fail(st, src, "record marketing consent");
  cJSON *p = cJSON_CreateObject();
  cJSON_AddStringToObject(p, "member", mid);
  cJSON_AddBoolToObject(p, "given", given);
  if(given)
    cJSON_AddStringToObject(p, "version", version);
  else
    cJSON_AddNullToObject(p, "version");
  cJSON_AddStringToObject(p, "source", "kiosk");
  return store__append(st, "marketing_consent", p, seq);
}

static sqr_rc insert_member(store *st, const member_signup_req *req, const uint8_t blind[32],
                            int index_kind, const char *mid, const uint8_t *sealed,
                            size_t sealed_len, const char *group_id, int points) {
  sqlite3_stmt *s = NULL;
  sqr_rc rc = store__stmt(st, SQL_INSERT_MEMBER, &s);
  if(rc) return rc;
  cJSON *tags = cJSON_CreateArray();
  for(size_t i = 0; i < req->ntags; i++)
    cJSON_AddItemToArray(tags, cJSON_CreateString(req->tags[i]));
  char *tags_json = cJSON_PrintUnformatted(tags);
  cJSON_Delete(tags);
  if(!tags_json) return SQR_ENOMEM;
  int src;
  {
    int64_t now = clock_now_ms(st->clock);
    sqlite3_bind_blob(s, 1, blind, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, sealed, (int)sealed_len, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, req->consent_version, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_text(s, 5, tags_json, -1, SQLITE_STATIC);
    if(req->staff_id && req->staff_id[0]) sqlite3_bind_text(s, 6, req->staff_id, -1, SQLITE_STATIC);
    if(group_id[0]) sqlite3_bind_text(s, 7, group_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 8, now);
    sqlite3_bind_int(s, 9, points);
    sqlite3_bind_text(s, 10, mid, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 11, index_kind);
    src = sqlite3_step(s);
  }
  sqlite3_reset(s);
  cJSON_free(tags_json);
  if(src != SQLITE_DONE) return store__fail(st, src, "insert member");
  return SQR_OK;
}

sqr_rc member_signup(store *st, const member_signup_req *req, member_result *out) {
  char phone[PHONE_LEN + 1];
  phone_keys k;
  uint8_t sealed[SEAL_OVERHEAD + PHONE_LEN];
  size_t sealed_len = 0;
  member_row m;
  int in_tx = 0;
  sqr_rc rc;

  memset(out, 0, sizeof *out);
  rc = phone_keys_get(st, req->phone, req->index, &k, phone);
  if(rc) goto out;
  rc = check_request(st, req);
  if(rc) goto out;
  /* Seal before taking the write lock: the ECDH is the slow part, and is
   * usually done already (member_prepare_seals, while the shopper typed). */
  rc = seal_with_pool(st, phone, sealed, sizeof sealed, &sealed_len);
  crypto_wipe(phone, sizeof phone);
  if(rc) goto out;

  rc = store__begin(st);
  if(rc) goto out;
  in_tx = 1;
  int found = 0, old = 0;
  rc = locate(st, &k, &m, &found, &old);
  if(!rc && old) rc = move_to_index(st, &m, &k);
  if(rc) goto out;
  if(found) {
    /* Welcomed back, never duplicated. */
    out->returning = 1;
    member_id_shown(m.mid, out->member_id);
    out->points = m.points;
    out->streak = m.streak;
    fill_group(st, m.group_id, out);
    if(strcmp(m.consent_version, req->consent_version) != 0) {
      sqlite3_stmt *s = NULL;
      int src = sqlite3_prepare_v2(
          st->db, "UPDATE members SET consent_version=?, consent_ms=? WHERE id=?", -1, &s, NULL);
      if(src == SQLITE_OK) {
        sqlite3_bind_text(s, 1, req->consent_version, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, clock_now_ms(st->clock));
        sqlite3_bind_int64(s, 3, m.id);
        src = sqlite3_step(s);
      }
      sqlite3_finalize(s);
      if(src != SQLITE_DONE) {
        rc = store__fail(st, src, "renew consent");
        goto out;
      }
      cJSON *p = cJSON_CreateObject();
      cJSON_AddStringToObject(p, "member", m.mid);
      cJSON_AddStringToObject(p, "consent_version", req->consent_version);
      rc = store__append(st, "consent_renewed", p, &out->seq);
      if(rc) goto out;
    }
    /* Ticking the box again is a new consent; leaving it unticked is not
     * a withdrawal (that is asked for on its own). */
    if(req->marketing && strcmp(m.marketing, st->cfg->marketing_version) != 0) {
      rc = set_marketing(st, m.mid, st->cfg->marketing_version, &out->seq);
      if(rc) goto out;
    }
    out->marketing = req->marketing || m.marketing[0];
    rc = store__commit(st);
    goto out;
  }

  group_fill fill[CONFIG_MAX_GROUPS];
  rc = store_group_fill(st, fill, CONFIG_MAX_GROUPS);
  if(rc) goto out;
  int gi = group_for_member(st->cfg, fill, clock_now(st->clock), req->tags, req->ntags);
  const char *gid = gi >= 0 ? st->cfg->groups[gi].id : "";
  char mid[CONFIG_MEMBER_ID_HEX + 1];
  out->points = out->points_added = st->cfg->points_signup;
  rc = new_member_id(mid);
  if(!rc) rc = insert_member(st, req, k.index, k.kind, mid, sealed, sealed_len, gid, out->points);
  if(!rc && gid[0]) rc = bump_group(st, gid);
  if(rc) goto out;
  fill_group(st, gid, out);
  member_id_shown(mid, out->member_id);

  char b64[256], blind64[64];
  rc = crypto_b64(sealed, sealed_len, b64, sizeof b64);
  if(!rc) rc = crypto_b64(k.index, sizeof k.index, blind64, sizeof blind64);
  if(rc) goto out;
  cJSON *p = cJSON_CreateObject();
  cJSON_AddStringToObject(p, "member", mid);
  cJSON_AddStringToObject(p, "sealed", b64);
  /* The blind index lets the store's other kiosks know the member (HQ's
   * feed); erasure strips it with the sealed phone. */
  cJSON_AddStringToObject(p, "blind", blind64);
  cJSON_AddNumberToObject(p, "index_kind", k.kind);
  cJSON_AddStringToObject(p, "consent_version", req->consent_version);
  cJSON *tags = cJSON_AddArrayToObject(p, "tags");
  for(size_t i = 0; i < req->ntags; i++)
    cJSON_AddItemToArray(tags, cJSON_CreateString(req->tags[i]));
  if(req->staff_id && req->staff_id[0])
    cJSON_AddStringToObject(p, "staff", req->staff_id);
  else
    cJSON_AddNullToObject(p, "staff");
  if(gid[0])
    cJSON_AddStringToObject(p, "group", gid);
  else
    cJSON_AddNullToObject(p, "group");
  cJSON_AddNumberToObject(p, "points", out->points);
  /* The age question is on by default; the payload says whether it was
   * asked and answered (a configuration may turn it off). */
  cJSON_AddBoolToObject(p, "age_confirmed", req->age_confirmed != 0);
  rc = store__append(st, "signup", p, &out->seq);
  if(!rc && req->marketing) {
    rc = set_marketing(st, mid, st->cfg->marketing_version, NULL);
    out->marketing = 1;
  }
  if(!rc) rc = issue_coupon(st, mid, out);
  if(!rc) rc = store__update_live(st, NULL);
  if(!rc) rc = store__commit(st);
out:
  crypto_wipe(phone, sizeof phone);
  phone_keys_wipe(&k);
  if(rc && in_tx) store__rollback(st);
  if(rc) {
    memset(out, 0, sizeof *out);
    log_info(COMPONENT, "sign-up refused: %s", st->errmsg[0] ? st->errmsg : sqr_strerror(rc));
  }
  return rc;
}

sqr_rc member_checkin(store *st, const char *input, const member_index *index, member_result *out) {
  char phone[PHONE_LEN + 1];
  phone_keys k;
  member_row m;
  int in_tx = 0;
  sqr_rc rc;

  memset(out, 0, sizeof *out);
  rc = phone_keys_get(st, input, index, &k, phone);
  crypto_wipe(phone, sizeof phone);
  if(rc) goto out;
  rc = store__begin(st);
  if(rc) goto out;
  in_tx = 1;
  int found = 0, old = 0;
  rc = locate(st, &k, &m, &found, &old);
  if(!rc && old) rc = move_to_index(st, &m, &k);
  if(rc) goto out;
  if(!found) {
    rc = SQR_ENOTFOUND;
    snprintf(st->errmsg, sizeof st->errmsg, "not a member yet");
    goto out;
  }
  const sqr_config *cfg = st->cfg;
  int64_t today = clock_local_day(clock_now_ms(st->clock), cfg->utc_offset_min);
  member_id_shown(m.mid, out->member_id);
  out->points = m.points;
  out->streak = m.streak;
  fill_group(st, m.group_id, out);
  if(m.last_day == today) {
    /* Nothing to record, but a row just moved off the old index stays
     * moved. */
    rc = SQR_OK;
    if(old) {
      rc = store__commit(st);
      if(!rc) in_tx = 0;
    }
    if(!rc) {
      snprintf(st->errmsg, sizeof st->errmsg, "already checked in today");
      rc = SQR_EEXISTS;
    }
    goto out;
  }
  int streak = m.last_day == today - 1 ? m.streak + 1 : 1;
  int add = cfg->points_checkin;
  if(cfg->streak_bonus_every > 0 && streak % cfg->streak_bonus_every == 0) add += cfg->streak_bonus;
  sqlite3_stmt *s = NULL;
  rc = store__stmt(st, SQL_CHECKIN, &s);
  if(rc) goto out;
  sqlite3_bind_int(s, 1, add);
  sqlite3_bind_int(s, 2, streak);
  sqlite3_bind_int64(s, 3, today);
  sqlite3_bind_int64(s, 4, m.id);
  int src = sqlite3_step(s);
  sqlite3_reset(s);
  if(src != SQLITE_DONE) {
    rc = store__fail(st, src, "record check-in");
    goto out;
  }
  cJSON *p = cJSON_CreateObject();
  cJSON_AddStringToObject(p, "member", m.mid);
  cJSON_AddNumberToObject(p, "day", (double)today);
  cJSON_AddNumberToObject(p, "points", add);
  cJSON_AddNumberToObject(p, "streak", streak);
  rc = store__append(st, "checkin", p, &out->seq);
  if(!rc) rc = store__commit(st);
  if(!rc) {
    out->points = m.points + add;
    out->points_added = add;
    out->streak = streak;
  }
out:
  phone_keys_wipe(&k);
  if(rc && in_tx) store__rollback(st);
  return rc;
}

sqr_rc member_lookup(store *st, const char *input, const member_index *index, member_result *out) {
  char phone[PHONE_LEN + 1];
  phone_keys k;
  member_row m;
  memset(out, 0, sizeof *out);
  sqr_rc rc = phone_keys_get(st, input, index, &k, phone);
  crypto_wipe(phone, sizeof phone);
  int found = 0, old = 0;
  if(!rc) rc = locate(st, &k, &m, &found, &old);
  phone_keys_wipe(&k);
  if(rc) return rc;
  if(!found) return SQR_ENOTFOUND;
  out->returning = 1;
  member_id_shown(m.mid, out->member_id);
  out->points = m.points;
  out->streak = m.streak;
  fill_group(st, m.group_id, out);
  return SQR_OK;
}

sqr_rc member__erase(store *st, const char *mid, const char *source, int *found) {
  sqlite3_stmt *s = NULL;
  int src;
  *found = 0;

  src = sqlite3_prepare_v2(st->db, "SELECT 1 FROM erased WHERE member=?", -1, &s, NULL);
  if(src == SQLITE_OK) {
    sqlite3_bind_text(s, 1, mid, -1, SQLITE_STATIC);
    src = sqlite3_step(s);
  }
  sqlite3_finalize(s);
  if(src == SQLITE_ROW) return SQR_OK; /* already done: confirm once only */
  if(src != SQLITE_DONE) return store__fail(st, src, "check erasure");

  src = sqlite3_prepare_v2(st->db, "DELETE FROM members WHERE mid=?", -1, &s, NULL);
  if(src == SQLITE_OK) {
    sqlite3_bind_text(s, 1, mid, -1, SQLITE_STATIC);
    src = sqlite3_step(s);
  }
  sqlite3_finalize(s);
  if(src != SQLITE_DONE) return store__fail(st, src, "erase member");
  *found = sqlite3_changes(st->db) > 0;

  /* Strip the sealed number from past events; body_hash keeps the chain.
   * Events from before stable ids name the member by the whole blind
   * index, whose first 32 digits became its id. */
  src = sqlite3_prepare_v2(
      st->db,
      "UPDATE events SET payload=json_remove(payload, '$.sealed', '$.blind'), redacted=1"
      " WHERE type='signup' AND substr(json_extract(payload, '$.member'), 1, 32)=?",
      -1, &s, NULL);
  if(src == SQLITE_OK) {
    sqlite3_bind_text(s, 1, mid, -1, SQLITE_STATIC);
    src = sqlite3_step(s);
  }
  sqlite3_finalize(s);
  if(src != SQLITE_DONE) return store__fail(st, src, "redact events");

  src = sqlite3_prepare_v2(st->db, "INSERT INTO erased(member, at_ms) VALUES(?, ?)", -1, &s, NULL);
  if(src == SQLITE_OK) {
    sqlite3_bind_text(s, 1, mid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, clock_now_ms(st->clock));
    src = sqlite3_step(s);
  }
  sqlite3_finalize(s);
  if(src != SQLITE_DONE) return store__fail(st, src, "record erasure");

  cJSON *p = cJSON_CreateObject();
  cJSON_AddStringToObject(p, "member", mid);
  cJSON_AddStringToObject(p, "source", source);
  cJSON_AddBoolToObject(p, "found", *found);
  return store__append(st, "erase", p, NULL);
}

/* For a request about one member by phone: opens the write transaction
 * and finds the member (moved onto the current index when move and it
 * was found by the old one). On SQR_OK the transaction is the caller's;
 * on any error it is rolled back, SQR_ENOTFOUND "not a member" included. */
static sqr_rc begin_member(store *st, const char *input, const member_index *index, int move,
                           member_row *m) {
  char phone[PHONE_LEN + 1];
  phone_keys k;
  sqr_rc rc = phone_keys_get(st, input, index, &k, phone);
  crypto_wipe(phone, sizeof phone);
  if(!rc && (rc = store__begin(st)) == SQR_OK) {
    int there = 0, old = 0;
    rc = locate(st, &k, m, &there, &old);
    if(!rc && old && move) rc = move_to_index(st, m, &k);
    if(!rc && !there) {
      snprintf(st->errmsg, sizeof st->errmsg, "not a member");
      rc = SQR_ENOTFOUND;
    }
    if(rc) store__rollback(st);
  }
  phone_keys_wipe(&k);
  return rc;
}

sqr_rc member_erase_phone(store *st, const char *input, const member_index *index) {
  member_row m;
  int found = 0;
  /* not moved: the row goes */
  sqr_rc rc = begin_member(st, input, index, 0, &m);
  if(rc) return rc;
  rc = member__erase(st, m.mid, "kiosk", &found);
  if(!rc) rc = store__commit(st);
  if(rc) store__rollback(st);
  return rc;
}

sqr_rc member_withdraw_marketing(store *st, const char *input, const member_index *index,
                                 member_result *out) {
  member_row m;
  memset(out, 0, sizeof *out);
  sqr_rc rc = begin_member(st, input, index, 1, &m);
  if(rc) return rc;
  /* Without consent.marketing the HQ may not know the event (recording
   * one would stop every later upload), unless this member holds a
   * consent: then it came from an HQ that did (a campaign's section
   * removed since must not take the right to withdraw away). */
  if(!st->cfg->marketing_version[0] && !m.marketing[0]) {
    snprintf(st->errmsg, sizeof st->errmsg,
             "marketing: this configuration offers no marketing consent to withdraw");
    rc = SQR_EINVAL;
  }
  /* Recorded even when this kiosk knows of no consent: one given at
   * another of the chain's kiosks may not have reached it yet, and HQ
   * applies the withdrawal to the person wherever they signed up. */
  if(!rc) rc = set_marketing(st, m.mid, NULL, &out->seq);
  if(!rc) rc = store__commit(st);
  if(rc) {
    store__rollback(st);
    memset(out, 0, sizeof *out);
    return rc;
  }
  member_id_shown(m.mid, out->member_id);
  out->points = m.points;
  out->streak = m.streak;
  return SQR_OK;
}

static void csv_field(FILE *f, const char *s) {
  /* Quote always; double embedded quotes; neutralise spreadsheet formulas. */
  fputc('"', f);
  if(s && (*s == '=' || *s == '+' || *s == '-' || *s == '@')) fputc('\'', f);
  for(; s && *s; s++) {
    if(*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

sqr_rc member_export_csv(store *st, FILE *f) {
  sqlite3_stmt *s = NULL;
  int src = sqlite3_prepare_v2(st->db,
                               "SELECT mid, created_ms, consent_version, tags, coalesce(staff,''),"
                               " coalesce(group_id,''), points, streak, last_checkin_day"
                               " FROM members ORDER BY id",
                               -1, &s, NULL);
  if(src != SQLITE_OK) return store__fail(st, src, "export members");
  int off = st->cfg ? st->cfg->utc_offset_min : 480;
  /* Dates in the store's local time, as people read them (day numbers
   * like 20794 meant nothing to a CRM). */
  fprintf(f, "member_id,joined,consent_version,tags,staff,group,points,streak,last_checkin\n");
  while((src = sqlite3_step(s)) == SQLITE_ROW) {
    char id[MEMBER_ID_LEN + 1] = "", date[11];
    member_id_shown((const char *)sqlite3_column_text(s, 0), id);
    clock_day_date(clock_local_day(sqlite3_column_int64(s, 1), off), date);
    fprintf(f, "%s,%s,", id, date);
    csv_field(f, (const char *)sqlite3_column_text(s, 2));
    fputc(',', f);
    csv_field(f, (const char *)sqlite3_column_text(s, 3));
    fputc(',', f);
    csv_field(f, (const char *)sqlite3_column_text(s, 4));
    fputc(',', f);
    csv_field(f, (const char *)sqlite3_column_text(s, 5));
    fprintf(f, ",%d,%d,", sqlite3_column_int(s, 6), sqlite3_column_int(s, 7));
    if(sqlite3_column_type(s, 8) != SQLITE_NULL) {
      clock_day_date(sqlite3_column_int64(s, 8), date);
      fputs(date, f);
    }
    fputc('\n', f);
  }
  sqlite3_finalize(s);
  if(src != SQLITE_DONE) return store__fail(st, src, "export members");
  return ferror(f) ? SQR_EIO : SQR_OK;
}
