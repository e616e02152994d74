/*
 * hello: a tiny static HTTP/1.1 server, the example unikernel-style app for Mayfly.
 * One process, epoll, non-blocking sockets, keep-alive. GET / shows the version, GET /health says ok.
 * Port: --port N, else $PORT, else 8080. GREETING, if set, is shown on the page.
 */
#define _GNU_SOURCE
#define VERSION "v1"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define BUF 16384

struct conn { int fd; size_t len; char buf[BUF]; };

static volatile sig_atomic_t stopping;
static void on_term(int sig) { (void)sig; stopping = 1; }

static char page[4096];
static int page_len;

static int health_status(void) {
#ifdef UNHEALTHY
    return 500;
#else
    return 200;
#endif
}

static int respond(int fd, int status, const char *type, const char *body, int body_len, int keep) {
    char head[512];
    const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Internal Server Error";
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nX-Hello-Version: %s\r\n%s\r\n",
                     status, reason, type, body_len, VERSION, keep ? "" : "Connection: close\r\n");
    char out[8192];
    if (n + body_len > (int)sizeof out) return -1;
    memcpy(out, head, n);
    memcpy(out + n, body, body_len);
    int total = n + body_len, sent = 0;
    while (sent < total) {
        ssize_t w = write(fd, out + sent, total - sent);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) { usleep(100); continue; }
            return -1;
        }
        sent += (int)w;
    }
    return 0;
}

/* Answers every complete request in the buffer; returns -1 when the connection should close. */
static int serve(struct conn *c) {
    for (;;) {
        c->buf[c->len] = 0;
        char *end = strstr(c->buf, "\r\n\r\n");
        if (!end) return c->len >= BUF - 1 ? -1 : 0;
        size_t req_len = (size_t)(end - c->buf) + 4;
        char method[8] = {0}, path[256] = {0}, version[16] = {0};
        sscanf(c->buf, "%7s %255s %15s", method, path, version);
        int keep = strcmp(version, "HTTP/1.0") != 0;
        for (char *h = strstr(c->buf, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n")) {
            if (strncasecmp(h + 2, "Connection:", 11) == 0) {
                const char *v = h + 13;
                while (*v == ' ') v++;
                if (strncasecmp(v, "close", 5) == 0) keep = 0;
                if (strncasecmp(v, "keep-alive", 10) == 0) keep = 1;
            }
        }
        int rc;
        if (strcmp(path, "/") == 0) {
            rc = respond(c->fd, 200, "text/html; charset=utf-8", page, page_len, keep);
        } else if (strcmp(path, "/health") == 0) {
            int st = health_status();
            rc = respond(c->fd, st, "text/plain", st == 200 ? "ok\n" : "unhealthy\n", st == 200 ? 3 : 10, keep);
        } else {
            rc = respond(c->fd, 404, "text/plain", "not found\n", 10, keep);
        }
        if (rc < 0 || !keep) return -1;
        memmove(c->buf, c->buf + req_len, c->len - req_len);
        c->len -= req_len;
    }
}

int main(int argc, char **argv) {
    int port = getenv("PORT") ? atoi(getenv("PORT")) : 8080;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--port") == 0) port = atoi(argv[i + 1]);
    const char *greeting = getenv("GREETING");
    page_len = snprintf(page, sizeof page,
                        "<!doctype html><title>hello</title><h1>hello %s</h1><p>%s</p>\n",
                        VERSION, greeting ? greeting : "Served by a static C server, deployed by Mayfly.");

    struct sigaction sa = {0};
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(ls, 1024) < 0) {
        fprintf(stderr, "hello: cannot listen on :%d: %s\n", port, strerror(errno));
        return 1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, events[MAX_EVENTS];
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    printf("hello %s listening on :%d\n", VERSION, port);
    fflush(stdout);

    while (!stopping) {
        int n = epoll_wait(ep, events, MAX_EVENTS, 500);
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *nc = calloc(1, sizeof *nc);
                    nc->fd = fd;
                    struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            int close_it = 0;
            for (;;) {
                ssize_t r = read(c->fd, c->buf + c->len, BUF - 1 - c->len);
                if (r > 0) {
                    c->len += (size_t)r;
                    if (serve(c) < 0) { close_it = 1; break; }
                    continue;
                }
                if (r == 0 || (errno != EAGAIN && errno != EINTR)) close_it = 1;
                break;
            }
            if (close_it) {
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                free(c);
            }
        }
    }
    printf("hello %s stopping\n", VERSION);
    return 0;
}
