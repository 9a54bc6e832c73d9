/* screen_paused.c — the disk is full (disk.c): nothing a shopper types
 * could be kept, so say so plainly, point to staff and to the live code
 * (which still works), and go back. Reached from the live screen's join
 * and check-in buttons while paused, and from any write that SQLite
 * refused for lack of space (ui_fail). Records nothing. */
#include <string.h>

#include "text.h"
#include "widget.h"

static void layout(ui_app *app, ui_screen *s) {
  int u = app->u;
  ui_screen_add(s, ui_button_new("done", ui_str(app->lang, S_BACK),
                                 (SDL_Rect){app->w / 2 - 25 * u, app->h - 24 * u, 50 * u, 14 * u},
                                 6 * u, UI_ACCENT, UI_WHITE));
}

static void event(ui_app *app, ui_screen *s, const ui_input *in) {
  if(in->kind == UI_KEY && (in->key == SDLK_RETURN || in->key == SDLK_ESCAPE)) {
    ui_go(app, UI_SCREEN_LIVE);
    return;
  }
  if(in->kind != UI_RELEASE) return;
  ui_widget *w = ui_screen_hit(s, in->x, in->y);
  if(w && strcmp(w->name, "done") == 0) ui_go(app, UI_SCREEN_LIVE);
}

/* One sentence over as many lines as it needs, centred. */
typedef struct wrap_ctx { ui_app *app; int size, y; ui_color c; } wrap_ctx;
static void wrap_line(const char *line, size_t len, void *ud) {
  wrap_ctx *w = ud;
  char buf[512];
  if(len >= sizeof buf) len = sizeof buf - 1;
  memcpy(buf, line, len);
  buf[len] = '\0';
  ui_label(w->app, buf, w->size, w->c, w->app->w / 2, w->y, UI_CENTER);
  w->y += w->size * 3 / 2;
}

static void draw(ui_app *app, ui_screen *s) {
  (void)s;
  int u = app->u;
  wrap_ctx wc = {app, 7 * u, app->portrait ? 30 * u : 16 * u, UI_WARN};
  ui_text_wrap(app->text, ui_str(app->lang, S_PAUSED_TITLE), wc.size, app->w - 16 * u, wrap_line,
               &wc);
  wc.y += 4 * u;
  wc.size = 5 * u;
  wc.c = UI_FG;
  ui_text_wrap(app->text, ui_str(app->lang, S_PAUSED_HINT), wc.size, app->w - 16 * u, wrap_line,
               &wc);
  /* For the member of staff the shopper fetches. */
  char buf[300];
  wc.y += 4 * u;
  wc.size = 3 * u;
  wc.c = UI_MUTED;
  ui_text_wrap(app->text, ui_str(app->lang, S_PAUSED_STAFF), wc.size, app->w - 24 * u, wrap_line,
               &wc);
  /* Free space as the manager screen shows it (a quota or a page cap can
   * refuse writes with space left on the disk). */
  ui_strf(buf, sizeof buf, app->lang, S_MGR_DISK, (long long)app->disk_free_mb);
  ui_text_wrap(app->text, buf, wc.size, app->w - 24 * u, wrap_line, &wc);
}

const ui_screen_ops screen_paused_ops = {"paused", NULL, layout, event, NULL, draw, NULL, NULL};
