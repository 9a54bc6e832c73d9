/* joinlink.h — the one rule for a link a shopper's phone is sent to: a
 * group's join link (groups[].link) and the staff contact link
 * (group_policy.fallback_link).
 *
 * Such a link is drawn as a QR code by the kiosk and put in an href on
 * HQ's resolver page, so it must be an https URL that cannot leave an
 * HTML attribute or be cut in two by a reader: "https://", something
 * after it, and no space, quote (" or '), angle bracket, backslash or
 * ASCII control character (DEL included). Bytes from 0x80 up (an
 * internationalised path) pass.
 *
 * Owns nothing, allocates nothing; config.c checks every link it accepts
 * with it, and HQ's admin input and resolver pages are to use the same.
 */
#ifndef SQR_JOINLINK_H
#define SQR_JOINLINK_H

/* 1 if link follows the rule above, 0 if not (NULL included). */
int joinlink_valid(const char *link);

#endif /* SQR_JOINLINK_H */
