/* app.c — the kiosk app's life: display setup, the event loop, navigation,
 * idle timeout, renderer resets, the helper process, disk space, systemd
 * notifications and the script hooks.
 *
 * The loop never spins: after handling input it renders only if something
 * changed (app->dirty) and then sleeps in SDL_WaitEventTimeout until the
 * nearest deadline (the screen's next tick, the idle timeout, the next
 * disk look, the next watchdog ping, a helper's next poll). The watchdog
 * ping is sent from this loop and nowhere else: a loop that hangs stops
 * pinging, and systemd restarts the kiosk. */
#include "app.h"
#include "crypto.h"
#include "image.h"
#include "log.h"
#include "script.h"
#include "text.h"
#include "ui.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define UI_DEFAULT_IDLE_S 30

static const ui_screen_ops *const screen_table[UI_SCREEN_COUNT] = {
    [UI_SCREEN_LIVE] = &screen_live_ops,
    [UI_SCREEN_JOIN] = &screen_join_ops,
    [UI_SCREEN_CONSENT] = &screen_consent_ops,
    [UI_SCREEN_DETAILS] = &screen_details_ops,
    [UI_SCREEN_RESULT] = &screen_result_ops,
    [UI_SCREEN_CHECKIN] = &screen_checkin_ops,
    [UI_SCREEN_PIN] = &screen_pin_ops,
    [UI_SCREEN_MANAGER] = &screen_manager_ops,
    [UI_SCREEN_ERROR] = &screen_error_ops,
    [UI_SCREEN_ENROL] = &screen_enrol_ops,
    [UI_SCREEN_PAUSED] = &screen_paused_ops,
    [UI_SCREEN_WITHDRAW] = &screen_withdraw_ops,
    [UI_SCREEN_WITHDRAW_CONFIRM] = &screen_withdraw_confirm_ops,
};

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
static int64_t start_us;

int64_t ui_real_mono_ms(void) {
  return mono_us() / 1000;
}

/* How often a running helper is polled (its output read, its exit reaped). */
#define UI_CHILD_POLL_MS 100
/* How often the app looks at HQ's clock offset and wall-clock jumps: at
 * most one rotation (30 s by default, 5 s the shortest a configuration
 * allows); a read of one row, so the idle screen stays idle. */
#define UI_CLOCK_CHECK_MS 5000

/* Start-up split for the bench (SQR_LOG=debug): where the milliseconds
 * before the first QR frame went, printed with that frame. */
#define SPLIT_MAX 12
typedef struct split_mark_t {
  const char *what;
  int64_t at_us;
} split_mark_t;
static split_mark_t split[SPLIT_MAX];
static int nsplit;
static void split_mark(const char *what) {
  if(nsplit < SPLIT_MAX) split[nsplit++] = (split_mark_t){what, mono_us()};
}
static void split_log(void) {
  char buf[512];
  size_t n = 0;
  int64_t prev = start_us;
  for(int i = 0; i < nsplit && n < sizeof buf; i++) {
    int k = snprintf(buf + n, sizeof buf - n, "%s%s %.1f", i ? ", " : "", split[i].what,
                     (double)(split[i].at_us - prev) / 1000.0);
    if(k < 0) break;
    n += (size_t)k;
    prev = split[i].at_us;
  }
  log_debug("ui", "start-up split (ms): %s", n ? buf : "-");
}

int64_t ui_now_mono(ui_app *app) {
  return clock_mono_ms(app->clock);
}

int64_t ui_idle_ms(ui_app *app) {
  const sqr_config *cfg = store_config(app->st);
  int s = cfg && cfg->idle_timeout_s > 0 ? cfg->idle_timeout_s : UI_DEFAULT_IDLE_S;
  return (int64_t)s * 1000;
}

void ui_flow_wipe(ui_app *app) {
  ui_prefetch_discard(app->prefetch);
  crypto_wipe(&app->flow, sizeof app->flow);
  app->flow.staff = -1;
}

void ui_flow_forget_phone(ui_app *app) {
  ui_prefetch_discard(app->prefetch);
  crypto_wipe(app->flow.phone, sizeof app->flow.phone);
}

const member_index *ui_flow_index(ui_app *app, const char *what, member_index *idx) {
  const member_index *r = ui_prefetch_index(app->prefetch, app->st, app->flow.phone, idx);
  app->confirm_us = app->input_us ? app->input_us : mono_us();
  app->confirm_what = what;
  app->confirm_ahead = r != NULL;
  return r;
}

