/* faultproxy.c — storeqr-faultproxy: a small TCP proxy that breaks the sync
 * connection on purpose, for the fault tests.
 *
 * Listens on 127.0.0.1:PORT and forwards each connection to
 * 127.0.0.1:TARGET, applying one fault mode per connection:
 *   pass          forward untouched
 *   cut-up:N      close both sides (FIN) after N client->server bytes
 *   cut-down:N    close both sides (FIN) after N server->client bytes
 *   delay:D       hold every chunk D ms before passing it on
 *   lose:K        "HQ committed but the answer is lost": forward everything
 *                 until the server starts its K-th flight (a burst of
 *                 server bytes that follows client bytes; flight 1 is the
 *                 TLS handshake answer, 2 and later carry HTTP answers),
 *                 then reset the client (RST: SO_LINGER 0) without passing
 *                 that flight on, and close the server side with a FIN so
 *                 the request it already has is still processed
 *   dup           also send the client's bytes to a second upstream
 *                 connection whose answers are dropped (for TLS the server
 *                 rejects the replayed handshake; the useful "send twice"
 *                 is the client re-sending a batch after a failure)
 * Modes come from --mode (every connection), --modes (a list applied to
 * successive connections, then pass) or --seed (a random mode per
 * connection). One poll loop, no threads. Bounded: it exits after
 * --max-conns connections have finished or --max-seconds have passed.
 * Listens on 127.0.0.1 only; never looks at what it forwards beyond
 * counting bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 64
#define CHUNK     16384

enum mode_kind { M_PASS, M_CUT_UP, M_CUT_DOWN, M_DELAY, M_LOSE, M_DUP };
static const char *const mode_names[] = {"pass", "cut-up", "cut-down", "delay", "lose", "dup"};

typedef struct mode {
  enum mode_kind kind;
  long arg;
} mode;

/* One direction of a proxied connection: bytes read from src wait in buf
 * (until release_ms for delay mode) and are written to dst. Nothing more is
 * read from src while buf holds data, which is also the backpressure. */
typedef struct pipe_dir {
  unsigned char buf[CHUNK];
  size_t len, off;
  int64_t release_ms;
  long long total;
  int eof; /* src said EOF; dst gets shutdown(SHUT_WR) once buf drains */
} pipe_dir;

typedef struct conn {
  int used;
  int id;
  int cfd, ufd, dupfd; /* client, upstream, duplicate upstream (-1 if none) */
  mode m;
  pipe_dir up, down; /* up: client -> server, down: server -> client */
  int last_dir;      /* 1 up, 2 down: the last direction that carried bytes */
  int flights;       /* server flights seen (for lose) */
} conn;

static conn conns[MAX_CONNS];
static volatile sig_atomic_t stop;
static int verbose;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static int parse_mode(const char *s, mode *out) {
  char name[16];
  const char *colon = strchr(s, ':');
  size_t n = colon ? (size_t)(colon - s) : strlen(s);
  if(n >= sizeof name) return -1;
  memcpy(name, s, n);
  name[n] = 0;
  for(size_t i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++) {
    if(strcmp(name, mode_names[i]) != 0) continue;
    out->kind = (enum mode_kind)i;
    out->arg = 0;
    int needs = out->kind == M_CUT_UP || out->kind == M_CUT_DOWN || out->kind == M_DELAY;
    if(colon) {
      char *end;
      out->arg = strtol(colon + 1, &end, 10);
      if(*end || out->arg < 0 || colon[1] == 0) return -1;
    } else if(needs) {
      return -1;
    }
    if(out->kind == M_LOSE && !colon) out->arg = 2;
    if(out->kind == M_LOSE && out->arg < 1) return -1;
    return 0;
  }
  return -1;
}

static void mode_str(const mode *m, char *buf, size_t size) {
  if(m->kind == M_PASS || m->kind == M_DUP)
    snprintf(buf, size, "%s", mode_names[m->kind]);
  else
    snprintf(buf, size, "%s:%ld", mode_names[m->kind], m->arg);
}

/* xorshift64*: reproducible from --seed, good enough to pick fault modes. */
static uint64_t rng_state;
static uint64_t rng_next(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ULL;
}

