/*
 * mqtt_fleet.c - the MQTT load tool of the push benchmark
 * (tests/bench/bench_push.py). Built by `make build/bench/mqtt_fleet`,
 * with what the tools share (tests/bench/bench_tool.h: the clock, the ERROR
 * exit, the reader of the driver's commands and of the TRIPLES file).
 *
 * The benchmark asks: how long does a push to a group of N connected devices
 * take until every device has it, next to the floor of N messages published
 * straight through the same mosquitto? This tool plays both MQTT sides. It
 * only talks to 127.0.0.1.
 *
 *   mqtt_fleet devices --port P --file TRIPLES [--window W] [--timeout S]
 *
 *     Holds one MQTT 3.1.1 connection per device listed in TRIPLES (one
 *     "pk dn ds" per line), logging in as Link SDK C 4.x does (docs/protocol.md
 *     section 2) and subscribing each device to its push topic
 *     /sys/{pk}/{dn}/thing/service/hli_service_upgrade_push with QoS 1. All
 *     clients live in one thread: one epoll set over the clients' sockets,
 *     driven with mosquitto_loop_read/loop_write/loop_misc. At most W logins
 *     (CONNECT until SUBACK) are in flight at a time, so the broker's accept
 *     queue is never flooded.
 *
 *   mqtt_fleet floor --port P --file TRIPLES --username U --password PW
 *                    --size BYTES [--inflight K] [--timeout S]
 *
 *     One connection with the service account. On each GO it publishes one
 *     BYTES-long push-shaped message (QoS 1) to the push topic of every
 *     device in TRIPLES, as fast as libmosquitto can, and waits for every
 *     PUBACK. The payloads are built before GO. K is libmosquitto's limit of
 *     unacknowledged messages; the default 0 (no limit) is what haas-emu's
 *     own link uses.
 *
 * The driver speaks to the tool with lines on stdin and reads lines
 * "WORD key=value ..." on stdout. Every time is CLOCK_MONOTONIC in
 * milliseconds, the clock of Python's time.monotonic(), so the driver can
 * subtract its own start time from the tool's arrival time:
 *
 *   devices  -> CONNECTED n= ms= rate=    every CONNACK accepted (rate = n/s)
 *            -> SUBSCRIBED n= ms=         every SUBACK granted (ms since start)
 *            -> READY
 *            <- ROUND                     expect one more push per device
 *            -> ARMED round=R
 *            -> DONE round=R count=N first_ms= last_ms= bytes= extra= dup= bad=
 *               when every device has exactly R pushes (last_ms: the last
 *               arrival), or TIMEOUT round=R received= missing= missing_dn=...
 *               after --timeout seconds, and the tool exits with status 3
 *            <- QUIT
 *            -> BYE rounds=R received= extra= dup= bad= ; exit status 0 only
 *               when every device got exactly R pushes and nothing else
 *
 *   floor    -> READY                     connected
 *            <- GO
 *            -> SENT round=R n=N t0_ms= sent_ms= acked_ms=
 *               t0_ms: just before the first publish; acked_ms: last PUBACK
 *            <- QUIT
 *            -> BYE rounds=R
 *
 * Any failure (refused login, lost connection, bad arguments) prints a line
 * "ERROR ..." and exits with status 1. The driver times a push through
 * haas-emu from just before its HTTP POST .../push to the DONE line's
 * last_ms, and the floor from SENT's t0_ms to DONE's last_ms; a push counts
 * only when every device got exactly one (a message id seen twice by a
 * device is a "dup", a message beyond the expected count is "extra", a
 * message on a foreign topic or without the push method is "bad").
 */
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench_tool.h"

#define HOST "127.0.0.1"
#define KEEPALIVE 300
#define PUSH_TOPIC_FMT "/sys/%s/%s/thing/service/hli_service_upgrade_push"
#define PUSH_METHOD "\"method\":\"thing.service.hli_service_upgrade_push\""
#define FLOOR_ID_BASE 4000000000UL /* floor message ids: above the emulator's */

