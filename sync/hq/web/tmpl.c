/* tmpl.c — see tmpl.h.
 *
 * A template compiles into a flat list of nodes: text, a value (escaped
 * or raw), a section or inverted section (which records where it ends, so
 * the renderer skips or repeats a range), a partial (an index into the
 * set, resolved once every template of the set is compiled). Nodes point
 * into one pool per template that holds the text with its line breaks
 * removed, the names, and each name split into its keys.
 *
 * Rendering appends to the caller's dynbuf only; its limit bounds the
 * page and its sticky error stops the walk.
 */
#include "tmpl.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define MAX_NEST  32 /* sections open at once in one template */
#define MAX_DEPTH 64 /* scopes during a render (view, sections, across partials) */
#define MAX_NAME  64 /* bytes in a name */

enum { N_TEXT, N_VAR, N_RAW, N_SECTION, N_INVERTED, N_PARTIAL };

typedef struct node {
  int kind;
  int line, col;    /* where the tag is, for messages */
  const char *s;    /* text bytes, or the tag's name (NUL-terminated) */
  size_t len;       /* text bytes */
  const char *keys; /* the name's keys, each NUL-terminated; NULL for "." */
  int nkeys;
  size_t end;     /* sections: the node after the matching {{/name}} */
  size_t partial; /* partials: index in the set */
} node;

typedef struct tmpl {
  char *name;
  node *nodes;
  size_t n, cap;
  char *pool; /* everything the nodes point into; never moves */
  size_t used, poolcap;
} tmpl;

struct tmpl_set {
  tmpl *t;
  size_t n;
};

/* ---- compiling ------------------------------------------------------------------ */

typedef struct parser {
  const tmpl_source *src;
  tmpl *t;
  int can_merge; /* the last node is text that more text may extend */
  char *err;
  size_t errlen;
} parser;

static void where(const char *text, size_t at, int *line, int *col) {
  *line = 1;
  *col = 1;
  for(size_t i = 0; i < at; i++) {
    if(text[i] == '\n') {
      (*line)++;
      *col = 1;
    } else {
      (*col)++;
    }
  }
}

static sqr_rc fail(parser *p, size_t at, const char *fmt, ...) SQR_PRINTF(3, 4);
static sqr_rc fail(parser *p, size_t at, const char *fmt, ...) {
  int line, col;
  where(p->src->text, at, &line, &col);
  if(p->errlen) {
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s:%d:%d: %s", p->src->name, line, col, msg);
  }
  return SQR_EINVAL;
}

static sqr_rc oom(parser *p) {
  if(p->errlen) snprintf(p->err, p->errlen, "%s: out of memory", p->src->name);
  return SQR_ENOMEM;
}

/* n bytes of the pool (the pool was sized for the worst case). */
static char *pool_take(tmpl *t, size_t n) {
  SQR_CHECK(t->used + n <= t->poolcap);
  char *s = t->pool + t->used;
  t->used += n;
  return s;
}

static node *add_node(parser *p, int kind, size_t at) {
  tmpl *t = p->t;
  if(t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 32;
    node *nn = realloc(t->nodes, cap * sizeof *nn);
    if(!nn) return NULL;
    t->nodes = nn;
    t->cap = cap;
  }
  node *nd = &t->nodes[t->n++];
  memset(nd, 0, sizeof *nd);
  nd->kind = kind;
  where(p->src->text, at, &nd->line, &nd->col);
  p->can_merge = 0;
  return nd;
}

/* Text from [from, to) of the source, without line breaks and the
 * indentation after them; joined to the text before it when nothing
 * (but a comment) stands between. */
static sqr_rc add_text(parser *p, size_t from, size_t to) {
  const char *s = p->src->text;
  tmpl *t = p->t;
  char *dst = t->pool + t->used;
  size_t k = 0;
  for(size_t i = from; i < to;) {
    if(s[i] == '\n' || (s[i] == '\r' && i + 1 < to && s[i + 1] == '\n')) {
      i += s[i] == '\r' ? 2 : 1;
      while(i < to && (s[i] == ' ' || s[i] == '\t'))
        i++;
      continue;
    }
    dst[k++] = s[i++];
  }
  if(!k) return SQR_OK;
  pool_take(t, k);
  node *last = t->n ? &t->nodes[t->n - 1] : NULL;
  if(p->can_merge && last && last->s + last->len == dst) {
    last->len += k;
    return SQR_OK;
  }
  node *nd = add_node(p, N_TEXT, from);
  if(!nd) return oom(p);
  nd->s = dst;
  nd->len = k;
  p->can_merge = 1;
  return SQR_OK;
}

static int name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

/* A value or section name: "." or keys of [A-Za-z0-9_-] joined by '.';
 * a partial's name: one such key. */
