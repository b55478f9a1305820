/*
 * haas_device.c - haas-device, a simulated M5Stack Core2 running the HaaS
 * app-upgrade loop, built from the SDK (sdk/src) and its Linux port
 * (sdk/port/posix).
 *
 * Its flash is a folder (--root): the app lives in <root>/data/pyamp
 * (manifest.json, main.py, ...), the SDK's staging area and journal in
 * <root>/data/.haas. Like the tutorial's device it prints a boot log,
 * connects with its triple, subscribes to the push topic and sends
 * hli_event_upgrade_query with its version; on a push it downloads,
 * verifies, installs, "restarts" (runs its boot path again), runs the new
 * main.py with python3 (PYTHONPATH gets sdk/tools/pycompat so utime, ujson,
 * uos and kv import), and confirms the app when main.py exits 0 or is still
 * running after --app-settle seconds; an app that exits with an error is
 * rejected (rolled back, 405).
 *
 * --broker mqtts://HOST[:PORT] speaks MQTT over TLS; --ca-file names the CAs
 * trusted for the broker and for https:// package URLs (both verify the
 * certificate and the host name). A failed handshake is logged with
 * libmosquitto's reason and retried like any failed connect.
 *
 * Firmware OTA (haas_fw.h): the device also runs a simulated firmware from
 * two A/B slots kept in <root>/data/.fw (POSIX port flash files). At first
 * boot slot 0 holds the factory image, version --firmware-version. It
 * informs its firmware version after every boot, takes standard Aliyun
 * upgrade pushes (/ota/device/upgrade), downloads the image from the push's
 * URL on --fw-download-port (the URL carries no port; 443 for https, 80 for
 * http by default), verifies it, writes it into the inactive slot with the
 * push's version in the slot header, and reboots into it. The new firmware
 * then, per --fw-confirm: confirms itself (yes), crashes on every start
 * until the boots allowed (--fw-max-boots) are used up and the old slot
 * comes back (crash), or rejects itself (reject: back to the old slot at
 * once); a rollback is reported as progress -1 and the old version is
 * informed again.
 *
 * --fleet FILE runs one simulated device per line "pk dn ds" of FILE in
 * this one process, each with its flash in <root>/<dn>, for load tests
 * (apps are not run; a new app is confirmed as soon as it boots).
 */
#include "haas_port_posix.h"
#include "haas_upgrade.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *pk, *dn, *ds;
    char root[PATH_MAX];
    haas_posix_port *pp;
    haas_port port;
    haas_config cfg;
    haas_upgrade up;
    haas_flash flash;
    haas_fw_config fw_cfg;
    haas_fw fw;
    int fw_confirmed;         /* a new firmware confirmed itself in this process */
    pid_t app;                /* the running main.py, or 0 */
    double app_started;
    int confirming, results_sent, booted;
} device;

static struct {
    haas_posix_broker broker; /* --broker: host, port, TLS or not */
    const char *ca_file;      /* --ca-file, or NULL for the system's CAs */
    const char *root, *fleet, *python, *pycompat, *init_app, *firmware;
    int no_python, exit_after_result, boot_only, threads, keepalive;
    double app_settle, confirm_timeout;
    long long max_package, max_unpacked;
    long max_entries;
    const char *fw_module;    /* --fw-module */
    int fw_port;              /* --fw-download-port, 0: by scheme */
    int fw_confirm;           /* --fw-confirm: FW_CONFIRM_* */
    int fw_max_boots;         /* --fw-max-boots, 0: the SDK's 3 */
    long long fw_slot_size;   /* --fw-slot-size, 0: the port's 16 MiB */
} opt = {.python = "python3", .firmware = "1.0.0", .threads = 4, .keepalive = 60,
         .app_settle = 2.0, .confirm_timeout = 60.0, .fw_module = "default"};

enum { FW_CONFIRM_YES, FW_CONFIRM_CRASH, FW_CONFIRM_REJECT };

static volatile sig_atomic_t stop_requested;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void say(const device *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const device *d, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (opt.fleet)
        fprintf(stdout, "[%s] %s\n", d->dn, line);
    else
        fprintf(stdout, "%s\n", line);
    fflush(stdout);
}

