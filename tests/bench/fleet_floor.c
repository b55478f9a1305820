/*
 * fleet_floor.c - the server side of the fleet benchmark's floor
 * (tests/bench/bench_fleet.py). Built by `make build/bench/fleet_floor`,
 * with what the tools share (tests/bench/bench_tool.h: the clock, the ERROR
 * exit, the reader of the driver's commands and of the TRIPLES file).
 *
 * The fleet benchmark asks: how long does haas-emu take to upgrade N
 * haas-device --fleet devices (push, download, install, reboot, reconnect,
 * report), next to the smallest server that makes the same devices do the
 * same work? That server is a plain mosquitto (no plugin, anonymous, on
 * 127.0.0.1), nginx serving the same kind of package, and this program,
 * which stands in for haas-emu's part: it publishes the N pushes and counts
 * the N results. It only talks to 127.0.0.1.
 *
 *   fleet_floor --port P --file TRIPLES --app APPID --from OLD --to NEW
 *               --url URL --md5 MD5 --size BYTES [--timeout S]
 *
 * One MQTT 3.1.1 connection (anonymous, clean session) subscribed at QoS 1
 * to the two device events haas-emu listens to for an app upgrade
 * (docs/protocol.md section 7):
 *   /sys/+/+/thing/event/hli_event_upgrade_query/post  a device reporting
 *       its app version (the SDK sends one after every connect, after it
 *       subscribed to its push topic, so a query proves the push can reach
 *       the device);
 *   /sys/+/+/thing/event/hli_event/post  app.result, after the new app
 *       confirmed itself.
 * The devices of TRIPLES ("pk dn ds" a line; ds is not used) are found by
 * name in an open-addressing hash table.
 *
 * On GO it publishes haas-emu's push (push_build_message() in
 * server/src/push.c: the same fields in the same order, a decimal string id
 * per message, a 30-character haasTraceId) for app APPID, version NEW, the
 * package URL, MD5 and size, QoS 1, to the push topic of every device, as
 * fast as libmosquitto takes them (no limit of unacknowledged messages, as
 * haas-emu's link). The payloads are built at start, before the clock.
 *
 * It sends no replies: the device waits for none. on_message() in
 * sdk/src/upgrade.c drops everything but pushes (haas-emu's post_replies to
 * the query and the result are not read), and the firmware module
 * (sdk/src/fw_ota.c), which also informs its version and asks for a
 * firmware job after every connect, acts on a get_reply only when it offers
 * a job; haas-emu has none for these devices. A device on a plain broker
 * does not even subscribe to its post_reply topics.
 *
 * The driver speaks to the tool with lines on stdin and reads lines
 * "WORD key=value ..." on stdout; times are CLOCK_MONOTONIC milliseconds,
 * the clock of Python's time.monotonic():
 *
 *   -> READY                        connected, both filters granted QoS 1
 *   -> QUERIED n= ms=               every device has sent a query naming
 *                                   app APPID at version OLD (ms since READY)
 *   <- GO
 *   -> SENT n= t0_ms= sent_ms=      t0_ms: just before the first publish;
 *                                   sent_ms: the last publish handed over
 *   -> DONE n= first_ms= last_ms= acked= dup=
 *                                   N distinct devices reported app.result
 *                                   200 for version NEW (last_ms: arrival
 *                                   of the last one; acked: PUBACKs so far)
 *   <- QUIT
 *   -> BYE results= dup= queries= others= ; exit status 0
 *
 * A result other than 200, or for another version, a refused login, a lost
 * connection or bad arguments print "ERROR ..." and exit with status 1; no
 * QUERIED or DONE within --timeout seconds prints "TIMEOUT phase= have=
 * missing= missing_dn=..." and exits with status 3.
 */
#include <errno.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_tool.h"

