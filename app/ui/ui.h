/* ui.h — the kiosk app's shared types: the app context, the screen
 * interface (enter, layout, event, tick, draw, leave) and the widget base.
 *
 * Owned by app/ui only; app/core never sees SDL. A screen owns its widgets
 * (ui_screen_clear frees them); widgets copy what they are given. Screens
 * never write the database themselves except through storeqr_core calls,
 * and every such failure goes to the error screen, never to "done".
 */
#ifndef SQR_UI_H
#define SQR_UI_H

#include <SDL.h>
#include <stdint.h>

#include "member.h"
#include "store.h"
#include "lang.h"
#include "notify.h"
#include "prefetch.h"

typedef struct ui_app ui_app;
typedef struct ui_widget ui_widget;
typedef struct ui_screen ui_screen;
typedef struct ui_text ui_text;
typedef struct ui_script ui_script;
typedef struct ui_images ui_images;

/* Input, already in window pixels, whatever device it came from. */
typedef enum ui_input_kind { UI_PRESS, UI_MOVE, UI_RELEASE, UI_KEY, UI_WHEEL } ui_input_kind;
typedef struct ui_input {
  ui_input_kind kind;
  int x, y;
  int key; /* SDL_Keycode for UI_KEY */
  int dy;  /* wheel steps for UI_WHEEL */
} ui_input;

/* ---- widgets ---- */
typedef struct ui_widget_ops {
  void (*draw)(ui_app *app, ui_widget *w);
  /* Optional: rectangle of a named part ("keypad.5"); 1 if found. */
  int (*locate)(ui_widget *w, const char *name, SDL_Rect *out);
  /* Optional: forget whatever a shopper typed. */
  void (*wipe)(ui_widget *w);
  /* Optional: 1 if the widget holds any typed digit. */
  int (*has_digits)(const ui_widget *w);
  void (*free)(ui_widget *w);
} ui_widget_ops;

#define UI_NAME_MAX 40
struct ui_widget {
  const ui_widget_ops *ops;
  char name[UI_NAME_MAX];
  SDL_Rect r;
  int hidden, disabled;
  int opaque; /* draws every pixel of r: nothing under it needs drawing */
  int tag;    /* screen's own number for the widget (e.g. group index) */
};
void ui_widget_free(ui_widget *w);
int ui_widget_contains(const ui_widget *w, int x, int y);

/* ---- screens ---- */
typedef enum ui_screen_id {
  UI_SCREEN_LIVE = 0,
  UI_SCREEN_JOIN,
  UI_SCREEN_CONSENT,
  UI_SCREEN_DETAILS,
  UI_SCREEN_RESULT,
  UI_SCREEN_CHECKIN,
  UI_SCREEN_PIN,
  UI_SCREEN_MANAGER,
  UI_SCREEN_ERROR,
  UI_SCREEN_ENROL,            /* first boot: no configuration and no certificate */
  UI_SCREEN_PAUSED,           /* the disk is full: nothing can be recorded */
  UI_SCREEN_WITHDRAW,         /* stop marketing messages: the phone */
  UI_SCREEN_WITHDRAW_CONFIRM, /* ... and the shopper's confirmation */
  UI_SCREEN_COUNT
} ui_screen_id;

typedef struct ui_screen_ops {
  const char *name;
  void (*enter)(ui_app *app, ui_screen *s);  /* loads data; layout follows */
  void (*layout)(ui_app *app, ui_screen *s); /* (re)builds widgets for app->w x app->h */
  void (*event)(ui_app *app, ui_screen *s, const ui_input *in);
  /* Optional: time passes; returns the next monotonic deadline (ms) at which
   * the screen wants a tick, or INT64_MAX. Sets app->dirty on a change. */
  int64_t (*tick)(ui_app *app, ui_screen *s, int64_t mono_ms);
  void (*draw)(ui_app *app, ui_screen *s);
  void (*leave)(ui_app *app, ui_screen *s); /* wipes typed data */
  /* Optional: a short word for where the screen is ("code", "failed:
   * code_used"), for STATUS= lines and `expect state` in scripts. */
  const char *(*state)(ui_app *app, ui_screen *s);
} ui_screen_ops;

#define UI_MAX_WIDGETS 64
struct ui_screen {
  const ui_screen_ops *ops;
  ui_widget *w[UI_MAX_WIDGETS];
  int nw;
};
void ui_screen_add(ui_screen *s, ui_widget *w);
void ui_screen_clear(ui_screen *s);
ui_widget *ui_screen_hit(ui_screen *s, int x, int y);
ui_widget *ui_screen_find(ui_screen *s, const char *name);
int ui_screen_locate(ui_screen *s, const char *name, SDL_Rect *out);