static mode random_mode(void) {
  mode m = {M_PASS, 0};
  switch(rng_next() % 6) {
  case 0:
    break;
  case 1:
    m.kind = M_CUT_UP;
    m.arg = (long)(rng_next() % 6000);
    break;
  case 2:
    m.kind = M_CUT_DOWN;
    m.arg = (long)(rng_next() % 6000);
    break;
  case 3:
    m.kind = M_DELAY;
    m.arg = (long)(rng_next() % 200);
    break;
  case 4:
    m.kind = M_LOSE;
    m.arg = 2 + (long)(rng_next() % 3);
    break;
  default:
    m.kind = M_DUP;
    break;
  }
  return m;
}

static void set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if(fl >= 0) (void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int connect_upstream(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if(fd < 0) return -1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* Loopback connects complete at once or fail at once (ECONNREFUSED). */
  if(connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  set_nonblock(fd);
  return fd;
}

static void close_fd(int *fd, int rst) {
  if(*fd < 0) return;
  if(rst) {
    struct linger l = {.l_onoff = 1, .l_linger = 0};
    (void)setsockopt(*fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  close(*fd);
  *fd = -1;
}

static int finished;

static void conn_end(conn *c, const char *why) {
  char ms[32];
  mode_str(&c->m, ms, sizeof ms);
  if(verbose)
    fprintf(stderr, "faultproxy: conn %d mode %s: %s (up %lld bytes, down %lld bytes)\n", c->id, ms,
            why, c->up.total, c->down.total);
  close_fd(&c->cfd, 0);
  close_fd(&c->ufd, 0);
  close_fd(&c->dupfd, 0);
  c->used = 0;
  finished++;
}

/* Reads one chunk from src into d. Returns bytes read, 0 on EOF, -1 on a
 * hard error, -2 when nothing is there yet. */
static ssize_t fill(int src, pipe_dir *d) {
  ssize_t n = read(src, d->buf, sizeof d->buf);
  if(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return -2;
  return n;
}

/* Writes what d holds to dst. -1 on error. */
static int drain(int dst, pipe_dir *d) {
  while(d->off < d->len) {
    ssize_t n = write(dst, d->buf + d->off, d->len - d->off);
    if(n < 0) {
      if(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
      return -1;
    }
    d->off += (size_t)n;
  }
  d->len = d->off = 0;
  return 0;
}

/* Applies the mode to a chunk just read in direction dir (1 up, 2 down).
 * Returns 1 when the connection was ended by the fault. */
static int apply_mode(conn *c, int dir, pipe_dir *d, size_t n) {
  if(c->m.kind == M_DELAY) d->release_ms = now_ms() + c->m.arg;
  if(dir == 2 && c->last_dir != 2) c->flights++;
  c->last_dir = dir;
  if((c->m.kind == M_CUT_UP && dir == 1) || (c->m.kind == M_CUT_DOWN && dir == 2)) {
    if(d->total + (long long)n >= c->m.arg) {
      /* Pass on exactly N bytes of this direction, then cut both sides. */
      size_t keep = (size_t)(c->m.arg - d->total);
      d->len = keep;
      d->total += (long long)keep;
      int dst = dir == 1 ? c->ufd : c->cfd;
      (void)drain(dst, d); /* best effort: a cut is a cut */
      conn_end(c, "cut");
      return 1;
    }
  }
  if(c->m.kind == M_LOSE && dir == 2 && c->flights >= c->m.arg) {
    /* The server has started answering: the client never hears it. The
     * server side gets a FIN, not a RST, so the request it holds is still
     * read and committed. */
    close_fd(&c->cfd, 1);
    conn_end(c, "answer lost (client reset)");
    return 1;
  }
  if(c->m.kind == M_DUP && dir == 1 && c->dupfd >= 0) {
    ssize_t w = write(c->dupfd, d->buf, n); /* best effort copy */
    (void)w;
  }
  d->total += (long long)n;
  return 0;
}

static void usage(FILE *f) {
  fputs("usage: storeqr-faultproxy --listen PORT --target PORT [options]\n"
        "Forwards 127.0.0.1:PORT to 127.0.0.1:TARGET, breaking connections on purpose.\n"
        "  --listen PORT       0 picks a free port (see --port-file)\n"
        "  --target PORT       the server's port on 127.0.0.1\n"
        "  --mode MODE         the fault for every connection (default pass)\n"
        "  --modes M1,M2,...   one fault per successive connection, then pass\n"
        "  --seed N            a random fault per connection, reproducible from N\n"
        "  --max-conns N       exit after N connections have ended (default: no limit)\n"
        "  --max-seconds S     exit after S seconds (default 300)\n"
        "  --port-file FILE    write the listening port to FILE once listening\n"
        "  --verbose           one line per connection on stderr\n"
        "modes: pass | cut-up:N | cut-down:N | delay:MS | lose[:K] | dup\n"
        "exit codes: 0 stopped at a bound or by SIGTERM, 1 socket error, 2 usage\n",
        f);
}

int main(int argc, char **argv) {
  static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
                                       {"target", required_argument, NULL, 't'},
                                       {"mode", required_argument, NULL, 'm'},
                                       {"modes", required_argument, NULL, 'M'},
                                       {"seed", required_argument, NULL, 's'},
                                       {"max-conns", required_argument, NULL, 'c'},
                                       {"max-seconds", required_argument, NULL, 'S'},
                                       {"port-file", required_argument, NULL, 'p'},
                                       {"verbose", no_argument, NULL, 'v'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
  long listen_port = -1, target = -1, max_conns = -1, max_seconds = 300;
  mode fixed = {M_PASS, 0};
  mode list[256];
  size_t nlist = 0, next_list = 0;
  int seeded = 0;
  const char *port_file = NULL;
  int o;
  while((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch(o) {
    case 'l':
      listen_port = strtol(optarg, NULL, 10);
      break;
    case 't':
      target = strtol(optarg, NULL, 10);
      break;
    case 'm':
      if(parse_mode(optarg, &fixed)) {
        fprintf(stderr, "storeqr-faultproxy: bad mode '%s'\n", optarg);
        return 2;
      }
      break;
    case 'M': {
      char *copy = strdup(optarg), *save = NULL;
      for(char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if(nlist >= sizeof list / sizeof list[0] || parse_mode(t, &list[nlist])) {
          fprintf(stderr, "storeqr-faultproxy: bad mode '%s' in --modes\n", t);
          free(copy);
          return 2;
        }
        nlist++;
      }
      free(copy);
      break;
    }
    case 's':
      rng_state = strtoull(optarg, NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;
      seeded = 1;
      break;
    case 'c':
      max_conns = strtol(optarg, NULL, 10);
      break;
    case 'S':
      max_seconds = strtol(optarg, NULL, 10);
      break;
    case 'p':
      port_file = optarg;
      break;
    case 'v':
      verbose = 1;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if(listen_port < 0 || listen_port > 65535 || target <= 0 || target > 65535 || max_seconds <= 0 ||
     optind != argc) {
    usage(stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)listen_port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  if(lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
     bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 64) ||
     getsockname(lfd, (struct sockaddr *)&a, &alen)) {
    fprintf(stderr, "storeqr-faultproxy: cannot listen on 127.0.0.1:%ld: %s\n", listen_port,
            strerror(errno));
    return 1;
  }
  set_nonblock(lfd);
  if(port_file) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
    FILE *f = fopen(tmp, "w");
    if(!f || fprintf(f, "%d\n", ntohs(a.sin_port)) < 0 || fclose(f) || rename(tmp, port_file)) {
      fprintf(stderr, "storeqr-faultproxy: cannot write %s\n", port_file);
      return 1;
    }
  }
  if(verbose)
    fprintf(stderr, "faultproxy: 127.0.0.1:%d -> 127.0.0.1:%ld\n", ntohs(a.sin_port), target);

  int64_t deadline = now_ms() + max_seconds * 1000;
  int accepted = 0;
  while(!stop && now_ms() < deadline && (max_conns < 0 || finished < max_conns)) {
    struct pollfd pfd[1 + MAX_CONNS * 2];
    conn *owner[1 + MAX_CONNS * 2];
    int which[1 + MAX_CONNS * 2];
    nfds_t n = 0;
    int64_t now = now_ms(), timeout = deadline - now;
    int accepting = max_conns < 0 || accepted < max_conns;
    pfd[n] = (struct pollfd){.fd = accepting ? lfd : -1, .events = POLLIN};
    owner[n++] = NULL;
    for(int i = 0; i < MAX_CONNS; i++) {
      conn *c = &conns[i];
      if(!c->used) continue;
      /* Client side: read when up is empty, write when down is due. */
      short ce = 0, ue = 0;
      if(!c->up.len && !c->up.eof) ce |= POLLIN;
      if(!c->down.len && !c->down.eof) ue |= POLLIN;
      if(c->down.len) {
        if(c->down.release_ms <= now)
          ce |= POLLOUT;
        else if(c->down.release_ms - now < timeout)
          timeout = c->down.release_ms - now;
      }
      if(c->up.len) {
        if(c->up.release_ms <= now)
          ue |= POLLOUT;
        else if(c->up.release_ms - now < timeout)
          timeout = c->up.release_ms - now;
      }
      pfd[n] = (struct pollfd){.fd = c->cfd, .events = ce};
      owner[n] = c;
      which[n++] = 1;
      pfd[n] = (struct pollfd){.fd = c->ufd, .events = ue};
      owner[n] = c;
      which[n++] = 2;
    }
    if(timeout < 0) timeout = 0;
    int r = poll(pfd, n, (int)(timeout > 1000 ? 1000 : timeout));
    if(r < 0) {
      if(errno == EINTR) continue;
      perror("storeqr-faultproxy: poll");
      return 1;
    }
    if(pfd[0].revents & POLLIN) {
      int cfd = accept(lfd, NULL, NULL);
      int slot = -1;
      for(int i = 0; i < MAX_CONNS && cfd >= 0; i++)
        if(!conns[i].used) {
          slot = i;
          break;
        }
      if(cfd >= 0 && slot < 0) close(cfd);
      if(cfd >= 0 && slot >= 0) {
        conn *c = &conns[slot];
        memset(c, 0, sizeof *c);
        c->id = ++accepted;
        c->cfd = cfd;
        c->dupfd = -1;
        c->m = seeded              ? random_mode()
               : next_list < nlist ? list[next_list++]
               : nlist             ? (mode){M_PASS, 0}
                                   : fixed;
        set_nonblock(cfd);
        (void)setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->ufd = connect_upstream((int)target);
        c->used = 1;
        if(c->m.kind == M_DUP) c->dupfd = connect_upstream((int)target);
        if(verbose) {
          char ms[32];
          mode_str(&c->m, ms, sizeof ms);
          fprintf(stderr, "faultproxy: conn %d mode %s\n", c->id, ms);
        }
        if(c->ufd < 0) {
          close_fd(&c->cfd, 1); /* the server is down: say so at once */
          conn_end(c, "upstream refused");
        }
      }
    }
    now = now_ms();
    for(nfds_t i = 1; i < n; i++) {
      conn *c = owner[i];
      if(!c->used || !pfd[i].revents) continue;
      int self = which[i] == 1 ? c->cfd : c->ufd;
      if(self != pfd[i].fd) continue; /* ended earlier in this round */
      if(pfd[i].revents & POLLERR) {
        conn_end(c, which[i] == 1 ? "client reset" : "server reset");
        continue;
      }
      int dir_in = which[i]; /* reading client feeds up (1); upstream feeds down (2) */
      pipe_dir *in = dir_in == 1 ? &c->up : &c->down;
      pipe_dir *out = dir_in == 1 ? &c->down : &c->up;
      if(pfd[i].revents & POLLOUT) {
        if(drain(self, out)) {
          conn_end(c, "write failed");
          continue;
        }
        if(!out->len && out->eof) shutdown(self, SHUT_WR);
      }
      if(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        if(in->len || in->eof) continue;
        ssize_t got = fill(self, in);
        if(got == -2) continue;
        if(got < 0) {
          conn_end(c, "read failed");
          continue;
        }
        if(got == 0) {
          in->eof = 1;
          int other = dir_in == 1 ? c->ufd : c->cfd;
          shutdown(other, SHUT_WR);
          if(c->up.eof && c->down.eof) conn_end(c, "closed");
          continue;
        }
        in->len = (size_t)got;
        in->off = 0;
        in->release_ms = now;
        if(apply_mode(c, dir_in, in, (size_t)got)) continue;
        if(in->release_ms <= now && drain(dir_in == 1 ? c->ufd : c->cfd, in))
          conn_end(c, "write failed");
      }
    }
    /* Drain the duplicate upstream's answers so it never blocks. */
    for(int i = 0; i < MAX_CONNS; i++) {
      conn *c = &conns[i];
      if(!c->used || c->dupfd < 0) continue;
      unsigned char junk[4096];
      ssize_t got = read(c->dupfd, junk, sizeof junk);
      if(got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) close_fd(&c->dupfd, 0);
    }
  }
  for(int i = 0; i < MAX_CONNS; i++)
    if(conns[i].used) conn_end(&conns[i], "proxy stopping");
  close(lfd);
  if(verbose) fprintf(stderr, "faultproxy: %d connection(s), exiting\n", accepted);
  return 0;
}
