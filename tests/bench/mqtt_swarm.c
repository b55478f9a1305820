/*
 * mqtt_swarm.c - the light MQTT client of the 100,000-device benchmark
 * (tests/bench/bench_100k.py). Built by `make build/bench/mqtt_swarm`,
 * with what the tools share (tests/bench/bench_tool.h: the clock, the ERROR
 * exit, the reader of the driver's commands and of the TRIPLES file).
 *
 * mqtt_fleet (libmosquitto) costs three descriptors and a few KiB per
 * client; this tool costs one socket and about 200 bytes per device, so one
 * process can hold 100,000 logged-in devices. It speaks MQTT 3.1.1 itself
 * over non-blocking sockets in one epoll loop, encoding only what it needs:
 * CONNECT, SUBSCRIBE, PUBLISH (QoS 1, floor mode), PUBACK, PINGREQ and
 * DISCONNECT out; CONNACK, SUBACK, PUBLISH, PUBACK and PINGRESP in.
 *
 *   mqtt_swarm devices --port P --file TRIPLES [--count N] [--window W]
 *                      [--sources K] [--timeout S] [--keepalive S]
 *
 *     Holds one connection per device of the first N lines of TRIPLES (one
 *     "pk dn ds" per line), logging in as Link SDK C 4.x does over TCP
 *     (docs/protocol.md section 2): clientId
 *       pk.dn|timestamp=2524608000000,_ss=1,_v=sdk-c-4.1.0,securemode=3,
 *             signmethod=hmacsha256,ext=3,_conn=tcp_0|
 *     username dn&pk, password the upper-case hex HMAC-SHA256 with the
 *     DeviceSecret of "clientId" pk.dn "deviceName" dn "productKey" pk
 *     "timestamp" 2524608000000. After its CONNACK each device subscribes to
 *     /sys/{pk}/{dn}/thing/service/hli_service_upgrade_push at QoS 1, as the
 *     SDK does. At most W logins (TCP connect until SUBACK) are in flight
 *     (default 100, mosquitto's listen() backlog), so the broker's accept
 *     queue never overflows: a SYN dropped from a full queue is retried
 *     only after a second, which would be measured. Every QoS 1 message gets
 *     its PUBACK. A device that has sent nothing for keepalive/2 seconds
 *     sends PINGREQ.
 *
 *   mqtt_swarm floor --port P --file TRIPLES --size BYTES [--count N]
 *                    [--username U --password PW] [--timeout S]
 *
 *     One connection (anonymous unless U/PW are given). On each GO it
 *     publishes one BYTES-long push-shaped message (QoS 1) to the push topic
 *     of each of the N devices and waits for every PUBACK. Packet ids are
 *     16 bits, so at most 60,000 messages are unacknowledged at a time.
 *
 * Source addresses: a TCP connection is named by its (source address,
 * source port, destination address, destination port), and the ephemeral
 * ports are 32768-60999, so one source address reaches one broker port at
 * most ~28,000 times. Device k binds its socket to 127.0.0.(2 + k mod K)
 * with IP_BIND_ADDRESS_NO_PORT (the port is picked at connect() time, per
 * destination); K defaults to one address per 16,384 devices. Loopback
 * accepts all of 127/8.
 *
 * Descriptors: the tool needs N + 16. It raises RLIMIT_NOFILE (soft and, if
 * needed, hard) to that; raising the hard limit needs CAP_SYS_RESOURCE (root
 * outside a restricted container) and at most /proc/sys/fs/nr_open. If the
 * limit cannot be raised the tool says so in an ERROR line and exits.
 *
 * The driver speaks to the tool with lines on stdin and reads lines
 * "WORD key=value ..." on stdout, as with mqtt_fleet. Every time is
 * CLOCK_MONOTONIC in milliseconds, the clock of Python's time.monotonic():
 *
 *   devices  -> CONNECTED n= ms= rate=    every CONNACK accepted (ms since the
 *                                         first connect(), rate = n/s)
 *            -> SUBSCRIBED n= ms=         every SUBACK granted with QoS 1
 *            -> READY
 *            <- ROUND                     expect one more push per device
 *            -> ARMED round=R
 *            -> DONE round=R count=N first_ms= last_ms= bytes= extra= dup= bad=
 *               when every device has exactly R pushes (bytes: payload bytes
 *               per device this round), or TIMEOUT round=R received= missing=
 *               missing_dn=... after --timeout seconds (exit status 3)
 *            <- QUIT
 *            -> BYE rounds=R received= extra= dup= bad= wrong_count= pings=
 *               exit status 0 only when every device got exactly R pushes
 *               and nothing else
 *
 *   floor    -> READY                     connected
 *            <- GO
 *            -> SENT round=R n=N t0_ms= sent_ms= acked_ms=
 *            <- QUIT
 *            -> BYE rounds=R
 *
 * A message counts for a device only if it is a PUBLISH on the device's own
 * push topic whose payload holds the push method; one carrying the same
 * "id" as the device's previous message is a "dup", one beyond the round's
 * expectation is "extra", anything else "bad". Any failure (refused login,
 * lost connection, unexpected packet) prints "ERROR ..." and exits with
 * status 1. On QUIT the sockets are closed with SO_LINGER 0 (a reset: no
 * TIME_WAIT left behind by 100,000 closes).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_tool.h"

#define HOST "127.0.0.1"
#define PUSH_TOPIC_FMT "/sys/%s/%s/thing/service/hli_service_upgrade_push"
#define PUSH_METHOD "\"method\":\"thing.service.hli_service_upgrade_push\""
#define FLOOR_ID_BASE 4000000000UL /* floor message ids: above the emulator's */
#define READ_CHUNK 65536
#define FLOOR_INFLIGHT 60000       /* unacknowledged floor messages (16-bit ids) */
#define FLOOR_OUT_HIGH (4u << 20)  /* floor bytes queued before waiting for the socket */
#define SPARE_FDS 16               /* stdin/out/err, epoll, a few for libc */