extern const ui_screen_ops screen_live_ops, screen_join_ops, screen_consent_ops, screen_details_ops,
    screen_result_ops, screen_checkin_ops, screen_pin_ops, screen_manager_ops, screen_error_ops,
    screen_enrol_ops, screen_paused_ops, screen_withdraw_ops, screen_withdraw_confirm_ops;

/* ---- the flow a shopper is in (wiped on every return to the live code) ---- */
typedef enum ui_result_kind {
  UI_RESULT_JOINED = 0,
  UI_RESULT_WELCOME_BACK,
  UI_RESULT_CHECKED_IN,
  UI_RESULT_ALREADY,
  UI_RESULT_NOT_MEMBER,
  UI_RESULT_WITHDRAWN,          /* marketing consent withdrawn */
  UI_RESULT_WITHDRAW_NOT_MEMBER /* nothing to withdraw: nothing recorded */
} ui_result_kind;

typedef struct ui_flow {
  char phone[24]; /* as typed (digits only); wiped on leave */
  int consented;
  int age_confirmed; /* "I am 14 or older" ticked (cfg->age_required) */
  int marketing;     /* the optional marketing consent ticked */
  int tag_on[CONFIG_MAX_TAGS];
  int staff; /* index into config staff, -1 = none */
  int seals_prepared;
  ui_result_kind result_kind;
  member_result result;
  char error[256]; /* what the error screen says */
} ui_flow;

/* ---- the helper process (child.c) ---- */
typedef enum ui_child_kind { UI_CHILD_NONE = 0, UI_CHILD_SYNC, UI_CHILD_ENROL } ui_child_kind;
#define UI_CHILD_OUT_MAX 1024
typedef struct ui_child {
  ui_child_kind kind; /* what runs, or ran until its result is taken (ui_child_release) */
  int pid;            /* > 0 while it runs */
  int fd;             /* read end of its stdout + stderr; -1 when closed */
  int ended;          /* it exited: exit_code says how */
  int exit_code;      /* its exit status, -1 when a signal ended it */
  int timed_out;      /* the kiosk killed it at its deadline */
  int64_t started_ms, deadline_ms; /* real monotonic; deadline 0 = none */
  char out[UI_CHILD_OUT_MAX];      /* the newest bytes it printed */
  size_t outlen;
} ui_child;

/* ---- the app ---- */
struct ui_app {
  SDL_Window *win;
  SDL_Renderer *ren;
  SDL_Surface *target; /* what the software renderer draws into: a memory surface
                        * (headless) or the window's own surface, which keeps the
                        * last frame, so a frame may redraw only its damage */
  Uint32 pixfmt;       /* target's pixel format (opaque textures use it: 1:1 copies) */
  int headless;
  int w, h;
  int portrait;
  int u; /* layout unit: min(w, h) / 100, at least 4 */
  ui_lang lang, default_lang;

  store *st;
  sqr_clock *clock;
  const char *db_path;
  const char *assets_dir; /* campaign images are relative to it; may be NULL */
  ui_text *text;
  ui_images *images; /* campaign images (image.h) */
  unsigned tex_gen;  /* bumped when the renderer lost its textures */

  ui_screen screens[UI_SCREEN_COUNT];
  ui_screen_id cur;
  int dirty; /* the whole screen must be drawn again */
#define UI_MAX_DAMAGE 4
  SDL_Rect damage[UI_MAX_DAMAGE]; /* else: only these parts */
  int ndamage;
  int running;
  int64_t last_input_ms;  /* monotonic */
  int64_t clock_check_at; /* monotonic: next look at HQ's offset and clock jumps */

  ui_flow flow;
  /* The blind index of flow.phone, derived on a worker from the 11th digit
   * (prefetch.h); it lives exactly as long as flow.phone does. */
  ui_prefetch *prefetch;
  int pin_failures;
  int64_t pin_locked_until_ms; /* monotonic; 0 = not locked */

  /* the helper process: storeqr-sync for "sync now" and for enrolment */
  ui_child child;
  char sync_msg[128];

  /* first-boot enrolment */
  const char *hq_url; /* --hq-url or $STOREQR_HQ_URL; NULL: typed on the screen */
  const char *hq_ca;  /* HQ's CA certificate for the first call */

  /* disk space (disk.c) */
  int64_t min_free_mb;     /* below this, sign-ups and check-ins pause */
  int disk_low;            /* statvfs: below min_free_mb */
  int disk_refused;        /* a write got SQR_ENOSPC */
  int64_t disk_refused_at; /* monotonic ms */
  int64_t disk_free_mb;    /* at the last look, -1 unknown */
  int64_t disk_check_at;   /* monotonic ms of the next look */

  /* systemd: READY, WATCHDOG, STATUS, STOPPING (notify.h) */
  ui_notify notify;