int ui_has_digits(ui_app *app) {
  ui_screen *s = &app->screens[app->cur];
  for(int i = 0; i < s->nw; i++)
    if(s->w[i]->ops->has_digits && s->w[i]->ops->has_digits(s->w[i])) return 1;
  for(size_t i = 0; i < sizeof app->flow.phone; i++)
    if(app->flow.phone[i] >= '0' && app->flow.phone[i] <= '9') return 1;
  return ui_prefetch_holds(app->prefetch);
}

void ui_relayout(ui_app *app) {
  ui_screen *s = &app->screens[app->cur];
  ui_screen_clear(s);
  s->ops->layout(app, s);
  app->dirty = 1;
}

void ui_go(ui_app *app, ui_screen_id id) {
  ui_screen *old = &app->screens[app->cur];
  if(old->ops->leave) old->ops->leave(app, old);
  ui_screen_clear(old);
  if(id == UI_SCREEN_LIVE) ui_flow_wipe(app);
  app->cur = id;
  ui_screen *s = &app->screens[id];
  if(s->ops->enter) s->ops->enter(app, s);
  s->ops->layout(app, s);
  app->dirty = 1;
}

void ui_fail(ui_app *app, const char *what, sqr_rc rc) {
  if(rc == SQR_ENOSPC) {
    /* Not an error a shopper can do anything about, and not a broken
     * kiosk: say "paused, ask staff" and stop offering the keypad until
     * there is room (disk.c). The transaction was rolled back whole. */
    log_warn("ui", "%s: disk full; nothing was recorded", what);
    ui_flow_forget_phone(app);
    ui_disk_refused(app);
    ui_go(app, UI_SCREEN_PAUSED);
    return;
  }
  const char *detail = app->st ? store_errmsg(app->st) : "";
  snprintf(app->flow.error, sizeof app->flow.error, "%s: %s%s%s", what, sqr_strerror(rc),
           detail && *detail ? " — " : "", detail ? detail : "");
  log_error("ui", "%s", app->flow.error);
  /* The phone is no longer needed once nothing will be saved. */
  ui_flow_forget_phone(app);
  ui_go(app, UI_SCREEN_ERROR);
}

/* Draws the current screen, clipped to area (NULL: all of it). The clear
 * is a fill, not SDL_RenderClear, which ignores the clip rectangle. */
static void render_area(ui_app *app, const SDL_Rect *area) {
  SDL_Rect all = {0, 0, app->w, app->h};
  ui_screen *s = &app->screens[app->cur];
  if(app->drawn) app->drawn[app->drawn_len = 0] = '\0';
  if(!area && app->qr_first) {
    /* The first frame: the code a shopper scans, nothing that needs a
     * glyph (FreeType costs more than the rest of the frame together). */
    ui_widget *qr = app->cur == UI_SCREEN_LIVE ? ui_screen_find(s, "live.qr") : NULL;
    if(qr && !qr->hidden) {
      ui_fill(app, all, UI_BG);
      qr->ops->draw(app, qr);
      return;
    }
    app->qr_first = 0; /* no code to show (no configuration yet): all at once */
  }
  int covered = 0; /* an opaque widget will paint all of area */
  for(int i = 0; area && i < s->nw && !covered; i++) {
    SDL_Rect both;
    covered = s->w[i]->opaque && !s->w[i]->hidden && SDL_IntersectRect(area, &s->w[i]->r, &both) &&
              SDL_RectEquals(&both, area);
  }
  SDL_RenderSetClipRect(app->ren, area);
  if(!covered) ui_fill(app, area ? *area : all, UI_BG);
  s->ops->draw(app, s);
  for(int i = 0; i < s->nw; i++) {
    ui_widget *w = s->w[i];
    if(!w->hidden && (!area || SDL_HasIntersection(area, &w->r))) w->ops->draw(app, w);
  }
  SDL_RenderSetClipRect(app->ren, NULL);
}

void ui_render(ui_app *app) {
  render_area(app, NULL);
}

void ui_damage(ui_app *app, SDL_Rect r) {
  SDL_Rect all = {0, 0, app->w, app->h};
  if(!SDL_IntersectRect(&r, &all, &r)) return;
  if(app->ndamage == UI_MAX_DAMAGE) {
    SDL_UnionRect(&app->damage[UI_MAX_DAMAGE - 1], &r, &app->damage[UI_MAX_DAMAGE - 1]);
    return;
  }
  app->damage[app->ndamage++] = r;
}