typedef struct device {
    struct mosquitto *mosq;
    char pk[BENCH_PK_SIZE], dn[BENCH_DN_SIZE], ds[BENCH_DS_SIZE];
    char topic[160];
    int fd;                 /* socket in the epoll set, -1 when none */
    bool want_out;          /* EPOLLOUT requested */
    bool connacked, subacked;
    bench_inbox inbox;      /* the pushes it got (bench_rounds) */
} device;

static struct {
    const char *mode, *file, *username, *password;
    int port, window, timeout_s, size, inflight;
} opt = {.window = 200, .timeout_s = 60, .size = 600, .inflight = 0};

static device *devs;
static int ndev;
static int epfd = -1;
static bool quit;

/* devices mode */
static int started, connacked, subacked;
static double connect_start;
static bench_rounds rounds; /* the pushes the devices got, round by round */

/* floor mode */
static device service;
static char **payloads;
static char **topics;
static int acked, floor_round;
static bool go_pending;

/* bench_rounds' view of the devices. */
static bench_inbox *inbox_of(int i) { return &devs[i].inbox; }
static const char *name_of(int i) { return devs[i].dn; }

/* Sets a device record from its TRIPLES line, with its push topic. */
static void fill_device(void *item, const bench_triple *t)
{
    device *d = item;
    memcpy(d->pk, t->pk, sizeof d->pk);
    memcpy(d->dn, t->dn, sizeof d->dn);
    memcpy(d->ds, t->ds, sizeof d->ds);
    d->fd = -1;
    snprintf(d->topic, sizeof d->topic, PUSH_TOPIC_FMT, d->pk, d->dn);
}

/* Lowest free descriptor number. */
static int lowest_free_fd(void)
{
    int fd = fcntl(epfd, F_DUPFD, 0);
    if (fd < 0)
        bench_die("no descriptor left: %s", strerror(errno));
    close(fd);
    return fd;
}

/* Sets the soft descriptor limit (the hard one stays). */
static void set_fd_limit(rlim_t soft)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = soft < rl.rlim_max ? soft : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        bench_die("setrlimit: %s", strerror(errno));
}

/* Raises the soft descriptor limit to the hard one. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    set_fd_limit(rl.rlim_max);
}

/* Adds or updates the epoll registration of d's socket: always readable,
 * writable only while libmosquitto has bytes queued for it. */
static void set_interest(device *d)
{
    int fd = mosquitto_socket(d->mosq);
    if (fd < 0)
        return;
    bool out = mosquitto_want_write(d->mosq);
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0u), .data.ptr = d};
    if (d->fd != fd) {
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
            bench_die("epoll_ctl add: %s", strerror(errno));
        d->fd = fd;
    } else if (out != d->want_out && epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) != 0) {
        bench_die("epoll_ctl mod: %s", strerror(errno));
    }
    d->want_out = out;
}

/* CONNACK: a refused login ends the run; an accepted one subscribes (devices)
 * or announces READY (floor). */
static void on_connect(struct mosquitto *m, void *obj, int rc)
{
    device *d = obj;
    if (rc != 0)
        bench_die("CONNACK refused for %s: %s", d->dn, mosquitto_connack_string(rc));
    if (d == &service) {
        d->connacked = true;
        return;
    }
    d->connacked = true;
    if (++connacked == ndev) {
        double ms = bench_now_ms() - connect_start;
        printf("CONNECTED n=%d ms=%.3f rate=%.1f\n", ndev, ms, ndev / (ms / 1000.0));
    }
    int src = mosquitto_subscribe(m, NULL, d->topic, 1);
    if (src != MOSQ_ERR_SUCCESS)
        bench_die("subscribe %s: %s", d->topic, mosquitto_strerror(src));
}

