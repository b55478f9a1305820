/*
 * port_internal.h - what the files of the POSIX port share: the port's
 * state and the helpers each concern (MQTT, HTTP, gzip, digests, files)
 * exports to haas_port_posix.c. Not for use outside sdk/port/posix.
 */
#ifndef HAAS_PORT_INTERNAL_H
#define HAAS_PORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <zlib.h>

#include "haas_port.h"
#include "haas_port_posix.h"

#define PORT_INFLATE_CHUNK 16384      /* output handed to the sink at most at once */
#define PORT_MQTT_WAIT_MS 10000       /* CONNACK, SUBACK and PUBACK waits */
#define PORT_MQTT_QUEUE_MAX 256       /* messages held for the next mqtt_poll */
#define PORT_MQTT_QUEUE_BYTES (4u << 20)
#define PORT_SYSTEM_CA_PATH "/etc/ssl/certs" /* MQTT over TLS without a ca_file */
#define PORT_MQTT_WHY_MAX 512         /* libmosquitto's error lines kept for one connect */

struct mosquitto;
struct port_msg;  /* a queued MQTT message (port_mqtt.c) */
struct port_file; /* an open file (port_files.c) */

/* The MQTT side of a port; only port_mqtt.c looks inside. */
struct port_mqtt {
    struct mosquitto *mosq;
    int connected;            /* CONNACK accepted and not lost since */
    int lost;                 /* the connection went away */
    int got_connack, connack_rc;
    int wait_mid, wait_done;  /* the SUBACK or PUBACK being waited for */
    int granted_qos;
    struct port_msg *head, *tail; /* received, not yet delivered */
    size_t queued, queued_bytes;
    int drop_warned;
    int fail_rc, fail_errno;  /* why the connection went away (MOSQ_ERR_*, errno) */
    char why[PORT_MQTT_WHY_MAX]; /* libmosquitto's error log lines (TLS) */
};

/* The gzip stream; only port_inflate.c looks inside. */
enum port_z_state { PORT_Z_IDLE, PORT_Z_RUNNING, PORT_Z_ENDED, PORT_Z_FAILED };

struct haas_posix_port {
    char *root;        /* without trailing '/'; "" when the root is "/" */
    size_t root_len;
    char *log_prefix;
    int reboot_requested;
    int use_tls;       /* MQTT over TLS */
    char *ca_file;     /* NULL: the system's CA store */

    uint64_t crash_at;  /* 0: off */
    uint64_t steps;     /* durable steps so far */
    char *crash_trace;  /* NULL: off */
    char *fs_log;       /* HAAS_FS_LOG: every file system change and sync, for the power-loss model; NULL: off */
    int unsafe_rename;  /* HAAS_TEST_UNSAFE_RENAME=1: rename does not fsync the folders (tests only) */

    struct port_mqtt mqtt;
    CURL *curl;
    struct port_file *files; /* open files, closed by haas_posix_port_free */

    char *flash_dir;    /* core path of the flash areas' files (haas_posix_flash_fill), or NULL */
    uint64_t slot_size; /* capacity of a slot area */

    z_stream zs;
    enum port_z_state z_state;
    uint8_t zbuf[PORT_INFLATE_CHUNK];
};

/* printf-like log line through the port's log function. */
void port_logf(struct haas_posix_port *p, haas_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Counts one durable step (see haas_port_posix.h) and writes its trace line;
 * b is the second path of a rename, else NULL. Returns 1 when this is the
 * step at which the process must die: the caller does the partial work it
 * wants (a torn write) and then calls port_crash_now().
 */
int port_durable_step(struct haas_posix_port *p, const char *op, const char *a, const char *b);
__attribute__((noreturn)) void port_crash_now(void);

/*
 * Appends one line to the HAAS_FS_LOG file (see haas_port_posix.h) when it
 * is on: op and up to two core paths (b may be NULL). port_fs_log_write
 * adds the offset and the bytes (hex) of a write; port_fs_log_dirsync takes
 * the resolved path of a folder that was fsynced.
 */
void port_fs_log(struct haas_posix_port *p, const char *op, const char *a, const char *b);
void port_fs_log_write(struct haas_posix_port *p, const char *path, uint64_t offset, const void *data, size_t len);
void port_fs_log_dirsync(struct haas_posix_port *p, const char *full_dir);

/* Maps a core path ("/data/x") to out[PATH_MAX] under the root (port_files.c);
 * 0, or HAAS_PORT_ERR (logged) for a path that must not be used. */
int port_resolve(struct haas_posix_port *p, const char *path, char *out);

/* Each concern fills its function pointers and releases its state. */
void port_mqtt_fill(haas_port *out);
void port_mqtt_cleanup(struct haas_posix_port *p);
void port_http_fill(haas_port *out);
void port_http_cleanup(struct haas_posix_port *p);
void port_inflate_fill(haas_port *out);
void port_inflate_cleanup(struct haas_posix_port *p);
void port_crypto_fill(haas_port *out);
void port_files_fill(haas_port *out);
void port_files_cleanup(struct haas_posix_port *p);

#endif
