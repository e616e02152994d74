/*
 * A tiny static HTTP server that stands in for a unikernel in the process driver's and the health check's tests.
 * Every behaviour a test needs is a flag:
 *   --port N             listen on 127.0.0.1:N (default: $PORT)
 *   --status N           answer every request with this status (default 200)
 *   --ignore-term        print a line on SIGTERM and keep running
 *   --stall N            accept the first N connections and never answer them
 *   --check PATH         print "visible PATH" or "hidden PATH" (repeatable)
 *   --alloc MB           allocate and touch MB megabytes, print whether it worked
 *   --exit-code C        exit with C after --exit-after-ms milliseconds instead of serving
 *   --exit-after-ms MS
 *   --connect PORT       try a TCP connect to 127.0.0.1:PORT, print "connect PORT ok" or "connect PORT failed: why"
 *   --connect-host ADDR  the address later --connect flags try instead of 127.0.0.1 (10.0.2.2 in a QEMU guest)
 *   --whoami             print the uid and the capability, no_new_privs and seccomp lines of /proc/self/status
 *   --unshare            try to make a user namespace, print "unshare ok" or "unshare failed: why"
 *   --bind ADDR          listen on ADDR instead of 127.0.0.1 (0.0.0.0 in a VM)
 *   --delay-ms MS        wait this long before listening (a guest that listens late)
 *   --say TEXT           print TEXT once it listens (after --delay-ms): a console line to check
 *   --die-after-ms MS    serve, then exit with code 1 this long after it started listening, between two requests
 *   --name NAME          answer "hello from NAME" (default: testserver)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int ignore_term = 0;

static void on_term(int sig) {
    (void) sig;
    if (ignore_term) {
        static const char msg[] = "ignoring SIGTERM\n";
        write(1, msg, sizeof msg - 1);
    } else {
        static const char msg[] = "got SIGTERM, exiting\n";
        write(1, msg, sizeof msg - 1);
        _exit(0);
    }
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int port = getenv("PORT") ? atoi(getenv("PORT")) : 0;
    int status = 200, stall = 0, exit_code = -1, exit_after_ms = 0, delay_ms = 0, die_after_ms = 0;
    const char *bind_to = "127.0.0.1", *say = NULL, *name = "testserver", *connect_host = "127.0.0.1";
    for (int i = 1; i < argc; i++) {
        char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--port") && v) { port = atoi(v); i++; }
        else if (!strcmp(a, "--status") && v) { status = atoi(v); i++; }
        else if (!strcmp(a, "--ignore-term")) { ignore_term = 1; }
        else if (!strcmp(a, "--stall") && v) { stall = atoi(v); i++; }
        else if (!strcmp(a, "--check") && v) { printf("%s %s\n", access(v, F_OK) == 0 ? "visible" : "hidden", v); i++; }
        else if (!strcmp(a, "--alloc") && v) {
            size_t bytes = (size_t) atoi(v) << 20;
            /* volatile: the compiler must not drop the writes, which are what the memory limit counts */
            volatile char *p = malloc(bytes);
            if (p) { for (size_t j = 0; j < bytes; j += 4096) p[j] = 1; printf("allocated %s MB\n", v); free((void *) p); }
            else printf("allocation of %s MB failed\n", v);
            i++;
        }
        else if (!strcmp(a, "--exit-code") && v) { exit_code = atoi(v); i++; }
        else if (!strcmp(a, "--exit-after-ms") && v) { exit_after_ms = atoi(v); i++; }
        else if (!strcmp(a, "--bind") && v) { bind_to = v; i++; }
        else if (!strcmp(a, "--delay-ms") && v) { delay_ms = atoi(v); i++; }
        else if (!strcmp(a, "--say") && v) { say = v; i++; }
        else if (!strcmp(a, "--name") && v) { name = v; i++; }
        else if (!strcmp(a, "--die-after-ms") && v) { die_after_ms = atoi(v); i++; }
        else if (!strcmp(a, "--connect-host") && v) { connect_host = v; i++; }
        else if (!strcmp(a, "--connect") && v) {
            int c = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(atoi(v)) };
            inet_pton(AF_INET, connect_host, &to.sin_addr);
            if (connect(c, (struct sockaddr *) &to, sizeof to) == 0) printf("connect %s ok\n", v);
            else printf("connect %s failed: %s\n", v, strerror(errno));
            close(c);
            i++;
        }
        else if (!strcmp(a, "--whoami")) {
            printf("uid %d\n", (int) getuid());
            FILE *f = fopen("/proc/self/status", "r");
            char line[256];
            while (f && fgets(line, sizeof line, f)) {
                if (!strncmp(line, "CapEff", 6) || !strncmp(line, "NoNewPrivs", 10) || !strncmp(line, "Seccomp:", 8)) fputs(line, stdout);
            }
            if (f) fclose(f);
        }
        else if (!strcmp(a, "--unshare")) {
            if (unshare(CLONE_NEWUSER) == 0) printf("unshare ok\n");
            else printf("unshare failed: %s\n", strerror(errno));
        }
        else { fprintf(stderr, "unknown argument %s\n", a); return 2; }
    }
    printf("PORT=%s\n", getenv("PORT") ? getenv("PORT") : "unset");
    printf("FOO=%s\n", getenv("FOO") ? getenv("FOO") : "unset");
    printf("HOME=%s\n", getenv("HOME") ? getenv("HOME") : "unset");
    fprintf(stderr, "a line on stderr\n");
    if (exit_code >= 0) {
        struct timespec ts = { exit_after_ms / 1000, (exit_after_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        printf("exiting with %d\n", exit_code);
        return exit_code;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (delay_ms > 0) {
        struct timespec d = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
        nanosleep(&d, NULL);
    }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, bind_to, &addr.sin_addr);
    if (bind(s, (struct sockaddr *) &addr, sizeof addr) || listen(s, 64)) {
        perror("bind/listen");
        return 1;
    }
    printf("listening on %s:%d\n", bind_to, port);
    if (say) printf("%s\n", say);
    struct timespec started;
    clock_gettime(CLOCK_MONOTONIC, &started);
    for (;;) {
        if (die_after_ms > 0) {
            /* Only between requests: an answer is never cut. A connection still in the backlog is reset by the exit. */
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long ms = (now.tv_sec - started.tv_sec) * 1000 + (now.tv_nsec - started.tv_nsec) / 1000000;
            if (ms >= die_after_ms) { printf("dying after %ld ms\n", ms); return 1; }
            struct pollfd p = { .fd = s, .events = POLLIN };
            if (poll(&p, 1, (int) (die_after_ms - ms)) <= 0) continue;
        }
        int c = accept(s, NULL, NULL);
        if (c < 0) continue;
        if (stall > 0) { stall--; continue; } /* keep the connection open, never answer */
        char buf[4096];
        ssize_t n = read(c, buf, sizeof buf - 1);
        if (n > 0) {
            buf[n] = 0;
            char path[256] = "?";
            sscanf(buf, "GET %255s", path);
            char body[128];
            snprintf(body, sizeof body, "hello from %s\n", name);
            char resp[512];
            int len = snprintf(resp, sizeof resp,
                "HTTP/1.1 %d Test\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                status, strlen(body), body);
            write(c, resp, len);
            printf("GET %s -> %d\n", path, status);
        }
        close(c);
    }
}