/* SUBACK: the push topic must be granted with QoS 1. */
static void on_subscribe(struct mosquitto *m, void *obj, int mid, int qos_count, const int *granted)
{
    (void)m, (void)mid;
    device *d = obj;
    if (qos_count != 1 || granted[0] != 1)
        bench_die("subscription to %s refused (granted %d)", d->topic, qos_count > 0 ? granted[0] : -1);
    d->subacked = true;
    if (++subacked == ndev)
        printf("SUBSCRIBED n=%d ms=%.3f\n", ndev, bench_now_ms() - connect_start);
}

/* A message for a device: counts it against the round's expectation. */
static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    (void)m;
    device *d = obj;
    const char *p = msg->payload;
    if (!msg->topic || strcmp(msg->topic, d->topic) != 0 || !p || msg->payloadlen <= 0 ||
        !memmem(p, (size_t)msg->payloadlen, PUSH_METHOD, sizeof PUSH_METHOD - 1)) {
        rounds.bad++;
        return;
    }
    bench_rounds_count(&rounds, &d->inbox, p, (size_t)msg->payloadlen);
}

/* Any disconnect during a benchmark is a failure. */
static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
    (void)m;
    device *d = obj;
    if (!quit)
        bench_die("%s disconnected: %s", d == &service ? "service account" : d->dn, mosquitto_strerror(rc));
}

/* PUBACK of a floor message. */
static void on_publish(struct mosquitto *m, void *obj, int mid)
{
    (void)m, (void)obj, (void)mid;
    acked++;
}

/* Creates d's client and starts its non-blocking connect.
 *
 * libmosquitto 2.0 opens a socketpair in mosquitto_new() and again in every
 * connect, only to wake mosquitto_loop(), which this tool does not use: with
 * it, 10,000 clients would need 30,000 descriptors. While the client is made,
 * the soft descriptor limit is lowered so that exactly one descriptor is
 * free: socketpair() needs two and fails (libmosquitto carries on without
 * the pair, it checks for that), the client's TCP socket takes the one. */