#define HOST "127.0.0.1"
#define KEEPALIVE 300
#define QUERY_FILTER "/sys/+/+/thing/event/hli_event_upgrade_query/post"
#define RESULT_FILTER "/sys/+/+/thing/event/hli_event/post"
#define PUSH_TOPIC_FMT "/sys/%s/%s/thing/service/hli_service_upgrade_push"
#define PUSH_MAX 2048   /* haas-emu's message buffer (send_one() in server/src/push.c) */
#define SCAN_MAX 4096   /* longest event payload looked into */

typedef struct device {
    char pk[BENCH_PK_SIZE], dn[BENCH_DN_SIZE];
    char *push;         /* the push message, built at start */
    int push_len;
    bool queried;       /* sent a query naming OLD */
    bool result;        /* reported app.result 200 for NEW */
} device;

static struct {
    const char *file, *app, *from, *to, *url, *md5;
    int port, timeout_s;
    long long size;
} opt = {.timeout_s = 120, .size = -1};

static device *devs;
static int ndev;
static int *table;          /* hash table of device indexes, -1 = empty */
static size_t table_mask;
static struct mosquitto *mosq;
static bool connected, subscribed, quit;

enum phase { PH_CONNECTING, PH_QUERIES, PH_ARMED, PH_RESULTS, PH_DONE };
static enum phase phase = PH_CONNECTING;
static int queried, results, acked;
static unsigned long long dups, queries, others;
static double first_ms, last_ms;
static bool go_pending;

/* Prints one protocol line and flushes it. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/* ---- devices ---- */