  /* benchmarks and tests */
  int64_t frames;
  int qr_first;      /* the next full frame is the first: background and the live
                      * QR only, the rest follows in the frame after it */
  int completing;    /* that following frame is due */
  uint8_t *first_px; /* scripts: the first frame as presented (ARGB8888, w*h) */
  int first_w, first_h;
  int first_qr_frame_logged;
  int64_t qr_changed_us; /* when the QR text last changed (for timing), 0 = none */
  int64_t input_us;      /* when the input being handled arrived */
  int64_t confirm_us;    /* a member call's input, until the next frame is presented */
  const char *confirm_what;
  int confirm_ahead; /* that call was given an index derived ahead */
  const char *screenshot_dir;
  ui_script *script;
#define UI_DRAWN_MAX 8192
  char *drawn; /* scripts only: the labels the last frame drew, one a line
                * (`expect text`); NULL otherwise */
  size_t drawn_len;
  int exit_code;
};

int64_t ui_now_mono(ui_app *app);
/* Real monotonic milliseconds, whatever the app's clock (a fixed test
 * clock included): the watchdog, helper processes and script waits. */
int64_t ui_real_mono_ms(void);
/* Goes to a screen: leave (and wipe) the current one, enter the next. */
void ui_go(ui_app *app, ui_screen_id id);
/* Lays the current screen out again (its widgets are rebuilt; its state
 * is kept). */
void ui_relayout(ui_app *app);
/* The live screen tells the app it starts looking for a new code at a
 * rotation (and when it finds one); the "new QR frame" timing runs from
 * the first call to the present. */
void ui__qr_changing(ui_app *app);
/* Shows the error screen with message (never "done"); a full disk
 * (SQR_ENOSPC) shows the paused screen instead. */
void ui_fail(ui_app *app, const char *what, sqr_rc rc);
/* Idle timeout in ms (config ui.idle_timeout_s, default 30 s). */
int64_t ui_idle_ms(ui_app *app);
/* Forget the shopper's flow (phone digits, its index, choices, result). */
void ui_flow_wipe(ui_app *app);
/* Forget the phone only (the call that needed it is over): the digits and
 * the index derived from them. */
void ui_flow_forget_phone(ui_app *app);
/* The index of app->flow.phone for a member call (ui_prefetch_index), or
 * NULL: the call derives it. Also starts the bench's "confirm to ..."
 * timing for what (the next frame presented ends it). The caller wipes
 * *idx after the call. */
const member_index *ui_flow_index(ui_app *app, const char *what, member_index *idx);
/* 1 if any widget of the current screen, the flow or the index prefetcher
 * holds a typed digit. */
int ui_has_digits(ui_app *app);
/* Renders the current screen now, all of it (a full screenshot). */
void ui_render(ui_app *app);
/* Marks r for redrawing at the next frame; only the marked rectangles are
 * drawn again and sent to the display unless something set app->dirty
 * (the whole screen). */
void ui_damage(ui_app *app, SDL_Rect r);

/* ---- drawing helpers (draw.c) ---- */
typedef struct ui_color {
  uint8_t r, g, b, a;
} ui_color;
extern const ui_color UI_BG, UI_FG, UI_MUTED, UI_ACCENT, UI_ACCENT2, UI_WARN, UI_OK, UI_PANEL,
    UI_WHITE, UI_DISABLED;
void ui_fill(ui_app *app, SDL_Rect r, ui_color c);
void ui_frame(ui_app *app, SDL_Rect r, ui_color c, int thickness);
/* Text in the app's font at size px; align: 0 left, 1 centre, 2 right.
 * Returns the width drawn. */
enum { UI_LEFT = 0, UI_CENTER = 1, UI_RIGHT = 2 };
int ui_label(ui_app *app, const char *utf8, int size, ui_color c, int x, int y, int align);
/* Text centred in r (both ways). */
void ui_label_in(ui_app *app, const char *utf8, int size, ui_color c, SDL_Rect r);

/* Width of utf8 at size px in the app's font. */
void ui_text_measure_px(ui_app *app, const char *utf8, int size, int *w);
/* ui_label_in and ui_text_measure_px for what a shopper typed (a phone
 * number): drawn past the text cache, nothing of it kept (text.h,
 * ui_text_render_secret). The caller wipes its own copy of utf8. */
void ui_label_secret_in(ui_app *app, const char *utf8, int size, ui_color c, SDL_Rect r);
void ui_text_measure_secret_px(ui_app *app, const char *utf8, int size, int *w);

/* ---- shared layouts (layout.c) ---- */
/* A keypad screen: title line at the top, keypad "keypad", buttons "back"
 * and "ok" under it, in either orientation. Returns the keypad. */
ui_widget *ui_layout_keypad_screen(ui_app *app, ui_screen *s, int maxlen, int mask,
                                   const char *ok_label);