enum state { S_TCP, S_CONNACK, S_SUBACK, S_READY };

typedef struct buf {
    uint8_t *p;
    uint32_t len, off, cap;
} buf;

typedef struct client {
    char pk[16], dn[40];     /* shorter than a bench_triple's: see fill_client() */
    char ds[BENCH_DS_SIZE];
    int fd;
    uint8_t state;
    bool want_out;
    buf in, out;             /* unparsed input; unsent output */
    bench_inbox inbox;       /* the pushes it got (bench_rounds) */
    double last_tx;          /* time of the last packet sent (for PINGREQ) */
} client;

static struct {
    const char *mode, *file, *username, *password;
    int port, window, timeout_s, size, count, sources, keepalive;
} opt = {.window = 100, .timeout_s = 120, .size = 600, .keepalive = 120};

static client *devs;
static int ndev;
static int epfd = -1;
static struct sockaddr_in broker;
static uint8_t rbuf[READ_CHUNK];

/* devices mode */
static int started, connacked, subacked;
static double connect_start;
static bench_rounds rounds;            /* the pushes the devices got, round by round */
static unsigned long long pings;

/* floor mode */
static client service;
static int floor_round, floor_sent, floor_acked;
static bool go_pending;

static const char *name_of(const client *c) { return c == &service ? "floor publisher" : c->dn; }

/* bench_rounds' view of the devices. */
static bench_inbox *inbox_of(int i) { return &devs[i].inbox; }
static const char *device_name(int i) { return devs[i].dn; }

/* ---- buffers ---- */

