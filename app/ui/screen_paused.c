/* screen_paused.c — the disk is full (disk.c): nothing a shopper types
 * could be kept, so say so plainly, point to staff and to the live code
 * (which still works), and go back. Reached from the live screen's join
 * and check-in buttons while paused, and from any write that SQLite
 * refused for lack of space (ui_fail). Records nothing. */
#include "widget.h"

static void layout(ui_app *app, ui_screen *s) {
  ui_layout_back_button(app, s, UI_ACCENT, UI_WHITE);
}

static void event(ui_app *app, ui_screen *s, const ui_input *in) {
  ui_back_event(app, s, in);
}

static void draw(ui_app *app, ui_screen *s) {
  (void)s;
  int u = app->u, wide = app->w - 16 * u, narrow = app->w - 24 * u;
  int y = app->portrait ? 30 * u : 16 * u;
  y = ui_say(app, ui_str(app->lang, S_PAUSED_TITLE), 7 * u, UI_WARN, y, wide) + 4 * u;
  y = ui_say(app, ui_str(app->lang, S_PAUSED_HINT), 5 * u, UI_FG, y, wide) + 4 * u;
  /* For the member of staff the shopper fetches. */
  y = ui_say(app, ui_str(app->lang, S_PAUSED_STAFF), 3 * u, UI_MUTED, y, narrow);
  /* Free space as the manager screen shows it (a quota or a page cap can
   * refuse writes with space left on the disk). */
  char buf[300];
  ui_strf(buf, sizeof buf, app->lang, S_MGR_DISK, (long long)app->disk_free_mb);
  ui_say(app, buf, 3 * u, UI_MUTED, y, narrow);
}

const ui_screen_ops screen_paused_ops = {"paused", NULL, layout, event, NULL, draw, NULL, NULL};