static void start_client(device *d, const char *user_override, const char *pass_override)
{
    bench_login login;
    if (user_override) {
        snprintf(login.client_id, sizeof login.client_id, "bench-floor-%ld", (long)getpid());
        snprintf(login.username, sizeof login.username, "%s", user_override);
        snprintf(login.password, sizeof login.password, "%s", pass_override);
    } else {
        bench_linksdk_login(&login, d->pk, d->dn, d->ds, "4.0.0", "", false);
    }
    const char *cid = login.client_id, *user = login.username, *pass = login.password;
    set_fd_limit((rlim_t)lowest_free_fd() + 1);
    d->mosq = mosquitto_new(cid, true, d);
    int rc = d->mosq ? MOSQ_ERR_SUCCESS : MOSQ_ERR_NOMEM;
    if (rc == MOSQ_ERR_SUCCESS) {
        mosquitto_int_option(d->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
        mosquitto_username_pw_set(d->mosq, user, pass);
        mosquitto_connect_callback_set(d->mosq, on_connect);
        mosquitto_subscribe_callback_set(d->mosq, on_subscribe);
        mosquitto_message_callback_set(d->mosq, on_message);
        mosquitto_disconnect_callback_set(d->mosq, on_disconnect);
        mosquitto_publish_callback_set(d->mosq, on_publish);
        mosquitto_max_inflight_messages_set(d->mosq, (unsigned)opt.inflight);
        rc = mosquitto_connect_async(d->mosq, HOST, opt.port, KEEPALIVE);
    }
    raise_fd_limit();
    if (rc != MOSQ_ERR_SUCCESS)
        bench_die("connect of %s: %s", user, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
    set_interest(d);
}

/* Serves socket events of one client; a broken connection ends the run. */
static void service_client(device *d, uint32_t events)
{
    int rc = MOSQ_ERR_SUCCESS;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        rc = mosquitto_loop_read(d->mosq, 64);
    if (rc == MOSQ_ERR_SUCCESS && ((events & EPOLLOUT) || mosquitto_want_write(d->mosq)))
        rc = mosquitto_loop_write(d->mosq, 64);
    if (rc != MOSQ_ERR_SUCCESS)
        bench_die("%s: connection failed: %s", d == &service ? "service account" : d->dn,
                  rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
    set_interest(d);
}

/* Keepalive pings etc. of every started client; call about once a second. */
static void housekeeping(void)
{
    static double last;
    double t = bench_now_ms();
    if (t - last < 1000)
        return;
    last = t;
    if (service.mosq) {
        mosquitto_loop_misc(service.mosq);
        set_interest(&service);
    }
    for (int i = 0; i < started; i++) {
        mosquitto_loop_misc(devs[i].mosq);
        set_interest(&devs[i]);
    }
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

/* Frees every client and buffer (so valgrind sees a clean exit). */
static void cleanup(void)
{
    quit = true;
    for (int i = 0; i < started; i++)
        mosquitto_destroy(devs[i].mosq);
    if (service.mosq)
        mosquitto_destroy(service.mosq);
    for (int i = 0; payloads && i < ndev; i++) {
        free(payloads[i]);
        free(topics[i]);
    }
    free(payloads);
    free(topics);
    free(devs);
    if (epfd >= 0)
        close(epfd);
    mosquitto_lib_cleanup();
}

/* Publishes one floor round: one message per device, then every PUBACK. */
static void floor_go(void)
{
    floor_round++;
    acked = 0;
    for (int i = 0; i < ndev; i++) { /* a fresh id per device and round */
        char id[16];
        snprintf(id, sizeof id, "%010lu", FLOOR_ID_BASE + (unsigned long)(floor_round - 1) * (unsigned long)ndev +
                                          (unsigned long)i);
        memcpy(payloads[i] + 7, id, 10);
    }
    double t0 = bench_now_ms();
    for (int i = 0; i < ndev; i++) {
        int rc = mosquitto_publish(service.mosq, NULL, topics[i], opt.size, payloads[i], 1, false);
        if (rc != MOSQ_ERR_SUCCESS)
            bench_die("publish on %s: %s", topics[i], mosquitto_strerror(rc));
    }
    double sent = bench_now_ms();
    set_interest(&service);
    while (acked < ndev) {
        if (bench_now_ms() - t0 > opt.timeout_s * 1000.0)
            bench_die("floor round %d: %d of %d PUBACKs after %ds", floor_round, acked, ndev, opt.timeout_s);
        poll_once(100);
    }
    printf("SENT round=%d n=%d t0_ms=%.3f sent_ms=%.3f acked_ms=%.3f\n", floor_round, ndev, t0, sent, bench_now_ms());
}

static void command(const char *line)
{
    if (!strcmp(line, "QUIT")) {
        if (!strcmp(opt.mode, "floor")) {
            printf("BYE rounds=%d\n", floor_round);
            cleanup();
            exit(0);
        }
        int status = bench_rounds_bye(&rounds, "");
        cleanup();
        exit(status);
    } else if (!strcmp(line, "ROUND") && !strcmp(opt.mode, "devices")) {
        bench_rounds_arm(&rounds);
    } else if (!strcmp(line, "GO") && !strcmp(opt.mode, "floor")) {
        go_pending = true; /* run by run_floor(), not from inside bench_read_commands() */
    } else if (line[0] != '\0') {
        bench_die("unknown command: %s", line);
    }
}

/* Devices mode: log in every device, then serve rounds until QUIT. */
static void run_devices(void)
{
    connect_start = bench_now_ms();
    while (subacked < ndev) {
        while (started < ndev && started - subacked < opt.window)
            start_client(&devs[started++], NULL, NULL);
        if (bench_now_ms() - connect_start > opt.timeout_s * 1000.0)
            bench_die("connecting: %d CONNACKs, %d SUBACKs of %d after %ds", connacked, subacked, ndev, opt.timeout_s);
        poll_once(100);
    }
    printf("READY\n");
    bench_watch_stdin(epfd);
    for (;;) {
        poll_once(rounds.armed ? 20 : 200);
        if (bench_rounds_check(&rounds, opt.timeout_s) < 0) {
            quit = true;
            cleanup();
            exit(3);
        }
    }
}

/* Floor mode: connect the service account, build the payloads, serve GOs. */
static void run_floor(void)
{
    static const char head[] = "{\"id\":\"0000000000\",\"version\":\"1.0\"," PUSH_METHOD ",\"params\":{\"pad\":\"";
    static const char tail[] = "\"}}";
    size_t fixed = sizeof head - 1 + sizeof tail - 1;
    if (opt.size < (int)fixed || opt.size > 1 << 20)
        bench_die("--size must be %zu..%d", fixed, 1 << 20);
    payloads = calloc((size_t)ndev, sizeof *payloads);
    topics = calloc((size_t)ndev, sizeof *topics);
    if (!payloads || !topics)
        bench_die("out of memory");
    for (int i = 0; i < ndev; i++) {
        payloads[i] = malloc((size_t)opt.size + 1);
        topics[i] = strdup(devs[i].topic);
        if (!payloads[i] || !topics[i])
            bench_die("out of memory");
        char *p = payloads[i];
        memcpy(p, head, sizeof head - 1);
        memset(p + sizeof head - 1, 'x', (size_t)opt.size - fixed);
        memcpy(p + opt.size - (sizeof tail - 1), tail, sizeof tail - 1);
        p[opt.size] = '\0';
    }
    double start = bench_now_ms();
    start_client(&service, opt.username, opt.password);
    while (!service.connacked) {
        if (bench_now_ms() - start > opt.timeout_s * 1000.0)
            bench_die("no CONNACK for the service account after %ds", opt.timeout_s);
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

/* Parses the command line into opt; exits with usage on anything odd. */
static void parse_args(int argc, char **argv)
{
    const char *usage = "usage: mqtt_fleet devices --port P --file TRIPLES [--window W] [--timeout S]\n"
                        "       mqtt_fleet floor --port P --file TRIPLES --username U --password PW --size B "
                        "[--inflight K] [--timeout S]";
    if (argc < 2 || (strcmp(argv[1], "devices") && strcmp(argv[1], "floor")))
        bench_die("%s", usage);
    opt.mode = argv[1];
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc)
            bench_die("%s needs a value", argv[i]);
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--port"))
            opt.port = atoi(v);
        else if (!strcmp(k, "--file"))
            opt.file = v;
        else if (!strcmp(k, "--window"))
            opt.window = atoi(v);
        else if (!strcmp(k, "--timeout"))
            opt.timeout_s = atoi(v);
        else if (!strcmp(k, "--inflight"))
            opt.inflight = atoi(v);
        else if (!strcmp(k, "--size"))
            opt.size = atoi(v);
        else if (!strcmp(k, "--username"))
            opt.username = v;
        else if (!strcmp(k, "--password"))
            opt.password = v;
        else
            bench_die("unknown option %s\n%s", k, usage);
    }
    if (opt.port <= 0 || opt.port > 65535 || !opt.file || opt.window < 1 || opt.timeout_s < 1)
        bench_die("%s", usage);
    if (!strcmp(opt.mode, "floor") && (!opt.username || !opt.password))
        bench_die("floor needs --username and --password");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    parse_args(argc, argv);
    raise_fd_limit();
    devs = bench_load_triples(opt.file, 0, false, sizeof *devs, fill_device, &ndev);
    if (ndev == 0)
        bench_die("no devices in %s", opt.file);
    rounds = (bench_rounds){.n = ndev, .inbox = inbox_of, .name = name_of};
    mosquitto_lib_init();
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        bench_die("epoll_create1: %s", strerror(errno));
    service.fd = -1;
    snprintf(service.dn, sizeof service.dn, "service account");
    if (!strcmp(opt.mode, "devices"))
        run_devices();
    else
        run_floor();
    return 0;
}
