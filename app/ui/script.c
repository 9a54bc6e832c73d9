/* script.c — see script.h. Input is injected as SDL events, so a scripted
 * tap travels the same path as a finger. */
#include "script.h"
#include "log.h"
#include "shot.h"
#include "widget.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCRIPT_MAX_LINES 2000
#define SCRIPT_LINE_MAX  512

struct ui_script {
  char **lines;
  int n, pc;
  int phase; /* for multi-step commands (hold, drag) */
  int hx, hy;
  int64_t await_until; /* real monotonic ms an "await" gives up at; 0 = none */
};

sqr_rc ui_script_load(const char *path, ui_script **out, char *err, size_t errlen) {
  *out = NULL;
  FILE *f = fopen(path, "r");
  if(!f) {
    snprintf(err, errlen, "cannot read script %s", path);
    return SQR_EIO;
  }
  ui_script *s = calloc(1, sizeof *s);
  if(!s || !(s->lines = calloc(SCRIPT_MAX_LINES, sizeof *s->lines))) {
    free(s);
    fclose(f);
    return SQR_ENOMEM;
  }
  char buf[SCRIPT_LINE_MAX];
  while(fgets(buf, sizeof buf, f)) {
    char *h = strchr(buf, '#');
    if(h) *h = '\0';
    size_t l = strlen(buf);
    while(l && (buf[l - 1] == '\n' || buf[l - 1] == '\r' || buf[l - 1] == ' '))
      buf[--l] = '\0';
    char *p = buf;
    while(*p == ' ' || *p == '\t')
      p++;
    if(!*p) continue;
    if(s->n >= SCRIPT_MAX_LINES) {
      snprintf(err, errlen, "script %s: more than %d commands", path, SCRIPT_MAX_LINES);
      ui_script_free(s);
      fclose(f);
      return SQR_EINVAL;
    }
    s->lines[s->n++] = strdup(p);
  }
  fclose(f);
  *out = s;
  return SQR_OK;
}

void ui_script_free(ui_script *s) {
  if(!s) return;
  for(int i = 0; i < s->n; i++)
    free(s->lines[i]);
  free(s->lines);
  free(s);
}

static void push_mouse(Uint32 type, int x, int y) {
  SDL_Event e;
  memset(&e, 0, sizeof e);
  e.type = type;
  if(type == SDL_MOUSEMOTION) {
    e.motion.x = x;
    e.motion.y = y;
    e.motion.state = SDL_BUTTON_LMASK;
  } else {
    e.button.button = SDL_BUTTON_LEFT;
    e.button.state = type == SDL_MOUSEBUTTONDOWN ? SDL_PRESSED : SDL_RELEASED;
    e.button.x = x;
    e.button.y = y;
    e.button.clicks = 1;
  }
  SDL_PushEvent(&e);
}

static void push_finger(ui_app *app, Uint32 type, int x, int y) {
  SDL_Event e;
  memset(&e, 0, sizeof e);
  e.type = type;
  e.tfinger.touchId = 1;
  e.tfinger.fingerId = 1;
  e.tfinger.x = ((float)x + 0.5f) / (float)app->w;
  e.tfinger.y = ((float)y + 0.5f) / (float)app->h;
  e.tfinger.pressure = 1.0f;
  SDL_PushEvent(&e);
}

static void push_key(SDL_Keycode k) {
  SDL_Event e;
  memset(&e, 0, sizeof e);
  e.type = SDL_KEYDOWN;
  e.key.state = SDL_PRESSED;
  e.key.keysym.sym = k;
  SDL_PushEvent(&e);
  e.type = SDL_KEYUP;
  e.key.state = SDL_RELEASED;
  SDL_PushEvent(&e);
}

/* "X Y" or a widget name into a point; 0 when neither. */
static int target(ui_app *app, const char *a, const char *b, int *x, int *y) {
  char *e1, *e2;
  long lx = strtol(a, &e1, 10);
  if(b && *e1 == '\0' && e1 != a) {
    long ly = strtol(b, &e2, 10);
    if(*e2 == '\0' && e2 != b) {
      *x = (int)lx;
      *y = (int)ly;
      return 1;
    }
  }
  SDL_Rect r;
  if(!ui_screen_locate(&app->screens[app->cur], a, &r)) return 0;
  *x = r.x + r.w / 2;
  *y = r.y + r.h / 2;
  return 1;
}

