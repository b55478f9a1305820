/*
 * config.c - parse haas-emu's flags and environment (see config.h).
 *
 * One table lists every setting: its flag, its variable, its type, where it
 * goes. Defaults are applied first, then the environment, then argv.
 */
#include "config.h"
#include "clock.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HAAS_EMU_VERSION "0.1.0"

typedef enum { OPT_STR, OPT_INT, OPT_SIZE, OPT_FLAG } opt_type;

typedef struct {
    const char *flag;
    const char *env;
    opt_type type;
    size_t offset;
    size_t cap;       /* buffer size for OPT_STR */
    long long min, max;
    const char *help;
} option;

#define STR(f, e, field, h) {f, e, OPT_STR, offsetof(config, field), sizeof(((config *)0)->field), 0, 0, h}
#define INT(f, e, field, lo, hi, h) {f, e, OPT_INT, offsetof(config, field), 0, lo, hi, h}
#define SIZE(f, e, field, lo, hi, h) {f, e, OPT_SIZE, offsetof(config, field), 0, lo, hi, h}

static const option options[] = {
    INT("--http-port", "HAAS_HTTP_PORT", http_port, 0, 65535, "HTTP port (8080; 0 = any free port)"),
    INT("--mqtt-port", "HAAS_MQTT_PORT", mqtt_port, 1, 65535, "MQTT port of the managed broker (1883)"),
    STR("--bind", "HAAS_BIND", bind, "address to listen on (127.0.0.1)"),
    STR("--data-dir", "HAAS_DATA_DIR", data_dir, "database and packages (./var)"),
    STR("--public-url", "HAAS_PUBLIC_URL", public_url, "base of package URLs given to devices (http://<bind>:<http-port>)"),
    STR("--firmware-url", "HAAS_FIRMWARE_URL", firmware_url, "base of firmware URLs for Link SDK devices, which take no port from a URL (https://<host of --public-url>; serve it on 443, or give the device its port)"),
    STR("--broker", "HAAS_BROKER", broker, "HOST:PORT of an external broker instead of the managed one"),
    STR("--broker-username", "HAAS_BROKER_USERNAME", broker_username, "service account of haas-emu on the broker (haas-emu)"),
    STR("--broker-password", "HAAS_BROKER_PASSWORD", broker_password, "its password (generated for the managed broker)"),
    STR("--mosquitto", "HAAS_MOSQUITTO", mosquitto, "mosquitto executable of the managed broker (/usr/sbin/mosquitto)"),
    STR("--broker-plugin", "HAAS_BROKER_PLUGIN", broker_plugin, "auth plugin the managed broker loads (haas_auth.so beside haas-emu)"),
    STR("--web-dir", "HAAS_WEB_DIR", web_dir, "the console's files (web/ beside the build folder)"),
    STR("--api-token", "HAAS_API_TOKEN", api_token, "token the management API and console require (made and kept in the data dir when bound beyond loopback)"),
    {"--rotate-api-token", "HAAS_ROTATE_API_TOKEN", OPT_FLAG, offsetof(config, rotate_api_token), 0, 0, 1, "replace the kept API token by a new one"},
    STR("--mqtt-extra-port", "HAAS_MQTT_EXTRA_PORT", mqtt_extra_ports, "more plain MQTT ports of the managed broker, e.g. 443 (comma-separated)"),
    INT("--mqtts-port", "HAAS_MQTTS_PORT", mqtts_port, 0, 65535, "MQTT over TLS port of the managed broker (8883; 0 = none)"),
    STR("--mqtts-extra-port", "HAAS_MQTTS_EXTRA_PORT", mqtts_extra_ports, "more MQTT over TLS ports, e.g. 443 (comma-separated)"),
    INT("--https-port", "HAAS_HTTPS_PORT", https_port, 0, 65535, "HTTPS port: API, console and https:// package URLs (8443; 0 = none)"),
    STR("--tls-cert", "HAAS_TLS_CERT", tls_cert, "your own TLS certificate (PEM) instead of the local CA's"),
    STR("--tls-key", "HAAS_TLS_KEY", tls_key, "its private key (PEM)"),
    STR("--tls-san", "HAAS_TLS_SAN", tls_san, "more host names or addresses for the local certificate (comma-separated)"),
    STR("--seed", "HAAS_SEED", seed, "JSON file of products, devices, groups, apps, versions, tasks to create at start"),
    {"--ephemeral", "HAAS_EPHEMERAL", OPT_FLAG, offsetof(config, ephemeral), 0, 0, 1, "keep data in a temporary folder removed at exit"},
    STR("--oss-access-key-id", "HAAS_OSS_ACCESS_KEY_ID", oss_key_id, "key id in signed package URLs"),
    STR("--oss-access-key-secret", "HAAS_OSS_ACCESS_KEY_SECRET", oss_key_secret, "secret that signs package URLs (generated and kept when unset)"),
    STR("--oss-bucket", "HAAS_OSS_BUCKET", oss_bucket, "bucket name in package URLs (haas-emu)"),
    STR("--access-key-id", "HAAS_ACCESS_KEY_ID", access_key_id, "AccessKeyId of the Alibaba Cloud IoT API at / (generated and kept when unset)"),
    STR("--access-key-secret", "HAAS_ACCESS_KEY_SECRET", access_key_secret, "its AccessKeySecret (generated and kept when unset)"),
    INT("--url-ttl", "HAAS_URL_TTL", url_ttl, 1, 7 * 24 * 3600, "seconds a package URL stays valid (3600)"),
    SIZE("--max-package-size", "HAAS_MAX_PACKAGE_SIZE", max_package_size, 1024, 1LL << 40, "largest upload in bytes, k/m/g suffixes (64m)"),
    SIZE("--max-unpacked-size", "HAAS_MAX_UNPACKED_SIZE", max_unpacked_size, 1024, 1LL << 42, "largest total of the files inside a package (256m)"),
    INT("--max-entries", "HAAS_MAX_ENTRIES", max_entries, 1, 1000000, "most members in a package (4096)"),
    INT("--max-ratio", "HAAS_MAX_RATIO", max_ratio, 2, 100000, "unpacked/packed ratio that marks a decompression bomb (200)"),
    INT("--http-threads", "HAAS_HTTP_THREADS", http_threads, 1, 64, "HTTP worker threads of each listener (the CPUs haas-emu may run on, at least 2, at most 4)"),
    STR("--faults", "HAAS_FAULTS", faults, "JSON file with an array of fault rules to load at start (as POST /api/v1/faults takes them)"),
    STR("--clock", "HAAS_CLOCK", clock, "real, or virtual: stands still at --clock-start until POST /api/v1/clock moves it; ids and secrets repeat from run to run (tests only) (real)"),
    STR("--clock-start", "HAAS_CLOCK_START", clock_start, "where a virtual clock starts, ISO 8601 UTC (2026-01-01T00:00:00Z)"),
    INT("--random-seed", "HAAS_RANDOM_SEED", random_seed, 0, 2147483647, "seed of the repeatable ids of a virtual clock, and of fault probabilities (1)"),
    INT("--task-timeout", "HAAS_TASK_TIMEOUT", task_timeout, 0, 7 * 24 * 3600, "seconds a pushed test-task device may take before it is timed out; 0: never (0)"),
    {"--verbose", "HAAS_VERBOSE", OPT_FLAG, offsetof(config, verbose), 0, 0, 1, "log every request"},
};
#define N_OPTIONS (sizeof options / sizeof options[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: haas-emu [options]\n\n"
                 "Local emulator of the HaaS Cloud app-upgrade service.\n"
                 "Every option can also be set by the environment variable shown.\n\n");
    for (size_t i = 0; i < N_OPTIONS; i++)
        fprintf(out, "  %-26s %-28s %s\n", options[i].flag, options[i].env, options[i].help);
    fprintf(out, "  %-26s %-28s %s\n", "--help", "", "this text");
    fprintf(out, "  %-26s %-28s %s\n", "--version", "", "print the version");
}