/* Appends n bytes to b, growing it. */
static void buf_put(buf *b, const void *data, size_t n)
{
    if (b->off > 0 && b->off == b->len)
        b->off = b->len = 0;
    if (b->len + n > b->cap) {
        if (b->off > 0) { /* drop what was consumed before growing */
            memmove(b->p, b->p + b->off, b->len - b->off);
            b->len -= b->off;
            b->off = 0;
        }
        uint32_t cap = b->cap ? b->cap : 64;
        while (b->len + n > cap)
            cap *= 2;
        if (cap != b->cap) {
            uint8_t *p = realloc(b->p, cap);
            if (!p)
                bench_die("out of memory");
            b->p = p;
            b->cap = cap;
        }
    }
    memcpy(b->p + b->len, data, n);
    b->len += (uint32_t)n;
}

static uint32_t buf_pending(const buf *b) { return b->len - b->off; }

/* Frees b once everything in it was consumed (idle devices hold no memory). */
static void buf_trim(buf *b)
{
    if (b->off == b->len) {
        free(b->p);
        *b = (buf){0};
    }
}

/* ---- descriptors and sockets ---- */

/* Makes RLIMIT_NOFILE at least want (soft and hard). */
static void raise_fd_limit(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        bench_die("getrlimit: %s", strerror(errno));
    if (rl.rlim_cur >= want)
        return;
    struct rlimit up = {.rlim_cur = want, .rlim_max = rl.rlim_max > want ? rl.rlim_max : want};
    if (setrlimit(RLIMIT_NOFILE, &up) != 0)
        bench_die("need %lu descriptors, RLIMIT_NOFILE is %lu/%lu and cannot be raised (%s): raising the hard limit "
                  "needs CAP_SYS_RESOURCE and at most /proc/sys/fs/nr_open",
                  (unsigned long)want, (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max, strerror(errno));
}

/* Registers or updates c's socket: always readable, writable while output waits. */
static void set_interest(client *c, bool add)
{
    bool out = c->state == S_TCP || buf_pending(&c->out) > 0;
    if (!add && out == c->want_out)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0u), .data.ptr = c};
    if (epoll_ctl(epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd, &ev) != 0)
        bench_die("epoll_ctl: %s", strerror(errno));
    c->want_out = out;
}

/* Opens c's non-blocking socket from source address 127.0.0.(2 + k mod K)
 * and starts connecting it to the broker. */
static void open_socket(client *c, int k)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        bench_die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (opt.sources > 0) {
        struct sockaddr_in src = {.sin_family = AF_INET};
        src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(k % opt.sources));
        if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) != 0 ||
            bind(fd, (struct sockaddr *)&src, sizeof src) != 0)
            bench_die("bind to %s: %s", inet_ntoa(src.sin_addr), strerror(errno));
    }
    if (connect(fd, (struct sockaddr *)&broker, sizeof broker) != 0 && errno != EINPROGRESS)
        bench_die("connect %s: %s", name_of(c), strerror(errno));
    c->fd = fd;
    c->state = S_TCP;
    set_interest(c, true);
}

/* Closes c's socket with a reset (SO_LINGER 0: no TIME_WAIT). */
static void close_reset(client *c)
{
    if (c->fd < 0)
        return;
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(c->fd);
    c->fd = -1;
}

/* Sends what c's output buffer holds, as far as the socket takes it. */
static void flush_out(client *c)
{
    while (buf_pending(&c->out) > 0) {
        ssize_t n = send(c->fd, c->out.p + c->out.off, buf_pending(&c->out), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0)
            bench_die("%s: send: %s", name_of(c), n < 0 ? strerror(errno) : "closed");
        c->out.off += (uint32_t)n;
    }
    if (c != &service)
        buf_trim(&c->out);
    set_interest(c, false);
}

/* Queues one packet for c and tries to send it at once. */
static void send_packet(client *c, const uint8_t *pkt, size_t n)
{
    buf_put(&c->out, pkt, n);
    c->last_tx = bench_now_ms();
    if (c->state != S_TCP)
        flush_out(c);
}

/* ---- MQTT 3.1.1 encoding ---- */