/* The frame goes to the display: all of it after a full redraw, else only
 * the damaged rectangles (the window surface keeps the rest). A full
 * 1080x1920 upload through X costs milliseconds; the QR's square a third. */
static void present(ui_app *app) {
  SDL_Rect all = {0, 0, app->w, app->h};
  int qr_only = app->dirty && app->qr_first;
  if(app->dirty)
    render_area(app, NULL);
  else
    for(int i = 0; i < app->ndamage; i++)
      render_area(app, &app->damage[i]);
  qr_only = qr_only && app->qr_first; /* render_area may have found no code */
  SDL_RenderFlush(app->ren);
  if(!app->first_qr_frame_logged) split_mark("draw");
  if(app->win) {
    if(app->dirty)
      SDL_UpdateWindowSurface(app->win);
    else
      SDL_UpdateWindowSurfaceRects(app->win, app->damage, app->ndamage);
  }
  if(!app->first_qr_frame_logged) split_mark("upload");
  if(qr_only && app->script) {
    /* Kept for "screenshot NAME first": the next frame replaces it. */
    size_t n = (size_t)app->w * (size_t)app->h * 4;
    free(app->first_px);
    app->first_px = malloc(n);
    if(app->first_px && SDL_RenderReadPixels(app->ren, NULL, SDL_PIXELFORMAT_ARGB8888,
                                             app->first_px, app->w * 4) == 0) {
      app->first_w = app->w;
      app->first_h = app->h;
    }
  }
  int64_t sent = 0;
  for(int i = 0; i < app->ndamage; i++)
    sent += (int64_t)app->damage[i].w * app->damage[i].h;
  if(app->dirty) sent = (int64_t)all.w * all.h;
  int partial = !app->dirty;
  int completed = app->completing && app->dirty;
  app->dirty = 0;
  app->ndamage = 0;
  app->frames++;
  if(qr_only) {
    /* The rest of the screen follows at once, in the next frame. */
    app->qr_first = 0;
    app->completing = 1;
    app->dirty = 1;
  } else if(completed) {
    app->completing = 0;
    log_debug("ui", "first complete frame presented: %.1f ms after start",
              (double)(mono_us() - start_us) / 1000.0);
  }
  if(app->confirm_us) {
    /* tools/bench/bench-kiosk --members reads it. */
    log_debug("ui", "confirm to %s screen: %.1f ms (%s, blind index %s)",
              app->screens[app->cur].ops->name, (double)(mono_us() - app->confirm_us) / 1000.0,
              app->confirm_what, app->confirm_ahead ? "derived ahead" : "derived in the call");
    app->confirm_us = 0;
  }
  if(app->cur != UI_SCREEN_LIVE) return;
  ui_widget *qr = ui_screen_find(&app->screens[app->cur], "live.qr");
  int has_qr = qr && !qr->hidden;
  if(has_qr && !app->first_qr_frame_logged) {
    app->first_qr_frame_logged = 1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* Seconds and microseconds apart: the logger masks any 11-digit run. */
    log_debug("ui", "first QR frame presented: %.1f ms after start, unix=%lld.%06ld",
              (double)(mono_us() - start_us) / 1000.0, (long long)ts.tv_sec, ts.tv_nsec / 1000);
    split_log();
  }
  if(has_qr && app->qr_changed_us) {
    log_debug("ui", "new QR frame: %.3f ms from rotation to present (%s, %lld px sent)",
              (double)(mono_us() - app->qr_changed_us) / 1000.0, partial ? "partial" : "full",
              (long long)sent);
    app->qr_changed_us = 0;
  }
}

/* Called by the live screen when it starts looking for a new code at a
 * rotation (and when it finds one); the "new QR frame" timing runs from
 * the first call to the present. */
void ui__qr_changing(ui_app *app) {
  if(!app->qr_changed_us) app->qr_changed_us = mono_us();
}

/* Every few seconds, well within one rotation: the HQ clock offset the
 * sync daemon (another process) recorded, so the live code is minted in
 * HQ's time, and wall-clock jumps, recorded as clock_jump events. */