/* Parses "123", "64k", "16m", "1g" into bytes; -1 when malformed. */
static long long parse_size(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v < 0)
        return -1;
    long long mul = 1;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': mul = 1LL << 10; end++; break;
    case 'm': case 'M': mul = 1LL << 20; end++; break;
    case 'g': case 'G': mul = 1LL << 30; end++; break;
    default: return -1;
    }
    if (*end != '\0' || v > (1LL << 50) / mul)
        return -1;
    return v * mul;
}

static int set_option(config *cfg, const option *o, const char *value, const char *source)
{
    char *field = (char *)cfg + o->offset;
    cfg->given[o - options] = 1;
    if (o->type == OPT_FLAG) {
        *(int *)field = value == NULL || strcmp(value, "0") != 0;
        return 0;
    }
    if (value == NULL) {
        fprintf(stderr, "haas-emu: %s needs a value\n", source);
        return -1;
    }
    if (o->type == OPT_STR) {
        if (strlen(value) >= o->cap) {
            fprintf(stderr, "haas-emu: %s is too long (at most %zu characters)\n", source, o->cap - 1);
            return -1;
        }
        strcpy(field, value);
        return 0;
    }
    long long v;
    if (o->type == OPT_SIZE) {
        v = parse_size(value);
    } else {
        char *end;
        errno = 0;
        v = strtoll(value, &end, 10);
        if (errno || end == value || *end)
            v = LLONG_MIN;
    }
    if (v < o->min || v > o->max) {
        fprintf(stderr, "haas-emu: bad value '%s' for %s (expected %s %lld..%lld)\n", value, source,
                o->type == OPT_SIZE ? "a size in bytes" : "an integer", o->min, o->max);
        return -1;
    }
    if (o->type == OPT_SIZE)
        *(int64_t *)field = v;
    else
        *(int *)field = (int)v;
    return 0;
}

