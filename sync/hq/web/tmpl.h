/* tmpl.h — HQ's page templates: a small mustache-like language, compiled
 * once, rendered from a cJSON view into a bounded dynbuf.
 *
 * The language:
 *   {{name}}            the value, HTML-escaped (dynbuf_add_html): text and
 *                       quoted attribute values are safe whatever it holds
 *   {{{name}}}          the value as it is: the ONLY way past the escaping,
 *                       for fragments our own code rendered (never text
 *                       that came from outside)
 *   {{#name}}..{{/name}} once per item of an array (the item is the new
 *                       innermost scope), or once when the value is truthy
 *   {{^name}}..{{/name}} once when the value is falsy
 *   {{>name}}           another template of the same set (a partial), in
 *                       the current scope
 *   {{! text }}         a comment
 *   {{\n}}              a newline (see the next paragraph)
 * A name is a key looked up from the innermost scope outwards (the first
 * object holding it wins), then dotted keys descend from there: a.b.c;
 * "." is the innermost scope itself. A missing key renders as nothing.
 * Truthy: a non-empty string, a non-zero number, true, a non-empty array
 * or object. Numbers render as integers when they are integral; true and
 * false as "true" and "false"; null, arrays and objects as nothing.
 *
 * Whitespace: templates are written indented and pages go out compact, so
 * a line break in a template, with the spaces and tabs that begin the next
 * line, is not part of it. A page that needs a newline writes {{\n}}.
 *
 * A template that does not parse (an unclosed tag or section, a close that
 * does not match, a bad name, an unknown or recursive partial) is refused
 * with its name, line and column; the embedded set is checked by
 * tests/hqweb (hqweb.tmpl), so a broken template fails the build's tests.
 *
 * Owns the compiled templates. Never logs a view's content.
 */
#ifndef SQR_TMPL_H
#define SQR_TMPL_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "dynbuf.h"
#include "sqr.h"

/* A template's name (file name without ".html") and text. */
typedef struct tmpl_source {
  const char *name;
  const char *text;
  size_t len;
} tmpl_source;

/* Templates compiled together; partials refer to each other by name. */
typedef struct tmpl_set tmpl_set;

/* Compiles n templates (the set copies what it needs; src may go). On
 * failure *out is NULL and err holds "name:line:col: reason". SQR_EINVAL
 * for a template that does not parse, SQR_ENOMEM. */
sqr_rc tmpl_set_new(const tmpl_source *src, size_t n, tmpl_set **out, char *err,
                    size_t errlen) SQR_WARN_UNUSED;
/* NULL is fine. */
void tmpl_set_free(tmpl_set *s);

/* Appends template name rendered with view (NULL: an empty view) to out.
 * SQR_ENOTFOUND for an unknown name; the dynbuf's error (SQR_ETOOBIG past
 * its limit, SQR_ENOMEM); on an error out may hold part of the page. */
sqr_rc tmpl_set_render(const tmpl_set *s, const char *name, const cJSON *view,
                       dynbuf *out) SQR_WARN_UNUSED;

/* The same with the templates embedded at build time (sync/hq/templates),
 * compiled at first use (thread-safe) and kept for the process' life.
 * SQR_EINVAL when they did not compile (logged once). */
sqr_rc tmpl_render(const char *name, const cJSON *view, dynbuf *out) SQR_WARN_UNUSED;

/* Compiles the embedded templates afresh: SQR_OK, or the first failure
 * with its message in err (for the test that guards them). */
sqr_rc tmpl_check_embedded(char *err, size_t errlen) SQR_WARN_UNUSED;

/* The embedded sources, defined in the file the build generates from the
 * .html files of sync/hq/templates (web/embed_templates.cmake). */
extern const tmpl_source tmpl__embedded[];
extern const size_t tmpl__embedded_count;

#endif