static int64_t clock_tick(ui_app *app, int64_t now) {
  if(now < app->clock_check_at) return app->clock_check_at;
  if(app->st && store_clock_refresh(app->st, NULL, NULL) != SQR_OK)
    log_warn("ui", "cannot read HQ's clock offset; the code keeps the one it has");
  app->clock_check_at = now + UI_CLOCK_CHECK_MS;
  return app->clock_check_at;
}

static void input(ui_app *app, ui_input_kind kind, int x, int y, int key, int dy) {
  ui_input in = {kind, x, y, key, dy};
  app->input_us = mono_us();
  app->last_input_ms = ui_now_mono(app);
  app->dirty = 1;
  ui_screen *s = &app->screens[app->cur];
  s->ops->event(app, s, &in);
}

static void textures_lost(ui_app *app) {
  app->tex_gen++;
  ui_text_reset(app->text, app->ren);
  ui_images_reset(app->images, app->ren);
  app->dirty = 1;
}

/* A window's renderer draws straight into the window's surface. A new
 * size means a new surface and so a new renderer: the current screen's
 * widgets and the text cache give their textures back first, while the
 * old renderer still exists, and the screen is laid out again. */
static int attach_window_surface(ui_app *app, char *err, size_t errlen) {
  if(app->text) ui_text_reset(app->text, app->ren);
  ui_images_reset(app->images, app->ren);
  if(app->screens[app->cur].ops) ui_screen_clear(&app->screens[app->cur]);
  if(app->ren) SDL_DestroyRenderer(app->ren);
  app->ren = NULL;
  app->target = SDL_GetWindowSurface(app->win);
  if(app->target) app->ren = SDL_CreateSoftwareRenderer(app->target);
  if(!app->ren) {
    snprintf(err, errlen, "cannot draw into the window: %s", SDL_GetError());
    return -1;
  }
  app->pixfmt = app->target->format->format;
  app->tex_gen++;
  if(app->text) ui_text_reset(app->text, app->ren);
  ui_images_reset(app->images, app->ren);
  return 0;
}

static void window_size(ui_app *app) {
  int w = app->w, h = app->h;
  if(app->win) SDL_GetWindowSize(app->win, &w, &h);
  if(w <= 0 || h <= 0) return;
  int changed = w != app->w || h != app->h;
  app->w = w;
  app->h = h;
  app->portrait = h >= w;
  app->u = (w < h ? w : h) / 100;
  if(app->u < 4) app->u = 4;
  if(changed && app->win) {
    char err[256];
    if(attach_window_surface(app, err, sizeof err) != 0) {
      log_error("ui", "%s", err);
      app->running = 0;
      app->exit_code = 4;
      return;
    }
  }
  if(changed && app->screens[app->cur].ops) ui_relayout(app);
  app->dirty = 1;
}