/* ---- the app (main.py) ---- */

static void stop_app(device *d)
{
    if (d->app <= 0)
        return;
    kill(d->app, SIGTERM);
    int status;
    for (int i = 0; i < 100 && waitpid(d->app, &status, WNOHANG) == 0; i++)
        usleep(10000);
    if (waitpid(d->app, &status, WNOHANG) == 0) {
        kill(d->app, SIGKILL);
        waitpid(d->app, &status, 0);
    }
    d->app = 0;
}

static void print_manifest(device *d)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/data/pyamp/manifest.json", d->root);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char buf[2048];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    say(d, "%s", buf);
}

/* Starts main.py of the installed app (python3, pycompat on PYTHONPATH). */
static void start_app(device *d)
{
    char dir[PATH_MAX + 16], main_py[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/data/pyamp", d->root);
    snprintf(main_py, sizeof main_py, "%s/main.py", dir);
    say(d, "==== python file check /data/pyamp/main.py ====");
    if (access(main_py, R_OK) != 0) {
        say(d, "no /data/pyamp/main.py");
        return;
    }
    say(d, "==== python execute from /data/pyamp/main.py ====");
    print_manifest(d);
    if (opt.no_python || opt.fleet)
        return;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (chdir(dir) != 0)
            _exit(126);
        if (opt.pycompat)
            setenv("PYTHONPATH", opt.pycompat, 1);
        setenv("HAAS_DEVICE_ROOT", d->root, 1);
        setenv("PYTHONUNBUFFERED", "1", 1);
        execlp(opt.python, opt.python, "main.py", (char *)NULL);
        fprintf(stderr, "haas-device: cannot run %s: %s\n", opt.python, strerror(errno));
        _exit(127);
    }
    d->app = pid > 0 ? pid : 0;
    d->app_started = now_s();
}

/* While a new app awaits confirmation: its exit or survival decides. */
static void judge_app(device *d)
{
    if (!d->confirming)
        return;
    if (opt.no_python || opt.fleet || d->app == 0) {
        d->confirming = 0;
        haas_confirm(&d->up);
        return;
    }
    int status;
    pid_t r = waitpid(d->app, &status, WNOHANG);
    if (r == d->app) {
        d->app = 0;
        d->confirming = 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            haas_confirm(&d->up);
        } else {
            say(d, "new app failed (%s %d): rolling back", WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
            haas_reject(&d->up);
            start_app(d); /* the previous app again */
        }
    } else if (now_s() - d->app_started >= opt.app_settle) {
        d->confirming = 0;
        haas_confirm(&d->up);
    }
}

/* ---- SDK events ---- */

static void on_event(void *user, const haas_event *ev)
{
    device *d = user;
    switch (ev->type) {
    case HAAS_EV_PUSH_ACCEPTED:
        say(d, "local version[%s] low,upgrade to [%s].", haas_app_version(&d->up), ev->version);
        break;
    case HAAS_EV_PUSH_IGNORED:
        say(d, "push of %s ignored: %s", ev->version ? ev->version : "?", ev->detail);
        break;
    case HAAS_EV_PROGRESS:
        say(d, "download %llu/%llu bytes", (unsigned long long)ev->done, (unsigned long long)ev->total);
        break;
    case HAAS_EV_VERIFIED:
        say(d, "package verified (md5 ok, sha256 %s)", ev->detail);
        break;
    case HAAS_EV_INSTALLED:
        say(d, "App upgrade finished.");
        break;
    case HAAS_EV_CONFIRMED:
        say(d, "new version %s confirmed", ev->version);
        break;
    case HAAS_EV_ROLLED_BACK:
        say(d, "rolled back to %s: %s", ev->version, ev->detail);
        break;
    case HAAS_EV_FAILED:
        say(d, "upgrade to %s failed (%d): %s", ev->version, ev->code, ev->detail);
        break;
    case HAAS_EV_RESULT_SENT:
        say(d, "upgrade result %d sent", ev->code);
        d->results_sent++;
        break;
    case HAAS_EV_CONNECTED:
        say(d, "link platform connected");
        break;
    case HAAS_EV_DISCONNECTED:
        say(d, "link platform disconnected");
        break;
    }
}