static int name_ok(const char *s, size_t n, int dotted) {
  if(n == 0 || n > MAX_NAME) return 0;
  if(dotted && n == 1 && s[0] == '.') return 1;
  int after_dot = 1;
  for(size_t i = 0; i < n; i++) {
    if(s[i] == '.' && dotted && !after_dot) {
      after_dot = 1;
    } else if(name_char(s[i])) {
      after_dot = 0;
    } else {
      return 0;
    }
  }
  return !after_dot;
}

/* Copies the name (and its keys) into the pool for nd. */
static void set_name(tmpl *t, node *nd, const char *s, size_t n) {
  char *name = pool_take(t, n + 1);
  memcpy(name, s, n);
  name[n] = '\0';
  nd->s = name;
  if(n == 1 && s[0] == '.') return; /* keys NULL: the innermost scope */
  char *keys = pool_take(t, n + 1);
  memcpy(keys, name, n + 1);
  nd->nkeys = 1;
  for(size_t i = 0; i < n; i++)
    if(keys[i] == '.') {
      keys[i] = '\0';
      nd->nkeys++;
    }
  nd->keys = keys;
}

static const char *find(const char *s, size_t from, size_t len, const char *what) {
  size_t wl = strlen(what);
  for(size_t i = from; i + wl <= len; i++)
    if(memcmp(s + i, what, wl) == 0) return s + i;
  return NULL;
}

