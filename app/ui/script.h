/* script.h — scripted input for tests and demos (--script FILE).
 *
 * One command per line ('#' starts a comment):
 *   tap X Y | tap NAME        press and release (mouse) at a point or widget
 *   touch X Y | touch NAME    the same with finger events
 *   hold X Y SECONDS          press, let SECONDS pass, release (long press)
 *   drag NAME DY              press on a widget, move by DY px, release
 *   key K                     0-9, a-z, '.', '-', ':', backspace, return, escape
 *   advance SECONDS           move the fixed clock forward
 *   wall SECONDS              move the fixed clock's wall time alone (a clock
 *                             jump, as setting the RTC makes; negative: back)
 *   wait MS                   let real time pass (events, helper processes
 *                             and watchdog pings keep flowing)
 *   hang MS                   block the main loop (as a hung kiosk would)
 *   await screen NAME MS      wait (real time) until screen NAME is shown;
 *                             a failed expectation after MS
 *   await state TEXT MS       the same for the screen's state word
 *   db-max-pages N            cap the database now (a disk filling up;
 *                             a large N: room again)
 *   min-free-mb N             the free-space floor (disk.c), looked at again
 *   screenshot NAME [full]    write NAME.png into --screenshot-dir: the frame
 *                             on the display, or with "full" the whole screen
 *                             drawn again first; with "first" the first frame
 *                             presented after start (the QR alone, see app.c)
 *   reset-textures            act as if SDL_RENDER_TARGETS_RESET arrived
 *   device-reset              act as if SDL_RENDER_DEVICE_RESET arrived
 *   display-unplug | display-plug   a display disconnected / connected event
 *   lang zh|en
 *   expect screen NAME        the current screen
 *   expect nodigits           no widget, the flow or the index worker holds a
 *                             typed digit
 *   expect qr NAME TEXT       widget NAME's QR encodes TEXT ("-" = none)
 *   expect visible NAME       widget NAME is shown
 *   expect hidden NAME        widget NAME is not shown (or not on the screen)
 *   expect text WORDS...      a label of the last frame drawn contains WORDS
 *                             (after a partial redraw: of what it redrew)
 *   expect disabled NAME      widget NAME does not take taps (a locked keypad)
 *   expect state TEXT         the screen's state word (enrol: url, code,
 *                             running, failed:KIND, noca; live: code, paused)
 *   expect result KIND        joined|welcome_back|checked_in|already|not_member|
 *                             withdrawn|withdraw_not_member
 *   expect index AHEAD INCALL member calls so far given a blind index derived
 *                             ahead on a worker, and left to derive it
 *                             themselves (prefetch.h)
 *   quit
 * Each failed expectation prints "expect failed: ..." and makes the exit
 * code 1; the script goes on, so one run reports every failure.
 */
#ifndef SQR_UI_SCRIPT_H
#define SQR_UI_SCRIPT_H

#include "sqr.h"
#include "ui.h"

sqr_rc ui_script_load(const char *path, ui_script **out, char *err, size_t errlen) SQR_WARN_UNUSED;
void ui_script_free(ui_script *s);

/* Runs the next step. Returns 1 when the script has ended, 0 otherwise.
 * *wait_until_ms (monotonic) is set when the step waits for real time. */
int ui_script_step(ui_app *app, ui_script *s, int64_t *wait_until_ms);

#endif
