/* screen_details.c — join, step 3 (optional): interest tags and the staff
 * member who helped (导购 attribution). "Finish" signs up; choosing nothing
 * is fine. Widgets are "tag.<id>", "staff.<id>", "staff.none", "finish". */
#include <stdio.h>
#include <string.h>

#include "widget.h"

static void sync_widgets(ui_app *app, ui_screen *s) {
  for(int i = 0; i < s->nw; i++) {
    ui_widget *w = s->w[i];
    if(strncmp(w->name, "tag.", 4) == 0)
      ui_button_set_on(w, app->flow.tag_on[w->tag]);
    else if(strncmp(w->name, "staff.", 6) == 0)
      ui_button_set_on(w, app->flow.staff == w->tag);
  }
}

static void layout(ui_app *app, ui_screen *s) {
  int u = app->u, w = app->w, h = app->h;
  const sqr_config *cfg = store_config(app->st);
  if(!cfg) return;
  int cols = app->portrait ? 3 : 5;
  int cw = (w - 12 * u - (cols - 1) * 3 * u) / cols, ch = 11 * u;
  int y = 22 * u;
  char name[UI_NAME_MAX];
  for(size_t i = 0; i < cfg->ntags; i++) {
    SDL_Rect r = {6 * u + (int)(i % (size_t)cols) * (cw + 3 * u),
                  y + (int)(i / (size_t)cols) * (ch + 3 * u), cw, ch};
    snprintf(name, sizeof name, "tag.%s", cfg->tags[i].id);
    ui_widget *b = ui_button_new(name, app->lang == UI_LANG_EN ? cfg->tags[i].en : cfg->tags[i].zh,
                                 r, 5 * u, UI_PANEL, UI_FG);
    b->tag = (int)i;
    ui_screen_add(s, b);
  }
  y += (int)((cfg->ntags + (size_t)cols - 1) / (size_t)cols) * (ch + 3 * u) + 12 * u;
  for(size_t i = 0; i <= cfg->nstaff; i++) {
    SDL_Rect r = {6 * u + (int)(i % (size_t)cols) * (cw + 3 * u),
                  y + (int)(i / (size_t)cols) * (ch + 3 * u), cw, ch};
    ui_widget *b;
    if(i < cfg->nstaff) {
      snprintf(name, sizeof name, "staff.%s", cfg->staff[i].id);
      b = ui_button_new(name, cfg->staff[i].name, r, 5 * u, UI_PANEL, UI_FG);
      b->tag = (int)i;
    } else {
      b = ui_button_new("staff.none", ui_str(app->lang, S_STAFF_NONE), r, 5 * u, UI_PANEL, UI_FG);
      b->tag = -1;
    }
    ui_screen_add(s, b);
  }
  int bw = app->portrait ? (w - 20 * u) / 2 : 40 * u;
  ui_screen_add(s, ui_button_new("finish", ui_str(app->lang, S_FINISH),
                                 (SDL_Rect){w - 8 * u - bw, h - 22 * u, bw, 14 * u}, 6 * u,
                                 UI_ACCENT, UI_WHITE));
  ui_screen_add(s,
                ui_button_new("back", ui_str(app->lang, S_BACK),
                              (SDL_Rect){8 * u, h - 22 * u, bw, 14 * u}, 6 * u, UI_PANEL, UI_FG));
  sync_widgets(app, s);
}

static void event(ui_app *app, ui_screen *s, const ui_input *in) {
  if(in->kind == UI_KEY && in->key == SDLK_RETURN) {
    ui_flow_signup(app);
    return;
  }
  if(in->kind != UI_RELEASE) return;
  ui_widget *w = ui_screen_hit(s, in->x, in->y);
  if(!w) return;
  if(strncmp(w->name, "tag.", 4) == 0)
    app->flow.tag_on[w->tag] = !app->flow.tag_on[w->tag];
  else if(strncmp(w->name, "staff.", 6) == 0)
    app->flow.staff = w->tag;
  else if(strcmp(w->name, "finish") == 0) {
    ui_flow_signup(app);
    return;
  } else if(strcmp(w->name, "back") == 0) {
    ui_go(app, UI_SCREEN_CONSENT);
    return;
  }
  sync_widgets(app, s);
}

static void draw(ui_app *app, ui_screen *s) {
  int u = app->u;
  ui_label(app, ui_str(app->lang, S_DETAILS_TITLE), 7 * u, UI_FG, app->w / 2, 4 * u, UI_CENTER);
  ui_label(app, ui_str(app->lang, S_TAGS), 5 * u, UI_MUTED, 6 * u, 14 * u, UI_LEFT);
  ui_widget *first_staff = ui_screen_find(s, "staff.none");
  for(int i = 0; i < s->nw; i++)
    if(strncmp(s->w[i]->name, "staff.", 6) == 0) {
      first_staff = s->w[i];
      break;
    }
  if(first_staff)
    ui_label(app, ui_str(app->lang, S_STAFF_WHO), 5 * u, UI_MUTED, 6 * u, first_staff->r.y - 8 * u,
             UI_LEFT);
}

const ui_screen_ops screen_details_ops = {"details", NULL, layout, event, NULL, draw, NULL, NULL};
