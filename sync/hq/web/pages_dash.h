/* pages_dash.h — the admin dashboard's pages (dash.c gathers the figures
 * and serves them): the login form, the stores overview, one store, "not
 * found", the audit log and the storage error.
 *
 * Each page is a view-model struct rendered through its template in
 * sync/hq/templates; every string is HTML-escaped there (store, group and
 * staff names are admin input). The presentation lives here: relative
 * ages ("3 h ago", so no long digit runs reach a page), conversion
 * percentages, clock jumps ("+1 h 5 min"), chart geometry, fill bars,
 * sort links. No I/O and no
 * state: golden-tested without a server (tests/hqweb/test_pages.c).
 * Never given a phone number (the figures are counts and ids).
 */
#ifndef SQR_PAGES_DASH_H
#define SQR_PAGES_DASH_H

#include <stddef.h>
#include <stdint.h>
#include "dynbuf.h"
#include "sqr.h"

typedef struct dash_figures {
  int64_t signups, checkins, scans;
} dash_figures;

/* One day of a chart and of the daily table. */
typedef struct dash_day {
  const char *day; /* "YYYY-MM-DD" */
  int64_t signups, checkins, scans;
} dash_day;

/* How full a group is: (joins + sent) / its limit, 0..1. */
typedef struct dash_fill {
  double fill;
  int full, near_full;
} dash_fill;

typedef struct dash_login_view {
  const char *error; /* why the last try failed; NULL: none */
} dash_login_view;

typedef struct dash_not_found_view {
  const char *admin; /* who is signed in */
  const char *title, *message;
} dash_not_found_view;

/* A store whose groups were all full or expired (groups_exhausted). */
typedef struct dash_alert {
  const char *store;
  int64_t at_ms;
} dash_alert;

/* A tamper or security alert (alerts.h): a chain that did not verify, a
 * revoked kiosk's certificate, a clock jump, or any other kind raised. */
typedef struct dash_security_alert {
  const char *kind;
  const char *store;
  int kiosk; /* 0: about the store */
  int64_t at_ms;
  const char *message;
} dash_security_alert;

/* A group nearly full or expiring within a day. */
typedef struct dash_warning {
  const char *store, *store_name;
  const char *group;       /* its id */
  const char *group_label; /* its name, or its id when it has none */
  int full, near_full, near_expiry;
} dash_warning;

enum { DASH_GROUPS_NONE, DASH_GROUPS_LIVE, DASH_GROUPS_ALL_FULL };

/* One line of the stores table. */
typedef struct dash_store_row {
  const char *id, *name;
  dash_figures today, week;
  int groups;            /* DASH_GROUPS_*: no group, a live one (fill), all full */
  dash_fill fill;        /* of the live group */
  int64_t last_sync_ms;  /* 0: never */
  int stale;             /* not synced for a day (or never) */
  int64_t events_behind; /* what its kiosks last said they held; -1: none said */
} dash_store_row;

typedef struct dash_home_view {
  const char *admin;
  int64_t now_ms; /* ages are relative to it */
  int64_t stores, stale_stores;
  dash_figures today, week;
  /* Sign-ups' sealed phones waiting for the opener (sealjob.h), and when
   * the oldest was queued (0: none): until opened, a sign-up is counted
   * but its member is not linked yet. */
  int64_t seal_backlog, seal_oldest_ms;
  const dash_day *days; /* the chart, oldest first */
  size_t ndays;
  const dash_alert *alerts;
  size_t nalerts;
  const dash_security_alert *security; /* newest first */
  size_t nsecurity;
  const dash_warning *warnings;
  size_t nwarnings;
  const dash_store_row *rows;
  size_t nrows;
  const char *sort_key; /* the column sorted by, as in ?sort= (dash.c) */
  int desc;
  int64_t page, pages; /* 1-based; pages 0 when there is no store */
} dash_home_view;

typedef struct dash_group_row {
  const char *id, *name;
  int live; /* the group shoppers are sent to now */
  int64_t joins, sent, limit;
  dash_fill fill;
  const char *expires; /* "YYYY-MM-DD"; NULL: never */
  int near_expiry;
} dash_group_row;

typedef struct dash_kiosk_row {
  int number, revoked;
  int stale;                             /* not synced for a day (or never) */
  int64_t acked, last_sync_ms, behind;   /* behind -1: never said */
  int64_t clock_jumps;                   /* clock_jump events it uploaded */
  int64_t last_jump_ts_ms, last_jump_ms; /* the newest: when (kiosk time), how far */
  int last_jump_hq;                      /* seen as a change of HQ's offset */
} dash_kiosk_row;

typedef struct dash_staff_row {
  const char *staff;
  int64_t signups;
} dash_staff_row;

typedef struct dash_store_view {
  const char *admin;
  int64_t now_ms;
  const char *id, *name, *city;
  int64_t members;
  dash_figures today, week;
  const dash_day *days; /* oldest first (the daily table shows newest first) */
  size_t ndays;
  int exhausted; /* every group full or expired */
  const dash_group_row *groups;
  size_t ngroups;
  const dash_kiosk_row *kiosks;
  size_t nkiosks;
  const dash_staff_row *staff;
  size_t nstaff;
} dash_store_view;

/* One access to people's data or export (audit_log). */
typedef struct dash_audit_row {
  int64_t at_ms;
  const char *who, *what;
  int64_t rows; /* -1: an export running or cut short */
} dash_audit_row;

/* One erasure (erasure_log): the member id is shown by its first 8 hex
 * digits, enough to find it, not the whole key. */
typedef struct dash_erasure_row {
  int64_t at_ms;
  const char *store, *member, *reason, *asked_by;
} dash_erasure_row;

typedef struct dash_audit_view {
  const char *admin;
  int64_t limit; /* rows shown of each, at most */
  const dash_audit_row *audit;
  size_t naudit;
  const dash_erasure_row *erasures;
  size_t nerasures;
} dash_audit_view;

/* Each appends its page to out. SQR_EINVAL for a view that contradicts
 * itself (a count without its array); SQR_ENOMEM; the dynbuf's
 * SQR_ETOOBIG. */
sqr_rc dash_login_render(const dash_login_view *vm, dynbuf *out) SQR_WARN_UNUSED;
sqr_rc dash_not_found_render(const dash_not_found_view *vm, dynbuf *out) SQR_WARN_UNUSED;
/* The storage error: a fixed page, no header. */
sqr_rc dash_error_render(dynbuf *out) SQR_WARN_UNUSED;
sqr_rc dash_home_render(const dash_home_view *vm, dynbuf *out) SQR_WARN_UNUSED;
sqr_rc dash_store_render(const dash_store_view *vm, dynbuf *out) SQR_WARN_UNUSED;
sqr_rc dash_audit_render(const dash_audit_view *vm, dynbuf *out) SQR_WARN_UNUSED;

#endif