/* Checks a comma-separated list of ports ("" is fine); -1 with a message. */
static int check_port_list(const char *flag, const char *list)
{
    for (const char *p = list; *p;) {
        char *end;
        long port = strtol(p, &end, 10);
        if (end == p || port < 1 || port > 65535 || (*end && *end != ',')) {
            fprintf(stderr, "haas-emu: %s '%s' must be ports separated by commas\n", flag, list);
            return -1;
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}

/* --http-threads when not given: one a CPU this process may run on (its
 * affinity: taskset, a container's cpuset), at least 2, so that one slow
 * request (say the whole member list of a 100,000-device task) never holds
 * up every download, and at most 4. Not more threads than CPUs:
 * libmicrohttpd's pool has each thread wait on the listening socket, and
 * every new connection wakes them all, the ones that lose only to find
 * nothing to accept. On 2 CPUs 4 threads cost each download 15-20% more
 * of the server's CPU than 2 (sequential downloads of a 64 KiB package from
 * 16 clients: 133-150 µs against 107-133 µs a download). */
static int default_http_threads(void)
{
    cpu_set_t set;
    long cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : sysconf(_SC_NPROCESSORS_ONLN);
    return cpus < 2 ? 2 : cpus > 4 ? 4 : (int)cpus;
}

/* The defaults (haas-emu --help lists them). */
static void set_defaults(config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->bind, "127.0.0.1");
    cfg->http_port = 8080;
    cfg->mqtt_port = 1883;
    cfg->mqtts_port = 8883;
    cfg->https_port = 8443;
    strcpy(cfg->data_dir, "./var");
    strcpy(cfg->oss_key_id, "LTAI5tHaaSEmulator");
    strcpy(cfg->broker_username, "haas-emu");
    strcpy(cfg->mosquitto, "/usr/sbin/mosquitto");
    strcpy(cfg->oss_bucket, "haas-emu");
    cfg->url_ttl = 3600;
    snprintf(cfg->clock, sizeof cfg->clock, "real");
    snprintf(cfg->clock_start, sizeof cfg->clock_start, "2026-01-01T00:00:00Z");
    cfg->random_seed = 1;
    cfg->max_package_size = 64LL << 20;
    cfg->max_unpacked_size = 256LL << 20;
    cfg->max_entries = 4096;
    cfg->max_ratio = 200;
    cfg->http_threads = default_http_threads();
}

/* The option named by arg ("--flag" or "--flag=value"), or NULL. */
static const option *find_option(const char *arg)
{
    const char *eq = strchr(arg, '=');
    size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strlen(options[i].flag) == name_len && !strncmp(options[i].flag, arg, name_len))
            return &options[i];
    return NULL;
}

/* argv over the environment: 0 to go on, 1 after --help/--version, -1. */
static int parse_args(config *cfg, int argc, char **argv)
{
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(arg, "--version")) {
            printf("haas-emu %s\n", HAAS_EMU_VERSION);
            return 1;
        }
        const option *o = find_option(arg);
        if (!o) {
            fprintf(stderr, "haas-emu: unknown option '%s' (see --help)\n", arg);
            return -1;
        }
        const char *eq = strchr(arg, '=');
        const char *value = eq ? eq + 1 : NULL;
        if (!eq && o->type != OPT_FLAG)
            value = (a + 1 < argc) ? argv[++a] : NULL;
        if (set_option(cfg, o, value, o->flag) < 0)
            return -1;
    }
    return 0;
}