/* ---- firmware OTA events ---- */

static const char *img_state_name(int state)
{
    static const char *const names[] = {"new", "pending-verify", "valid", "invalid", "aborted"};
    return state >= 0 && state <= FW_IMG_ABORTED ? names[state] : "?";
}

static void on_fw_event(void *user, const haas_fw_event *ev)
{
    device *d = user;
    switch (ev->type) {
    case HAAS_FW_EV_BOOTED:
        say(d, "firmware %s running from slot %d (%s)", ev->version, ev->slot, img_state_name(ev->code));
        break;
    case HAAS_FW_EV_ROLLED_BACK: say(d, "firmware %s given up: %s", ev->version, ev->detail); break;
    case HAAS_FW_EV_PUSH_ACCEPTED:
        say(d, "firmware upgrade to %s accepted (%llu bytes)", ev->version, (unsigned long long)ev->total);
        break;
    case HAAS_FW_EV_PUSH_IGNORED: say(d, "firmware push ignored: %s", ev->detail); break;
    case HAAS_FW_EV_PROGRESS:
        say(d, "firmware progress %d (%llu/%llu bytes)", ev->code, (unsigned long long)ev->done,
            (unsigned long long)ev->total);
        break;
    case HAAS_FW_EV_INSTALLED: say(d, "firmware %s installed into the inactive slot; rebooting", ev->version); break;
    case HAAS_FW_EV_CONFIRMED:
        say(d, "firmware %s confirmed", ev->version);
        d->fw_confirmed = 1;
        break;
    case HAAS_FW_EV_FAILED: say(d, "firmware upgrade to %s failed (%d): %s", ev->version, ev->code, ev->detail); break;
    case HAAS_FW_EV_REPORTED:
        say(d, "firmware result %d sent", ev->code);
        d->results_sent++;
        break;
    case HAAS_FW_EV_INFORMED:
        say(d, "firmware version %s informed", ev->version);
        d->results_sent += d->fw_confirmed; /* the upgrade's success, as the cloud sees it */
        d->fw_confirmed = 0;
        break;
    }
}

/* ---- boot ---- */

/* Copies the template app folder into an empty flash (fleet setup). */
static int init_app(device *d)
{
    char app[PATH_MAX + 16], cmd[3 * PATH_MAX + 64];
    snprintf(app, sizeof app, "%s/data/pyamp", d->root);
    struct stat sb;
    if (!opt.init_app || stat(app, &sb) == 0)
        return 0;
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/data' && cp -r '%s' '%s'", d->root, opt.init_app, app);
    return system(cmd) == 0 ? 0 : -1;
}

/* A new firmware that has not confirmed itself yet starts: returns 1 when
 * it took the device down again (a crash, or its own rejection). */
static int start_new_firmware(device *d)
{
    switch (opt.fw_confirm) {
    case FW_CONFIRM_CRASH:
        say(d, "firmware %s crashed on start (simulated); the watchdog resets the device", haas_fw_version(&d->fw));
        return 1;
    case FW_CONFIRM_REJECT:
        say(d, "firmware %s rejects itself (simulated)", haas_fw_version(&d->fw));
        haas_fw_reject(&d->fw);
        haas_posix_port_reboot_requested(d->pp);
        return 1;
    default:
        return 0;
    }
}

/* The bootloader's part: the slot to run, and the crash loop of a new
 * firmware that does not start (bounded: the SDK rolls back). */
static int boot_firmware(device *d)
{
    for (int i = 0; i < 64; i++) {
        int fs = haas_fw_boot(&d->fw, &d->fw_cfg, &d->port, &d->flash);
        if (fs < 0) {
            say(d, "SDK could not boot the firmware (bad configuration)");
            return -1;
        }
        if (fs != HAAS_FW_PENDING_VERIFY || opt.boot_only || !start_new_firmware(d))
            break;
    }
    d->cfg.firmware_version = haas_fw_version(&d->fw);
    return 0;
}

