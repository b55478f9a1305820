/*
 * main.c - haas-emu: a local emulator of Alibaba's HaaS Cloud app-upgrade
 * service. Start-up order: settings, data directory (and its lock),
 * database (migrations), URL-signing secret, clean-up, the managed broker
 * and the MQTT link, HTTP server; then wait for SIGINT/SIGTERM and stop in
 * reverse order.
 */
#include "aliyun_api.h"
#include "broker.h"
#include "clock.h"
#include "config.h"
#include "datadir.h"
#include "db.h"
#include "device_events.h"
#include "faults.h"
#include "http_server.h"
#include "ids.h"
#include "live.h"
#include "log.h"
#include "mqtt_link.h"
#include "push_faults.h"
#include "rollout_engine.h"
#include "seed.h"
#include "timeline.h"
#include "service_ota_jobs.h"
#include "service_tasks.h"
#include "server.h"
#include "store_settings.h"
#include "tls_certs.h"

#include <ftw.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

server_state server;

/* The setting key into out (size bytes): the kept one, or n random
 * characters made and kept at the first start. Returns 0 or -1. */
static int kept_setting(const char *key, char *out, size_t size, size_t n)
{
    store_status s = store_setting_get(key, out, size);
    if (s == STORE_NOT_FOUND && (ids_random_alnum(out, n) < 0 || store_setting_set(key, out) != STORE_OK))
        s = STORE_ERROR;
    return s == STORE_ERROR ? -1 : 0;
}

/* The secret that signs package URLs: the configured one, or one generated
 * on first start and kept in the database so URLs survive restarts. */
static int load_oss_secret(char *err, size_t errlen)
{
    if (server.cfg.oss_key_secret[0]) {
        snprintf(server.oss_secret, sizeof server.oss_secret, "%s", server.cfg.oss_key_secret);
        return 0;
    }
    if (kept_setting("oss_access_key_secret", server.oss_secret, sizeof server.oss_secret, 30) < 0) {
        snprintf(err, errlen, "cannot read or store the URL-signing secret");
        return -1;
    }
    return 0;
}

/* The AccessKey pair of the Alibaba Cloud IoT API at / (aliyun_api.h):
 * --access-key-id/--access-key-secret, or a pair made at the first start
 * and kept in the database; printed at every start. */
static int load_aliyun_keys(char *err, size_t errlen)
{
    config *cfg = &server.cfg;
    char id[160], secret[128], made[32];
    int rc = 0;
    if (cfg->access_key_id[0])
        snprintf(id, sizeof id, "%s", cfg->access_key_id);
    else if ((rc = kept_setting("aliyun_access_key_id", made, sizeof made, 20)) == 0)
        snprintf(id, sizeof id, "LTAI%s", made);
    if (cfg->access_key_secret[0])
        snprintf(secret, sizeof secret, "%s", cfg->access_key_secret);
    else if (rc == 0)
        rc = kept_setting("aliyun_access_key_secret", secret, sizeof secret, 30);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read or store the Alibaba Cloud API's AccessKey pair");
        return -1;
    }
    aliyun_api_set_credentials(id, secret);
    log_msg(LOG_INFO, "Alibaba Cloud IoT API (2018-01-20) at this HTTP address: AccessKeyId %s AccessKeySecret %s",
            id, secret);
    OPENSSL_cleanse(secret, sizeof secret);
    return 0;
}

/* The managed broker (unless --broker names an external one), then the
 * service account's link to it. */
static int start_mqtt(const char *db_path, char *err, size_t errlen)
{
    config *cfg = &server.cfg;
    char host[256];
    int port;
    static const mqtt_link_handlers handlers = {device_events_handle, device_events_session_lost, db_batch_begin,
                                                device_events_batch_end, db_lock_wanted};
    if (cfg->broker[0]) {
        snprintf(host, sizeof host, "%s", cfg->broker);
        char *colon = strrchr(host, ':');
        *colon = '\0';
        port = atoi(colon + 1);
    } else {
        /* A fresh service password for every start of the managed broker. */
        if (!cfg->broker_password[0] && ids_random_alnum(cfg->broker_password, 32) < 0) {
            snprintf(err, errlen, "cannot generate the broker service password");
            return -1;
        }
        broker_choose_ports(cfg);
        if (broker_start(cfg, db_path, cfg->broker_username, cfg->broker_password,
                         server.tls.cert_path[0] ? &server.tls : NULL, err, errlen) < 0)
            return -1;
        snprintf(host, sizeof host, "%s", !strcmp(cfg->bind, "0.0.0.0") ? "127.0.0.1" : cfg->bind);
        port = cfg->mqtt_port;
    }
    /* The link's client id: stable for this data directory (so the broker
     * keeps our session across restarts), different for every other one (so
     * two emulators sharing a broker do not take each other over). */
    char instance[24];
    if (kept_setting("instance_id", instance, sizeof instance, 12) < 0) {
        snprintf(err, errlen, "cannot read or store the instance id");
        return -1;
    }
    char client_id[64];
    snprintf(client_id, sizeof client_id, "haas-emu-%s", instance);
    return mqtt_link_start(host, port, client_id, cfg->broker_username, cfg->broker_password, &handlers, err, errlen);
}

