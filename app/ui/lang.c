/* lang.c — the string table (see lang.h). printf-style slots (%d, %s) are
 * filled by the screen that shows the sentence. */
#include "lang.h"

#include <stddef.h>

static const char *const table[S_COUNT][UI_LANG_COUNT] = {
  [S_JOIN] = {"入会", "Join"},
  [S_CHECKIN] = {"签到", "Check in"},
  [S_LANG_OTHER] = {"English", "中文"},
  [S_SCAN_HINT] = {"微信扫码 加入门店群", "Scan with WeChat to join our group"},
  [S_GROUP] = {"当前群：%s", "Group: %s"},
  [S_FILL] = {"已加入 %d / %d", "%d of %d joined"},
  [S_NEXT_CODE] = {"%d 秒后刷新", "New code in %d s"},
  [S_NO_GROUP] = {"群已满，请添加店员企业微信", "Groups are full: add our staff on WeCom"},
  [S_STAFF_CODE] = {"店员联系码", "Staff contact code"},
  [S_OFFLINE] = {"离线：%d 小时未同步", "Offline: not synced for %d h"},
  [S_ENTER_PHONE] = {"请输入手机号", "Enter your mobile number"},
  [S_PHONE_BAD] = {"请输入11位大陆手机号", "11-digit mainland mobile number"},
  [S_PHONE_OK] = {"号码有效", "Number OK"},
  [S_OK] = {"确定", "OK"},
  [S_BACK] = {"返回", "Back"},
  [S_CANCEL] = {"取消", "Cancel"},
  [S_CONSENT_TITLE] = {"会员隐私政策", "Member privacy policy"},
  [S_CONSENT_AGREE] = {"我已阅读并同意", "I have read and agree"},
  [S_CONTINUE] = {"继续", "Continue"},
  [S_DETAILS_TITLE] = {"选填：兴趣与导购", "Optional: interests and staff"},
  [S_TAGS] = {"您感兴趣的", "Your interests"},
  [S_STAFF_WHO] = {"哪位店员帮助了您", "Who helped you"},
  [S_STAFF_NONE] = {"不选", "Nobody"},
  [S_FINISH] = {"完成入会", "Finish"},
  [S_JOINED] = {"入会成功", "Welcome, new member"},
  [S_WELCOME_BACK] = {"欢迎回来，您已是会员", "Welcome back: you are already a member"},
  [S_SCAN_GROUP] = {"扫码加入会员群", "Scan to join the member group"},
  [S_COUPON] = {"优惠券：%s", "Coupon: %s"},
  [S_POINTS] = {"积分：%d", "Points: %d"},
  [S_POINTS_ADDED] = {"本次 +%d 积分", "+%d points"},
  [S_CHECKED_IN] = {"签到成功", "Checked in"},
  [S_STREAK] = {"连续签到 %d 天", "%d days in a row"},
  [S_ALREADY] = {"今天已经签到过了", "Already checked in today"},
  [S_NOT_MEMBER] = {"您还不是会员", "You are not a member yet"},
  [S_JOIN_NOW] = {"立即入会", "Join now"},
  [S_DONE] = {"完成", "Done"},
  [S_ERROR_TITLE] = {"出错了，未保存", "Something went wrong: nothing was saved"},
  [S_ERROR_HINT] = {"请联系店员", "Please ask a member of staff"},
  [S_PIN_TITLE] = {"店长密码", "Manager PIN"},
  [S_PIN_WRONG] = {"密码错误，还可尝试 %d 次", "Wrong PIN: %d tries left"},
  [S_PIN_LOCKED] = {"已锁定，请 %d 分钟后再试", "Locked: try again in %d min"},
  [S_PIN_NONE] = {"未设置店长密码", "No manager PIN is configured"},
  [S_MGR_TITLE] = {"店长面板", "Manager"},
  [S_MGR_MEMBERS] = {"会员总数：%lld", "Members: %lld"},
  [S_MGR_SIGNUPS] = {"今日入会：%d", "Sign-ups today: %d"},
  [S_MGR_CHECKINS] = {"今日签到：%d", "Check-ins today: %d"},
  [S_MGR_7DAYS] = {"近7天入会/签到", "Last 7 days: sign-ups / check-ins"},
  [S_MGR_GROUPS] = {"群", "Groups"},
  [S_MGR_STAFF] = {"今日导购入会", "Sign-ups by staff today"},
  [S_MGR_SYNC] = {"上次同步：%s", "Last sync: %s"},
  [S_MGR_SYNC_NEVER] = {"从未", "never"},
  [S_MGR_PENDING] = {"待上传事件：%lld", "Events waiting: %lld"},
  [S_MGR_OFFSET] = {"总部时钟偏差：%lld ms", "HQ clock offset: %lld ms"},
  [S_MGR_VERSION] = {"版本 %s · 配置 v%lld", "Version %s · config v%lld"},
  [S_MGR_DISK] = {"可用空间：%lld MB", "Disk free: %lld MB"},
  [S_MGR_MARK_FULL] = {"标记已满", "Mark full"},
  [S_MGR_NEXT_GROUP] = {"切换下一个群", "Next group"},
  [S_MGR_SYNC_NOW] = {"立即同步", "Sync now"},
  [S_MGR_SYNC_MISSING] = {"同步程序未安装", "Sync program not installed"},
  [S_MGR_SYNC_RUNNING] = {"正在同步…", "Syncing…"},
  [S_MGR_ENROL] = {"设备注册：%s", "Enrolment: %s"},
  [S_MGR_ENROLLED] = {"已注册（门店 %s，终端 %d，密钥 v%d）", "enrolled (store %s, kiosk %d, key v%d)"},
  [S_MGR_NOT_ENROLLED] = {"未注册", "not enrolled"},
  [S_MGR_CLOSE] = {"退出", "Close"},
  [S_MGR_ALERT_NO_GROUP] = {"警告：没有可用的群，正在显示店员码", "Alert: no group left, showing the staff code"},
  [S_MGR_FULL] = {"已满", "full"},
  [S_MGR_EXPIRES] = {"到期 %s", "expires %s"},
  [S_MGR_LAST_ERROR] = {"同步错误：%s", "Sync error: %s"},
  [S_SECONDS] = {"秒", "s"},
  [S_CLEAR] = {"清空", "Clear"},
  [S_NEXT] = {"下一步", "Next"},
  [S_ENROL_CODE_TITLE] = {"请输入总部提供的注册码", "Enrolment code from HQ"},
  [S_ENROL_URL_TITLE] = {"请输入总部地址", "HQ's address"},
  [S_ENROL_URL_HINT] = {"例如 hq.example.com:8443", "e.g. hq.example.com:8443"},
  [S_ENROL_HQ] = {"总部：%s", "HQ: %s"},
  [S_ENROL_OK] = {"注册", "Enrol"},
  [S_ENROL_CHANGE_HQ] = {"更改总部地址", "HQ address"},
  [S_ENROL_RUNNING] = {"正在向总部注册…", "Enrolling with HQ…"},
  [S_ENROL_WAIT] = {"已用 %d 秒，请勿断电", "%d s so far: please keep the kiosk switched on"},
  [S_ENROL_UNKNOWN] = {"注册码不正确，请核对后重新输入",
                       "HQ does not know this code: check it and type it again"},
  [S_ENROL_USED] = {"注册码已被使用，请向总部索取新的注册码",
                    "This code was already used: ask HQ for a new one"},
  [S_ENROL_EXPIRED] = {"注册码已过期，请向总部索取新的注册码",
                       "This code has expired: ask HQ for a new one"},
  [S_ENROL_REFUSED] = {"总部拒绝了注册", "HQ refused the enrolment"},
  [S_ENROL_NETWORK] = {"无法连接总部，请检查网络和总部地址",
                       "Cannot reach HQ: check the network and HQ's address"},
  [S_ENROL_FAILED] = {"注册失败", "Enrolment failed"},
  [S_ENROL_TIMEOUT] = {"总部长时间没有应答，请稍后重试", "HQ did not answer in time: try again later"},
  [S_ENROL_RETRY] = {"重试", "Try again"},
  [S_ENROL_NOCA] = {"未安装总部证书，无法注册", "HQ's certificate is not installed: cannot enrol"},
  [S_ENROL_NOCA_HINT] = {"请将总部提供的 hq-ca.crt 安装到 %s", "Install the hq-ca.crt HQ gave you as %s"},
  [S_ENROL_NOSYNC] = {"未安装同步程序，无法注册", "The sync program is not installed: cannot enrol"},
  [S_ENROL_DONE] = {"注册成功", "Enrolled"},
  [S_PAUSED_BADGE] = {"暂停登记：存储空间已满", "Sign-up paused: storage full"},
  [S_PAUSED_TITLE] = {"暂时无法登记，请联系店员", "Sign-up and check-in are paused: please ask staff"},
  [S_PAUSED_HINT] = {"您仍可扫描门店码加入群", "You can still scan the shop's code to join our group"},
  [S_PAUSED_STAFF] = {"存储空间已满。已登记的信息完好，腾出空间后自动恢复。",
                      "Storage is full. Everything recorded is safe; sign-ups resume by themselves "
                      "when there is room."},
  [S_MGR_DISK_FULL] = {"存储空间已满：已暂停入会和签到", "Disk full: sign-ups and check-ins paused"},
};

const char *ui_str(ui_lang lang, ui_str_id id) {
  if((unsigned)id >= S_COUNT || (unsigned)lang >= UI_LANG_COUNT) return "";
  const char *s = table[id][lang];
  return s ? s : "";
}

#include <stdarg.h>
#include <stdio.h>

void ui_strf(char *buf, size_t n, ui_lang lang, ui_str_id id, ...) {
  va_list ap;
  va_start(ap, id);
  vsnprintf(buf, n, ui_str(lang, id), ap);
  va_end(ap);
}