/* Writes the fixed header (type byte, remaining length) at p; returns its size. */
static size_t fixed_header(uint8_t *p, uint8_t type, size_t remaining)
{
    size_t n = 0;
    p[n++] = type;
    do {
        uint8_t b = remaining % 128;
        remaining /= 128;
        p[n++] = b | (remaining ? 0x80 : 0);
    } while (remaining);
    return n;
}

/* Writes a 2-byte-length string at p; returns the bytes written. */
static size_t put_str(uint8_t *p, const char *s, size_t len)
{
    p[0] = (uint8_t)(len >> 8);
    p[1] = (uint8_t)len;
    memcpy(p + 2, s, len);
    return 2 + len;
}

/* CONNECT: MQTT 3.1.1, clean session, keepalive, clientId, username, password. */
static void send_connect(client *c, const char *cid, const char *user, const char *pass)
{
    size_t lc = strlen(cid), lu = user ? strlen(user) : 0, lp = pass ? strlen(pass) : 0;
    size_t remaining = 10 + 2 + lc + (user ? 2 + lu : 0) + (pass ? 2 + lp : 0);
    uint8_t pkt[1024];
    if (remaining + 5 > sizeof pkt)
        bench_die("login of %s too long", name_of(c));
    size_t n = fixed_header(pkt, 0x10, remaining);
    n += put_str(pkt + n, "MQTT", 4);
    pkt[n++] = 4; /* protocol level 3.1.1 */
    pkt[n++] = (uint8_t)((user ? 0x80 : 0) | (pass ? 0x40 : 0) | 0x02);
    pkt[n++] = (uint8_t)(opt.keepalive >> 8);
    pkt[n++] = (uint8_t)opt.keepalive;
    n += put_str(pkt + n, cid, lc);
    if (user)
        n += put_str(pkt + n, user, lu);
    if (pass)
        n += put_str(pkt + n, pass, lp);
    send_packet(c, pkt, n);
}

/* The push topic of c into out. */
static int push_topic(const client *c, char *out, size_t outlen)
{
    return snprintf(out, outlen, PUSH_TOPIC_FMT, c->pk, c->dn);
}

/* SUBSCRIBE (packet id 1) to c's push topic at QoS 1. */
static void send_subscribe(client *c)
{
    char topic[160];
    size_t lt = (size_t)push_topic(c, topic, sizeof topic);
    uint8_t pkt[200];
    size_t n = fixed_header(pkt, 0x82, 2 + 2 + lt + 1);
    pkt[n++] = 0;
    pkt[n++] = 1;
    n += put_str(pkt + n, topic, lt);
    pkt[n++] = 1;
    send_packet(c, pkt, n);
}

static void send_puback(client *c, uint16_t id)
{
    uint8_t pkt[4] = {0x40, 2, (uint8_t)(id >> 8), (uint8_t)id};
    send_packet(c, pkt, sizeof pkt);
}

static void send_pingreq(client *c)
{
    static const uint8_t pkt[2] = {0xc0, 0};
    send_packet(c, pkt, sizeof pkt);
    pings++;
}

/* ---- logins ---- */

/* The TCP connection of c is up (or failed): send its CONNECT. */
static void on_tcp_connected(client *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
        bench_die("%s: connect: %s", name_of(c), strerror(err ? err : errno));
    c->state = S_CONNACK;
    if (c == &service) {
        char cid[64];
        snprintf(cid, sizeof cid, "bench-floor-%ld", (long)getpid());
        send_connect(c, cid, opt.username, opt.password);
    } else {
        bench_login login;
        bench_linksdk_login(&login, c->pk, c->dn, c->ds, "4.1.0", "_conn=tcp_0", true);
        send_connect(c, login.client_id, login.username, login.password);
    }
    flush_out(c);
}

/* ---- incoming packets ---- */

