/* resolve_pages.c — the scan resolver's pages (see resolve_int.h): each
 * rendered once through pages_shopper.h (and the templates of
 * sync/hq/templates) into a page that holds its bytes and its prebuilt
 * libmicrohttpd responses, plain and gzipped, with every header.
 *
 * Owns the page objects and the static notices (a bad or expired code,
 * an unknown store, ...: one per kind and language, kept until
 * resolve_stop). The group, staff contact and brand pages belong to the
 * cache entries they are rendered from. Runs under the resolver's lock,
 * which its callers hold: never takes a lock, never reads the database
 * or the cache's table, never counts a scan. Pages never show a phone
 * number.
 */
#include "resolve_int.h"

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "dynbuf.h"
#include "joinlink.h"
#include "pages_shopper.h"
#include "qrpng.h"

#define PAGE_MAX (4 * 1024 * 1024)

/* The static notices by kind and language, rendered on first use. */
static page *statics[NSTATIC][NLANG];

static void page_free_cb(void *cls) {
  free(cls);
}

/* Every page: never cached (each scan must reach HQ to be counted), no
 * referrer (the token must not follow the shopper to WeChat), nothing
 * loaded from elsewhere, and HTTPS only from then on (HSTS, as server.c
 * sends with every other answer). */
#define PAGE_CSP                                                                                   \
  "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "                    \
  "img-src data:; base-uri 'none'; form-action 'none'"
static const char *const page_headers[2][9][2] = {
    {{"Content-Type", "text/html; charset=utf-8"},
     {"Cache-Control", "no-store"},
     {"Referrer-Policy", "no-referrer"},
     {"X-Content-Type-Options", "nosniff"},
     {"Vary", "Accept-Language, Accept-Encoding"},
     {"Content-Language", "zh-CN"},
     {"Content-Security-Policy", PAGE_CSP},
     {"Strict-Transport-Security", "max-age=63072000"},
     {NULL, NULL}},
    {{"Content-Type", "text/html; charset=utf-8"},
     {"Cache-Control", "no-store"},
     {"Referrer-Policy", "no-referrer"},
     {"X-Content-Type-Options", "nosniff"},
     {"Vary", "Accept-Language, Accept-Encoding"},
     {"Content-Language", "en"},
     {"Content-Security-Policy", PAGE_CSP},
     {"Strict-Transport-Security", "max-age=63072000"},
     {NULL, NULL}}};

/* Bytes of the header lines page_headers_add sets ("Name: value\r\n"). */
static size_t page_headers_len(int lang) {
  size_t n = 0;
  for(int i = 0; i < 9 && page_headers[lang][i][0]; i++)
    n += strlen(page_headers[lang][i][0]) + 2 + strlen(page_headers[lang][i][1]) + 2;
  return n;
}

static int page_headers_add(struct MHD_Response *r, int status, int lang) {
  int ok = 1;
  for(int i = 0; ok && i < 9 && page_headers[lang][i][0]; i++)
    ok = MHD_add_response_header(r, page_headers[lang][i][0], page_headers[lang][i][1]) == MHD_YES;
  if(ok && status == 405) ok = MHD_add_response_header(r, "Allow", "GET, HEAD") == MHD_YES;
  /* The storage page, like reply.c's 503s: a lost database is
   * reconnected within a few seconds of coming back (hqdb_pg.c). */
  if(ok && status == 503) ok = MHD_add_response_header(r, "Retry-After", "2") == MHD_YES;
  return ok;
}

/* The gzip answer for p, or NULL (no memory, or not smaller: then the
 * plain one serves everyone). Built once per page, at level 9; p->gz_min
 * set with it.
 *
 * zlib's state is sized to the page: a window no larger than the page
 * (a match cannot reach further back anyway, so the bytes are the same)
 * and memLevel 6. Its largest state (32 KiB window, memLevel 9, ~400 KiB
 * allocated and its hash table cleared) made 100-200 us of a ~2 KB page's
 * 110-210; sized, 9 us (docs/BENCHMARKS.md, "Issue 13, session 4"): a
 * group's page is rendered when the group is first used, and at 5,000
 * stores their first groups fill within seconds of each other. */
