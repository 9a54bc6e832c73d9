/* test_ui_xvfb.c — storeqr-kiosk in a real X window: starts Xvfb on a free
 * display (unix socket only, -nolisten tcp), runs the kiosk on it with the
 * real clock, grabs the X root window (XGetImage), decodes the QR with zbar
 * and checks it is the store's live code. Xvfb and the kiosk are both
 * stopped at the end, whatever happens. Waiting is bounded by attempts,
 * and nothing is asserted about how long anything took. */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <errno.h>
#include <png.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "uitest.h"

extern char **environ;
static pid_t xvfb_pid, kiosk_pid;

static void stop(pid_t *pid) {
  if(*pid <= 0) return;
  kill(*pid, SIGTERM);
  for(int i = 0; i < 50; i++) {
    if(waitpid(*pid, NULL, WNOHANG) == *pid) {
      *pid = 0;
      return;
    }
    usleep(100 * 1000);
  }
  kill(*pid, SIGKILL);
  waitpid(*pid, NULL, 0);
  *pid = 0;
}

static void cleanup(void) {
  stop(&kiosk_pid);
  stop(&xvfb_pid);
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  if(argc != 2) {
    fprintf(stderr, "usage: test_ui_xvfb KIOSK\n");
    return 2;
  }
  ut_kiosk = argv[1];
  ut_setup("xvfb");
  atexit(cleanup);
  char db[1200];
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  ut_make_store(db, (int64_t)time(NULL), NULL);

  int dpy = -1;
  char sock[64], lock[64];
  for(int n = 90; n < 190; n++) {
    snprintf(sock, sizeof sock, "/tmp/.X11-unix/X%d", n);
    snprintf(lock, sizeof lock, "/tmp/.X%d-lock", n);
    if(access(sock, F_OK) != 0 && access(lock, F_OK) != 0) {
      dpy = n;
      break;
    }
  }
  UT_CHECK(dpy > 0, "no free X display number");
  char dname[16];
  snprintf(dname, sizeof dname, ":%d", dpy);
  char *xargv[] = {"Xvfb", dname,          "-nolisten", "tcp", "-screen",
                   "0",    "1080x1920x24", "-noreset",  NULL};
  int e = posix_spawnp(&xvfb_pid, "Xvfb", NULL, NULL, xargv, environ);
  UT_CHECK(e == 0, "cannot start Xvfb (install the Debian package xvfb): %s", strerror(e));
  setenv("DISPLAY", dname, 1);
  Display *d = NULL;
  for(int i = 0; i < 200 && !d; i++) {
    if(access(sock, F_OK) == 0) d = XOpenDisplay(dname);
    if(!d) sleep_ms(50);
  }
  UT_CHECK(d, "Xvfb did not come up on %s", dname);

  char *kargv[] = {(char *)ut_kiosk, "--db", db, "--size", "1080x1920", NULL};
  e = posix_spawn(&kiosk_pid, ut_kiosk, NULL, NULL, kargv, environ);
  UT_CHECK(e == 0, "cannot start %s: %s", ut_kiosk, strerror(e));

  Window root = DefaultRootWindow(d);
  XWindowAttributes wa;
  XGetWindowAttributes(d, root, &wa);
  int w = wa.width, h = wa.height;
  uint8_t *gray = malloc((size_t)w * (size_t)h);
  UT_CHECK(gray, "memory");
  char got[1024] = "", now_text[1024], prev_text[1024];
  int found = 0;
  for(int attempt = 0; attempt < 150 && !found; attempt++) {
    int status;
    UT_CHECK(waitpid(kiosk_pid, &status, WNOHANG) == 0, "the kiosk exited early (status %d)",
             status);
    XImage *img = XGetImage(d, root, 0, 0, (unsigned)w, (unsigned)h, AllPlanes, ZPixmap);
    int64_t t_cap = (int64_t)time(NULL);
    if(img) {
      for(int y = 0; y < h; y++)
        for(int x = 0; x < w; x++) {
          unsigned long p = XGetPixel(img, x, y);
          gray[(size_t)y * (size_t)w + (size_t)x] =
              (uint8_t)((((p >> 16) & 0xFF) * 30 + ((p >> 8) & 0xFF) * 59 + (p & 0xFF) * 11) / 100);
        }
      XDestroyImage(img);
      if(ut_decode_gray(gray, w, h, got, sizeof got) == 1 && strncmp(got, "HTTPS://", 8) == 0) {
        found = 1;
        ut_live_text(db, t_cap, now_text, sizeof now_text);
        ut_live_text(db, t_cap - 1, prev_text, sizeof prev_text);
        UT_CHECK(strcmp(got, now_text) == 0 || strcmp(got, prev_text) == 0,
                 "X screen QR '%s' is not the live code '%s'", got, now_text);
        ut_verify_url(db, strcmp(got, now_text) == 0 ? now_text : prev_text,
                      strcmp(got, now_text) == 0 ? t_cap : t_cap - 1);
        png_image pi;
        memset(&pi, 0, sizeof pi);
        pi.version = PNG_IMAGE_VERSION;
        pi.width = (png_uint_32)w;
        pi.height = (png_uint_32)h;
        pi.format = PNG_FORMAT_GRAY;
        char p[1300];
        snprintf(p, sizeof p, "%s/xscreen.png", ut_dir);
        png_image_write_to_file(&pi, p, 0, gray, 0, NULL);
      }
    }
    if(!found) sleep_ms(100);
  }
  free(gray);
  XCloseDisplay(d);
  UT_CHECK(found, "no live QR code on the X display");
  printf("xvfb: ok (%s)\n", got);
  return 0;
}