static int boot(device *d)
{
    say(d, "==== python execute bootpy ====");
    if (boot_firmware(d) < 0)
        return -1;
    int st = haas_boot(&d->up, &d->cfg, &d->port, on_event, d);
    if (st < 0) {
        say(d, "SDK could not boot (bad configuration or flash)");
        return -1;
    }
    d->booted++;
    haas_fw_attach(&d->fw, &d->up);
    if (opt.boot_only)
        return 0;
    haas_fw_confirm(&d->fw); /* a new firmware that started confirms itself (-1 otherwise: nothing to do) */
    d->confirming = st == HAAS_CONFIRMING;
    start_app(d);
    haas_start(&d->up);
    return 0;
}

static int device_init(device *d)
{
    haas_posix_port_config pc = {
        .root = d->root, .log_prefix = d->dn, .use_tls = opt.broker.use_tls, .ca_file = opt.ca_file,
    };
    d->pp = haas_posix_port_new_with(&pc);
    if (!d->pp)
        return -1;
    haas_posix_port_fill(d->pp, &d->port);
    char data[PATH_MAX + 8];
    snprintf(data, sizeof data, "%s/data", d->root);
    mkdir(data, 0755);
    if (haas_posix_flash_fill(d->pp, "/data/.fw", (uint64_t)opt.fw_slot_size, &d->flash) != 0)
        return -1;
    d->fw_cfg = (haas_fw_config){
        .module = opt.fw_module, .factory_version = opt.firmware, .download_port = (uint16_t)opt.fw_port,
        .max_boot_attempts = (uint8_t)opt.fw_max_boots, .on_event = on_fw_event, .user = d,
    };
    d->cfg = (haas_config){
        .product_key = d->pk, .device_name = d->dn, .device_secret = d->ds,
        .mqtt_host = opt.broker.host, .mqtt_port = opt.broker.port, .keepalive_s = (uint16_t)opt.keepalive,
        .app_dir = "/data/pyamp", .work_dir = "/data/.haas", .firmware_version = opt.firmware,
        .max_package_size = (uint64_t)opt.max_package,
        .max_unpacked_size = (uint64_t)opt.max_unpacked, .max_entries = (uint32_t)opt.max_entries,
        .confirm_timeout_ms = (uint32_t)(opt.confirm_timeout * 1000),
    };
    return init_app(d);
}

/* haas_drive returns at once while the device has no connection (the SDK
 * reconnects on its own schedule): the budget is slept away then, so that a
 * device whose broker is away or fails the TLS handshake does not spin. */
static void wait_if_offline(const device *d, uint32_t budget_ms)
{
    if (budget_ms > 0 && haas_posix_port_mqtt_socket(d->pp) < 0 &&
        (d->up.state == HAAS_IDLE || d->up.state == HAAS_CONFIRMING))
        usleep(budget_ms * 1000u);
}

/* One step of a device's main loop; returns 1 when it wants to stop. */
static int device_step(device *d, uint32_t budget_ms)
{
    haas_drive(&d->up, budget_ms);
    wait_if_offline(d, budget_ms);
    judge_app(d);
    if (haas_posix_port_reboot_requested(d->pp)) {
        say(d, "Reset Device to upgrade app");
        stop_app(d);
        d->port.mqtt_disconnect(d->port.ctx);
        if (boot(d) < 0)
            return 1;
    }
    return opt.exit_after_result && d->results_sent > 0;
}

/* ---- fleet ---- */

static device *fleet;
static int fleet_size;

/* Drives every opt.threads-th device. It waits on all their MQTT sockets
 * with one poll() and drives the devices with something to read, something
 * queued, an upgrade in progress, or no connection (those at most every
 * 50 ms: they only wait for their next reconnect); every device is also
 * driven once a second (keepalive). An idle fleet thus sleeps. */