static void on_connack(client *c, const uint8_t *body, uint32_t len)
{
    if (c->state != S_CONNACK || len != 2)
        bench_die("%s: unexpected CONNACK", name_of(c));
    if (body[1] != 0)
        bench_die("CONNACK refused for %s: return code %u", name_of(c), body[1]);
    if (c == &service) {
        c->state = S_READY;
        return;
    }
    c->state = S_SUBACK;
    if (++connacked == ndev) {
        double ms = bench_now_ms() - connect_start;
        printf("CONNECTED n=%d ms=%.3f rate=%.1f\n", ndev, ms, ndev / (ms / 1000.0));
    }
    send_subscribe(c);
}

static void on_suback(client *c, const uint8_t *body, uint32_t len)
{
    if (c->state != S_SUBACK || len != 3 || body[0] != 0 || body[1] != 1)
        bench_die("%s: unexpected SUBACK", name_of(c));
    if (body[2] != 1)
        bench_die("subscription of %s refused (granted 0x%02x)", c->dn, body[2]);
    c->state = S_READY;
    if (++subacked == ndev)
        printf("SUBSCRIBED n=%d ms=%.3f\n", ndev, bench_now_ms() - connect_start);
}

/* PUBLISH to a device: acknowledged (QoS 1), then counted if it is a push
 * on the device's own topic. */
static void on_publish(client *c, uint8_t flags, const uint8_t *body, uint32_t len)
{
    unsigned qos = (flags >> 1) & 3;
    if (c == &service || c->state != S_READY || len < 2)
        bench_die("%s: unexpected PUBLISH", name_of(c));
    uint32_t tl = (uint32_t)body[0] << 8 | body[1];
    uint32_t head = 2 + tl + (qos ? 2 : 0);
    if (head > len || qos > 1)
        bench_die("%s: malformed PUBLISH", c->dn);
    if (qos)
        send_puback(c, (uint16_t)(body[2 + tl] << 8 | body[3 + tl]));
    char topic[160];
    int lt = push_topic(c, topic, sizeof topic);
    const uint8_t *payload = body + head;
    uint32_t plen = len - head;
    if ((uint32_t)lt != tl || memcmp(body + 2, topic, tl) != 0 ||
        !memmem(payload, plen, PUSH_METHOD, sizeof PUSH_METHOD - 1)) {
        rounds.bad++;
        return;
    }
    bench_rounds_count(&rounds, &c->inbox, payload, plen);
}

/* One complete packet: type byte, body (after the remaining length). */
static void on_packet(client *c, uint8_t type, const uint8_t *body, uint32_t len)
{
    switch (type >> 4) {
    case 2:
        on_connack(c, body, len);
        break;
    case 3:
        on_publish(c, type & 0x0f, body, len);
        break;
    case 4: /* PUBACK of a floor message (in order; the id is not needed) */
        if (c != &service || len != 2)
            bench_die("%s: unexpected PUBACK", name_of(c));
        floor_acked++;
        break;
    case 9:
        on_suback(c, body, len);
        break;
    case 13: /* PINGRESP */
        break;
    default:
        bench_die("%s: unexpected packet type %u", name_of(c), type >> 4);
    }
}

/* Parses every complete packet of data[0..len); returns the bytes used. */
static uint32_t parse_packets(client *c, const uint8_t *data, uint32_t len)
{
    uint32_t used = 0;
    while (len - used >= 2) {
        const uint8_t *p = data + used;
        uint32_t avail = len - used, remaining = 0, i = 1, shift = 0;
        for (;; i++, shift += 7) {
            if (i >= avail || i > 4)
                break;
            remaining |= (uint32_t)(p[i] & 0x7f) << shift;
            if (!(p[i] & 0x80))
                break;
        }
        if (i > 4)
            bench_die("%s: bad remaining length", name_of(c));
        if (i >= avail || avail - i - 1 < remaining)
            break; /* incomplete */
        on_packet(c, p[0], p + i + 1, remaining);
        used += i + 1 + remaining;
    }
    return used;
}

/* Reads what c's socket has and handles every complete packet; a partial
 * packet waits in c->in. */
