/* synchttp.c — see synchttp.h. */
#include "synchttp.h"

#include <curl/curl.h>
#include <errno.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define COMPONENT "sync"

struct synchttp {
  CURL *curl;
  char *base;
  char *ca, *cert, *key;
  synchttp_opts o;
};

typedef struct body_buf {
  char *data;
  size_t len, cap, max;
  int too_big;
} body_buf;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud) {
  body_buf *b = ud;
  size_t n = size * nmemb;
  if(n > b->max - b->len) {
    b->too_big = 1;
    return 0; /* curl stops with CURLE_WRITE_ERROR */
  }
  if(b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while(cap < b->len + n + 1)
      cap *= 2;
    char *p = realloc(b->data, cap);
    if(!p) return 0;
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, ptr, n);
  b->len += n;
  b->data[b->len] = 0;
  return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
  (void)dt, (void)dn, (void)ut, (void)un;
  volatile int *flag = ud;
  return flag && *flag ? 1 : 0;
}

static char *dup_or_null(const char *s, int *fail) {
  if(!s) return NULL;
  char *d = strdup(s);
  if(!d) *fail = 1;
  return d;
}

sqr_rc synchttp_new(const synchttp_opts *o, synchttp **out) {
  *out = NULL;
  if(!o->base_url || strncmp(o->base_url, "https://", 8) != 0 || !o->ca_file) return SQR_EINVAL;
  synchttp *h = calloc(1, sizeof *h);
  if(!h) return SQR_ENOMEM;
  int fail = 0;
  h->o = *o;
  h->base = dup_or_null(o->base_url, &fail);
  h->ca = dup_or_null(o->ca_file, &fail);
  h->cert = dup_or_null(o->cert_file, &fail);
  h->key = dup_or_null(o->key_file, &fail);
  h->curl = curl_easy_init();
  if(fail || !h->curl) {
    synchttp_free(h);
    return SQR_ENOMEM;
  }
  size_t bl = strlen(h->base);
  while(bl > 8 && h->base[bl - 1] == '/')
    h->base[--bl] = 0;
  *out = h;
  return SQR_OK;
}

void synchttp_free(synchttp *h) {
  if(!h) return;
  if(h->curl) curl_easy_cleanup(h->curl);
  free(h->base);
  free(h->ca);
  free(h->cert);
  free(h->key);
  free(h);
}

void synchttp_response_clear(synchttp_response *r) {
  free(r->body);
  memset(r, 0, sizeof *r);
}

static sqr_rc rc_for(CURLcode cc) {
  switch(cc) {
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_ISSUER_ERROR:
    return SQR_EAUTH;
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_URL_MALFORMAT:
    return SQR_EINVAL;
  case CURLE_WEIRD_SERVER_REPLY:
    return SQR_EPROTO;
  default:
    return SQR_ENET;
  }
}

/* What every request shares: HTTPS only, the pinned CA, the kiosk's
 * certificate, timeouts, the abort flag. */
static void setup(synchttp *h, const char *url, char *curlerr) {
  CURL *c = h->curl;
  curl_easy_reset(c); /* keeps the live connection, forgets the last request's options */
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curlerr);
  /* Only HQ's CA: neither the system store nor a CA path. */
  curl_easy_setopt(c, CURLOPT_CAINFO, h->ca);
  curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
  if(h->cert && h->key) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, h->cert);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(c, CURLOPT_SSLKEY, h->key);
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
                   h->o.connect_timeout_s ? h->o.connect_timeout_s : 10L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, h->o.low_speed_bytes ? h->o.low_speed_bytes : 100L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->o.low_speed_time_s ? h->o.low_speed_time_s : 30L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, h->o.total_timeout_s ? h->o.total_timeout_s : 120L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  if(h->o.abort_flag) {
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)h->o.abort_flag);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  }
}

