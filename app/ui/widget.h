/* widget.h — constructors and accessors of the kiosk's widgets, one widget
 * per file (widget_button.c, widget_keypad.c, widget_qr.c, widget_check.c,
 * widget_textview.c). Each returns a ui_widget the caller's screen owns
 * (ui_screen_add), or NULL when out of memory. Widgets copy their strings. */
#ifndef SQR_UI_WIDGET_H
#define SQR_UI_WIDGET_H

#include "ui.h"

/* A big tappable rectangle with a centred label. */
ui_widget *ui_button_new(const char *name, const char *label, SDL_Rect r, int font_px, ui_color bg,
                         ui_color fg);
void ui_button_set_label(ui_widget *w, const char *label);
/* A toggled button draws inverted (tag chips, staff choice). */
void ui_button_set_on(ui_widget *w, int on);

/* Keys a keypad hands back besides its characters (the ASCII control codes
 * SDL's key codes also use for backspace, return and escape). */
enum { UI_PAD_DEL = 0x08, UI_PAD_ENTER = 0x0d, UI_PAD_CLEAR = 0x18, UI_PAD_ESC = 0x1b };
/* Display grouping: as a mainland mobile number (138 0013 8000), or none;
 * a positive n puts a '-' after every n characters. */
enum { UI_KEYPAD_GROUP_NONE = 0, UI_KEYPAD_GROUP_PHONE = -1 };

/* Numeric keypad with its own display line: 1-9, clear, 0, delete.
 * Parts are named NAME.0 ... NAME.9, NAME.del, NAME.clear. mask: show
 * dots instead of digits (PIN). */
ui_widget *ui_keypad_new(const char *name, SDL_Rect r, int maxlen, int mask, int font_px);
/* The same widget with other keys: the characters of keys (then clear and
 * delete), cols to a row. Parts: NAME.<character> (letters match either
 * case), NAME.dot, NAME.dash, NAME.colon, NAME.del, NAME.clear. A letter
 * typed in the other case is taken in the pad's case. */
ui_widget *ui_keyboard_new(const char *name, SDL_Rect r, const char *keys, int cols, int maxlen,
                           int group, int font_px);
/* Labels of the delete and clear keys (NULL keeps one); copied. */
void ui_keypad_set_labels(ui_widget *w, const char *del, const char *clear);
/* Handles a tap at x,y; returns the key (a character, UI_PAD_DEL or
 * UI_PAD_CLEAR) or 0 when the tap hit no key. */
int ui_keypad_tap(ui_widget *w, int x, int y);
/* A key from a keyboard: a character, UI_PAD_DEL, UI_PAD_CLEAR. Returns 1
 * if it changed what the keypad holds (0 for a key it does not have). */
int ui_keypad_key(ui_widget *w, int key);
/* What was typed (NUL-terminated); borrowed. */
const char *ui_keypad_digits(const ui_widget *w);
/* Replaces what was typed with the characters of text the pad has. */
void ui_keypad_set(ui_widget *w, const char *text);
/* The line drawn under the digits (validation), and its colour. */
void ui_keypad_set_hint(ui_widget *w, const char *hint, ui_color c);

/* A QR code drawn at the largest integer module size that fits r. */
ui_widget *ui_qr_new(const char *name, SDL_Rect r);
/* Sets the text; the texture is made again only when the text changes. */
void ui_qr_set(ui_widget *w, const char *text);
const char *ui_qr_text(const ui_widget *w);

/* A tick box with a label, unticked when made. The label wraps to r's
 * width; ui_check_height is the height r needs at width for all of it. */
ui_widget *ui_check_new(const char *name, const char *label, SDL_Rect r, int font_px);
int ui_check_height(ui_app *app, const char *label, int width, int font_px);
void ui_check_toggle(ui_widget *w);
int ui_check_value(const ui_widget *w);

/* Scrollable wrapped text (the consent policy). */
ui_widget *ui_textview_new(const char *name, const char *utf8, SDL_Rect r, int font_px);
void ui_textview_scroll(ui_widget *w, int dy_px);
int ui_textview_offset(const ui_widget *w);

#endif
