/* test_store.c — the kiosk database: opening, refusing foreign files,
 * migrations from every older version, configuration, the event log and
 * its hash chain, groups, status, a full disk, and damaged pages or values
 * that must surface as errors, never as defaults. */
#include "testutil.h"
#include "member.h"
#include "store.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define T0 1795500000000 /* 2026-11-24 12:40 UTC, 20:40 in Shanghai */

static tu_keys keys;

typedef tu_store fixture;

static void apply_demo(store *st, int64_t version) {
  tu_apply_demo(st, &keys, version, T0 / 1000);
}

static int setup(void **state) {
  *state = tu_store_new("store", T0, &keys, 1);
  return 0;
}

static int teardown(void **state) {
  tu_store_free(*state);
  return 0;
}

static member_signup_req req_for(const char *phone) {
  return tu_signup_req(phone);
}

static void test_open_sets_pragmas_and_version(void **state) {
  fixture *f = *state;
  int schema = 0;
  assert_int_equal(store_schema_version(f->st, &schema), SQR_OK);
  assert_int_equal(schema, STORE_SCHEMA_VERSION);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  sqlite3_stmt *s;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
  sqlite3_finalize(s);
  sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &s, NULL);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(s, 0), STORE_APPLICATION_ID);
  sqlite3_finalize(s);
  sqlite3_close(db);
  assert_non_null(store_config(f->st));
  assert_string_equal(store_config(f->st)->store_id, "SH-JA01");
}

static void test_refuses_foreign_files(void **state) {
  fixture *f = *state;
  char err[256];
  store *st = NULL;
  /* Not a database at all. */
  const char *junk = tu_path(f->dir, "junk.db");
  FILE *fp = fopen(junk, "w");
  for(int i = 0; i < 200; i++)
    fputs("this is not a database, just a text file\n", fp);
  fclose(fp);
  assert_int_equal(store_open(junk, f->clock, &st, err, sizeof err), SQR_ECORRUPT);
  assert_non_null(strstr(err, "not a StoreQR database"));
  /* The refused file is left exactly as it was. */
  struct stat sb;
  assert_int_equal(stat(junk, &sb), 0);
  assert_int_equal(sb.st_size, 200 * (off_t)strlen("this is not a database, just a text file\n"));

  /* Someone else's SQLite database. */
  const char *other = tu_path(f->dir, "other.db");
  sqlite3 *db;
  sqlite3_open(other, &db);
  sqlite3_exec(db, "CREATE TABLE photos(id INTEGER PRIMARY KEY)", NULL, NULL, NULL);
  sqlite3_close(db);
  assert_int_equal(store_open(other, f->clock, &st, err, sizeof err), SQR_ECORRUPT);
  assert_non_null(strstr(err, "not a StoreQR one"));

  /* A StoreQR database from the future. */
  const char *newer = tu_path(f->dir, "newer.db");
  sqlite3_open(newer, &db);
  char sql[128];
  snprintf(sql, sizeof sql,
           "PRAGMA application_id=%d; PRAGMA user_version=%d;"
           "CREATE TABLE meta(k);",
           STORE_APPLICATION_ID, STORE_SCHEMA_VERSION + 1);
  sqlite3_exec(db, sql, NULL, NULL, NULL);
  sqlite3_close(db);
  assert_int_equal(store_open(newer, f->clock, &st, err, sizeof err), SQR_EVERSION);
  assert_non_null(strstr(err, "newer StoreQR"));

  /* A directory that does not exist. */
  assert_int_equal(store_open(tu_path(f->dir, "no/such/dir/k.db"), f->clock, &st, err, sizeof err),
                   SQR_EIO);
  assert_non_null(strstr(err, "cannot open or create"));
}

/* Tests run as root in CI, and root ignores directory permissions; the
 * check is made in a child that drops to an unprivileged user. */