static void read_client(client *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, rbuf, sizeof rbuf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0)
            bench_die("%s disconnected: %s", name_of(c), n < 0 ? strerror(errno) : "closed by the broker");
        if (buf_pending(&c->in) == 0) {
            uint32_t used = parse_packets(c, rbuf, (uint32_t)n);
            if (used < (uint32_t)n)
                buf_put(&c->in, rbuf + used, (size_t)n - used);
        } else {
            buf_put(&c->in, rbuf, (size_t)n);
            c->in.off += parse_packets(c, c->in.p + c->in.off, buf_pending(&c->in));
        }
        if ((size_t)n < sizeof rbuf)
            break;
    }
    if (c != &service)
        buf_trim(&c->in);
}

/* Serves the socket events of one client. */
static void service_client(client *c, uint32_t events)
{
    if (c->state == S_TCP) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            on_tcp_connected(c);
        return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        read_client(c);
    if (events & EPOLLOUT)
        flush_out(c);
}

/* ---- the loop ---- */

/* PINGREQ for each device that has sent nothing for keepalive/2 seconds;
 * runs about once a second. */
static void housekeeping(void)
{
    static double last;
    double t = bench_now_ms();
    if (t - last < 1000)
        return;
    last = t;
    double quiet = opt.keepalive * 500.0;
    for (int i = 0; i < started; i++)
        if (devs[i].state == S_READY && t - devs[i].last_tx > quiet)
            send_pingreq(&devs[i]);
    if (service.fd >= 0 && service.state == S_READY && t - service.last_tx > quiet)
        send_pingreq(&service);
}

/* Handles one command line from the driver. */
static void command(const char *line);

/* service_client for bench_epoll_once. */
static void serve(void *ptr, uint32_t events) { service_client(ptr, events); }

/* One epoll round: waits at most timeout_ms and serves what is ready. */
static void poll_once(int timeout_ms)
{
    bench_epoll_once(epfd, timeout_ms, command, serve);
    housekeeping();
}

/* Resets every connection and frees everything. */
static void cleanup(void)
{
    for (int i = 0; i < started; i++) {
        close_reset(&devs[i]);
        free(devs[i].in.p);
        free(devs[i].out.p);
    }
    close_reset(&service);
    free(service.in.p);
    free(service.out.p);
    free(devs);
    if (epfd >= 0)
        close(epfd);
}

/* ---- devices mode ---- */

static void devices_quit(void)
{
    char more[48];
    snprintf(more, sizeof more, " pings=%llu", pings);
    int status = bench_rounds_bye(&rounds, more);
    cleanup();
    exit(status);
}

/* TIMEOUT (exit 3) when the round is late; DONE is printed by bench_rounds_check. */
static void devices_check_round(void)
{
    if (bench_rounds_check(&rounds, opt.timeout_s) < 0) {
        cleanup();
        exit(3);
    }
}

/* Logs in every device, W at a time, then serves rounds until QUIT. */
static void run_devices(void)
{
    connect_start = bench_now_ms();
    while (subacked < ndev) {
        while (started < ndev && started - subacked < opt.window) {
            open_socket(&devs[started], started);
            started++;
        }
        if (bench_now_ms() - connect_start > opt.timeout_s * 1000.0)
            bench_die("connecting: %d CONNACKs, %d SUBACKs of %d after %ds", connacked, subacked, ndev, opt.timeout_s);
        poll_once(100);
    }
    printf("READY\n");
    bench_watch_stdin(epfd);
    for (;;) {
        poll_once(rounds.armed ? 10 : 200);
        devices_check_round();
    }
}

/* ---- floor mode ---- */

/* The PUBLISH packet of floor message i of this round (QoS 1, packet id
 * 1..FLOOR_INFLIGHT), appended to the publisher's output. The payload has
 * exactly opt.size bytes: a push-shaped JSON object padded with 'x'. */