static uint64_t hash_name(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* Index of the device named dn (len bytes, not terminated), or -1. */
static int find_device(const char *dn, size_t len)
{
    for (size_t slot = hash_name(dn, len) & table_mask;; slot = (slot + 1) & table_mask) {
        int i = table[slot];
        if (i < 0)
            return -1;
        if (strlen(devs[i].dn) == len && memcmp(devs[i].dn, dn, len) == 0)
            return i;
    }
}

static void index_devices(void)
{
    size_t size = 16;
    while (size < (size_t)ndev * 2)
        size *= 2;
    table = malloc(size * sizeof *table);
    if (!table)
        bench_die("out of memory");
    memset(table, -1, size * sizeof *table);
    table_mask = size - 1;
    for (int i = 0; i < ndev; i++) {
        if (find_device(devs[i].dn, strlen(devs[i].dn)) >= 0)
            bench_die("device %s listed twice", devs[i].dn);
        size_t slot = hash_name(devs[i].dn, strlen(devs[i].dn)) & table_mask;
        while (table[slot] >= 0)
            slot = (slot + 1) & table_mask;
        table[slot] = i;
    }
}

/* Sets a device record from its TRIPLES line (ds is not used). */
static void fill_device(void *item, const bench_triple *t)
{
    device *d = item;
    memcpy(d->pk, t->pk, sizeof d->pk);
    memcpy(d->dn, t->dn, sizeof d->dn);
}

/* haas-emu's push for device i (push_build_message() in server/src/push.c):
 * id = (start time in s mod 10^9) + 1 + i, as message_id() counts; trace =
 * 8 hex digits of 127.0.0.1, 13 digits of ms, a 4-digit sequence, 1, and
 * the pid mod 10000 (push_trace_id()). */
static void build_push(int i, unsigned long first_id, long long start_ms)
{
    char msg[PUSH_MAX], trace[40];
    snprintf(trace, sizeof trace, "7f000001%013lld%04d1%04d", start_ms, i % 10000, (int)(getpid() % 10000));
    int n = snprintf(msg, sizeof msg,
                     "{\"id\":\"%lu\",\"version\":\"1.0\",\"method\":\"thing.service.hli_service_upgrade_push\","
                     "\"params\":{\"app\":[{\"size\":%lld,\"appId\":\"%s\",\"rollingBack\":0,\"version\":\"%s\","
                     "\"url\":\"%s\",\"md5\":\"%s\",\"needRestart\":0}],\"appUpdateCount\":1,\"errorCode\":\"200\","
                     "\"needUpdateFirmware\":0,\"haasTraceId\":\"%s\"}}",
                     (first_id + (unsigned long)i) & 0xffffffffUL, opt.size, opt.app, opt.to, opt.url, opt.md5,
                     trace);
    if (n < 0 || (size_t)n >= sizeof msg)
        bench_die("push message longer than %d bytes", PUSH_MAX);
    devs[i].push = malloc((size_t)n + 1);
    if (!devs[i].push)
        bench_die("out of memory");
    memcpy(devs[i].push, msg, (size_t)n + 1);
    devs[i].push_len = n;
}

static void build_pushes(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long first_id = (unsigned long)(ts.tv_sec % 1000000000L) + 1;
    long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    for (int i = 0; i < ndev; i++)
        build_push(i, first_id, ms);
}

/* ---- reading the devices' events ---- */

/* The value after `key` in p: skips the quotes, backslashes (ext is JSON
 * inside a string), colons and blanks that follow it; NULL when absent. */
static const char *value_after(const char *p, const char *key)
{
    const char *k = strstr(p, key);
    if (!k)
        return NULL;
    k += strlen(key);
    while (*k == '"' || *k == '\\' || *k == ':' || *k == ' ')
        k++;
    return k;
}

/* True when v starts with the string value want (ends with " or \"). */
static bool value_is(const char *v, const char *want)
{
    size_t n = strlen(want);
    return v && strncmp(v, want, n) == 0 && (v[n] == '"' || v[n] == '\\');
}

/* A query naming the app at version OLD marks the device ready. */
static void on_query(int i, const char *p)
{
    queries++;
    char key[64];
    snprintf(key, sizeof key, "\"appId\":\"%s\"", opt.app);
    const char *app = strstr(p, key);
    if (!app || !value_is(value_after(app + strlen(key), "\"version\""), opt.from) || devs[i].queried)
        return;
    devs[i].queried = true;
    queried++;
}

/* An app.result: 200 for version NEW counts once per device; any other
 * code or version ends the run. */
static void on_result(int i, const char *p, double t)
{
    if (!value_is(value_after(p, "\"eventName\""), "app.result")) {
        others++;
        return;
    }
    const char *code = value_after(p, "\"argInt\"");
    long argint = code ? strtol(code, NULL, 10) : -1;
    if (argint != 200 || !value_is(value_after(p, "appNewVersion"), opt.to))
        bench_die("%s reported app.result %ld: %s", devs[i].dn, argint, p);
    if (devs[i].result) {
        dups++;
        return;
    }
    devs[i].result = true;
    results++;
    if (first_ms == 0)
        first_ms = t;
    last_ms = t;
}

/* Device index from /sys/{pk}/{dn}/thing/event/{name}/post, and the name. */
static int event_device(const char *topic, const char **name)
{
    if (strncmp(topic, "/sys/", 5) != 0)
        return -1;
    const char *dn = strchr(topic + 5, '/');
    const char *end = dn ? strchr(dn + 1, '/') : NULL;
    if (!end || strncmp(end, "/thing/event/", 13) != 0)
        return -1;
    *name = end + 13;
    return find_device(dn + 1, (size_t)(end - dn - 1));
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    (void)m, (void)obj;
    double t = bench_now_ms();
    const char *name = NULL;
    int i = msg->topic ? event_device(msg->topic, &name) : -1;
    if (i < 0 || msg->payloadlen <= 0) {
        others++;
        return;
    }
    char p[SCAN_MAX];
    size_t len = (size_t)msg->payloadlen < sizeof p - 1 ? (size_t)msg->payloadlen : sizeof p - 1;
    memcpy(p, msg->payload, len);
    p[len] = '\0';
    if (strcmp(name, "hli_event_upgrade_query/post") == 0)
        on_query(i, p);
    else if (strcmp(name, "hli_event/post") == 0)
        on_result(i, p, t);
    else
        others++;
}

/* ---- MQTT ---- */

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
    (void)obj;
    if (rc != 0)
        bench_die("CONNACK refused: %s", mosquitto_connack_string(rc));
    connected = true;
    char *filters[] = {QUERY_FILTER, RESULT_FILTER};
    int src = mosquitto_subscribe_multiple(m, NULL, 2, filters, 1, 0, NULL);
    if (src != MOSQ_ERR_SUCCESS)
        bench_die("subscribe: %s", mosquitto_strerror(src));
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int qos_count, const int *granted)
{
    (void)m, (void)obj, (void)mid;
    if (qos_count != 2 || granted[0] != 1 || granted[1] != 1)
        bench_die("event subscriptions not granted at QoS 1");
    subscribed = true;
}

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
    (void)m, (void)obj, (void)mid;
    acked++;
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
    (void)m, (void)obj;
    if (!quit)
        bench_die("disconnected: %s", mosquitto_strerror(rc));
}