static void *fleet_worker(void *arg)
{
    long w = (long)arg;
    int mine = 0;
    for (int i = (int)w; i < fleet_size; i += opt.threads)
        mine++;
    struct pollfd *fds = calloc((size_t)mine, sizeof *fds);
    double *last = calloc((size_t)mine, sizeof *last);
    int active = fds && last;
    while (!stop_requested && active) {
        int k = 0, busy = 0;
        for (int i = (int)w; i < fleet_size; i += opt.threads, k++) {
            device *d = &fleet[i];
            fds[k].fd = haas_posix_port_mqtt_socket(d->pp);
            fds[k].events = POLLIN;
            fds[k].revents = 0;
            busy |= d->up.state != HAAS_IDLE || d->confirming || haas_posix_port_mqtt_pending(d->pp);
        }
        poll(fds, (nfds_t)mine, busy ? 0 : 50);
        double now = now_s();
        active = 0;
        k = 0;
        for (int i = (int)w; i < fleet_size; i += opt.threads, k++) {
            device *d = &fleet[i];
            int due = fds[k].revents || fds[k].fd < 0 || d->up.state != HAAS_IDLE || d->confirming ||
                      haas_posix_port_mqtt_pending(d->pp) || now - last[k] >= 1.0;
            if (due) {
                last[k] = now;
                if (!device_step(d, 0))
                    active = 1;
            } else {
                active = 1;
            }
        }
        if (busy && !active)
            break;
    }
    free(fds);
    free(last);
    return NULL;
}

static int run_fleet(void)
{
    FILE *f = fopen(opt.fleet, "r");
    if (!f) {
        fprintf(stderr, "haas-device: cannot read %s: %s\n", opt.fleet, strerror(errno));
        return 2;
    }
    char line[512];
    int cap = 0;
    while (fgets(line, sizeof line, f)) {
        char pk[64], dn[64], ds[64];
        if (line[0] == '#' || sscanf(line, "%63s %63s %63s", pk, dn, ds) != 3)
            continue;
        if (fleet_size == cap) {
            cap = cap ? cap * 2 : 64;
            device *grown = realloc(fleet, (size_t)cap * sizeof *fleet);
            if (!grown) {
                fclose(f);
                return 2;
            }
            fleet = grown;
        }
        device *d = &fleet[fleet_size++];
        memset(d, 0, sizeof *d);
        d->pk = strdup(pk), d->dn = strdup(dn), d->ds = strdup(ds);
        snprintf(d->root, sizeof d->root, "%s/%s", opt.root, dn);
    }
    fclose(f);
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    for (int i = 0; i < fleet_size; i++) {
        mkdir(fleet[i].root, 0755);
        if (device_init(&fleet[i]) < 0 || boot(&fleet[i]) < 0) {
            fprintf(stderr, "haas-device: device %s cannot start\n", fleet[i].dn);
            return 1;
        }
    }
    printf("fleet of %d devices started\n", fleet_size);
    fflush(stdout);
    pthread_t *t = calloc((size_t)opt.threads, sizeof *t);
    for (long w = 0; w < opt.threads; w++)
        pthread_create(&t[w], NULL, fleet_worker, (void *)w);
    for (int w = 0; w < opt.threads; w++)
        pthread_join(t[w], NULL);
    free(t);
    return 0;
}