static void fail(ui_app *app, int line, const char *cmd, const char *why) {
  fprintf(stderr, "expect failed: line %d '%s': %s\n", line, cmd, why);
  app->exit_code = 1;
}

static int expect(ui_app *app, int line, const char *cmd, char **argv, int argc) {
  ui_screen *s = &app->screens[app->cur];
  char why[700];
  if(argc >= 3 && strcmp(argv[1], "screen") == 0) {
    if(strcmp(s->ops->name, argv[2]) != 0) {
      snprintf(why, sizeof why, "screen is %s", s->ops->name);
      fail(app, line, cmd, why);
    }
  } else if(argc >= 2 && strcmp(argv[1], "nodigits") == 0) {
    if(ui_has_digits(app)) fail(app, line, cmd, "typed digits are still held");
  } else if(argc >= 4 && strcmp(argv[1], "qr") == 0) {
    ui_widget *w = ui_screen_find(s, argv[2]);
    const char *have = w && !w->hidden ? ui_qr_text(w) : "";
    const char *want = strcmp(argv[3], "-") == 0 ? "" : argv[3];
    if(strcmp(have, want) != 0) {
      snprintf(why, sizeof why, "QR is '%s'", have);
      fail(app, line, cmd, why);
    }
  } else if(argc >= 3 && strcmp(argv[1], "result") == 0) {
    static const char *const kinds[] = {
        "joined",     "welcome_back", "checked_in",         "already",
        "not_member", "withdrawn",    "withdraw_not_member"};
    const char *have = app->cur == UI_SCREEN_RESULT ? kinds[app->flow.result_kind] : "none";
    if(strcmp(have, argv[2]) != 0) {
      snprintf(why, sizeof why, "result is %s", have);
      fail(app, line, cmd, why);
    }
  } else if(argc >= 3 && strcmp(argv[1], "disabled") == 0) {
    ui_widget *w = ui_screen_find(s, argv[2]);
    if(!w || !w->disabled) fail(app, line, cmd, "not disabled");
  } else if(argc >= 3 && strcmp(argv[1], "state") == 0) {
    const char *have = s->ops->state ? s->ops->state(app, s) : "";
    if(strcmp(have, argv[2]) != 0) {
      snprintf(why, sizeof why, "%s state is '%s'", s->ops->name, have);
      fail(app, line, cmd, why);
    }
  } else if(argc >= 3 && strcmp(argv[1], "text") == 0) {
    /* The words after "text", one space between them, in a label of the
     * last frame drawn (ui_label keeps them for scripts). */
    char want[SCRIPT_LINE_MAX] = "";
    for(int i = 2; i < argc; i++)
      snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", i > 2 ? " " : "", argv[i]);
    if(!app->drawn || !strstr(app->drawn, want)) {
      snprintf(why, sizeof why, "not drawn; the frame said: %.500s", app->drawn ? app->drawn : "");
      fail(app, line, cmd, why);
    }
  } else if(argc >= 4 && strcmp(argv[1], "index") == 0) {
    ui_prefetch_stats ps;
    ui_prefetch_stats_get(app->prefetch, &ps);
    char *e1, *e2;
    long long ahead = strtoll(argv[2], &e1, 10), in_call = strtoll(argv[3], &e2, 10);
    if(*e1 || *e2) {
      fail(app, line, cmd, "expect index wants two counts");
    } else if(ps.ahead != ahead || ps.in_call != in_call) {
      snprintf(why, sizeof why,
               "%lld call(s) given an index derived ahead (%lld waited for it), %lld derived in"
               " the call; %lld worker(s) started, %lld discarded",
               (long long)ps.ahead, (long long)ps.waited, (long long)ps.in_call,
               (long long)ps.started, (long long)ps.discarded);
      fail(app, line, cmd, why);
    }
  } else if(argc >= 3 && strcmp(argv[1], "visible") == 0) {
    ui_widget *w = ui_screen_find(s, argv[2]);
    if(!w || w->hidden) fail(app, line, cmd, "not shown");
  } else if(argc >= 3 && strcmp(argv[1], "hidden") == 0) {
    ui_widget *w = ui_screen_find(s, argv[2]);
    if(w && !w->hidden) fail(app, line, cmd, "shown");
  } else {
    return 0;
  }
  return 1;
}