static struct MHD_Response *page_gzip(page *p) {
  z_stream z;
  memset(&z, 0, sizeof z);
  int wbits = 9; /* zlib's smallest */
  while(wbits < 15 && ((size_t)1 << wbits) < p->len)
    wbits++;
  if(deflateInit2(&z, 9, Z_DEFLATED, wbits + 16, 6, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
  uLong cap = deflateBound(&z, (uLong)p->len);
  unsigned char *out = malloc(cap);
  struct MHD_Response *r = NULL;
  if(out) {
    z.next_in = (Bytef *)p->body;
    z.avail_in = (uInt)p->len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if(deflate(&z, Z_FINISH) == Z_STREAM_END && z.total_out < p->len &&
       (r = MHD_create_response_from_buffer(z.total_out, out, MHD_RESPMEM_MUST_COPY)) &&
       (!page_headers_add(r, p->status, p->lang) ||
        MHD_add_response_header(r, "Content-Encoding", "gzip") != MHD_YES)) {
      MHD_destroy_response(r);
      r = NULL;
    }
    if(r)
      p->gz_min = z.total_out + page_headers_len(p->lang) + strlen("Content-Encoding: gzip\r\n");
  }
  deflateEnd(&z);
  free(out);
  return r;
}

/* The page rendered into b (rc: how rendering went), or NULL when it
 * failed or memory ran out. Frees b either way. */
static page *page_take(dynbuf *b, sqr_rc rc, int status, int lang) {
  page *p = NULL;
  size_t len = dynbuf_len(b);
  if(!rc && len && (p = malloc(sizeof *p + len + 1))) {
    p->refs = 1;
    p->status = status;
    p->lang = lang;
    p->len = len;
    memcpy(p->body, dynbuf_ptr(b), len + 1);
    p->resp_min = len + page_headers_len(lang);
    p->gz_min = 0;
    p->gz = page_gzip(p);
    p->resp =
        MHD_create_response_from_buffer_with_free_callback_cls(p->len, p->body, page_free_cb, p);
    if(!p->resp || !page_headers_add(p->resp, status, lang)) {
      if(p->gz) MHD_destroy_response(p->gz);
      if(p->resp)
        MHD_destroy_response(p->resp); /* calls page_free_cb */
      else
        free(p);
      p = NULL;
    }
  }
  dynbuf_free(b);
  return p;
}

static page *render_static(int kind, int lang) {
  static const int status[NSTATIC] = {403, 410, 404, 400, 414, 405, 503};
  shopper_notice_view vm = {.lang = lang, .kind = (shopper_notice)kind};
  dynbuf b;
  dynbuf_init(&b, PAGE_MAX);
  return page_take(&b, shopper_notice_render(&vm, &b), status[kind], lang);
}

page *resolve__static_page(int kind, int lang) {
  if(!statics[kind][lang]) statics[kind][lang] = render_static(kind, lang);
  return resolve__page_ref(statics[kind][lang]);
}

void resolve__static_pages_free(void) {
  for(int k = 0; k < NSTATIC; k++)
    for(int l = 0; l < NLANG; l++) {
      resolve__page_unref(statics[k][l]);
      statics[k][l] = NULL;
    }
}

/* The offer of the campaign running now, or NULL. */
static const char *offer_now(const rstore *e, int campaign, int lang) {
  return campaign >= 0 ? e->campaigns[campaign].offer[lang] : NULL;
}

void resolve__qr_make(const char *link, char **src) {
  if(*src || !link[0] || !joinlink_valid(link)) return;
  if(qrpng_data_uri(link, src)) *src = NULL;
}

page *resolve__render_group(const rstore *e, rgroup *g, int campaign, int lang) {
  resolve__qr_make(g->link, &g->qr_src);
  shopper_group_view vm = {.lang = lang,
                           .store_name = e->name,
                           .offer = offer_now(e, campaign, lang),
                           .group_name = g->name,
                           .qr_src = g->qr_src,
                           .join_link = joinlink_valid(g->link) ? g->link : NULL};
  dynbuf b;
  dynbuf_init(&b, PAGE_MAX);
  return page_take(&b, shopper_group_render(&vm, &b), 200, lang);
}

page *resolve__render_exhausted(rstore *e, int campaign, int lang) {
  resolve__qr_make(e->fallback, &e->fallback_qr);
  shopper_full_view vm = {.lang = lang,
                          .store_name = e->name,
                          .offer = offer_now(e, campaign, lang),
                          .staff_qr_src = e->fallback_qr,
                          .staff_link = joinlink_valid(e->fallback) ? e->fallback : NULL};
  dynbuf b;
  dynbuf_init(&b, PAGE_MAX);
  return page_take(&b, shopper_full_render(&vm, &b), 200, lang);
}

page *resolve__render_brand(const rbrand *br, int lang, int status, const char *note) {
  shopper_brand_store *stores = br->n ? calloc(br->n, sizeof *stores) : NULL;
  if(br->n && !stores) return NULL;
  for(size_t i = 0; i < br->n; i++)
    stores[i] = (shopper_brand_store){br->stores[i].id, br->stores[i].name, br->stores[i].city};
  shopper_brand_view vm = {
      .lang = lang, .brand = br->id, .note = note, .stores = stores, .nstores = br->n};
  dynbuf b;
  dynbuf_init(&b, PAGE_MAX);
  sqr_rc rc = shopper_brand_render(&vm, &b);
  free(stores);
  return page_take(&b, rc, status, lang);
}