/* The same with a keyboard of other keys (keypad.h: ui_keyboard_new) sized
 * for many keys: "back" (hidden when back_label is NULL) and "ok" beside
 * or under it. Returns the keyboard. */
ui_widget *ui_layout_keyboard_screen(ui_app *app, ui_screen *s, const char *keys, int maxlen,
                                     int group, const char *back_label, const char *ok_label);
/* A message screen's button "done" back to the live code, centred at the
 * bottom, and its input: return, escape or a tap on it go back. Returns 1
 * when the input was that. */
void ui_layout_back_button(ui_app *app, ui_screen *s, ui_color bg, ui_color fg);
int ui_back_event(ui_app *app, ui_screen *s, const ui_input *in);
/* Draws text centred and wrapped to width, its first line at y; returns
 * the y under its last line. */
int ui_say(ui_app *app, const char *text, int size, ui_color c, int y, int width);
/* Where the keypad screen's title goes (centre x, top y). */
void ui_layout_title_pos(ui_app *app, int *x, int *y);
/* Maps a keyboard key to a keypad key: '0'-'9', 'a'-'z', '.', '-', ':'
 * as they are, UI_PAD_DEL, UI_PAD_ENTER, UI_PAD_ESC (widget.h), or 0. */
int ui_key_to_pad(int sdl_key);
/* Input on a keypad screen: keys and taps go to the keypad, "back" and
 * escape return to the live code, "ok" and return call submit (return
 * only while "ok" is enabled). Returns the keypad key typed, or 0 when
 * nothing was typed (a key the pad does not have, or the input was
 * handled here). */
int ui_keypad_screen_event(ui_app *app, ui_screen *s, const ui_input *in,
                           void (*submit)(ui_app *app, ui_screen *s));
/* A phone keypad screen's live validation: "ok" enabled only for a valid
 * mainland mobile number, a hint under the digits, and the digits kept in
 * app->flow.phone (wiped when the flow ends). */
void ui_keypad_screen_validate_phone(ui_app *app, ui_screen *s);
/* Lays out a phone keypad screen with ok_label, restores the digits typed
 * so far and validates them. */
void ui_keypad_screen_phone_layout(ui_app *app, ui_screen *s, const char *ok_label);
/* The keypad screen's title line. */
void ui_keypad_screen_title(ui_app *app, const char *utf8);
/* Wipes what the keypad held (a screen's leave). */
void ui_keypad_screen_wipe(ui_screen *s);

/* ---- the sign-up itself (flow.c) ---- */
/* Signs up the shopper in app->flow through member_signup and goes to the
 * result screen, or to the error screen when nothing could be recorded. */
void ui_flow_signup(ui_app *app);
/* Withdraws the marketing consent of the member with app->flow.phone
 * (member_withdraw_marketing) and forgets the phone: the result screen
 * says done or "not a member" (nothing recorded); a failed write goes to
 * the error screen. */
void ui_flow_withdraw(ui_app *app);

/* ---- the helper process (child.c) ---- */
/* storeqr-sync beside the kiosk, in the build tree's sync/client, or on
 * PATH, into out; 0 when there is none. */
int ui_child_find_sync(char *out, size_t outlen);
/* Starts argv (argv[0] a path) with stdout and stderr captured, killed
 * after timeout_ms (0: never). SQR_EBUSY while another helper runs,
 * SQR_EIO when it cannot start (the reason in app->child.out). */
sqr_rc ui_child_start(ui_app *app, ui_child_kind kind, char *const argv[], int64_t timeout_ms,
                      int64_t now_ms) SQR_WARN_UNUSED;
/* Reads its output and reaps it without waiting; 1 when it ended in this
 * call (app->child.ended, exit_code). */
int ui_child_poll(ui_app *app, int64_t now_ms);
/* The ended helper's result was taken: forget it (a running one stays). */
void ui_child_release(ui_app *app);
/* The last line the helper printed, into buf. */
const char *ui_child_last_line(const ui_app *app, char *buf, size_t n);

/* ---- disk space (disk.c) ---- */
/* 1 while sign-ups and check-ins are paused for lack of space. */
int ui_disk_full(const ui_app *app);
/* Looks at free space when due; returns the next monotonic ms to look. */
int64_t ui_disk_tick(ui_app *app, int64_t mono);
/* A write was refused with SQR_ENOSPC: pause. */
void ui_disk_refused(ui_app *app);
/* Look again at the next loop (tests change the floor). */
void ui_disk_recheck(ui_app *app);
/* Free megabytes where the database is; -1 when unknown. */
int64_t ui_disk_free_mb(const ui_app *app);

/* ---- first-boot enrolment (screen_enrol.c) ---- */
/* 1 when the kiosk has neither a configuration nor a certificate: it
 * shows the enrolment screen instead of the live code. */
int ui_enrol_needed(ui_app *app);

#endif
