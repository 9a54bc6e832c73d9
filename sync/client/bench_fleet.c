/* storeqr-sync-fleet — a fleet of kiosks syncing at once, from one
 * process, for tools/bench/bench-sync step 4 (not installed).
 *
 * Each kiosk database named on stdin (one path a line) gets exactly the
 * pass `storeqr-sync --once --no-config --batch N` would run
 * (syncpass_run: its own TLS connection with its own certificate, its
 * batches, its acks), PAR of them at a time on threads. What it leaves
 * out is what a real kiosk pays on its own CPU and HQ never sees: a
 * process start, with the dynamic linking of libcurl's dependencies and
 * OpenSSL's initialisation (about 60 ms of CPU a run on the bench box,
 * 80 % of everything the 1,000 runs and HQ did together).
 *
 * usage: storeqr-sync-fleet [--par P] [--batch N] < PATHS (at most 100,000)
 * Prints one JSON line: passes, failed, events, seconds. Exit 1 if any
 * pass failed (the first error goes to stderr). */
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "syncpass.h"

#define FLEET_MAX 100000

static char **paths;
static size_t npaths;
static atomic_size_t next_path;
static atomic_llong events, failed;
static int batch = 500;
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_error[400];

static void *worker(void *arg) {
  (void)arg;
  for(size_t i; (i = atomic_fetch_add(&next_path, 1)) < npaths;) {
    syncpass_opts o = {
        .db_path = paths[i], .batch_events = batch, .skip_config = 1, .skip_update = 1};
    syncpass_result r;
    sqr_rc rc = syncpass_run(&o, &r);
    if(rc) {
      atomic_fetch_add(&failed, 1);
      pthread_mutex_lock(&err_lock);
      if(!first_error[0])
        snprintf(first_error, sizeof first_error, "%s: %s", paths[i],
                 r.error[0] ? r.error : sqr_strerror(rc));
      pthread_mutex_unlock(&err_lock);
      continue;
    }
    atomic_fetch_add(&events, r.sent_events);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int par = 16;
  for(int i = 1; i < argc; i++) {
    if(strcmp(argv[i], "--par") == 0 && i + 1 < argc)
      par = atoi(argv[++i]);
    else if(strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
      batch = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: storeqr-sync-fleet [--par 1..256] [--batch 1..500] < PATHS\n");
      return 2;
    }
  }
  if(par < 1 || par > 256 || batch < 1 || batch > 500) {
    fprintf(stderr, "storeqr-sync-fleet: --par is 1..256, --batch 1..500\n");
    return 2;
  }
  if(!(paths = calloc(FLEET_MAX, sizeof *paths))) return 3;
  char line[2048];
  while(fgets(line, sizeof line, stdin)) {
    size_t n = strcspn(line, "\n");
    if(!line[n] && !feof(stdin)) {
      fprintf(stderr, "storeqr-sync-fleet: a path of %zu bytes or more\n", sizeof line - 1);
      return 2;
    }
    line[n] = '\0';
    if(!line[0]) continue;
    if(npaths == FLEET_MAX) {
      fprintf(stderr, "storeqr-sync-fleet: more than %d kiosk databases\n", FLEET_MAX);
      return 2;
    }
    if(!(paths[npaths++] = strdup(line))) return 3;
  }
  if(!npaths) {
    fprintf(stderr, "storeqr-sync-fleet: no kiosk databases on stdin\n");
    return 2;
  }
  if(curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 3;
  signal(SIGPIPE, SIG_IGN);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pthread_t th[256];
  int started = 0;
  for(; started < par; started++)
    if(pthread_create(&th[started], NULL, worker, NULL)) break;
  if(!started) worker(NULL);
  for(int i = 0; i < started; i++)
    pthread_join(th[i], NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("{\"passes\":%zu,\"failed\":%lld,\"events\":%lld,\"seconds\":%.3f}\n", npaths,
         (long long)atomic_load(&failed), (long long)atomic_load(&events), s);
  if(first_error[0]) fprintf(stderr, "storeqr-sync-fleet: %s\n", first_error);
  for(size_t i = 0; i < npaths; i++)
    free(paths[i]);
  free(paths);
  curl_global_cleanup();
  return atomic_load(&failed) ? 1 : 0;
}