static void floor_put(int i)
{
    static const char head[] = "{\"id\":\"%010lu\",\"version\":\"1.0\"," PUSH_METHOD ",\"params\":{\"pad\":\"";
    static const char tail[] = "\"}}";
    static uint8_t *pkt;
    static size_t cap;
    char topic[160];
    size_t lt = (size_t)push_topic(&devs[i], topic, sizeof topic);
    size_t remaining = 2 + lt + 2 + (size_t)opt.size;
    if (cap < remaining + 5 && !(pkt = realloc(pkt, cap = remaining + 5)))
        bench_die("out of memory");
    size_t n = fixed_header(pkt, 0x32, remaining);
    n += put_str(pkt + n, topic, lt);
    uint16_t id = (uint16_t)(floor_sent % FLOOR_INFLIGHT + 1);
    pkt[n++] = (uint8_t)(id >> 8);
    pkt[n++] = (uint8_t)id;
    unsigned long mid = FLOOR_ID_BASE + (unsigned long)(floor_round - 1) * (unsigned long)ndev + (unsigned long)i;
    int h = snprintf((char *)pkt + n, cap - n, head, mid);
    size_t pad = (size_t)opt.size - (size_t)h - (sizeof tail - 1);
    memset(pkt + n + h, 'x', pad);
    memcpy(pkt + n + h + pad, tail, sizeof tail - 1);
    buf_put(&service.out, pkt, n + (size_t)opt.size);
}

/* Queues floor messages while the ids and the output allow, then sends. */
static void floor_fill(void)
{
    while (floor_sent < ndev && floor_sent - floor_acked < FLOOR_INFLIGHT &&
           buf_pending(&service.out) < FLOOR_OUT_HIGH)
        floor_put(floor_sent++);
    service.last_tx = bench_now_ms();
    flush_out(&service);
}

/* One floor round: a message per device, then every PUBACK. */
static void floor_go(void)
{
    floor_round++;
    floor_sent = floor_acked = 0;
    double t0 = bench_now_ms(), sent = 0;
    while (floor_acked < ndev) {
        floor_fill();
        if (floor_sent == ndev && buf_pending(&service.out) == 0 && sent == 0)
            sent = bench_now_ms();
        if (bench_now_ms() - t0 > opt.timeout_s * 1000.0)
            bench_die("floor round %d: %d of %d PUBACKs after %ds", floor_round, floor_acked, ndev, opt.timeout_s);
        poll_once(10);
    }
    printf("SENT round=%d n=%d t0_ms=%.3f sent_ms=%.3f acked_ms=%.3f\n", floor_round, ndev, t0,
           sent ? sent : bench_now_ms(), bench_now_ms());
}

/* Connects the publisher, then serves GOs until QUIT. */
static void run_floor(void)
{
    size_t fixed = strlen("{\"id\":\"0000000000\",\"version\":\"1.0\"," PUSH_METHOD ",\"params\":{\"pad\":\"\"}}");
    if (opt.size < (int)fixed || opt.size > 1 << 20)
        bench_die("--size must be %zu..%d", fixed, 1 << 20);
    double start = bench_now_ms();
    open_socket(&service, 0);
    while (service.state != S_READY) {
        if (bench_now_ms() - start > opt.timeout_s * 1000.0)
            bench_die("no CONNACK for the floor publisher after %ds", opt.timeout_s);
        poll_once(100);
    }
    printf("READY\n");
    bench_watch_stdin(epfd);
    for (;;) {
        poll_once(200);
        if (go_pending) {
            go_pending = false;
            floor_go();
        }
    }
}

/* ---- commands, arguments ---- */

static void command(const char *line)
{
    bool devices = !strcmp(opt.mode, "devices");
    if (!strcmp(line, "QUIT")) {
        if (devices)
            devices_quit();
        printf("BYE rounds=%d\n", floor_round);
        cleanup();
        exit(0);
    } else if (!strcmp(line, "ROUND") && devices) {
        bench_rounds_arm(&rounds);
    } else if (!strcmp(line, "GO") && !devices) {
        go_pending = true; /* run by run_floor(), not from inside bench_read_commands() */
    } else if (line[0] != '\0') {
        bench_die("unknown command: %s", line);
    }
}

