/* pages_shopper.c — see pages_shopper.h. The texts of the pages by
 * language, and the views of templates/shopper_*.html. */
#include "pages_shopper.h"

#include <string.h>

#include "view.h"

static const char *const html_lang[SHOPPER_NLANG] = {"zh-CN", "en"};

static int lang_ok(int lang) {
  return lang >= 0 && lang < SHOPPER_NLANG;
}

/* A link the page may show as a button: https only (the resolver checks
 * links with joinlink_valid before it gets here; escaping keeps any link
 * inside its attribute, but only the scheme check keeps it from being a
 * script). */
static const char *https_or_null(const char *link) {
  return link && strncmp(link, "https://", 8) == 0 ? link : NULL;
}

/* A new view with the head's fields (shopper_head.html). */
static void page_view(view *v, int lang, const char *title) {
  view_init(v);
  view_str(v, v->root, "html_lang", html_lang[lang]);
  view_str(v, v->root, "title", title ? title : "");
}

/* shopper_store_head.html's fields. */
static void store_head(view *v, const char *store_name, const char *offer) {
  view_str(v, v->root, "store_name", store_name ? store_name : "");
  if(offer && offer[0]) view_str(v, v->root, "offer", offer);
}

static void qr(view *v, const char *id, const char *label, const char *src) {
  if(!src) return;
  cJSON *q = view_obj(v, v->root, "qr");
  view_str(v, q, "id", id);
  view_str(v, q, "label", label);
  view_str(v, q, "src", src);
}

sqr_rc shopper_notice_render(const shopper_notice_view *vm, dynbuf *out) {
  static const char *const text[SHOPPER_NNOTICE][SHOPPER_NLANG][2] = {
      [SHOPPER_BAD_TOKEN] =
          {{"请扫描店内的二维码",
            "这个二维码已失效或不是本店的。请扫描门店屏幕上正在显示的二维码。"},
           {"Scan the code in the shop",
            "This code is not valid. Please scan the code shown on the screen in the shop."}},
      [SHOPPER_EXPIRED] =
          {{"请扫描店内的二维码", "这个二维码已过期。请扫描门店屏幕上正在显示的二维码。"},
           {"Scan the code in the shop",
            "This code has expired. Please scan the code shown on the screen in the shop."}},
      [SHOPPER_NO_STORE] = {{"找不到这家门店", "请检查链接，或扫描店内的二维码。"},
                            {"Store not found",
                             "Please check the link, or scan the code in the shop."}},
      [SHOPPER_BAD_REQUEST] = {{"无法识别的位置", "请重试，或从下面的门店列表中选择。"},
                               {"Location not understood", "Please try again."}},
      [SHOPPER_TOO_LONG] = {{"链接太长", "请扫描店内的二维码。"},
                            {"Link too long", "Please scan the code in the shop."}},
      [SHOPPER_METHOD] = {{"不支持的请求", "请用手机扫描店内的二维码。"},
                          {"Not supported", "Please scan the code in the shop with your phone."}},
      [SHOPPER_UNAVAILABLE] = {{"请稍后再试", "系统正忙，请稍等片刻后重新扫码或刷新本页。"},
                               {"Please try again in a moment",
                                "We could not load this page just now. Please scan the code again"
                                " or reload this page in a moment."}},
  };
  if(!lang_ok(vm->lang) || (int)vm->kind < 0 || vm->kind >= SHOPPER_NNOTICE) return SQR_EINVAL;
  const char *const *t = text[vm->kind][vm->lang];
  view v;
  page_view(&v, vm->lang, t[0]);
  view_str(&v, v.root, "hint", t[1]);
  return view_render(&v, "shopper_notice", out);
}

sqr_rc shopper_group_render(const shopper_group_view *vm, dynbuf *out) {
  static const char *const t[SHOPPER_NLANG][3] = {
      {"加入我们的社群", "长按识别二维码，或点击下方按钮加入", "加入群聊"},
      {"Join our community", "Press and hold the QR code, or tap the button below",
       "Join the group"}};
  if(!lang_ok(vm->lang)) return SQR_EINVAL;
  const char *const *tl = t[vm->lang];
  int named = vm->group_name && vm->group_name[0];
  const char *link = https_or_null(vm->join_link);
  view v;
  page_view(&v, vm->lang, vm->store_name);
  store_head(&v, vm->store_name, vm->offer);
  view_str(&v, v.root, "lead", tl[0]);
  view_str(&v, v.root, "group_name", named ? vm->group_name : tl[0]);
  /* the image's alt text names the group, as the link does */
  qr(&v, "group-qr", named ? vm->group_name : "group", vm->qr_src);
  view_str(&v, v.root, "hint", tl[1]);
  view_str(&v, v.root, "join_link", link);
  view_str(&v, v.root, "join_label", tl[2]);
  return view_render(&v, "shopper_group", out);
}

sqr_rc shopper_full_render(const shopper_full_view *vm, dynbuf *out) {
  static const char *const t[SHOPPER_NLANG][3] = {
      {"社群暂时满员", "请添加店员企业微信，我们会邀请您入群。", "添加店员"},
      {"Our groups are full right now", "Add our staff on WeChat and we will invite you.",
       "Add our staff"}};
  if(!lang_ok(vm->lang)) return SQR_EINVAL;
  const char *const *tl = t[vm->lang];
  view v;
  page_view(&v, vm->lang, vm->store_name);
  store_head(&v, vm->store_name, vm->offer);
  view_str(&v, v.root, "message", tl[0]);
  view_str(&v, v.root, "hint", tl[1]);
  qr(&v, "staff-qr", "staff", vm->staff_qr_src);
  view_str(&v, v.root, "staff_link", https_or_null(vm->staff_link));
  view_str(&v, v.root, "staff_label", tl[2]);
  return view_render(&v, "shopper_full", out);
}

sqr_rc shopper_brand_render(const shopper_brand_view *vm, dynbuf *out) {
  static const char *const t[SHOPPER_NLANG][4] = {
      {"找到离您最近的门店", "使用我的位置", "或按城市选择门店：",
       "未能获取位置，请从列表中选择门店。"},
      {"Find your nearest store", "Use my location",
       "Or choose a store by city:", "Location unavailable: please choose a store from the list."}};
  if(!lang_ok(vm->lang) || (vm->nstores && !vm->stores)) return SQR_EINVAL;
  const char *const *tl = t[vm->lang];
  view v;
  page_view(&v, vm->lang, tl[0]);
  view_str(&v, v.root, "brand", vm->brand ? vm->brand : "");
  view_str(&v, v.root, "heading", tl[0]);
  view_str(&v, v.root, "note", vm->note);
  view_str(&v, v.root, "locate", tl[1]);
  view_str(&v, v.root, "by_city", tl[2]);
  view_str(&v, v.root, "no_location", tl[3]);
  cJSON *cities = view_arr(&v, v.root, "cities"), *list = NULL;
  const char *city = NULL;
  for(size_t i = 0; i < vm->nstores && !v.failed; i++) {
    const shopper_brand_store *s = &vm->stores[i];
    const char *c = s->city ? s->city : "";
    if(!city || strcmp(city, c) != 0) {
      cJSON *co = view_push(&v, cities);
      view_str(&v, co, "city", c[0] ? c : "—");
      list = view_arr(&v, co, "stores");
      city = c;
    }
    cJSON *so = view_push(&v, list);
    view_str(&v, so, "id", s->id ? s->id : "");
    view_str(&v, so, "name", s->name ? s->name : "");
  }
  return view_render(&v, "shopper_brand", out);
}