/* The console's folder: --web-dir, or web/ of the source tree the binary
 * was built in (build/haas-emu or build/asan/haas-emu). */
static void find_web_dir(void)
{
    char candidate[700], exe[512];
    if (server.cfg.web_dir[0]) {
        if (!realpath(server.cfg.web_dir, server.web_dir))
            log_msg(LOG_WARN, "--web-dir %s does not exist; no console", server.cfg.web_dir);
        return;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    const char *rel[] = {"../web", "../../web"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        snprintf(candidate, sizeof candidate, "%s/%s/index.html", exe, rel[i]);
        if (access(candidate, R_OK) == 0) {
            *strrchr(candidate, '/') = '\0';
            if (realpath(candidate, server.web_dir))
                return;
        }
    }
    server.web_dir[0] = '\0';
}

/* Is addr a loopback address (where no token is needed)? */
static int is_loopback(const char *addr)
{
    return !strncmp(addr, "127.", 4) || !strcmp(addr, "::1") || !strcmp(addr, "localhost");
}

/* The management token: --api-token, or, when the API is reachable from
 * other machines, the one kept in the data directory (made at the first
 * such start, made again with --rotate-api-token), so a console link or a
 * script keeps working across restarts. Printed at every start. */
static int choose_api_token(void)
{
    config *cfg = &server.cfg;
    if (cfg->api_token[0]) {
        snprintf(server.api_token, sizeof server.api_token, "%s", cfg->api_token);
        return 0;
    }
    if (is_loopback(cfg->bind))
        return 0;
    if (cfg->rotate_api_token && store_setting_set("api_token", "") != STORE_OK)
        return -1;
    if (kept_setting("api_token", server.api_token, sizeof server.api_token, 24) < 0)
        return -1;
    if (!server.api_token[0] && (ids_random_alnum(server.api_token, 24) < 0 ||
                                 store_setting_set("api_token", server.api_token) != STORE_OK))
        return -1;
    log_msg(LOG_INFO, "the management API and console need this token (beyond loopback; kept in the data "
                      "directory, --rotate-api-token makes a new one): %s", server.api_token);
    log_msg(LOG_INFO, "  send it as \"Authorization: Bearer %s\", or open the console at /?token=%s",
            server.api_token, server.api_token);
    return 0;
}

/* The HTTPS listener's certificate and key, kept until it stops. */
static char *https_cert, *https_key;

/* At exit, on every path: the PEM texts read at start. */
static void free_tls_text(void)
{
    free(server.ca_pem);
    free(https_cert);
    if (https_key)
        OPENSSL_cleanse(https_key, strlen(https_key));
    free(https_key);
}

/* TLS material, when any listener needs it: the managed broker's MQTT over
 * TLS, or the HTTPS listener. */
static int prepare_tls(char *err, size_t errlen)
{
    config *cfg = &server.cfg;
    atexit(free_tls_text);
    int broker_tls = !cfg->broker[0] && (cfg->mqtts_port || cfg->mqtts_extra_ports[0]);
    if (!broker_tls && !cfg->https_port)
        return 0;
    if (tls_certs_prepare(cfg, &server.tls, err, errlen) < 0)
        return -1;
    if (server.tls.ca_path[0] && !(server.ca_pem = tls_read_pem(server.tls.ca_path, err, errlen)))
        return -1;
    return 0;
}

/* The HTTPS listener (--https-port), serving what the HTTP one serves. */
static int start_https(char *err, size_t errlen)
{
    config *cfg = &server.cfg;
    if (!cfg->https_port)
        return 0;
    if (!(https_cert = tls_read_pem(server.tls.cert_path, err, errlen)) ||
        !(https_key = tls_read_pem(server.tls.key_path, err, errlen)))
        return -1;
    int port = http_server_start_tls(cfg->bind, cfg->https_port, cfg->http_threads, https_cert, https_key, err,
                                     errlen);
    if (port < 0)
        return -1;
    server.https_port = port;
    return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* At exit, whatever the path (a failed start too): the --ephemeral folder. */
static void remove_ephemeral_dir(void)
{
    nftw(server.cfg.data_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* --ephemeral: a temporary data directory, removed at exit. */
static int make_ephemeral_dir(void)
{
    char tmpl[] = "/tmp/haas-emu-XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    snprintf(server.cfg.data_dir, sizeof server.cfg.data_dir, "%s", tmpl);
    atexit(remove_ephemeral_dir);
    log_msg(LOG_INFO, "ephemeral data directory %s (removed at exit)", tmpl);
    return 0;
}

/* Bound beyond loopback, package URLs on a loopback address reach no other
 * machine: devices would get a 403 or nothing. Said at start, with the fix. */
static void warn_unreachable_public_url(void)
{
    const config *cfg = &server.cfg;
    const char *host = strstr(cfg->public_url, "://");
    host = host ? host + 3 : cfg->public_url;
    if (is_loopback(cfg->bind) || !(is_loopback(host) || !strncmp(host, "localhost", 9) || !strncmp(host, "[::1]", 5)))
        return;
    log_msg(LOG_WARN, "bound to %s, but package URLs are %s, which other machines cannot reach: pass "
                      "--public-url http://<this machine's LAN address>:%d (HAAS_PUBLIC_URL)",
            cfg->bind, cfg->public_url, cfg->http_port);
}

/* Where devices connect, printed once everything listens. */
static void log_ready_endpoints(void)
{
    config *cfg = &server.cfg;
    if (!cfg->broker[0])
        log_msg(LOG_INFO, "MQTT for devices: %s:%d%s%s", cfg->bind, cfg->mqtt_port,
                cfg->mqtt_extra_ports[0] ? " and ports " : "", cfg->mqtt_extra_ports);
    if (!cfg->broker[0] && server.tls.cert_path[0] && cfg->mqtts_port)
        log_msg(LOG_INFO, "MQTT over TLS: %s:%d%s%s", cfg->bind, cfg->mqtts_port,
                cfg->mqtts_extra_ports[0] ? " and ports " : "", cfg->mqtts_extra_ports);
    if (server.https_port)
        log_msg(LOG_INFO, "HTTPS: https://%s:%d", cfg->bind, server.https_port);
    if (server.ca_pem)
        log_msg(LOG_INFO, "TLS clients trust the local CA %s (also at GET /api/v1/ca.pem)", server.tls.ca_path);
}

/* Process-wide settings: descriptors, signals (returned in *stop). */
static void setup_process(sigset_t *stop)
{
    /* One descriptor per connected device: take all the kernel allows (the
     * managed broker inherits the limit). */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    /* Signals are taken by sigwait in main; every thread inherits the mask. */
    sigemptyset(stop);
    sigaddset(stop, SIGINT);
    sigaddset(stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, stop, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* The data directory, the database and what is kept in it; db_path gets the
 * database's path. Returns 0 or -1 with a message in err. */
static int open_data(char db_path[700], char *err, size_t errlen)
{
    config *cfg = &server.cfg;
    if (cfg->ephemeral && make_ephemeral_dir() < 0) {
        snprintf(err, errlen, "cannot create a temporary data directory");
        return -1;
    }
    if (datadir_prepare(cfg->data_dir, server.packages_dir, sizeof server.packages_dir, server.tmp_dir,
                        sizeof server.tmp_dir, err, errlen) < 0)
        return -1;
    snprintf(db_path, 700, "%s/haas.db", cfg->data_dir);
    if (db_open(db_path, err, errlen) < 0 || load_oss_secret(err, errlen) < 0 || load_aliyun_keys(err, errlen) < 0)
        return -1;
    if (choose_api_token() < 0) {
        snprintf(err, errlen, "cannot read or keep the API token");
        return -1;
    }
    int swept = datadir_sweep(server.packages_dir, server.tmp_dir);
    if (swept)
        log_msg(LOG_INFO, "removed %d leftover file(s) of an interrupted run", swept);
    return 0;
}

/* TLS, the broker and its link, HTTP and HTTPS; the HTTP port bound goes to
 * *port (and into --public-url when it was 0). Returns 0, or -1 with a
 * message in err and everything started stopped again. */
static int start_services(const char *db_path, int *port, char *err, size_t errlen)
{
    config *cfg = &server.cfg;
    server.signer = (oss_signer){cfg->oss_key_id, server.oss_secret, cfg->oss_bucket, cfg->public_url};
    if (prepare_tls(err, errlen) < 0 || start_mqtt(db_path, err, errlen) < 0)
        return -1;
    *port = http_server_start(cfg->bind, cfg->http_port, cfg->http_threads, err, errlen);
    if (*port < 0 || start_https(err, errlen) < 0) {
        http_server_stop();
        mqtt_link_stop();
        broker_stop();
        return -1;
    }
    if (cfg->http_port == 0 && strstr(cfg->public_url, ":0") == cfg->public_url + strlen(cfg->public_url) - 2) {
        char *colon = strrchr(cfg->public_url, ':');
        snprintf(colon, sizeof cfg->public_url - (size_t)(colon - cfg->public_url), ":%d", *port);
    }
    return 0;
}

/* A test task device timed out: on the task's timeline. */
static void timed_out_event(const char *task, const char *pk, const char *dn, void *ctx)
{
    (void)ctx;
    timeline_add("state", task, pk, dn, "{\"state\":\"timedOut\"}");
}

/* Runs the emulator's clock until a stop signal, which it returns: four
 * times a second the staged rollouts step (rollout_engine.h), and firmware
 * job devices past their timeout end (timedOut). */
static int wait_for_stop(const sigset_t *stop)
{
    const struct timespec quarter = {0, 250 * 1000 * 1000};
    for (;;) {
        int sig = sigtimedwait(stop, NULL, &quarter);
        if (sig > 0)
            return sig;
        rollout_engine_tick(clock_now());
        faults_tick(clock_now_ms());
        push_faults_flush(clock_now_ms());
        int timed_out = 0;
        service_result res;
        if (service_ota_tick(clock_now(), &timed_out, &res) != SERVICE_OK)
            log_msg(LOG_WARN, "firmware job timeouts: %s", res.message);
        else if (timed_out > 0)
            log_msg(LOG_INFO, "%d firmware job device(s) timed out", timed_out);
        if (service_task_timeouts(clock_now(), server.cfg.task_timeout, &timed_out, &res, timed_out_event, NULL) !=
            SERVICE_OK)
            log_msg(LOG_WARN, "task timeouts: %s", res.message);
        else if (timed_out > 0)
            log_msg(LOG_INFO, "%d test task device(s) timed out (no result; pushing the task again retries them)",
                    timed_out);
        if (timed_out > 0)
            live_changed();
    }
}

/*
 * glibc gives each thread that allocates its own heap ("arena"), up to 8
 * per core, and memory freed in one is kept there for that arena's next
 * allocations. haas-emu's threads (HTTP workers, the MQTT link, pushes)
 * each allocate in bursts, so each arena kept its own high-water mark: at
 * 10,000 fleet devices, 72.9 MiB at the peak against 52.0 MiB with two
 * arenas, and no slower (glibc's per-thread caches serve most small
 * allocations without the arena lock). A limit the user set
 * (MALLOC_ARENA_MAX, or glibc.malloc.arena_max in GLIBC_TUNABLES) wins.
 */
static void limit_malloc_arenas(void)
{
#ifdef M_ARENA_MAX
    const char *tunables = getenv("GLIBC_TUNABLES");
    if (!getenv("MALLOC_ARENA_MAX") && !(tunables && strstr(tunables, "arena_max")))
        mallopt(M_ARENA_MAX, 2);
#endif
}

int main(int argc, char **argv)
{
    limit_malloc_arenas();
    int rc = config_load(&server.cfg, argc, argv);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    config *cfg = &server.cfg;
    if (cfg->verbose)
        log_set_level(LOG_DEBUG);
    if (!strcmp(cfg->clock, "virtual")) {
        clock_use_virtual(config_clock_start(cfg) * 1000);
        ids_use_seed((uint64_t)cfg->random_seed);
        log_msg(LOG_WARN, "virtual clock at %s (POST /api/v1/clock moves it); ids and secrets repeat from run to "
                "run (seed %d): for tests only", cfg->clock_start, cfg->random_seed);
    }
    server.started = time(NULL);
    sigset_t stop;
    setup_process(&stop);

    char err[600], db_path[700];
    int port = 0;
    server.seeding = cfg->seed[0] != '\0';
    if (open_data(db_path, err, sizeof err) < 0) {
        log_msg(LOG_ERROR, "%s", err);
        db_close();
        return 1;
    }
    find_web_dir();
    warn_unreachable_public_url();
    if (start_services(db_path, &port, err, sizeof err) < 0) {
        log_msg(LOG_ERROR, "%s", err);
        db_close();
        return 1;
    }
    int sig = 0;
    if (cfg->seed[0] && seed_apply(cfg->seed, err, sizeof err) < 0) {
        log_msg(LOG_ERROR, "%s", err);
        sig = -1;
    }
    server.seeding = 0;
    if (sig == 0 && cfg->faults[0] && faults_load_file(cfg->faults, err, sizeof err) < 0) {
        log_msg(LOG_ERROR, "%s", err);
        sig = -1;
    }
    if (sig == 0) {
        log_ready_endpoints();
        log_msg(LOG_INFO, "haas-emu ready: http://%s:%d (data %s, package URLs %s)", cfg->bind, port,
                cfg->data_dir, cfg->public_url);
        sig = wait_for_stop(&stop);
        log_msg(LOG_INFO, "stopping on signal %d", sig);
    }
    http_server_stop();
    mqtt_link_stop();
    broker_stop();
    db_close();
    live_free();
    timeline_free();
    return sig < 0 ? 1 : 0;
}
