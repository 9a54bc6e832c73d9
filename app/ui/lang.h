/* lang.h — every sentence the kiosk shows, in zh-CN and English.
 * One table (lang.c); screens ask by id, so a language switch is one
 * assignment and nothing is assembled from fragments in two grammars. */
#ifndef SQR_UI_LANG_H
#define SQR_UI_LANG_H

typedef enum ui_lang { UI_LANG_ZH = 0, UI_LANG_EN, UI_LANG_COUNT } ui_lang;

typedef enum ui_str_id {
  S_JOIN, S_CHECKIN, S_LANG_OTHER, S_SCAN_HINT, S_GROUP, S_FILL, S_NEXT_CODE, S_NO_GROUP,
  S_STAFF_CODE, S_OFFLINE, S_ENTER_PHONE, S_PHONE_BAD, S_PHONE_OK, S_OK, S_BACK, S_CANCEL,
  S_CONSENT_TITLE, S_CONSENT_AGREE, S_CONTINUE, S_DETAILS_TITLE, S_TAGS, S_STAFF_WHO,
  S_STAFF_NONE, S_FINISH, S_JOINED, S_WELCOME_BACK, S_SCAN_GROUP, S_COUPON, S_POINTS,
  S_POINTS_ADDED, S_CHECKED_IN, S_STREAK, S_ALREADY, S_NOT_MEMBER, S_JOIN_NOW, S_DONE,
  S_ERROR_TITLE, S_ERROR_HINT, S_PIN_TITLE, S_PIN_WRONG, S_PIN_LOCKED, S_PIN_NONE,
  S_MGR_TITLE, S_MGR_MEMBERS, S_MGR_SIGNUPS, S_MGR_CHECKINS, S_MGR_7DAYS, S_MGR_GROUPS,
  S_MGR_STAFF, S_MGR_SYNC, S_MGR_SYNC_NEVER, S_MGR_PENDING, S_MGR_OFFSET, S_MGR_VERSION,
  S_MGR_DISK, S_MGR_MARK_FULL, S_MGR_NEXT_GROUP, S_MGR_SYNC_NOW, S_MGR_SYNC_MISSING,
  S_MGR_SYNC_RUNNING, S_MGR_ENROL, S_MGR_ENROLLED, S_MGR_NOT_ENROLLED, S_MGR_CLOSE,
  S_MGR_ALERT_NO_GROUP, S_MGR_FULL, S_MGR_EXPIRES, S_MGR_LAST_ERROR, S_SECONDS,
  S_CLEAR, S_NEXT,
  /* first-boot enrolment (screen_enrol.c) */
  S_ENROL_CODE_TITLE, S_ENROL_URL_TITLE, S_ENROL_URL_HINT, S_ENROL_HQ, S_ENROL_OK,
  S_ENROL_CHANGE_HQ, S_ENROL_RUNNING, S_ENROL_WAIT, S_ENROL_UNKNOWN, S_ENROL_USED,
  S_ENROL_EXPIRED, S_ENROL_REFUSED, S_ENROL_NETWORK, S_ENROL_FAILED, S_ENROL_TIMEOUT,
  S_ENROL_RETRY, S_ENROL_NOCA, S_ENROL_NOCA_HINT, S_ENROL_NOSYNC, S_ENROL_DONE,
  /* full disk (disk.c, screen_paused.c) */
  S_PAUSED_BADGE, S_PAUSED_TITLE, S_PAUSED_HINT, S_PAUSED_STAFF, S_MGR_DISK_FULL,
  S_COUNT
} ui_str_id;

const char *ui_str(ui_lang lang, ui_str_id id);

#include <stddef.h>
/* Formats sentence id (with its %d / %s slots) into buf. */
void ui_strf(char *buf, size_t n, ui_lang lang, ui_str_id id, ...);

#endif