static void trim(const char **s, size_t *n) {
  while(*n && (**s == ' ' || **s == '\t'))
    (*s)++, (*n)--;
  while(*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
    (*n)--;
}

static sqr_rc compile(parser *p) {
  const char *s = p->src->text;
  size_t len = p->src->len, pos = 0;
  tmpl *t = p->t;
  struct {
    size_t node, at;
  } open[MAX_NEST];
  int depth = 0;
  sqr_rc rc;
  /* Text shrinks, and each tag's name and keys fit in twice its length. */
  t->poolcap = 3 * len + 1;
  if(!(t->pool = malloc(t->poolcap))) return oom(p);
  for(;;) {
    const char *o = find(s, pos, len, "{{");
    size_t at = o ? (size_t)(o - s) : len;
    if((rc = add_text(p, pos, at))) return rc;
    if(!o) break;
    size_t i = at + 2;
    int triple = i < len && s[i] == '{';
    if(triple) i++;
    const char *c = find(s, i, len, triple ? "}}}" : "}}");
    if(!c) return fail(p, at, "'%s' is never closed", triple ? "{{{" : "{{");
    const char *in = s + i;
    size_t n = (size_t)(c - in);
    pos = (size_t)(c - s) + (triple ? 3 : 2);
    trim(&in, &n);
    if(!triple && n && in[0] == '!') continue; /* a comment */
    if(!triple && n == 2 && in[0] == '\\' && in[1] == 'n') {
      /* {{\n}}: one newline, kept as text */
      char *nl = pool_take(t, 1);
      *nl = '\n';
      node *last = t->n ? &t->nodes[t->n - 1] : NULL;
      if(p->can_merge && last && last->s + last->len == nl) {
        last->len++;
      } else {
        node *nd = add_node(p, N_TEXT, at);
        if(!nd) return oom(p);
        nd->s = nl;
        nd->len = 1;
        p->can_merge = 1;
      }
      continue;
    }
    char sigil = !triple && n && strchr("#^/>&=", in[0]) ? in[0] : 0;
    if(sigil) {
      in++, n--;
      trim(&in, &n);
    }
    if(sigil == '&') return fail(p, at, "'{{&' is not supported: raw text is written {{{name}}}");
    if(sigil == '=') return fail(p, at, "changing the delimiters is not supported");
    if(!name_ok(in, n, sigil != '>'))
      return fail(p, at, "bad name '%.*s' (keys of A-Z a-z 0-9 _ - joined by '.')",
                  (int)(n > MAX_NAME ? MAX_NAME : n), in);
    if(sigil == '/') {
      if(!depth) return fail(p, at, "'{{/%.*s}}' closes no section", (int)n, in);
      node *op = &t->nodes[open[depth - 1].node];
      if(strlen(op->s) != n || memcmp(op->s, in, n) != 0)
        return fail(p, at, "'{{/%.*s}}' does not close '{{%c%s}}' (line %d)", (int)n, in,
                    op->kind == N_SECTION ? '#' : '^', op->s, op->line);
      op->end = t->n;
      depth--;
      p->can_merge = 0; /* text after the close is not the section's */
      continue;
    }
    int kind = triple         ? N_RAW
               : sigil == '#' ? N_SECTION
               : sigil == '^' ? N_INVERTED
               : sigil == '>' ? N_PARTIAL
                              : N_VAR;
    if((kind == N_SECTION || kind == N_INVERTED) && depth == MAX_NEST)
      return fail(p, at, "sections nested deeper than %d", MAX_NEST);
    node *nd = add_node(p, kind, at);
    if(!nd) return oom(p);
    set_name(t, nd, in, n);
    if(kind == N_SECTION || kind == N_INVERTED) {
      open[depth].node = t->n - 1;
      open[depth].at = at;
      depth++;
    }
  }
  if(depth) {
    const node *op = &t->nodes[open[depth - 1].node];
    return fail(p, open[depth - 1].at, "'{{%c%s}}' is never closed",
                op->kind == N_SECTION ? '#' : '^', op->s);
  }
  return SQR_OK;
}

static size_t find_template(const tmpl_set *s, const char *name) {
  for(size_t i = 0; i < s->n; i++)
    if(strcmp(s->t[i].name, name) == 0) return i;
  return s->n;
}

/* 1 if template i reaches itself through partials (state: 0 unseen,
 * 1 on the current path, 2 done). */
static int cycle_from(const tmpl_set *s, size_t i, unsigned char *state) {
  if(state[i] == 1) return 1;
  if(state[i] == 2) return 0;
  state[i] = 1;
  for(size_t k = 0; k < s->t[i].n; k++)
    if(s->t[i].nodes[k].kind == N_PARTIAL && cycle_from(s, s->t[i].nodes[k].partial, state))
      return 1;
  state[i] = 2;
  return 0;
}

void tmpl_set_free(tmpl_set *s) {
  if(!s) return;
  for(size_t i = 0; i < s->n; i++) {
    free(s->t[i].name);
    free(s->t[i].nodes);
    free(s->t[i].pool);
  }
  free(s->t);
  free(s);
}

sqr_rc tmpl_set_new(const tmpl_source *src, size_t n, tmpl_set **out, char *err, size_t errlen) {
  *out = NULL;
  if(errlen) err[0] = '\0';
  sqr_rc rc = SQR_OK;
  unsigned char *state = NULL;
  tmpl_set *s = calloc(1, sizeof *s);
  if(!s || (n && !(s->t = calloc(n, sizeof *s->t)))) {
    if(errlen) snprintf(err, errlen, "out of memory");
    rc = SQR_ENOMEM;
    goto out;
  }
  for(size_t i = 0; i < n; i++) {
    parser p = {.src = &src[i], .t = &s->t[i], .err = err, .errlen = errlen};
    s->n = i + 1;
    if(!name_ok(src[i].name, strlen(src[i].name), 0)) {
      if(errlen) snprintf(err, errlen, "'%s': not a template name", src[i].name);
      rc = SQR_EINVAL;
      goto out;
    }
    for(size_t j = 0; j < i; j++)
      if(strcmp(src[j].name, src[i].name) == 0) {
        if(errlen) snprintf(err, errlen, "%s: two templates of that name", src[i].name);
        rc = SQR_EINVAL;
        goto out;
      }
    if(!(s->t[i].name = strdup(src[i].name))) {
      rc = oom(&p);
      goto out;
    }
    if((rc = compile(&p))) goto out;
  }
  /* Partials name templates of the set; none may include itself. */
  for(size_t i = 0; i < s->n; i++)
    for(size_t k = 0; k < s->t[i].n; k++) {
      node *nd = &s->t[i].nodes[k];
      if(nd->kind != N_PARTIAL) continue;
      if((nd->partial = find_template(s, nd->s)) == s->n) {
        if(errlen)
          snprintf(err, errlen, "%s:%d:%d: unknown partial '%s'", s->t[i].name, nd->line, nd->col,
                   nd->s);
        rc = SQR_EINVAL;
        goto out;
      }
    }
  if(s->n && !(state = calloc(s->n, 1))) {
    rc = SQR_ENOMEM;
    goto out;
  }
  for(size_t i = 0; i < s->n; i++) {
    memset(state, 0, s->n);
    if(cycle_from(s, i, state)) {
      if(errlen) snprintf(err, errlen, "%s: includes itself through partials", s->t[i].name);
      rc = SQR_EINVAL;
      goto out;
    }
  }
out:
  free(state);
  if(rc)
    tmpl_set_free(s);
  else
    *out = s;
  return rc;
}

/* ---- rendering ------------------------------------------------------------------ */

typedef struct render {
  const tmpl_set *set;
  dynbuf *out;
  const cJSON *scope[MAX_DEPTH];
  int depth;
} render;

static const cJSON *lookup(const render *r, const node *nd) {
  if(!nd->keys) return r->scope[r->depth - 1];
  const char *k = nd->keys;
  const cJSON *v = NULL;
  for(int i = r->depth - 1; i >= 0 && !v; i--)
    if(cJSON_IsObject(r->scope[i])) v = cJSON_GetObjectItemCaseSensitive(r->scope[i], k);
  for(int j = 1; v && j < nd->nkeys; j++) {
    k += strlen(k) + 1;
    v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, k) : NULL;
  }
  return v;
}