/* ---- main ---- */

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: haas-device --product-key PK --device-name DN --device-secret DS\n"
            "                   --broker BROKER --root DIR [options]\n"
            "       haas-device --fleet FILE --broker BROKER --root DIR [--init-app DIR] [--threads N]\n\n"
            "  --broker BROKER       HOST:PORT or mqtt://HOST[:PORT] (plain MQTT, port 1883), or\n"
            "                        mqtts://HOST[:PORT] (MQTT over TLS, port 8883); IPv6 as [::1]:PORT\n"
            "  --ca-file PATH        PEM CA bundle trusted for the broker's TLS certificate and for\n"
            "                        https:// package downloads (host names are verified too);\n"
            "                        without it, the system's CAs (/etc/ssl/certs)\n"
            "  --root DIR            the simulated flash; the app is in DIR/data/pyamp\n"
            "  --python PATH         interpreter for main.py (python3); --no-python to skip running it\n"
            "  --pycompat DIR        HaaS Python compatibility modules (sdk/tools/pycompat)\n"
            "  --app-settle S        a new app still running after S seconds is confirmed (2)\n"
            "  --confirm-timeout S   a new app not confirmed in S seconds is rolled back (60)\n"
            "  --max-package-size B  refuse bigger packages (16 MiB)\n"
            "  --max-unpacked-size B refuse packages whose files add up to more (64 MiB)\n"
            "  --max-entries N       refuse packages with more members (1024)\n"
            "  --firmware-version V  the factory firmware's version (slot 0 at first boot; 1.0.0);\n"
            "                        the running firmware's version is informed and in the query\n"
            "  --fw-module NAME      the firmware's OTA module (default)\n"
            "  --fw-download-port N  port of firmware downloads (the URL has none): 443 for https,\n"
            "                        80 for http by default\n"
            "  --fw-confirm MODE     a new firmware: yes (confirms itself), crash (crashes on every\n"
            "                        start: rollback after --fw-max-boots), reject (rejects itself)\n"
            "  --fw-max-boots N      unconfirmed boots of a new firmware before rollback (3)\n"
            "  --fw-slot-size B      size of each firmware slot (16 MiB)\n"
            "  --keepalive S         MQTT keepalive (60)\n"
            "  --exit-after-result   exit once an upgrade result has been sent\n"
            "  --boot-only           run the boot path (journal recovery) and exit\n"
            "  --fleet FILE          many devices, one \"pk dn ds\" per line, flash in DIR/<dn>\n"
            "  --init-app DIR        app copied into an empty flash (fleet)\n"
            "  --threads N           fleet worker threads (4)\n"
            "  --sizes               print the size of the SDK's state and exit\n");
}

/* Finds sdk/tools/pycompat relative to the executable (build/haas-device). */
static const char *default_pycompat(void)
{
    static char path[PATH_MAX];
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    const char *candidates[] = {"%s/../sdk/tools/pycompat", "%s/../../sdk/tools/pycompat", "%s/pycompat"};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        snprintf(path, sizeof path, candidates[i], exe);
        if (access(path, R_OK) == 0)
            return path;
    }
    return NULL;
}

/* The options main's switch leaves out (firmware OTA, --threads); 0 when
 * c is one of them and its argument is good. */