static void start_client(void)
{
    char cid[64];
    snprintf(cid, sizeof cid, "fleet-floor-%ld", (long)getpid());
    mosq = mosquitto_new(cid, true, NULL);
    if (!mosq)
        bench_die("mosquitto_new: out of memory");
    mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_connect_callback_set(mosq, on_connect);
    mosquitto_subscribe_callback_set(mosq, on_subscribe);
    mosquitto_message_callback_set(mosq, on_message);
    mosquitto_publish_callback_set(mosq, on_publish);
    mosquitto_disconnect_callback_set(mosq, on_disconnect);
    mosquitto_max_inflight_messages_set(mosq, 0);
    int rc = mosquitto_connect(mosq, HOST, opt.port, KEEPALIVE);
    if (rc != MOSQ_ERR_SUCCESS)
        bench_die("connect to %s:%d: %s", HOST, opt.port,
                  rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
}

/* ---- driver commands ---- */

static void command(const char *line)
{
    if (!strcmp(line, "QUIT")) {
        quit = true;
        say("BYE results=%d dup=%llu queries=%llu others=%llu", results, dups, queries, others);
        mosquitto_disconnect(mosq);
        mosquitto_destroy(mosq);
        mosquitto_lib_cleanup();
        exit(0);
    } else if (!strcmp(line, "GO")) {
        if (phase != PH_ARMED)
            bench_die("GO before QUERIED");
        go_pending = true; /* run by the main loop, not from inside bench_read_commands() */
    } else if (line[0] != '\0') {
        bench_die("unknown command: %s", line);
    }
}

/* One poll over stdin and the MQTT socket, at most timeout_ms. */
static void poll_once(int timeout_ms)
{
    struct pollfd fds[2] = {{.fd = 0, .events = POLLIN},
                            {.fd = mosquitto_socket(mosq), .events = POLLIN}};
    if (mosquitto_want_write(mosq))
        fds[1].events |= POLLOUT;
    if (poll(fds, 2, timeout_ms) < 0 && errno != EINTR)
        bench_die("poll: %s", strerror(errno));
    int rc = MOSQ_ERR_SUCCESS;
    if (fds[1].revents & (POLLIN | POLLERR | POLLHUP))
        rc = mosquitto_loop_read(mosq, 64);
    if (rc == MOSQ_ERR_SUCCESS && mosquitto_want_write(mosq))
        rc = mosquitto_loop_write(mosq, 64);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_loop_misc(mosq);
    if (rc != MOSQ_ERR_SUCCESS && !quit)
        bench_die("connection failed: %s", rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
    if (fds[0].revents & (POLLIN | POLLHUP))
        bench_read_commands(command);
}

/* Names up to ten devices that lack a query (phase queries) or a result. */
static void missing_names(char *out, size_t outlen, bool want_query)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0, shown = 0; i < ndev && shown < 10; i++) {
        if (want_query ? devs[i].queried : devs[i].result)
            continue;
        int k = snprintf(out + used, outlen - used, "%s%s", shown ? "," : "", devs[i].dn);
        if (k < 0 || (size_t)k >= outlen - used)
            break;
        used += (size_t)k;
        shown++;
    }
}