/* Sets a client from its TRIPLES line. A client keeps pk and dn in fewer
 * bytes than a bench_triple (about 200 bytes a device in all), so a longer
 * one ends the run. */
static void fill_client(void *item, const bench_triple *t)
{
    client *c = item;
    if (strlen(t->pk) >= sizeof c->pk || strlen(t->dn) >= sizeof c->dn)
        bench_die("bad line in %s: %s %s (ProductKey at most %zu bytes, DeviceName at most %zu)", opt.file, t->pk,
                  t->dn, sizeof c->pk - 1, sizeof c->dn - 1);
    memcpy(c->pk, t->pk, sizeof c->pk);
    memcpy(c->dn, t->dn, sizeof c->dn);
    memcpy(c->ds, t->ds, sizeof c->ds);
    c->fd = -1;
}

static void parse_args(int argc, char **argv)
{
    const char *usage =
        "usage: mqtt_swarm devices --port P --file TRIPLES [--count N] [--window W] [--sources K] [--timeout S] "
        "[--keepalive S]\n"
        "       mqtt_swarm floor --port P --file TRIPLES --size B [--count N] [--username U --password PW] "
        "[--timeout S]";
    if (argc < 2 || (strcmp(argv[1], "devices") && strcmp(argv[1], "floor")))
        bench_die("%s", usage);
    opt.mode = argv[1];
    opt.sources = -1;
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc)
            bench_die("%s needs a value", argv[i]);
        const char *k = argv[i], *v = argv[i + 1];
        int *num = !strcmp(k, "--port")        ? &opt.port
                   : !strcmp(k, "--window")    ? &opt.window
                   : !strcmp(k, "--timeout")   ? &opt.timeout_s
                   : !strcmp(k, "--size")      ? &opt.size
                   : !strcmp(k, "--count")     ? &opt.count
                   : !strcmp(k, "--sources")   ? &opt.sources
                   : !strcmp(k, "--keepalive") ? &opt.keepalive
                                               : NULL;
        if (num)
            *num = atoi(v);
        else if (!strcmp(k, "--file"))
            opt.file = v;
        else if (!strcmp(k, "--username"))
            opt.username = v;
        else if (!strcmp(k, "--password"))
            opt.password = v;
        else
            bench_die("unknown option %s\n%s", k, usage);
    }
    if (opt.port <= 0 || opt.port > 65535 || !opt.file || opt.window < 1 || opt.timeout_s < 1 || opt.count < 0 ||
        opt.keepalive < 10 || opt.keepalive > 65535 || opt.sources > 250)
        bench_die("%s", usage);
    if (!opt.username != !opt.password)
        bench_die("--username and --password go together");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    parse_args(argc, argv);
    devs = bench_load_triples(opt.file, opt.count, true, sizeof *devs, fill_client, &ndev);
    if (ndev == 0 || (opt.count && ndev < opt.count))
        bench_die("%s has %d devices, %d wanted", opt.file, ndev, opt.count);
    rounds = (bench_rounds){.n = ndev, .inbox = inbox_of, .name = device_name};
    bool devices = !strcmp(opt.mode, "devices");
    if (opt.sources < 0)
        opt.sources = devices ? ndev / 16384 + 1 : 0;
    raise_fd_limit((rlim_t)(devices ? ndev : 1) + SPARE_FDS);
    broker.sin_family = AF_INET;
    broker.sin_port = htons((uint16_t)opt.port);
    inet_pton(AF_INET, HOST, &broker.sin_addr);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        bench_die("epoll_create1: %s", strerror(errno));
    service.fd = -1;
    if (devices)
        run_devices();
    else
        run_floor();
    return 0;
}