static void test_read_only_directory(void **state) {
  fixture *f = *state;
  const char *ro = tu_path(f->dir, "ro");
  assert_int_equal(mkdir(ro, 0555), 0);
  chmod(f->dir, 0755);
  pid_t pid = fork();
  if(pid == 0) {
    if(geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(90);
    char err[256];
    store *st = NULL;
    sqr_rc rc = store_open(tu_path(ro, "k.db"), f->clock, &st, err, sizeof err);
    _exit(rc == SQR_EIO && strstr(err, "writable") ? 0 : 1);
  }
  int status;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

/* One value read with a separate connection (the store's own is not
 * exposed). */
static void query_text(const char *path, const char *sql, char *out, size_t n) {
  sqlite3 *db;
  sqlite3_stmt *s;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  out[0] = '\0';
  if(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
    snprintf(out, n, "%s", sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
}

#define OLD_BLIND "00112233445566778899AABBCCDDEEFF0123456789ABCDEF0123456789ABCDEF"
#define OLD_MID   "00112233445566778899aabbccddeeff" /* its first 32 digits */
#define OLD_GONE  "FFEEDDCCBBAA99887766554433221100FFEEDDCCBBAA99887766554433221100"

/* Fills every table an older version had, then opens with this build. */
static void test_migrates_from_every_older_version(void **state) {
  fixture *f = *state;
  for(int v = 0; v < STORE_SCHEMA_VERSION; v++) {
    char path[640];
    snprintf(path, sizeof path, "%s/v%d.db", f->dir, v);
    assert_int_equal(store_create_at_version(path, v), SQR_OK);
    sqlite3 *db;
    sqlite3_open(path, &db);
    if(v >= 1 && v < 4) {
      assert_int_equal(
          sqlite3_exec(
              db,
              "INSERT INTO members(blind, sealed, consent_version, consent_ms, created_ms, points)"
              " VALUES(x'" OLD_BLIND "', x'01', '2026-01', 1, 1, 70);"
              "INSERT INTO meta(key, value) VALUES('acked_seq', 0);",
              NULL, NULL, NULL),
          SQLITE_OK);
    } else if(v >= 4) {
      /* as version 4's migration leaves a member from before stable ids */
      assert_int_equal(sqlite3_exec(db,
                                    "INSERT INTO members(mid, blind, index_kind, sealed,"
                                    " consent_version, consent_ms, created_ms, points)"
                                    " VALUES('" OLD_MID "', x'" OLD_BLIND
                                    "', 0, x'01', '2026-01', 1, 1, 70);"
                                    "INSERT INTO meta(key, value) VALUES('acked_seq', 0);",
                                    NULL, NULL, NULL),
                       SQLITE_OK);
    }
    if(v == 3)
      assert_int_equal(sqlite3_exec(db,
                                    "INSERT INTO erased(blind, at_ms) VALUES(x'" OLD_GONE "', 5)",
                                    NULL, NULL, NULL),
                       SQLITE_OK);
    if(v >= 4)
      assert_int_equal(sqlite3_exec(db,
                                    "INSERT INTO erased(member, at_ms)"
                                    " VALUES('ffeeddccbbaa99887766554433221100', 5)",
                                    NULL, NULL, NULL),
                       SQLITE_OK);
    sqlite3_close(db);
    store *st = NULL;
    char err[256];
    assert_int_equal(store_open(path, f->clock, &st, err, sizeof err), SQR_OK);
    int schema = 0;
    assert_int_equal(store_schema_version(st, &schema), SQR_OK);
    assert_int_equal(schema, STORE_SCHEMA_VERSION);
    store_status status;
    assert_int_equal(store_status_get(st, &status), SQR_OK);
    assert_int_equal(status.members, v >= 1 ? 1 : 0);
    if(v >= 1) {
      /* A member from before stable ids keeps the first 32 hex digits of
       * its old id, HQ's rule too; its index is the old HMAC one. */
      char got[128];
      query_text(path, "SELECT mid || '/' || index_kind || '/' || points FROM members", got,
                 sizeof got);
      assert_string_equal(got, OLD_MID "/0/70");
    }
    if(v >= 3) {
      char got[128];
      query_text(path, "SELECT member || '/' || at_ms FROM erased", got, sizeof got);
      assert_string_equal(got, "ffeeddccbbaa99887766554433221100/5");
    }
    /* The upgraded file works for new writes. */
    apply_demo(st, 1);
    member_result r;
    member_signup_req req = req_for("13900000001");
    assert_int_equal(member_signup(st, &req, &r), SQR_OK);
    assert_int_equal(member_checkin(st, "13900000001", NULL, &r), SQR_OK);
    if(v >= 1) {
      /* HQ erases the old member by its old id (64 digits): the row goes,
       * and the sealed number leaves its old events, which name it so. */
      int64_t seq = 0;
      assert_int_equal(store_append(st, "signup",
                                    "{\"member\":\"" OLD_MID "0123456789abcdef0123456789abcdef\","
                                    "\"sealed\":\"AQ==\"}",
                                    &seq),
                       SQR_OK);
      char *json = tu_demo_config(&keys, 2, T0 / 1000);
      cJSON *root = cJSON_Parse(json);
      free(json);
      cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "erasures"),
                           cJSON_CreateString(OLD_MID "0123456789ABCDEF0123456789ABCDEF"));
      json = cJSON_PrintUnformatted(root);
      cJSON_Delete(root);
      assert_int_equal(store_apply_config(st, json, strlen(json), err, sizeof err), SQR_OK);
      free(json);
      char got[256];
      query_text(path, "SELECT count(*) FROM members WHERE mid='" OLD_MID "'", got, sizeof got);
      assert_string_equal(got, "0");
      snprintf(got, sizeof got, "SELECT redacted || payload FROM events WHERE seq=%lld",
               (long long)seq);
      char row[256];
      query_text(path, got, row, sizeof row);
      assert_non_null(strstr(row, "1{"));
      assert_null(strstr(row, "sealed"));
    }
    int64_t checked, bad;
    char why[160];
    assert_int_equal(store_verify_log(st, &checked, &bad, why, sizeof why), SQR_OK);
    store_close(st);
  }
}

static void test_config_versions(void **state) {
  fixture *f = *state;
  char err[256];
  int64_t before = store_last_seq(f->st);
  /* Same version: no-op, nothing recorded. */
  char *json = tu_demo_config(&keys, 1, T0 / 1000);
  assert_int_equal(store_apply_config(f->st, json, strlen(json), err, sizeof err), SQR_OK);
  assert_int_equal(store_last_seq(f->st), before);
  free(json);
  apply_demo(f->st, 5);
  assert_int_equal(store_config(f->st)->version, 5);
  /* Older: refused. */
  json = tu_demo_config(&keys, 3, T0 / 1000);
  assert_int_equal(store_apply_config(f->st, json, strlen(json), err, sizeof err), SQR_EINVAL);
  assert_non_null(strstr(err, "older"));
  free(json);
  /* Corrupt: refused, the applied one stays. */
  const char *bad = "{\"version\": 9, \"store\": {\"id\": \"SH-JA01\"";
  assert_int_equal(store_apply_config(f->st, bad, strlen(bad), err, sizeof err), SQR_EINVAL);
  assert_int_equal(store_config(f->st)->version, 5);
  /* The change was recorded as an event. */
  char payload[128] = "";
  int64_t seq = store_last_seq(f->st);
  assert_true(seq > before);
  /* Reopening picks up the stored document. */
  store_close(f->st);
  assert_int_equal(store_open(f->path, f->clock, &f->st, err, sizeof err), SQR_OK);
  assert_int_equal(store_config(f->st)->version, 5);
  (void)payload;
}

/* The sync client (another process) applies a newer configuration; the
 * kiosk's store picks it up on reload, and a reload with nothing new keeps
 * the same document. */
static void test_reload_sees_other_writer(void **state) {
  fixture *f = *state;
  const sqr_config *before = store_config(f->st);
  assert_int_equal(store_reload_config(f->st), SQR_OK);
  assert_ptr_equal(store_config(f->st), before);
  store *other = NULL;
  char err[256];
  assert_int_equal(store_open(f->path, f->clock, &other, err, sizeof err), SQR_OK);
  apply_demo(other, 7);
  store_close(other);
  assert_int_equal(store_config(f->st)->version, 1);
  assert_int_equal(store_reload_config(f->st), SQR_OK);
  assert_int_equal(store_config(f->st)->version, 7);
}

typedef struct collect {
  int n;
  char types[64][STORE_EVENT_TYPE_MAX];
  int64_t seqs[64];
} collect;

static int collect_fn(const store_event *ev, void *ud) {
  collect *c = ud;
  if(c->n < 64) {
    snprintf(c->types[c->n], STORE_EVENT_TYPE_MAX, "%s", ev->type);
    c->seqs[c->n] = ev->seq;
  }
  c->n++;
  return 0;
}

static void test_event_log_chain_detects_tampering(void **state) {
  fixture *f = *state;
  member_result r;
  for(int i = 0; i < 5; i++) {
    char phone[16];
    snprintf(phone, sizeof phone, "1390000%04d", i);
    member_signup_req req = req_for(phone);
    assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  }
  collect c = {0};
  assert_int_equal(store_events_after(f->st, 0, 1000, collect_fn, &c), SQR_OK);
  for(int i = 0; i < c.n; i++)
    assert_int_equal(c.seqs[i], i + 1); /* strictly increasing */
  assert_string_equal(c.types[0], "config_applied");
  int64_t checked, bad;
  char why[160];
  assert_int_equal(store_verify_log(f->st, &checked, &bad, why, sizeof why), SQR_OK);
  assert_int_equal(checked, c.n);

  sqlite3 *db;
  sqlite3_open(f->path, &db);
  /* Alter a payload. */
  sqlite3_exec(db,
               "UPDATE events SET payload=replace(payload, '\"points\":50', '\"points\":5000')"
               " WHERE seq=4",
               NULL, NULL, NULL);
  assert_int_equal(store_verify_log(f->st, &checked, &bad, why, sizeof why), SQR_ECORRUPT);
  assert_int_equal(bad, 4);
  assert_non_null(strstr(why, "payload"));
  /* Alter it and recompute its body hash: the chain still catches it. */
  sqlite3_exec(db, "UPDATE events SET body_hash=zeroblob(32) WHERE seq=4", NULL, NULL, NULL);
  sqlite3_exec(db, "UPDATE events SET redacted=1 WHERE seq=4", NULL, NULL, NULL);
  assert_int_equal(store_verify_log(f->st, &checked, &bad, why, sizeof why), SQR_ECORRUPT);
  assert_int_equal(bad, 4);
  assert_non_null(strstr(why, "chain"));
  /* Delete an event in the middle. */
  sqlite3_exec(db, "DELETE FROM events WHERE seq=3", NULL, NULL, NULL);
  assert_int_equal(store_verify_log(f->st, &checked, &bad, why, sizeof why), SQR_ECORRUPT);
  assert_int_equal(bad, 3);
  assert_non_null(strstr(why, "missing"));
  sqlite3_close(db);
}

static void test_clock_jump_is_recorded(void **state) {
  fixture *f = *state;
  int jumped = 0;
  assert_int_equal(store_check_clock(f->st, &jumped), SQR_OK);
  assert_false(jumped);
  clock_advance_ms(f->clock, 60000);
  assert_int_equal(store_check_clock(f->st, &jumped), SQR_OK);
  assert_false(jumped);
  clock_set_wall_ms(f->clock, clock_now_ms(f->clock) + 3600000);
  assert_int_equal(store_check_clock(f->st, &jumped), SQR_OK);
  assert_true(jumped);
  collect c = {0};
  assert_int_equal(store_events_after(f->st, store_last_seq(f->st) - 1, 10, collect_fn, &c),
                   SQR_OK);
  assert_string_equal(c.types[0], "clock_jump");
}

/* The app picks up the offset the sync daemon (another process) recorded,
 * and a clock jump becomes an event through the same call. */
static void test_clock_refresh_takes_the_daemons_offset(void **state) {
  fixture *f = *state;
  int changed = -1, jumped = -1;
  assert_int_equal(store_clock_refresh(f->st, &changed, &jumped), SQR_OK);
  assert_false(changed);
  assert_false(jumped);
  store *other = NULL;
  sqr_clock *daemon_clock = NULL; /* the daemon's own process, its own clock */
  char err[256];
  assert_int_equal(clock_new_fixed(clock_now_ms(f->clock), &daemon_clock), SQR_OK);
  assert_int_equal(store_open(f->path, daemon_clock, &other, err, sizeof err), SQR_OK);
  assert_int_equal(store_sync_record(other, 1, NULL, 61000), SQR_OK);
  store_close(other);
  clock_free(daemon_clock);
  int64_t before = clock_now_ms(f->clock);
  assert_int_equal(store_clock_refresh(f->st, &changed, &jumped), SQR_OK);
  assert_true(changed);
  assert_int_equal(clock_offset_ms(f->clock), 61000);
  assert_true(clock_now_ms(f->clock) >= before + 61000);
  assert_int_equal(store_clock_refresh(f->st, &changed, NULL), SQR_OK);
  assert_false(changed);
  /* a failed sync leaves the offset of the last good one */
  assert_int_equal(store_sync_record(f->st, 0, "timeout", 0), SQR_OK);
  assert_int_equal(store_clock_refresh(f->st, &changed, NULL), SQR_OK);
  assert_false(changed);
  clock_set_wall_ms(f->clock, clock_now_ms(f->clock) + 3600000);
  assert_int_equal(store_clock_refresh(f->st, NULL, &jumped), SQR_OK);
  assert_true(jumped);
  collect c = {0};
  assert_int_equal(store_events_after(f->st, store_last_seq(f->st) - 1, 10, collect_fn, &c),
                   SQR_OK);
  assert_string_equal(c.types[0], "clock_jump");
}

/* Clock jumps as two processes see them: the app and the sync daemon each
 * open the database with their own clock (here two fixed clocks made at
 * the same instant: one boot, moved in step). */
static int64_t sql_int(const char *path, const char *sql) {
  sqlite3 *db;
  sqlite3_stmt *s;
  int64_t v = -1;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  if(sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

static int64_t clock_jumps(const char *path) {
  return sql_int(path, "SELECT count(*) FROM events WHERE type='clock_jump'");
}

static void test_clock_jump_recorded_once_by_two_processes(void **state) {
  fixture *f = *state;
  sqr_clock *dclock = NULL;
  store *daemon = NULL;
  char err[256];
  int jumped = -1;
  assert_int_equal(clock_new_fixed(T0, &dclock), SQR_OK);
  assert_int_equal(store_open(f->path, dclock, &daemon, err, sizeof err), SQR_OK);
  assert_int_equal(store_check_clock(f->st, &jumped), SQR_OK);
  assert_false(jumped);
  clock_advance_ms(f->clock, 60000);
  clock_advance_ms(dclock, 60000);
  assert_int_equal(store_check_clock(daemon, &jumped), SQR_OK);
  assert_false(jumped);
  /* someone sets the box's clock an hour ahead: one event, whoever looks
   * first; the other process finds the reference already past it */
  clock_set_wall_ms(f->clock, T0 + 60000 + 3600000);
  clock_set_wall_ms(dclock, T0 + 60000 + 3600000);
  assert_int_equal(store_check_clock(daemon, &jumped), SQR_OK);
  assert_true(jumped);
  assert_int_equal(store_check_clock(f->st, &jumped), SQR_OK);
  assert_false(jumped);
  assert_int_equal(store_check_clock(daemon, &jumped), SQR_OK);
  assert_false(jumped);
  assert_int_equal(clock_jumps(f->path), 1);
  store_status ss;
  assert_int_equal(store_status_get(f->st, &ss), SQR_OK);
  assert_int_equal(ss.clock_jumps, 1);
  assert_int_equal(ss.last_clock_jump_by_ms, 3600000);
  assert_string_equal(ss.last_clock_jump_source, "wall");
  assert_true(ss.last_clock_jump_ms >= T0 + 3600000);
  /* a jump back, seen by the app this time */
  clock_set_wall_ms(f->clock, T0 + 60000);
  clock_set_wall_ms(dclock, T0 + 60000);
  assert_int_equal(store_check_clock(f->st, &jumped), SQR_OK);
  assert_true(jumped);
  assert_int_equal(store_check_clock(daemon, &jumped), SQR_OK);
  assert_false(jumped);
  assert_int_equal(store_status_get(f->st, &ss), SQR_OK);
  assert_int_equal(ss.clock_jumps, 2);
  assert_int_equal(ss.last_clock_jump_by_ms, -3600000);
  store_close(daemon);
  clock_free(dclock);
}

/* Another boot (another boot id, or monotonic time gone back) renews the
 * reference without an event; within one boot the reference is written
 * only when due, so the app's 5 s look costs no write. */
static void test_clock_reference_across_boots(void **state) {
  fixture *f = *state;
  int jumped = -1;
  assert_int_equal(store_check_clock(f->st, &jumped), SQR_OK);
  int64_t ref = sql_int(f->path, "SELECT value FROM meta WHERE key='clock_ref_wall_ms'");
  assert_int_equal(ref, T0);
  clock_advance_ms(f->clock, 5000);
  assert_int_equal(store_check_clock(f->st, &jumped), SQR_OK);
  assert_int_equal(sql_int(f->path, "SELECT value FROM meta WHERE key='clock_ref_wall_ms'"), T0);
  clock_advance_ms(f->clock, STORE_CLOCK_REF_REFRESH_MS);
  assert_int_equal(store_check_clock(f->st, &jumped), SQR_OK);
  assert_false(jumped);
  assert_int_equal(sql_int(f->path, "SELECT value FROM meta WHERE key='clock_ref_wall_ms'"),
                   T0 + 5000 + STORE_CLOCK_REF_REFRESH_MS);
  /* the box rebooted with its clock a day off: nothing to compare with */
  sqr_clock *boot2 = NULL;
  store *st2 = NULL;
  char err[256];
  assert_int_equal(clock_new_fixed(T0 + 86400000, &boot2), SQR_OK);
  assert_int_equal(store_open(f->path, boot2, &st2, err, sizeof err), SQR_OK);
  assert_int_equal(store_check_clock(st2, &jumped), SQR_OK);
  assert_false(jumped);
  assert_int_equal(clock_jumps(f->path), 0);
  assert_int_equal(sql_int(f->path, "SELECT value FROM meta WHERE key='clock_ref_wall_ms'"),
                   T0 + 86400000);
  store_close(st2);
  clock_free(boot2);
}

/* The HQ offset: a change the box's recorded jumps explain is no event; one
 * they do not (the clock set while the box was off, or HQ's moved) is. */
static void test_clock_jump_from_hq_offset(void **state) {
  fixture *f = *state;
  int jumped = -1;
  assert_int_equal(store_check_clock(f->st, &jumped), SQR_OK);
  assert_int_equal(store_sync_record(f->st, 1, NULL, 1000), SQR_OK); /* the first: no event */
  assert_int_equal(store_sync_record(f->st, 0, "timeout", 0), SQR_OK);
  assert_int_equal(store_sync_record(f->st, 1, NULL, 1500), SQR_OK); /* drift: no event */
  assert_int_equal(clock_jumps(f->path), 0);
  /* the box is set an hour ahead while running: a wall event, and the next
   * offset is an hour less, which that event explains */
  clock_set_wall_ms(f->clock, T0 + 3600000);
  assert_int_equal(store_check_clock(f->st, &jumped), SQR_OK);
  assert_true(jumped);
  assert_int_equal(store_sync_record(f->st, 1, NULL, 1500 - 3600000), SQR_OK);
  assert_int_equal(clock_jumps(f->path), 1);
  assert_int_equal(clock_offset_ms(f->clock), 1500 - 3600000);
  /* set back a day across a reboot: only the offset shows it */
  sqr_clock *boot2 = NULL;
  store *st2 = NULL;
  char err[256];
  assert_int_equal(clock_new_fixed(T0 + 3600000 - 86400000, &boot2), SQR_OK);
  assert_int_equal(store_open(f->path, boot2, &st2, err, sizeof err), SQR_OK);
  assert_int_equal(store_check_clock(st2, &jumped), SQR_OK);
  assert_false(jumped);
  assert_int_equal(store_sync_record(st2, 1, NULL, 1500 - 3600000 + 86400000), SQR_OK);
  assert_int_equal(clock_jumps(f->path), 2);
  store_status ss;
  assert_int_equal(store_status_get(st2, &ss), SQR_OK);
  assert_int_equal(ss.last_clock_jump_by_ms, -86400000);
  assert_string_equal(ss.last_clock_jump_source, "hq_offset");
  assert_int_equal(ss.hq_offset_ms, 1500 - 3600000 + 86400000);
  /* the event carries HQ's time (the new offset), and both offsets */
  assert_int_equal(
      sql_int(f->path, "SELECT ts_ms FROM events WHERE type='clock_jump' ORDER BY seq DESC"),
      T0 + 1500);
  assert_int_equal(sql_int(f->path, "SELECT json_extract(payload, '$.previous_offset_ms')"
                                    " FROM events WHERE type='clock_jump' ORDER BY seq DESC"),
                   1500 - 3600000);
  assert_int_equal(store_verify_log(st2, NULL, NULL, NULL, 0), SQR_OK);
  store_close(st2);
  clock_free(boot2);
}

static void test_groups_fill_one_at_a_time(void **state) {
  fixture *f = *state;
  store_live live;
  assert_int_equal(store_live_group(f->st, &live), SQR_OK);
  assert_string_equal(live.g->id, "ja-store-1");
  /* Capacity 200 minus reserve 10: the 190th join moves the code on. */
  sqlite3 *db;
  sqlite3_open(f->path, &db);
  sqlite3_exec(db, "UPDATE groups SET joined=189 WHERE id='ja-store-1'", NULL, NULL, NULL);
  sqlite3_close(db);
  assert_int_equal(store_live_group(f->st, &live), SQR_OK);
  assert_string_equal(live.g->id, "ja-store-1");
  member_result r;
  member_signup_req req = req_for("13900001111");
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  assert_string_equal(r.group_id, "ja-store-1");
  assert_int_equal(store_live_group(f->st, &live), SQR_OK);
  assert_string_equal(live.g->id, "ja-store-2");
  collect c = {0};
  assert_int_equal(store_events_after(f->st, 0, 1000, collect_fn, &c), SQR_OK);
  assert_string_equal(c.types[c.n - 1], "group_switched");

  /* The manager marks group 2 full: nothing left, the staff code shows. */
  assert_int_equal(store_group_mark_full(f->st, "ja-store-2"), SQR_OK);
  assert_int_equal(store_live_group(f->st, &live), SQR_OK);
  assert_true(live.exhausted);
  assert_int_equal(live.group, -1);
  assert_string_equal(live.link, "https://work.weixin.qq.com/ca/demo-staff-contact");
  memset(&c, 0, sizeof c);
  assert_int_equal(store_events_after(f->st, 0, 1000, collect_fn, &c), SQR_OK);
  assert_string_equal(c.types[c.n - 1], "groups_exhausted");
  int n = c.n;
  /* Asking again records nothing new. */
  assert_int_equal(store_live_group(f->st, &live), SQR_OK);
  memset(&c, 0, sizeof c);
  assert_int_equal(store_events_after(f->st, 0, 1000, collect_fn, &c), SQR_OK);
  assert_int_equal(c.n, n);
  assert_int_equal(store_group_mark_full(f->st, "no-such-group"), SQR_ENOTFOUND);
}

static void test_group_expiry_margin(void **state) {
  fixture *f = *state;
  store_live live;
  /* Group 1 expires at T0 + 6 days; 12 h before that the code moves on. */
  clock_advance_ms(f->clock, (6 * 86400 - 12 * 3600 - 60) * 1000LL);
  assert_int_equal(store_live_group(f->st, &live), SQR_OK);
  assert_string_equal(live.g->id, "ja-store-1");
  clock_advance_ms(f->clock, 120 * 1000);
  assert_int_equal(store_live_group(f->st, &live), SQR_OK);
  assert_string_equal(live.g->id, "ja-store-2");
}

static void test_status_counts(void **state) {
  fixture *f = *state;
  member_result r;
  member_signup_req a = req_for("13900000001"), b = req_for("13900000002");
  a.staff_id = "s01";
  b.staff_id = "s01";
  assert_int_equal(member_signup(f->st, &a, &r), SQR_OK);
  assert_int_equal(member_signup(f->st, &b, &r), SQR_OK);
  assert_int_equal(member_checkin(f->st, "13900000001", NULL, &r), SQR_OK);
  clock_advance_ms(f->clock, 86400000);
  member_signup_req c = req_for("13900000003");
  c.staff_id = "s02";
  assert_int_equal(member_signup(f->st, &c, &r), SQR_OK);
  store_status s;
  assert_int_equal(store_status_get(f->st, &s), SQR_OK);
  assert_int_equal(s.members, 3);
  assert_int_equal(s.signups_today, 1);
  assert_int_equal(s.checkins_today, 0);
  assert_int_equal(s.signups_by_day[5], 2);
  assert_int_equal(s.checkins_by_day[5], 1);
  assert_int_equal(s.nstaff, 1);
  assert_string_equal(s.staff_today[0].staff, "s02");
  assert_int_equal(s.pending_events, s.last_seq);
  assert_int_equal(s.last_sync_ok_ms, 0);
  assert_int_equal(store_set_acked_seq(f->st, 3), SQR_OK);
  assert_int_equal(store_set_acked_seq(f->st, 2), SQR_OK); /* never backwards */
  assert_int_equal(store_acked_seq(f->st), 3);
  assert_int_equal(store_set_acked_seq(f->st, s.last_seq + 5), SQR_EPROTO);
  assert_int_equal(store_sync_record(f->st, 0, "connect timeout", 1500), SQR_OK);
  assert_int_equal(store_status_get(f->st, &s), SQR_OK);
  assert_int_equal(s.pending_events, s.last_seq - 3);
  assert_string_equal(s.last_sync_error, "connect timeout");
  assert_int_equal(s.hq_offset_ms, 1500);
  assert_int_equal(store_sync_record(f->st, 1, NULL, 0), SQR_OK);
  assert_int_equal(store_status_get(f->st, &s), SQR_OK);
  assert_int_equal(s.last_sync_ok_ms, clock_now_ms(f->clock));
  assert_string_equal(s.last_sync_error, "");
  /* A successful sync's HQ offset is applied, and survives a restart. */
  assert_int_equal(store_sync_record(f->st, 1, NULL, -4200), SQR_OK);
  assert_int_equal(clock_offset_ms(f->clock), -4200);
  store_close(f->st);
  clock_set_offset_ms(f->clock, 0);
  char err[256];
  assert_int_equal(store_open(f->path, f->clock, &f->st, err, sizeof err), SQR_OK);
  assert_int_equal(clock_offset_ms(f->clock), -4200);
}

static void test_full_disk_loses_nothing(void **state) {
  fixture *f = *state;
  member_result r;
  int ok = 0;
  sqr_rc rc = SQR_OK;
  sqlite3 *db;
  sqlite3_open(f->path, &db);
  sqlite3_stmt *s;
  sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &s, NULL);
  sqlite3_step(s);
  int pages = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  assert_int_equal(store_set_max_pages(f->st, pages + 8), SQR_OK);
  for(int i = 0; i < 5000; i++) {
    char phone[16];
    snprintf(phone, sizeof phone, "1370000%04d", i);
    member_signup_req req = req_for(phone);
    rc = member_signup(f->st, &req, &r);
    if(rc) break;
    ok++;
  }
  assert_int_equal(rc, SQR_ENOSPC);
  assert_true(ok > 0);
  assert_non_null(strstr(store_errmsg(f->st), "disk full"));
  /* Everything acknowledged before the disk filled is still there, whole. */
  store_status st;
  assert_int_equal(store_status_get(f->st, &st), SQR_OK);
  assert_int_equal(st.members, ok);
  int64_t checked, bad;
  char why[160];
  assert_int_equal(store_verify_log(f->st, &checked, &bad, why, sizeof why), SQR_OK);
  /* Space returns: sign-ups work again. */
  assert_int_equal(store_set_max_pages(f->st, 1 << 30), SQR_OK);
  member_signup_req req = req_for("13600000000");
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  store_close(f->st);
  char err[256];
  assert_int_equal(store_open(f->path, f->clock, &f->st, err, sizeof err), SQR_OK);
  assert_int_equal(store_status_get(f->st, &st), SQR_OK);
  assert_int_equal(st.members, ok + 1);
}

static void test_append_rejects_bad_payload(void **state) {
  fixture *f = *state;
  int64_t seq = 0;
  assert_int_equal(store_append(f->st, "impressions", "{\"hour\": 12, \"n\": 40}", &seq), SQR_OK);
  assert_int_equal(seq, store_last_seq(f->st));
  assert_int_equal(store_append(f->st, "impressions", "[1", &seq), SQR_EINVAL);
  assert_int_equal(store_append(f->st, "impressions", "42", &seq), SQR_EINVAL);
}

/* Runs sql on a second connection to the store's file, as another process
 * (or a bad sector) might change it under the kiosk. */
static void exec_other(const char *path, const char *sql) {
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
}

/* The text of a one-value query on a second connection, into buf. */
static const char *query_other(const char *path, const char *sql, char *buf, size_t size) {
  sqlite3 *db;
  sqlite3_stmt *s;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  snprintf(buf, size, "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return buf;
}

/* Overwrites the root page of the table or index `name` in the closed
 * database at path with garbage, as a failing disk would. */
static void damage_page(const char *path, const char *name) {
  char buf[32], sql[128];
  snprintf(sql, sizeof sql, "SELECT rootpage FROM sqlite_master WHERE name='%s'", name);
  long root = atol(query_other(path, sql, buf, sizeof buf));
  long page = atol(query_other(path, "PRAGMA page_size", buf, sizeof buf));
  assert_true(root > 1 && page > 0);
  /* No connection is left open: the WAL is checkpointed into the file. */
  char junk[65536];
  assert_true(page <= (long)sizeof junk);
  memset(junk, 0xa5, sizeof junk);
  int fd = open(path, O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, junk, (size_t)page, (off_t)((root - 1) * page)), page);
  close(fd);
}

/* Closes the store, damages `name` (and `also`, if not NULL) and reopens
 * it; opening reads only the config and sync_attempts tables. */
static void damage_and_reopen(fixture *f, const char *name, const char *also) {
  char err[256];
  store_close(f->st);
  f->st = NULL;
  damage_page(f->path, name);
  if(also) damage_page(f->path, also);
  assert_int_equal(store_open(f->path, f->clock, &f->st, err, sizeof err), SQR_OK);
}

static void append_events(store *st, int n) {
  for(int i = 0; i < n; i++)
    assert_int_equal(store_append(st, "impressions", "{\"n\": 1}", NULL), SQR_OK);
}

/* A damaged acknowledged seq is an error everywhere it is read, never 0:
 * read as 0 it would be overwritten (the acknowledgement lost) and the
 * pending count would be wrong. */
static void test_damaged_acked_seq_is_an_error(void **state) {
  fixture *f = *state;
  char buf[64];
  append_events(f->st, 4);
  assert_int_equal(store_set_acked_seq(f->st, 2), SQR_OK);
  exec_other(f->path, "UPDATE meta SET value='x2' WHERE key='acked_seq'");

  int64_t acked = 42;
  assert_int_equal(store_acked_seq_get(f->st, &acked), SQR_ECORRUPT);
  assert_int_equal(acked, 42); /* untouched */
  assert_non_null(strstr(store_errmsg(f->st), "acked_seq"));
  assert_int_equal(store_acked_seq(f->st), -1);

  assert_int_equal(store_set_acked_seq(f->st, 3), SQR_ECORRUPT);
  assert_string_equal(
      query_other(f->path, "SELECT value FROM meta WHERE key='acked_seq'", buf, sizeof buf),
      "x2"); /* rolled back, not overwritten */

  assert_int_equal(store_sync_record(f->st, 1, NULL, 0), SQR_ECORRUPT);
  assert_string_equal(query_other(f->path, "SELECT count(*) FROM sync_attempts", buf, sizeof buf),
                      "0");

  store_status s;
  assert_int_equal(store_status_get(f->st, &s), SQR_ECORRUPT);
  assert_int_equal(s.members, 0);
  assert_int_equal(s.last_seq, 0); /* no half-filled figures */
  assert_int_equal(s.pending_events, 0);
}

/* A page that cannot be read fails the call that reads it, with what was
 * being read in the message; nothing falls back to a default. */
static void test_unreadable_events_are_an_error(void **state) {
  fixture *f = *state;
  append_events(f->st, 3);
  damage_and_reopen(f, "events", NULL);
  int64_t seq = 42;
  assert_int_equal(store_last_seq_get(f->st, &seq), SQR_ECORRUPT);
  assert_int_equal(seq, 42);
  assert_non_null(strstr(store_errmsg(f->st), "last event's seq"));
  assert_int_equal(store_last_seq(f->st), -1);
  /* An acknowledgement cannot be checked against the log: refused. */
  assert_int_equal(store_set_acked_seq(f->st, 0), SQR_ECORRUPT);
  assert_int_equal(store_sync_record(f->st, 1, NULL, 0), SQR_ECORRUPT);
}

static void test_status_fails_on_unreadable_members(void **state) {
  fixture *f = *state;
  member_result r;
  member_signup_req req = req_for("13900000001");
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  /* count(*) may read the table or either smaller unique index (mid,
   * blind): all go. */
  damage_and_reopen(f, "members", "sqlite_autoindex_members_1");
  damage_and_reopen(f, "sqlite_autoindex_members_2", NULL);
  store_status s;
  assert_int_equal(store_status_get(f->st, &s), SQR_ECORRUPT);
  assert_non_null(strstr(store_errmsg(f->st), "count members"));
  /* Damage is reported as damage, not as a generic I/O error. */
  assert_int_equal(member_lookup(f->st, "13900000001", NULL, &r), SQR_ECORRUPT);
  /* The read transaction was ended: a write still works. */
  assert_int_equal(store_append(f->st, "impressions", "{}", NULL), SQR_OK);
}

static void test_status_fails_on_unreadable_event_index(void **state) {
  fixture *f = *state;
  member_result r;
  member_signup_req req = req_for("13900000001");
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  damage_and_reopen(f, "events_type_ts", NULL);
  store_status s;
  assert_int_equal(store_status_get(f->st, &s), SQR_ECORRUPT);
  assert_non_null(strstr(store_errmsg(f->st), "count events"));
  assert_int_equal(s.members, 0); /* read before the failure, then cleared */
  /* The read transaction was ended: a write (not touching the index) works. */
  assert_int_equal(store_set_acked_seq(f->st, 1), SQR_OK);
}

/* Opening reads the applied configuration and the last HQ clock offset:
 * if either cannot be read the open fails, instead of giving a kiosk that
 * forgot its configuration or mints codes in the wrong time. */
static void test_open_fails_on_unreadable_config(void **state) {
  fixture *f = *state;
  char err[256];
  store_close(f->st);
  f->st = NULL;
  damage_page(f->path, "config");
  assert_int_equal(store_open(f->path, f->clock, &f->st, err, sizeof err), SQR_ECORRUPT);
  assert_null(f->st);
  assert_non_null(strstr(err, "config version"));
}

static void test_open_fails_on_unreadable_sync_log(void **state) {
  fixture *f = *state;
  char err[256];
  assert_int_equal(store_sync_record(f->st, 1, NULL, -4200), SQR_OK);
  store_close(f->st);
  f->st = NULL;
  damage_page(f->path, "sync_attempts");
  assert_int_equal(store_open(f->path, f->clock, &f->st, err, sizeof err), SQR_ECORRUPT);
  assert_null(f->st);
  assert_non_null(strstr(err, "clock offset"));
}

/* Group fill that cannot be read is an error, not "nobody joined yet":
 * that would lead shoppers to a full group. */
static void test_unreadable_group_fill_is_an_error(void **state) {
  fixture *f = *state;
  damage_and_reopen(f, "groups", NULL);
  group_fill fill[CONFIG_MAX_GROUPS];
  store_live live;
  assert_int_equal(store_group_fill(f->st, fill, CONFIG_MAX_GROUPS), SQR_ECORRUPT);
  assert_non_null(strstr(store_errmsg(f->st), "group fill"));
  assert_int_equal(store_live_group(f->st, &live), SQR_ECORRUPT);
}

/* The recorded live group that cannot be read is an error, not "never
 * recorded" (which would record a switch that did not happen). */
static void test_unreadable_live_group_record_is_an_error(void **state) {
  fixture *f = *state;
  damage_and_reopen(f, "meta", NULL);
  store_live live;
  assert_int_equal(store_live_group(f->st, &live), SQR_ECORRUPT);
  assert_non_null(strstr(store_errmsg(f->st), "recorded live group"));
}

/* ---- retention: pruning acknowledged old events ------------------------ */

#define DAY_MS 86400000LL

static int64_t file_size(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

static int64_t first_kept(const char *path) {
  char buf[32];
  return atoll(query_other(path, "SELECT min(seq) FROM events", buf, sizeof buf));
}

/* Only a prefix that HQ acknowledged and that is older than
 * retention.event_days (the demo's default, 90) goes, never the newest
 * event; the anchor only moves forward and a second prune does nothing. */
static void test_prune_only_acknowledged_old_events(void **state) {
  fixture *f = *state;
  int64_t n = -1, acked_part, old_last, last;
  store_anchor a;
  assert_int_equal(store_config(f->st)->retention_event_days, 90);
  append_events(f->st, 10);
  old_last = store_last_seq(f->st);
  clock_advance_ms(f->clock, 100 * DAY_MS);
  append_events(f->st, 3); /* recent */
  last = store_last_seq(f->st);

  /* Nothing acknowledged: nothing goes, however old. */
  assert_int_equal(store_prune_events(f->st, clock_now_ms(f->clock), &n), SQR_OK);
  assert_int_equal(n, 0);
  assert_int_equal(first_kept(f->path), 1);
  assert_int_equal(store_anchor_get(f->st, &a), SQR_OK);
  assert_int_equal(a.seq, 0);

  /* Part of the old events acknowledged: only those go. */
  acked_part = old_last - 4;
  assert_int_equal(store_set_acked_seq(f->st, acked_part), SQR_OK);
  assert_int_equal(store_prune_events(f->st, clock_now_ms(f->clock), &n), SQR_OK);
  assert_int_equal(n, acked_part);
  assert_int_equal(first_kept(f->path), acked_part + 1);
  assert_int_equal(store_anchor_get(f->st, &a), SQR_OK);
  assert_int_equal(a.seq, acked_part);
  /* Again: a no-op. */
  assert_int_equal(store_prune_events(f->st, clock_now_ms(f->clock), &n), SQR_OK);
  assert_int_equal(n, 0);

  /* Everything acknowledged: the old ones go, the recent ones stay. */
  assert_int_equal(store_set_acked_seq(f->st, last), SQR_OK);
  assert_int_equal(store_prune_events(f->st, T0 + 89 * DAY_MS, &n), SQR_OK);
  assert_int_equal(n, 0); /* 89 days after them: still kept */
  assert_int_equal(store_prune_events(f->st, clock_now_ms(f->clock), &n), SQR_OK);
  assert_int_equal(n, old_last - acked_part);
  assert_int_equal(first_kept(f->path), old_last + 1);

  /* Far in the future: all acknowledged ones but the newest. */
  assert_int_equal(store_prune_events(f->st, clock_now_ms(f->clock) + 365 * DAY_MS, &n), SQR_OK);
  assert_int_equal(n, last - 1 - old_last);
  assert_int_equal(first_kept(f->path), last);
  assert_int_equal(store_last_seq(f->st), last);
  assert_int_equal(store_anchor_get(f->st, &a), SQR_OK);
  assert_int_equal(a.seq, last - 1);
  assert_int_equal(store_prune_events(f->st, clock_now_ms(f->clock) + 365 * DAY_MS, &n), SQR_OK);
  assert_int_equal(n, 0);

  /* The tail is still there: the next event links to it. */
  int64_t seq = 0, checked = 0, bad = 0;
  char why[200] = "";
  assert_int_equal(store_append(f->st, "impressions", "{\"n\": 2}", &seq), SQR_OK);
  assert_int_equal(seq, last + 1);
  store_anchor from;
  assert_int_equal(store_verify_log_from(f->st, &from, &checked, &bad, why, sizeof why), SQR_OK);
  assert_int_equal(from.seq, last - 1);
  assert_int_equal(checked, 2);
  /* The figures that read events still work on what is kept. */
  store_status s;
  assert_int_equal(store_status_get(f->st, &s), SQR_OK);
  assert_int_equal(s.last_seq, last + 1);
  assert_int_equal(s.pending_events, 1);
}

/* An event kept because it is young stops the prune, even when older
 * ones follow it (a clock set back): only a prefix can go. */
static void test_prune_stops_at_a_young_event(void **state) {
  fixture *f = *state;
  int64_t n = -1, first_young;
  append_events(f->st, 2);
  clock_advance_ms(f->clock, 100 * DAY_MS);
  append_events(f->st, 1);
  first_young = store_last_seq(f->st);
  clock_set_wall_ms(f->clock, T0); /* back 100 days */
  append_events(f->st, 3);
  clock_set_wall_ms(f->clock, T0 + 100 * DAY_MS);
  append_events(f->st, 1);
  assert_int_equal(store_set_acked_seq(f->st, store_last_seq(f->st)), SQR_OK);
  assert_int_equal(store_prune_events(f->st, clock_now_ms(f->clock), &n), SQR_OK);
  assert_int_equal(n, first_young - 1);
  int64_t checked, bad;
  char why[200];
  assert_int_equal(store_verify_log(f->st, &checked, &bad, why, sizeof why), SQR_OK);
}

/* verify-log starts from the anchor and catches a changed first event, a
 * changed anchor hash and a moved anchor seq. */
static void test_prune_verify_from_anchor(void **state) {
  fixture *f = *state;
  int64_t n, checked = 0, bad = 0;
  char why[200] = "", sql[200], hash[80];
  store_anchor from;
  append_events(f->st, 8);
  int64_t last = store_last_seq(f->st);
  assert_int_equal(store_set_acked_seq(f->st, 6), SQR_OK);
  clock_advance_ms(f->clock, 91 * DAY_MS);
  assert_int_equal(store_prune_events(f->st, clock_now_ms(f->clock), &n), SQR_OK);
  assert_int_equal(n, 6);
  assert_int_equal(store_verify_log_from(f->st, &from, &checked, &bad, why, sizeof why), SQR_OK);
  assert_int_equal(from.seq, 6);
  assert_int_equal(checked, last - 6);

  /* The first kept event altered. */
  exec_other(f->path, "UPDATE events SET ts_ms=ts_ms+1 WHERE seq=7");
  assert_int_equal(store_verify_log(f->st, &checked, &bad, why, sizeof why), SQR_ECORRUPT);
  assert_int_equal(bad, 7);
  exec_other(f->path, "UPDATE events SET ts_ms=ts_ms-1 WHERE seq=7");
  assert_int_equal(store_verify_log(f->st, &checked, &bad, why, sizeof why), SQR_OK);

  /* The anchor's hash changed. */
  query_other(f->path, "SELECT value FROM meta WHERE key='prune_anchor_hash'", hash, sizeof hash);
  exec_other(f->path, "UPDATE meta SET value='"
                      "00000000000000000000000000000000"
                      "00000000000000000000000000000000' WHERE key='prune_anchor_hash'");
  assert_int_equal(store_verify_log(f->st, &checked, &bad, why, sizeof why), SQR_ECORRUPT);
  assert_int_equal(bad, 7);
  assert_non_null(strstr(why, "chain"));
  snprintf(sql, sizeof sql, "UPDATE meta SET value='%s' WHERE key='prune_anchor_hash'", hash);
  exec_other(f->path, sql);

  /* The anchor's seq moved back (events look missing) or on (one kept
   * below it). */
  exec_other(f->path, "UPDATE meta SET value=5 WHERE key='prune_anchor_seq'");
  assert_int_equal(store_verify_log(f->st, &checked, &bad, why, sizeof why), SQR_ECORRUPT);
  assert_int_equal(bad, 6);
  assert_non_null(strstr(why, "missing"));
  /* and pruning refuses to go on from a log that does not start there */
  assert_int_equal(store_set_acked_seq(f->st, last), SQR_OK);
  assert_int_equal(store_prune_events(f->st, clock_now_ms(f->clock), &n), SQR_ECORRUPT);
  assert_int_equal(first_kept(f->path), 7);
  exec_other(f->path, "UPDATE meta SET value=7 WHERE key='prune_anchor_seq'");
  assert_int_equal(store_verify_log(f->st, &checked, &bad, why, sizeof why), SQR_ECORRUPT);
  assert_int_equal(bad, 7);
  assert_non_null(strstr(why, "prune anchor"));
  exec_other(f->path, "UPDATE meta SET value=6 WHERE key='prune_anchor_seq'");
  assert_int_equal(store_verify_log(f->st, &checked, &bad, why, sizeof why), SQR_OK);

  /* A damaged anchor is an error, not "nothing pruned". */
  exec_other(f->path, "UPDATE meta SET value='xyz' WHERE key='prune_anchor_hash'");
  assert_int_equal(store_verify_log(f->st, &checked, &bad, why, sizeof why), SQR_ECORRUPT);
  assert_non_null(strstr(store_errmsg(f->st), "prune anchor"));
}

/* Many pruned events give their space back: a new database has
 * incremental auto-vacuum, and the file shrinks. */
static void test_prune_shrinks_the_file(void **state) {
  fixture *f = *state;
  char buf[64], payload[1100];
  int64_t n = 0;
  assert_string_equal(query_other(f->path, "PRAGMA auto_vacuum", buf, sizeof buf), "2");
  memset(payload, 0, sizeof payload);
  strcpy(payload, "{\"pad\": \"");
  memset(payload + strlen(payload), 'x', 1000);
  strcat(payload, "\"}");
  const int many = STORE_PRUNE_BATCH + 1000; /* more than one transaction */
  for(int i = 0; i < many; i++)
    assert_int_equal(store_append(f->st, "impressions", payload, NULL), SQR_OK);
  clock_advance_ms(f->clock, 91 * DAY_MS);
  append_events(f->st, 1);
  assert_int_equal(store_set_acked_seq(f->st, store_last_seq(f->st)), SQR_OK);
  exec_other(f->path, "PRAGMA wal_checkpoint(TRUNCATE)");
  int64_t before = file_size(f->path);

  assert_int_equal(store_prune_events(f->st, clock_now_ms(f->clock), &n), SQR_OK);
  assert_true(n >= many);
  int64_t after = file_size(f->path);
  print_message("kiosk.db: %lld bytes before pruning %lld events, %lld after\n", (long long)before,
                (long long)n, (long long)after);
  assert_true(after > 0 && after < before / 10);
  assert_string_equal(query_other(f->path, "PRAGMA freelist_count", buf, sizeof buf), "0");

  int64_t checked, bad;
  char why[200];
  assert_int_equal(store_verify_log(f->st, &checked, &bad, why, sizeof why), SQR_OK);
  assert_int_equal(checked, 1);
  assert_int_equal(store_prune_events(f->st, clock_now_ms(f->clock), &n), SQR_OK);
  assert_int_equal(n, 0);
  assert_int_equal(file_size(f->path), after);
}

int main(void) {
  tu_make_keys(&keys);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_open_sets_pragmas_and_version, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refuses_foreign_files, setup, teardown),
      cmocka_unit_test_setup_teardown(test_read_only_directory, setup, teardown),
      cmocka_unit_test_setup_teardown(test_migrates_from_every_older_version, setup, teardown),
      cmocka_unit_test_setup_teardown(test_config_versions, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reload_sees_other_writer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_event_log_chain_detects_tampering, setup, teardown),
      cmocka_unit_test_setup_teardown(test_clock_jump_is_recorded, setup, teardown),
      cmocka_unit_test_setup_teardown(test_clock_jump_recorded_once_by_two_processes, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_clock_reference_across_boots, setup, teardown),
      cmocka_unit_test_setup_teardown(test_clock_jump_from_hq_offset, setup, teardown),
      cmocka_unit_test_setup_teardown(test_clock_refresh_takes_the_daemons_offset, setup, teardown),
      cmocka_unit_test_setup_teardown(test_groups_fill_one_at_a_time, setup, teardown),
      cmocka_unit_test_setup_teardown(test_group_expiry_margin, setup, teardown),
      cmocka_unit_test_setup_teardown(test_status_counts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_full_disk_loses_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_append_rejects_bad_payload, setup, teardown),
      cmocka_unit_test_setup_teardown(test_damaged_acked_seq_is_an_error, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unreadable_events_are_an_error, setup, teardown),
      cmocka_unit_test_setup_teardown(test_status_fails_on_unreadable_members, setup, teardown),
      cmocka_unit_test_setup_teardown(test_status_fails_on_unreadable_event_index, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_fails_on_unreadable_config, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_fails_on_unreadable_sync_log, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unreadable_group_fill_is_an_error, setup, teardown),
      cmocka_unit_test_setup_teardown(test_prune_only_acknowledged_old_events, setup, teardown),
      cmocka_unit_test_setup_teardown(test_prune_stops_at_a_young_event, setup, teardown),
      cmocka_unit_test_setup_teardown(test_prune_verify_from_anchor, setup, teardown),
      cmocka_unit_test_setup_teardown(test_prune_shrinks_the_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unreadable_live_group_record_is_an_error, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