static int truthy(const cJSON *v) {
  if(cJSON_IsString(v)) return v->valuestring && v->valuestring[0];
  if(cJSON_IsNumber(v)) return v->valuedouble != 0;
  if(cJSON_IsArray(v) || cJSON_IsObject(v)) return v->child != NULL;
  return cJSON_IsTrue(v);
}

static void put_value(dynbuf *out, const cJSON *v, int raw) {
  if(cJSON_IsString(v) && v->valuestring) {
    if(raw)
      dynbuf_adds(out, v->valuestring);
    else
      dynbuf_add_html(out, v->valuestring);
  } else if(cJSON_IsNumber(v)) {
    /* digits, sign, '.', 'e': nothing to escape */
    double d = v->valuedouble;
    if(isfinite(d) && d == floor(d) && fabs(d) < 9e18)
      dynbuf_addf(out, "%lld", (long long)d);
    else
      dynbuf_addf(out, "%.15g", d);
  } else if(cJSON_IsBool(v)) {
    dynbuf_adds(out, cJSON_IsTrue(v) ? "true" : "false");
  }
}

static sqr_rc run(render *r, const tmpl *t, size_t from, size_t to);

/* The body of a section, once, with v as the innermost scope. */
static sqr_rc run_in(render *r, const tmpl *t, const node *nd, size_t at, const cJSON *v) {
  if(r->depth == MAX_DEPTH) return SQR_EINVAL;
  r->scope[r->depth++] = v;
  sqr_rc rc = run(r, t, at + 1, nd->end);
  r->depth--;
  return rc;
}

static sqr_rc run(render *r, const tmpl *t, size_t from, size_t to) {
  sqr_rc rc = SQR_OK;
  for(size_t i = from; i < to && !rc; i++) {
    const node *nd = &t->nodes[i];
    switch(nd->kind) {
    case N_TEXT:
      dynbuf_add(r->out, nd->s, nd->len);
      break;
    case N_VAR:
    case N_RAW:
      put_value(r->out, lookup(r, nd), nd->kind == N_RAW);
      break;
    case N_SECTION: {
      const cJSON *v = lookup(r, nd);
      if(cJSON_IsArray(v)) {
        for(const cJSON *item = v->child; item && !rc; item = item->next)
          rc = run_in(r, t, nd, i, item);
      } else if(truthy(v)) {
        rc = run_in(r, t, nd, i, v);
      }
      i = nd->end - 1;
      break;
    }
    case N_INVERTED:
      if(!truthy(lookup(r, nd))) rc = run(r, t, i + 1, nd->end);
      i = nd->end - 1;
      break;
    case N_PARTIAL: {
      const tmpl *pt = &r->set->t[nd->partial];
      rc = run(r, pt, 0, pt->n);
      break;
    }
    }
    if(!rc) rc = dynbuf_error(r->out);
  }
  return rc;
}

sqr_rc tmpl_set_render(const tmpl_set *s, const char *name, const cJSON *view, dynbuf *out) {
  size_t i = find_template(s, name);
  if(i == s->n) return SQR_ENOTFOUND;
  render r = {.set = s, .out = out, .depth = 1};
  r.scope[0] = view;
  sqr_rc rc = run(&r, &s->t[i], 0, s->t[i].n);
  return rc ? rc : dynbuf_error(out);
}

/* ---- the embedded set ------------------------------------------------------------ */

static pthread_once_t embedded_once = PTHREAD_ONCE_INIT;
static tmpl_set *embedded;

static void compile_embedded(void) {
  char err[300];
  if(tmpl_set_new(tmpl__embedded, tmpl__embedded_count, &embedded, err, sizeof err))
    log_error("tmpl", "the pages' templates do not compile: %s", err);
}

sqr_rc tmpl_render(const char *name, const cJSON *view, dynbuf *out) {
  pthread_once(&embedded_once, compile_embedded);
  if(!embedded) return SQR_EINVAL;
  return tmpl_set_render(embedded, name, view, out);
}

sqr_rc tmpl_check_embedded(char *err, size_t errlen) {
  tmpl_set *s;
  sqr_rc rc = tmpl_set_new(tmpl__embedded, tmpl__embedded_count, &s, err, errlen);
  tmpl_set_free(s);
  return rc;
}