static void handle(ui_app *app, const SDL_Event *e) {
  switch(e->type) {
  case SDL_QUIT:
    app->running = 0;
    break;
  case SDL_MOUSEBUTTONDOWN:
  case SDL_MOUSEBUTTONUP:
    /* Touch arrives as finger events; SDL's mouse copies are ignored. */
    if(e->button.which == SDL_TOUCH_MOUSEID || e->button.button != SDL_BUTTON_LEFT) break;
    input(app, e->type == SDL_MOUSEBUTTONDOWN ? UI_PRESS : UI_RELEASE, e->button.x, e->button.y, 0,
          0);
    break;
  case SDL_MOUSEMOTION:
    if(e->motion.which == SDL_TOUCH_MOUSEID || !(e->motion.state & SDL_BUTTON_LMASK)) break;
    input(app, UI_MOVE, e->motion.x, e->motion.y, 0, 0);
    break;
  case SDL_MOUSEWHEEL:
    input(app, UI_WHEEL, 0, 0, 0, e->wheel.y);
    break;
  case SDL_FINGERDOWN:
  case SDL_FINGERUP:
  case SDL_FINGERMOTION: {
    /* Normalised to the window, so a touch panel plugged back in (or a
     * different one) maps the same way. */
    int x = (int)(e->tfinger.x * (float)app->w), y = (int)(e->tfinger.y * (float)app->h);
    input(app,
          e->type == SDL_FINGERDOWN ? UI_PRESS
          : e->type == SDL_FINGERUP ? UI_RELEASE
                                    : UI_MOVE,
          x, y, 0, 0);
    break;
  }
  case SDL_KEYDOWN: {
    SDL_Keycode k = e->key.keysym.sym;
    if(k >= SDLK_KP_1 && k <= SDLK_KP_9)
      k = '1' + (k - SDLK_KP_1);
    else if(k == SDLK_KP_0)
      k = '0';
    else if(k == SDLK_KP_ENTER)
      k = SDLK_RETURN;
    input(app, UI_KEY, 0, 0, (int)k, 0);
    break;
  }
  case SDL_WINDOWEVENT:
    if(e->window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
      window_size(app);
    else
      app->dirty = 1; /* exposed, shown, restored, moved to another display */
    break;
  case SDL_DISPLAYEVENT: /* a display unplugged or plugged back */
    log_info("ui", "display event %d on display %u", (int)e->display.event,
             (unsigned)e->display.display);
    window_size(app);
    app->dirty = 1;
    break;
  case SDL_RENDER_TARGETS_RESET:
  case SDL_RENDER_DEVICE_RESET:
    log_info("ui", "renderer lost its textures; making them again");
    textures_lost(app);
    break;
  default:
    break;
  }
}

static int setup_display(ui_app *app, const ui_options *o, char *err, size_t errlen) {
  /* A QR screen needs no GPU: the software renderer over the window's
   * framebuffer keeps Mesa/LLVM out of the process (DESIGN.md: ~11 MB vs
   * ~100 MB resident). */
  SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
  SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
  SDL_SetHint(SDL_HINT_TOUCH_MOUSE_EVENTS, "0");
  SDL_SetHint(SDL_HINT_MOUSE_TOUCH_EVENTS, "0");
  SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "0");
  if(o->headless) {
    SDL_SetHint(SDL_HINT_VIDEODRIVER, "dummy");
    if(SDL_Init(SDL_INIT_EVENTS) != 0) {
      snprintf(err, errlen, "SDL_Init: %s", SDL_GetError());
      return -1;
    }
    app->w = o->w > 0 ? o->w : 1080;
    app->h = o->h > 0 ? o->h : 1920;
    app->target = SDL_CreateRGBSurfaceWithFormat(0, app->w, app->h, 32, SDL_PIXELFORMAT_ARGB8888);
    app->ren = app->target ? SDL_CreateSoftwareRenderer(app->target) : NULL;
    app->pixfmt = SDL_PIXELFORMAT_ARGB8888;
  } else {
    /* SDL opens an X input method, and libX11's parses the locale's whole
     * Compose table for it (~6,000 lines: 6-8 ms, half of SDL's start).
     * The kiosk reads keys as key codes, never composed text, so an empty
     * table does; a value the operator set wins. */
    setenv("XCOMPOSEFILE", "/dev/null", 0);
    if(SDL_Init(SDL_INIT_VIDEO) != 0) {
      snprintf(err, errlen, "SDL_Init: %s (no display? try --headless)", SDL_GetError());
      return -1;
    }
    split_mark("sdl-init");
    Uint32 flags = SDL_WINDOW_SHOWN;
    int w = o->w, h = o->h;
    if(w <= 0 || h <= 0) {
      flags |= SDL_WINDOW_FULLSCREEN_DESKTOP;
      w = 1080;
      h = 1920;
      SDL_ShowCursor(SDL_DISABLE);
    }
    app->win =
        SDL_CreateWindow("StoreQR", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, w, h, flags);
    if(!app->win) {
      snprintf(err, errlen, "cannot open a window: %s", SDL_GetError());
      return -1;
    }
    SDL_GetWindowSize(app->win, &app->w, &app->h);
    if(attach_window_surface(app, err, errlen) != 0) return -1;
  }
  if(!app->ren) {
    snprintf(err, errlen, "cannot create the renderer: %s", SDL_GetError());
    return -1;
  }
  /* Keys are read as SDL_KEYDOWN; SDL's text events (on by default where
   * there is no on-screen keyboard) would carry every digit typed on a
   * keyboard once more, through SDL's event queue, for nothing. */
  SDL_StopTextInput();
  window_size(app);
  return 0;
}

/* "Sync now" ended: its exit status for the manager screen, and the
 * configuration it may have pulled. */
static void sync_done(ui_app *app) {
  const ui_child *c = &app->child;
  if(c->exit_code >= 0)
    snprintf(app->sync_msg, sizeof app->sync_msg, "storeqr-sync exit %d", c->exit_code);
  else
    snprintf(app->sync_msg, sizeof app->sync_msg, "storeqr-sync killed");
  ui_child_release(app);
  if(store_reload_config(app->st) != SQR_OK) log_warn("ui", "reloading the configuration failed");
}

