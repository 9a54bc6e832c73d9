/* disk.c — is there room to record? Sign-ups and check-ins pause while the
 * disk under the database is short of space, and resume by themselves when
 * it has room again; the live code never stops (it writes nothing unless
 * the group changes).
 *
 * Two signals, because either can come first:
 *   - statvfs on the database's directory: fewer than app->min_free_mb
 *     megabytes (or a handful of inodes) left for unprivileged users.
 *     Looked at every UI_DISK_EVERY_MS, and every UI_DISK_FULL_EVERY_MS
 *     while paused, so space coming back is noticed within seconds.
 *   - a write that SQLite refused (SQR_ENOSPC) although statvfs showed room:
 *     a quota, a page cap (--db-max-pages), a filesystem statvfs misjudges.
 *     Nothing can measure that room without writing, so the pause holds
 *     for UI_DISK_RETRY_MS and then the next shopper's write is the test.
 * A refused write never loses anything already recorded: every write is
 * one SQLite transaction, rolled back whole.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "log.h"
#include "ui.h"

#define UI_DISK_EVERY_MS      60000
#define UI_DISK_FULL_EVERY_MS 10000
#define UI_DISK_RETRY_MS      60000
#define UI_DISK_MIN_INODES    16

int ui_disk_full(const ui_app *app) {
  return app->disk_low || app->disk_refused;
}

/* Free megabytes (and inodes) for the database's directory; -1 unknown. */
static int64_t free_mb(const ui_app *app, int *inodes_short) {
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", app->db_path ? app->db_path : ".");
  char *slash = strrchr(dir, '/');
  if(slash == dir)
    dir[1] = '\0';
  else if(slash)
    *slash = '\0';
  else
    snprintf(dir, sizeof dir, ".");
  struct statvfs v;
  *inodes_short = 0;
  if(statvfs(dir, &v) != 0) return -1;
  /* f_files == 0: the filesystem does not count inodes (btrfs, tmpfs). */
  *inodes_short = v.f_files > 0 && v.f_favail < UI_DISK_MIN_INODES;
  return (int64_t)((unsigned long long)v.f_bavail * v.f_frsize / 1048576ULL);
}

int64_t ui_disk_free_mb(const ui_app *app) {
  int inodes_short;
  return free_mb(app, &inodes_short);
}

static void changed(ui_app *app, int was_full) {
  int full = ui_disk_full(app);
  if(full == was_full) return;
  if(full)
    log_warn("ui", "disk full (%lld MB free, %s): sign-ups and check-ins paused, live code shown",
             (long long)app->disk_free_mb,
             app->disk_low ? "below the floor" : "a write was refused");
  else
    log_info("ui", "disk has room again (%lld MB free): sign-ups and check-ins resume",
             (long long)app->disk_free_mb);
  /* The live screen greys its buttons and shows a badge while paused. */
  if(app->cur == UI_SCREEN_LIVE) ui_relayout(app);
  app->dirty = 1;
}

static void look(ui_app *app) {
  int inodes_short = 0;
  app->disk_free_mb = free_mb(app, &inodes_short);
  /* Unknown (statvfs failed) is not "low": the writes will tell. */
  app->disk_low = (app->disk_free_mb >= 0 && app->disk_free_mb < app->min_free_mb) || inodes_short;
}

int64_t ui_disk_tick(ui_app *app, int64_t mono) {
  int retry_due = app->disk_refused && mono - app->disk_refused_at >= UI_DISK_RETRY_MS;
  if(mono >= app->disk_check_at || retry_due) {
    int was = ui_disk_full(app);
    look(app);
    if(retry_due && !app->disk_low) app->disk_refused = 0; /* room: the next write tries */
    app->disk_check_at = mono + (ui_disk_full(app) ? UI_DISK_FULL_EVERY_MS : UI_DISK_EVERY_MS);
    changed(app, was);
  }
  int64_t next = app->disk_check_at;
  /* While low, statvfs alone decides; otherwise the retry is a deadline. */
  if(app->disk_refused && !app->disk_low && app->disk_refused_at + UI_DISK_RETRY_MS < next)
    next = app->disk_refused_at + UI_DISK_RETRY_MS;
  return next;
}

void ui_disk_refused(ui_app *app) {
  int was = ui_disk_full(app);
  app->disk_refused = 1;
  app->disk_refused_at = ui_now_mono(app);
  look(app);
  app->disk_check_at = app->disk_refused_at + UI_DISK_FULL_EVERY_MS;
  changed(app, was);
}

void ui_disk_recheck(ui_app *app) {
  app->disk_check_at = 0;
}