/* --public-url: defaulted from --bind and --http-port, or checked. */
static int check_public_url(config *cfg)
{
    if (cfg->public_url[0] == '\0') {
        const char *host = strcmp(cfg->bind, "0.0.0.0") == 0 ? "127.0.0.1" : cfg->bind;
        /* The real port is only known after binding when --http-port 0;
         * main() fills it in then. */
        snprintf(cfg->public_url, sizeof cfg->public_url, "http://%s:%d", host, cfg->http_port);
        return 0;
    }
    size_t n = strlen(cfg->public_url);
    while (n > 0 && cfg->public_url[n - 1] == '/')
        cfg->public_url[--n] = '\0';
    const char *p = strstr(cfg->public_url, "://");
    int https = !strncmp(cfg->public_url, "https://", 8);
    /* http:// needs its port: stock HaaS code defaults to 443 for every
     * scheme; https:// without one means 443, as devices assume. */
    if (!p || (strncmp(cfg->public_url, "http://", 7) != 0 && !https) || (!https && !strchr(p + 3, ':'))) {
        fprintf(stderr, "haas-emu: --public-url '%s' must be http://host:port or https://host[:port] "
                        "(HaaS devices need an explicit port for http)\n", cfg->public_url);
        return -1;
    }
    if (https && cfg->https_port == 0) {
        fprintf(stderr, "haas-emu: --public-url '%s' is https:// but --https-port is 0 (no HTTPS listener)\n",
                cfg->public_url);
        return -1;
    }
    return 0;
}

/*
 * --firmware-url: defaulted to https://<host of --public-url> (http:// when
 * there is no HTTPS listener), or checked. Link SDK C 4.x takes the host up
 * to the first '/' and the port from its own setting (443 by default), so
 * the default carries no port (docs/protocol.md section 12).
 */
static int check_firmware_url(config *cfg)
{
    size_t n = strlen(cfg->firmware_url);
    while (n > 0 && cfg->firmware_url[n - 1] == '/')
        cfg->firmware_url[--n] = '\0';
    if (n == 0) {
        const char *host = strstr(cfg->public_url, "://") + 3;
        size_t len = strcspn(host, "/");
        const char *colon = memchr(host, ':', len);
        if (host[0] != '[' && colon)
            len = (size_t)(colon - host);
        snprintf(cfg->firmware_url, sizeof cfg->firmware_url, "%s://%.*s", cfg->https_port ? "https" : "http",
                 (int)len, host);
        return 0;
    }
    int https = !strncmp(cfg->firmware_url, "https://", 8);
    if ((!https && strncmp(cfg->firmware_url, "http://", 7) != 0) || strchr(cfg->firmware_url + 8, '/') ||
        cfg->firmware_url[https ? 8 : 7] == '\0') {
        fprintf(stderr, "haas-emu: --firmware-url '%s' must be https://host or http://host (no path)\n",
                cfg->firmware_url);
        return -1;
    }
    return 0;
}

/* Checks that span options; -1 with a message. */
static int check_config(config *cfg)
{
    if (check_port_list("--mqtt-extra-port", cfg->mqtt_extra_ports) < 0 ||
        check_port_list("--mqtts-extra-port", cfg->mqtts_extra_ports) < 0)
        return -1;
    if (cfg->broker[0]) {
        const char *colon = strrchr(cfg->broker, ':');
        long port = colon ? strtol(colon + 1, NULL, 10) : 0;
        if (!colon || colon == cfg->broker || port < 1 || port > 65535) {
            fprintf(stderr, "haas-emu: --broker '%s' must be HOST:PORT\n", cfg->broker);
            return -1;
        }
    }
    if (strstr(cfg->api_token, "${")) {
        fprintf(stderr, "haas-emu: the API token is the literal text '%s': the compose tool passed the variable "
                        "without expanding it (write `- HAAS_API_TOKEN` in the environment list)\n", cfg->api_token);
        return -1;
    }
    if (!cfg->tls_cert[0] != !cfg->tls_key[0]) {
        fprintf(stderr, "haas-emu: --tls-cert and --tls-key go together\n");
        return -1;
    }
    if (strcmp(cfg->clock, "real") && strcmp(cfg->clock, "virtual")) {
        fprintf(stderr, "haas-emu: --clock '%s' must be real or virtual\n", cfg->clock);
        return -1;
    }
    if (config_clock_start(cfg) < 0) {
        fprintf(stderr, "haas-emu: --clock-start '%s' must be ISO 8601 UTC, e.g. 2026-01-01T00:00:00Z\n",
                cfg->clock_start);
        return -1;
    }
    return check_public_url(cfg) < 0 ? -1 : check_firmware_url(cfg);
}

int64_t config_clock_start(const config *cfg)
{
    return clock_parse_iso(cfg->clock_start);
}

int config_given(const config *cfg, const char *flag)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (!strcmp(options[i].flag, flag))
            return cfg->given[i];
    return 0;
}

int config_load(config *cfg, int argc, char **argv)
{
    _Static_assert(N_OPTIONS <= sizeof ((config *)0)->given, "config.given is too small");
    set_defaults(cfg);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *v = getenv(options[i].env);
        if (v && *v && set_option(cfg, &options[i], v, options[i].env) < 0)
            return -1;
    }
    int rc = parse_args(cfg, argc, argv);
    return rc != 0 ? rc : check_config(cfg);
}