/* What `systemctl status storeqr-kiosk` shows: one short line, sent when
 * it changes. */
static void update_status(ui_app *app) {
  char buf[160];
  ui_screen *s = &app->screens[app->cur];
  if(app->cur == UI_SCREEN_ENROL)
    snprintf(buf, sizeof buf, "enrolment: %s", s->ops->state ? s->ops->state(app, s) : "");
  else if(!store_config(app->st))
    snprintf(buf, sizeof buf, "no configuration yet");
  else if(ui_disk_full(app))
    snprintf(buf, sizeof buf, "disk full: sign-ups and check-ins paused, live code shown");
  else
    snprintf(buf, sizeof buf, "live code");
  ui_notify_status(&app->notify, buf);
}

static int64_t min64(int64_t a, int64_t b) {
  return a < b ? a : b;
}

int ui_app_main(const ui_options *o) {
  start_us = mono_us();
  ui_app app_s, *app = &app_s;
  memset(app, 0, sizeof *app);
  char err[512] = "";
  int code = 0;
  app->headless = o->headless;
  app->screenshot_dir = o->screenshot_dir;
  app->lang = app->default_lang = o->lang;
  app->db_path = o->db_path;
  app->assets_dir = o->assets_dir;
  app->hq_url = o->hq_url && *o->hq_url ? o->hq_url : NULL;
  app->hq_ca = o->hq_ca;
  app->min_free_mb = o->min_free_mb;
  app->disk_free_mb = -1;
  app->child.fd = -1;
  if(ui_prefetch_new(!o->no_prefetch, &app->prefetch) != SQR_OK)
    log_warn("ui", "no memory to derive blind indexes ahead; the calls will");
  ui_flow_wipe(app);
  ui_notify_init(&app->notify, ui_real_mono_ms());

  sqr_rc rc = o->fixed_clock_s ? clock_new_fixed(o->fixed_clock_s * 1000, &app->clock)
                               : clock_new_real(&app->clock);
  if(rc) {
    fprintf(stderr, "storeqr-kiosk: clock: %s\n", sqr_strerror(rc));
    return 4;
  }
  if(o->script_path && ui_script_load(o->script_path, &app->script, err, sizeof err) != SQR_OK) {
    fprintf(stderr, "storeqr-kiosk: %s\n", err);
    code = 2;
    goto out;
  }
  if(app->script && !(app->drawn = calloc(1, UI_DRAWN_MAX))) {
    code = 4;
    goto out;
  }
  rc = store_open(o->db_path, app->clock, &app->st, err, sizeof err);
  if(rc) {
    fprintf(stderr, "storeqr-kiosk: %s\n", err);
    code = 3;
    goto out;
  }
  if(o->db_max_pages > 0 && (rc = store_set_max_pages(app->st, o->db_max_pages)) != SQR_OK) {
    fprintf(stderr, "storeqr-kiosk: --db-max-pages: %s\n", sqr_strerror(rc));
    code = 3;
    goto out;
  }
  split_mark("store");
  const char *font = ui_text_find_font(err, sizeof err);
  if(!font) {
    fprintf(stderr, "storeqr-kiosk: %s\n", err);
    code = 4;
    goto out;
  }
  if(setup_display(app, o, err, sizeof err) != 0) {
    fprintf(stderr, "storeqr-kiosk: %s\n", err);
    code = 4;
    goto out;
  }
  split_mark("display");
  if(ui_text_open(app->ren, font, &app->text, err, sizeof err) != SQR_OK ||
     ui_images_new(app->ren, app->assets_dir, &app->images) != SQR_OK) {
    fprintf(stderr, "storeqr-kiosk: %s\n", err);
    code = 4;
    goto out;
  }
  for(int i = 0; i < UI_SCREEN_COUNT; i++)
    app->screens[i].ops = screen_table[i];
  /* A kiosk never enrolled shows the enrolment screen, not the live code. */
  app->cur = ui_enrol_needed(app) ? UI_SCREEN_ENROL : UI_SCREEN_LIVE;
  ui_screen *first = &app->screens[app->cur];
  if(first->ops->enter) first->ops->enter(app, first);
  first->ops->layout(app, first);
  split_mark("fonts+layout");
  app->last_input_ms = ui_now_mono(app);
  app->running = 1;
  app->dirty = 1;
  app->qr_first = 1;

  int64_t wait_until = 0; /* a script's wait: real monotonic ms */
  while(app->running) {
    SDL_Event e;
    while(SDL_PollEvent(&e))
      handle(app, &e);
    if(!app->running) break;
    /* A finished worker's stack is wiped and unmapped at once; one still
     * running is left alone. */
    ui_prefetch_reap(app->prefetch);
    int64_t real = ui_real_mono_ms();
    ui_notify_tick(&app->notify, real);
    if(ui_child_poll(app, real) && app->child.kind == UI_CHILD_SYNC) sync_done(app);
    int64_t now = ui_now_mono(app);
    int64_t disk_next = ui_disk_tick(app, now);
    int64_t clock_next = clock_tick(app, now);
    /* Idle: any screen but the live code goes back and forgets input.
     * Not the enrolment screen: there is nothing behind it to go back to. */
    int idles = app->cur != UI_SCREEN_LIVE && app->cur != UI_SCREEN_ENROL;
    int64_t idle_at = app->last_input_ms + ui_idle_ms(app);
    if(idles && now >= idle_at) {
      app->lang = app->default_lang;
      ui_go(app, UI_SCREEN_LIVE);
      idles = 0;
    }
    ui_screen *s = &app->screens[app->cur];
    int64_t next = s->ops->tick ? s->ops->tick(app, s, now) : INT64_MAX;
    if(idles && idle_at < next) next = idle_at;
    next = min64(min64(next, disk_next), clock_next);
    update_status(app);
    if(app->dirty || app->ndamage > 0) {
      present(app);
      /* READY=1 once the first frame is on the display (and after the
       * "first QR frame presented" line present() may log). */
      ui_notify_ready(&app->notify);
    }

    if(app->dirty) continue; /* the first frame's completion is due */
    /* Deadlines in real time: the watchdog's next ping and a running
     * helper's next poll. A fixed (test) clock never reaches the app's
     * own future deadlines, so with it only those already due count. */
    real = ui_real_mono_ms();
    int64_t real_next = ui_notify_next_ms(&app->notify);
    if(app->child.pid > 0) real_next = min64(real_next, real + UI_CHILD_POLL_MS);
    int64_t wait_ms = real_next == INT64_MAX ? INT64_MAX : real_next - real;
    if(next != INT64_MAX && (!clock_is_fixed(app->clock) || next <= now))
      wait_ms = min64(wait_ms, next - now);
    if(app->script) {
      if(wait_until && real < wait_until) {
        int64_t d = min64(wait_until - real, wait_ms);
        if(SDL_WaitEventTimeout(&e, (int)(d > 0 ? d : 1))) handle(app, &e);
        continue;
      }
      if(ui_script_step(app, app->script, &wait_until)) break;
      continue;
    }
    int timeout = wait_ms == INT64_MAX ? -1
                  : wait_ms > 3600000  ? 3600000
                  : wait_ms > 0        ? (int)wait_ms
                                       : 0;
    if(timeout < 0 ? SDL_WaitEvent(&e) : SDL_WaitEventTimeout(&e, timeout)) handle(app, &e);
  }
  /* Told before the screens and the database close, so systemd knows the
   * exit is meant (a restart still follows: Restart=always). */
  ui_notify_stopping(&app->notify);
  code = app->exit_code;

out:
  for(int i = 0; i < UI_SCREEN_COUNT; i++) {
    if(app->screens[i].ops && app->screens[i].ops->leave && i == (int)app->cur)
      app->screens[i].ops->leave(app, &app->screens[i]);
    ui_screen_clear(&app->screens[i]);
  }
  ui_flow_wipe(app);
  ui_prefetch_free(app->prefetch);
  /* A helper still running (an enrolment under way) is left to finish:
   * killing it could spend a one-time code without keeping the certificate. */
  if(app->child.fd >= 0) close(app->child.fd);
  free(app->first_px);
  ui_images_free(app->images);
  ui_text_close(app->text);
  if(app->ren) SDL_DestroyRenderer(app->ren);
  if(app->target && !app->win) SDL_FreeSurface(app->target); /* a window's is SDL's */
  if(app->win) SDL_DestroyWindow(app->win);
  SDL_Quit();
  store_close(app->st);
  ui_script_free(app->script);
  free(app->drawn);
  clock_free(app->clock);
  return code;
}