int ui_script_step(ui_app *app, ui_script *s, int64_t *wait_until_ms) {
  *wait_until_ms = 0;
  if(s->pc >= s->n) return 1;
  char buf[SCRIPT_LINE_MAX];
  snprintf(buf, sizeof buf, "%s", s->lines[s->pc]);
  char *argv[16];
  int argc = 0;
  for(char *tok = strtok(buf, " \t"); tok && argc < 16; tok = strtok(NULL, " \t"))
    argv[argc++] = tok;
  const char *cmd = s->lines[s->pc];
  int line = s->pc + 1, x, y, done = 1;
  const char *a1 = argc > 1 ? argv[1] : "", *a2 = argc > 2 ? argv[2] : NULL;
  if(strcmp(argv[0], "tap") == 0 || strcmp(argv[0], "touch") == 0) {
    if(!target(app, a1, a2, &x, &y)) {
      fail(app, line, cmd, "no such widget on this screen");
    } else if(argv[0][1] == 'a') {
      push_mouse(SDL_MOUSEBUTTONDOWN, x, y);
      push_mouse(SDL_MOUSEBUTTONUP, x, y);
    } else {
      push_finger(app, SDL_FINGERDOWN, x, y);
      push_finger(app, SDL_FINGERUP, x, y);
    }
  } else if(strcmp(argv[0], "hold") == 0 && argc >= 4) {
    if(s->phase == 0) {
      s->hx = atoi(argv[1]);
      s->hy = atoi(argv[2]);
      push_mouse(SDL_MOUSEBUTTONDOWN, s->hx, s->hy);
      s->phase = 1;
      done = 0;
    } else if(s->phase == 1) {
      int64_t ms = (int64_t)(atof(argv[3]) * 1000);
      if(clock_is_fixed(app->clock))
        clock_advance_ms(app->clock, ms);
      else
        *wait_until_ms = ui_real_mono_ms() + ms;
      s->phase = 2;
      done = 0;
    } else {
      push_mouse(SDL_MOUSEBUTTONUP, s->hx, s->hy);
      s->phase = 0;
    }
  } else if(strcmp(argv[0], "drag") == 0 && argc >= 3) {
    if(!target(app, a1, NULL, &x, &y)) {
      fail(app, line, cmd, "no such widget on this screen");
    } else {
      int dy = atoi(argv[2]);
      push_mouse(SDL_MOUSEBUTTONDOWN, x, y);
      push_mouse(SDL_MOUSEMOTION, x, y + dy / 2);
      push_mouse(SDL_MOUSEMOTION, x, y + dy);
      push_mouse(SDL_MOUSEBUTTONUP, x, y + dy);
    }
  } else if(strcmp(argv[0], "key") == 0 && argc >= 2) {
    SDL_Keycode k = SDLK_UNKNOWN;
    /* One character: digits, letters (as their key, lower case), . - : */
    if(a1[0] && !a1[1] && (isalnum((unsigned char)a1[0]) || strchr(".-:", a1[0])))
      k = (SDL_Keycode)tolower((unsigned char)a1[0]);
    else if(strcmp(a1, "backspace") == 0)
      k = SDLK_BACKSPACE;
    else if(strcmp(a1, "return") == 0)
      k = SDLK_RETURN;
    else if(strcmp(a1, "escape") == 0)
      k = SDLK_ESCAPE;
    if(k == SDLK_UNKNOWN)
      fail(app, line, cmd, "unknown key");
    else
      push_key(k);
  } else if(strcmp(argv[0], "advance") == 0 && argc >= 2) {
    if(!clock_is_fixed(app->clock))
      fail(app, line, cmd, "advance needs --fixed-clock");
    else
      clock_advance_ms(app->clock, (int64_t)(atof(a1) * 1000));
  } else if(strcmp(argv[0], "wall") == 0 && argc >= 2) {
    /* The box's wall clock set S seconds on (or back), monotonic time
     * unmoved: a clock jump, as a person setting the RTC makes one. */
    if(!clock_is_fixed(app->clock))
      fail(app, line, cmd, "wall needs --fixed-clock");
    else
      clock_set_wall_ms(app->clock, clock_now_ms(app->clock) - clock_offset_ms(app->clock) +
                                        (int64_t)(atof(a1) * 1000));
  } else if(strcmp(argv[0], "wait") == 0 && argc >= 2) {
    /* Real time passes with the loop running (events, helpers, watchdog
     * pings), whatever the app's clock. */
    *wait_until_ms = ui_real_mono_ms() + atoi(a1);
  } else if(strcmp(argv[0], "hang") == 0 && argc >= 2) {
    /* The loop stops dead, as a hung kiosk's would: no event, no ping. */
    SDL_Delay((Uint32)atoi(a1));
  } else if(strcmp(argv[0], "await") == 0 && argc >= 4 &&
            (strcmp(a1, "screen") == 0 || strcmp(a1, "state") == 0)) {
    /* A helper process decides when: poll, with the loop running. */
    int64_t now = ui_real_mono_ms();
    ui_screen *cs = &app->screens[app->cur];
    const char *have = a1[1] == 'c' ? cs->ops->name : cs->ops->state ? cs->ops->state(app, cs) : "";
    if(strcmp(have, argv[2]) == 0) {
      s->await_until = 0;
    } else {
      if(!s->await_until) s->await_until = now + atoi(argv[3]);
      if(now >= s->await_until) {
        char why[160];
        snprintf(why, sizeof why, "still %s %s", a1, have);
        fail(app, line, cmd, why);
        s->await_until = 0;
      } else {
        *wait_until_ms = now + 20;
        done = 0;
      }
    }
  } else if(strcmp(argv[0], "db-max-pages") == 0 && argc >= 2) {
    /* Test seam: the disk fills up, or has room again, while running. */
    if(store_set_max_pages(app->st, atoi(a1)) != SQR_OK) fail(app, line, cmd, "cannot set");
  } else if(strcmp(argv[0], "min-free-mb") == 0 && argc >= 2) {
    app->min_free_mb = atoll(a1);
    ui_disk_recheck(app);
  } else if(strcmp(argv[0], "screenshot") == 0 && argc >= 2) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.png", app->screenshot_dir ? app->screenshot_dir : ".", a1);
    /* What is on the display: the last frame, partial redraws included.
     * "screenshot NAME full" draws the whole screen again first. */
    if(argc >= 3 && strcmp(argv[2], "first") == 0) {
      /* The first frame presented after start (kept by app.c for scripts). */
      if(!app->first_px)
        fail(app, line, cmd, "no first frame was kept");
      else if(ui_shot_png_pixels(app->first_px, app->first_w, app->first_h, path) != SQR_OK)
        fail(app, line, cmd, "cannot write");
    } else {
      if(argc >= 3 && strcmp(argv[2], "full") == 0) ui_render(app);
      if(ui_shot_png(app->ren, app->w, app->h, path) != SQR_OK)
        fail(app, line, cmd, "cannot write");
    }
  } else if(strcmp(argv[0], "reset-textures") == 0 || strcmp(argv[0], "device-reset") == 0) {
    /* What SDL sends when the renderer loses its textures, or its whole
     * device (a GPU reset, a display driver restart). */
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = argv[0][0] == 'r' ? SDL_RENDER_TARGETS_RESET : SDL_RENDER_DEVICE_RESET;
    SDL_PushEvent(&e);
  } else if(strcmp(argv[0], "display-unplug") == 0 || strcmp(argv[0], "display-plug") == 0) {
    /* The display cable pulled and pushed back in. */
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_DISPLAYEVENT;
    e.display.display = 0;
    e.display.event = strcmp(argv[0], "display-plug") == 0 ? SDL_DISPLAYEVENT_CONNECTED
                                                           : SDL_DISPLAYEVENT_DISCONNECTED;
    SDL_PushEvent(&e);
  } else if(strcmp(argv[0], "lang") == 0 && argc >= 2) {
    app->lang = strcmp(a1, "en") == 0 ? UI_LANG_EN : UI_LANG_ZH;
    ui_go(app, app->cur);
  } else if(strcmp(argv[0], "expect") == 0) {
    if(!expect(app, line, cmd, argv, argc)) fail(app, line, cmd, "unknown expectation");
  } else if(strcmp(argv[0], "quit") == 0) {
    s->pc = s->n;
    return 1;
  } else {
    fprintf(stderr, "script line %d: unknown command '%s'\n", line, cmd);
    app->exit_code = 2;
  }
  if(done) s->pc++;
  return 0;
}