static void timeout_exit(const char *what, int have, bool want_query)
{
    char names[800];
    missing_names(names, sizeof names, want_query);
    say("TIMEOUT phase=%s have=%d missing=%d missing_dn=%s", what, have, ndev - have, names);
    exit(3);
}

/* Publishes every device's push; returns the time just before the first. */
static double publish_all(void)
{
    char topic[160];
    double t0 = bench_now_ms();
    for (int i = 0; i < ndev; i++) {
        snprintf(topic, sizeof topic, PUSH_TOPIC_FMT, devs[i].pk, devs[i].dn);
        int rc = mosquitto_publish(mosq, NULL, topic, devs[i].push_len, devs[i].push, 1, false);
        if (rc != MOSQ_ERR_SUCCESS)
            bench_die("publish on %s: %s", topic, mosquitto_strerror(rc));
    }
    return t0;
}

/* Waits until cond holds, serving the connection; a deadline of
 * --timeout seconds from start. Returns false at the deadline. */
static bool serve_until(bool (*cond)(void), double start)
{
    while (!cond()) {
        if (bench_now_ms() - start > opt.timeout_s * 1000.0)
            return false;
        poll_once(20);
    }
    return true;
}

static bool is_ready(void) { return connected && subscribed; }
static bool all_queried(void) { return queried == ndev; }
static bool all_results(void) { return results == ndev; }

static void run(void)
{
    double start = bench_now_ms();
    if (!serve_until(is_ready, start))
        bench_die("no CONNACK/SUBACK within %ds", opt.timeout_s);
    say("READY");
    phase = PH_QUERIES;
    start = bench_now_ms();
    if (!serve_until(all_queried, start))
        timeout_exit("queries", queried, true);
    say("QUERIED n=%d ms=%.3f", ndev, bench_now_ms() - start);
    phase = PH_ARMED;
    while (!go_pending)
        poll_once(200);
    go_pending = false;
    phase = PH_RESULTS;
    double t0 = publish_all();
    say("SENT n=%d t0_ms=%.3f sent_ms=%.3f", ndev, t0, bench_now_ms());
    if (!serve_until(all_results, t0))
        timeout_exit("results", results, false);
    say("DONE n=%d first_ms=%.3f last_ms=%.3f acked=%d dup=%llu", results, first_ms, last_ms, acked, dups);
    phase = PH_DONE;
    for (;;)
        poll_once(200); /* until QUIT */
}

/* ---- command line ---- */

/* An "ERROR usage: ..." line and exit status 1, as the other tools do. */
static void usage(void)
{
    bench_die("usage: fleet_floor --port P --file TRIPLES --app APPID --from OLD --to NEW --url URL "
              "--md5 MD5 --size BYTES [--timeout S]");
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        if (!strcmp(k, "--port"))
            opt.port = atoi(v);
        else if (!strcmp(k, "--file"))
            opt.file = v;
        else if (!strcmp(k, "--app"))
            opt.app = v;
        else if (!strcmp(k, "--from"))
            opt.from = v;
        else if (!strcmp(k, "--to"))
            opt.to = v;
        else if (!strcmp(k, "--url"))
            opt.url = v;
        else if (!strcmp(k, "--md5"))
            opt.md5 = v;
        else if (!strcmp(k, "--size"))
            opt.size = atoll(v);
        else if (!strcmp(k, "--timeout"))
            opt.timeout_s = atoi(v);
        else
            usage();
    }
    if (opt.port <= 0 || opt.port > 65535 || !opt.file || !opt.app || !opt.from || !opt.to || !opt.url ||
        !opt.md5 || opt.size < 0 || opt.timeout_s <= 0 || strlen(opt.app) > 40)
        usage();
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    devs = bench_load_triples(opt.file, 0, false, sizeof *devs, fill_device, &ndev);
    if (ndev == 0)
        bench_die("no devices in %s", opt.file);
    index_devices();
    build_pushes();
    mosquitto_lib_init();
    start_client();
    run();
    return 0;
}