static int more_option(int c, const char *arg)
{
    switch (c) {
    case 'T': opt.threads = atoi(arg) > 0 ? atoi(arg) : 1; return 0;
    case 'O': opt.fw_module = arg; return arg[0] ? 0 : -1;
    case 'P': opt.fw_port = atoi(arg); return opt.fw_port >= 0 && opt.fw_port <= 65535 ? 0 : -1;
    case 'V':
        opt.fw_confirm = strcmp(arg, "yes") == 0 ? FW_CONFIRM_YES : strcmp(arg, "crash") == 0 ? FW_CONFIRM_CRASH
                       : strcmp(arg, "reject") == 0 ? FW_CONFIRM_REJECT : -1;
        return opt.fw_confirm < 0 ? -1 : 0;
    case 'M': opt.fw_max_boots = atoi(arg); return opt.fw_max_boots >= 0 && opt.fw_max_boots <= 255 ? 0 : -1;
    case 'Z': opt.fw_slot_size = atoll(arg); return opt.fw_slot_size >= 0 ? 0 : -1;
    default: return -1;
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"product-key", 1, 0, 'p'}, {"device-name", 1, 0, 'd'}, {"device-secret", 1, 0, 's'},
        {"broker", 1, 0, 'b'}, {"root", 1, 0, 'r'}, {"python", 1, 0, 'y'}, {"no-python", 0, 0, 'N'},
        {"pycompat", 1, 0, 'c'}, {"app-settle", 1, 0, 'a'}, {"confirm-timeout", 1, 0, 't'},
        {"max-package-size", 1, 0, 'm'}, {"max-unpacked-size", 1, 0, 'U'},
        {"max-entries", 1, 0, 'E'}, {"firmware-version", 1, 0, 'f'}, {"keepalive", 1, 0, 'k'},
        {"exit-after-result", 0, 0, 'x'}, {"boot-only", 0, 0, 'B'}, {"fleet", 1, 0, 'F'},
        {"init-app", 1, 0, 'i'}, {"threads", 1, 0, 'T'}, {"sizes", 0, 0, 'S'}, {"ca-file", 1, 0, 'C'},
        {"fw-module", 1, 0, 'O'}, {"fw-download-port", 1, 0, 'P'}, {"fw-confirm", 1, 0, 'V'},
        {"fw-max-boots", 1, 0, 'M'}, {"fw-slot-size", 1, 0, 'Z'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    device one = {0};
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': one.pk = optarg; break;
        case 'd': one.dn = optarg; break;
        case 's': one.ds = optarg; break;
        case 'b':
            if (haas_posix_parse_broker(optarg, &opt.broker) != 0) {
                fprintf(stderr, "haas-device: --broker '%s' must be HOST:PORT, mqtt://HOST[:PORT] or "
                                "mqtts://HOST[:PORT] (an IPv6 address in brackets: [::1])\n", optarg);
                return 2;
            }
            break;
        case 'C': opt.ca_file = optarg; break;
        case 'r': opt.root = optarg; break;
        case 'y': opt.python = optarg; break;
        case 'N': opt.no_python = 1; break;
        case 'c': opt.pycompat = optarg; break;
        case 'a': opt.app_settle = atof(optarg); break;
        case 't': opt.confirm_timeout = atof(optarg); break;
        case 'm': opt.max_package = atoll(optarg); break;
        case 'U': opt.max_unpacked = atoll(optarg); break;
        case 'E': opt.max_entries = atol(optarg); break;
        case 'f': opt.firmware = optarg; break;
        case 'k': opt.keepalive = atoi(optarg); break;
        case 'x': opt.exit_after_result = 1; break;
        case 'B': opt.boot_only = 1; break;
        case 'F': opt.fleet = optarg; break;
        case 'i': opt.init_app = optarg; break;
        case 'S':
            /* The SDK's whole state: it allocates nothing else. */
            printf("sizeof(haas_upgrade) %zu\nsizeof(tar_reader) %zu\nsizeof(haas_fw) %zu\n", sizeof(haas_upgrade),
                   sizeof(tar_reader), sizeof(haas_fw));
            return 0;
        case 'h': usage(stdout); return 0;
        default:
            if (more_option(c, optarg) != 0) {
                usage(stderr);
                return 2;
            }
        }
    }
    if (!opt.root || (!opt.fleet && !opt.boot_only && (!one.pk || !one.dn || !one.ds || !opt.broker.host[0])) ||
        (opt.fleet && !opt.broker.host[0])) {
        usage(stderr);
        return 2;
    }
    if (opt.ca_file && access(opt.ca_file, R_OK) != 0) {
        fprintf(stderr, "haas-device: --ca-file %s: %s\n", opt.ca_file, strerror(errno));
        return 2;
    }
    if (!opt.pycompat)
        opt.pycompat = default_pycompat();
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (opt.fleet)
        return run_fleet();

    if (!realpath(opt.root, one.root)) {
        fprintf(stderr, "haas-device: --root %s: %s\n", opt.root, strerror(errno));
        return 2;
    }
    if (!one.pk)
        one.pk = "boot", one.dn = "boot-only", one.ds = "-";
    if (!opt.broker.host[0]) /* --boot-only: never connects */
        haas_posix_parse_broker("mqtt://127.0.0.1", &opt.broker);
    if (device_init(&one) < 0 || boot(&one) < 0)
        return 1;
    if (opt.boot_only) {
        printf("app %s %s\n", haas_app_id(&one.up)[0] ? haas_app_id(&one.up) : "-",
               haas_app_version(&one.up)[0] ? haas_app_version(&one.up) : "-");
        printf("firmware %s slot %d\n", haas_fw_version(&one.fw), haas_fw_slot(&one.fw));
        haas_posix_port_free(one.pp);
        return 0;
    }
    while (!stop_requested && !device_step(&one, 100))
        ;
    stop_app(&one);
    one.port.mqtt_disconnect(one.port.ctx);
    haas_posix_port_free(one.pp);
    return 0;
}