sqr_rc synchttp_request(synchttp *h, const char *method, const char *path, const char *body,
                        size_t len, size_t max_answer, synchttp_response *out, char *err,
                        size_t errlen) {
  memset(out, 0, sizeof *out);
  char url[2048], curlerr[CURL_ERROR_SIZE] = "";
  if((size_t)snprintf(url, sizeof url, "%s%s", h->base, path) >= sizeof url) {
    snprintf(err, errlen, "HQ URL too long");
    return SQR_EINVAL;
  }
  CURL *c = h->curl;
  body_buf b = {.max = max_answer};
  struct curl_slist *hdr = NULL;
  setup(h, url, curlerr);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  hdr = curl_slist_append(hdr, "Accept: application/json");
  if(strcmp(method, "POST") == 0) {
    struct curl_slist *t = curl_slist_append(hdr, "Content-Type: application/json");
    if(t) hdr = t;
    t = curl_slist_append(hdr, "Expect:"); /* no 100-continue round trip */
    if(t) hdr = t;
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
  CURLcode cc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(hdr);
  sqr_rc rc = SQR_OK;
  if(cc != CURLE_OK) {
    if(b.too_big) {
      snprintf(err, errlen, "HQ's answer to %s %s exceeds %zu bytes", method, path, max_answer);
      rc = SQR_EPROTO;
    } else if(cc == CURLE_ABORTED_BY_CALLBACK) {
      snprintf(err, errlen, "%s %s: stopped (shutting down)", method, path);
      rc = SQR_ENET;
    } else {
      snprintf(err, errlen, "%s %s: %s", method, path,
               curlerr[0] ? curlerr : curl_easy_strerror(cc));
      rc = rc_for(cc);
    }
    log_debug(COMPONENT, "curl error %d: %s", (int)cc, err);
    free(b.data);
    return rc;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
  out->body = b.data ? b.data : calloc(1, 1);
  out->len = b.len;
  if(!out->body) return SQR_ENOMEM;
  return SQR_OK;
}

typedef struct file_sink {
  CURL *curl;
  int fd;
  uint64_t max, len;
  int too_big, io_error, not_ok;
  mbedtls_sha256_context sha;
  char errbody[512]; /* the start of a non-200 answer (HQ's JSON error) */
  size_t errlen;
} file_sink;

static size_t on_file_data(char *ptr, size_t size, size_t nmemb, void *ud) {
  file_sink *s = ud;
  size_t n = size * nmemb;
  long status = 0;
  curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
  if(status != 200) {
    /* An error answer is never written where the bundle goes. */
    s->not_ok = 1;
    size_t k = n < sizeof s->errbody - 1 - s->errlen ? n : sizeof s->errbody - 1 - s->errlen;
    memcpy(s->errbody + s->errlen, ptr, k);
    s->errlen += k;
    s->errbody[s->errlen] = '\0';
    return n;
  }
  if(n > s->max - s->len) {
    s->too_big = 1;
    return 0;
  }
  for(size_t off = 0; off < n;) {
    ssize_t w = write(s->fd, ptr + off, n - off);
    if(w < 0 && errno == EINTR) continue;
    if(w <= 0) {
      s->io_error = errno ? errno : EIO;
      return 0;
    }
    off += (size_t)w;
  }
  if(mbedtls_sha256_update_ret(&s->sha, (const unsigned char *)ptr, n) != 0) {
    s->io_error = EIO;
    return 0;
  }
  s->len += n;
  return n;
}

sqr_rc synchttp_download(synchttp *h, const char *path, int fd, uint64_t max_bytes, long *status,
                         uint8_t sha[32], uint64_t *written, char *err, size_t errlen) {
  char url[2048], curlerr[CURL_ERROR_SIZE] = "";
  *status = 0;
  *written = 0;
  if((size_t)snprintf(url, sizeof url, "%s%s", h->base, path) >= sizeof url) {
    snprintf(err, errlen, "HQ URL too long");
    return SQR_EINVAL;
  }
  file_sink s = {.curl = h->curl, .fd = fd, .max = max_bytes};
  mbedtls_sha256_init(&s.sha);
  if(mbedtls_sha256_starts_ret(&s.sha, 0) != 0) {
    mbedtls_sha256_free(&s.sha);
    return SQR_ECRYPTO;
  }
  setup(h, url, curlerr);
  CURL *c = h->curl;
  curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 3600L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_file_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
  CURLcode cc = curl_easy_perform(c);
  sqr_rc rc = SQR_OK;
  if(cc != CURLE_OK) {
    if(s.too_big) {
      snprintf(err, errlen, "GET %s: larger than the %llu bytes HQ announced", path,
               (unsigned long long)max_bytes);
      rc = SQR_EPROTO;
    } else if(s.io_error) {
      snprintf(err, errlen, "GET %s: cannot write the download: %s", path, strerror(s.io_error));
      rc = s.io_error == ENOSPC ? SQR_ENOSPC : SQR_EIO;
    } else if(cc == CURLE_ABORTED_BY_CALLBACK) {
      snprintf(err, errlen, "GET %s: stopped (shutting down)", path);
      rc = SQR_ENET;
    } else {
      snprintf(err, errlen, "GET %s: %s", path, curlerr[0] ? curlerr : curl_easy_strerror(cc));
      rc = rc_for(cc);
    }
  } else {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    if(*status != 200)
      snprintf(err, errlen, "GET %s: HQ answered %ld %.300s", path, *status, s.errbody);
    else if(mbedtls_sha256_finish_ret(&s.sha, sha) != 0)
      rc = SQR_ECRYPTO;
    *written = s.len;
  }
  mbedtls_sha256_free(&s.sha);
  return rc;
}
