/*
 * haas_port.h - everything the device SDK needs from the platform, in one
 * interface, in the spirit of coreMQTT's transport interface.
 *
 * The portable core (sdk/src) makes no OS call: it reaches MQTT, HTTP, the
 * inflater, digests, files, the clock, the log and the reboot only through
 * the function pointers of a haas_port that the firmware fills in. The Linux
 * port is sdk/port/posix (libmosquitto, libcurl, zlib, OpenSSL, files); a
 * Core2 firmware fills the same struct with ESP-IDF calls.
 *
 * Conventions: every function gets the port's own ctx first. Return 0 for
 * success and a negative HAAS_PORT_* code for failure unless stated
 * otherwise. Paths are plain '/'-separated strings chosen by the core from
 * the folders in haas_config; the port maps them onto its storage.
 */
#ifndef HAAS_PORT_H
#define HAAS_PORT_H

#include <stddef.h>
#include <stdint.h>

#define HAAS_PORT_OK 0
#define HAAS_PORT_ERR -1          /* generic failure */
#define HAAS_PORT_ERR_NET -2      /* the connection dropped: trying again may work */
#define HAAS_PORT_ERR_HTTP -3     /* the server answered with an unusable status */
#define HAAS_PORT_ERR_ABORTED -4  /* a sink asked to stop */
#define HAAS_PORT_ERR_TRAILING -5 /* input after the end of the gzip stream */

typedef enum { HAAS_LOG_DEBUG, HAAS_LOG_INFO, HAAS_LOG_WARN, HAAS_LOG_ERROR } haas_log_level;
typedef enum { HAAS_HASH_MD5, HAAS_HASH_SHA256 } haas_hash_kind;
typedef enum { HAAS_FILE_READ, HAAS_FILE_WRITE, HAAS_FILE_APPEND } haas_file_mode;

/* Room the core reserves for one digest computation's state (the port may
 * keep a pointer to its own allocation there, or the state itself). */
#define HAAS_HASH_STATE_SIZE 256
typedef union {
    uint8_t bytes[HAAS_HASH_STATE_SIZE];
    uint64_t align_;
    void *ptr_;
} haas_hash_state;

/* An MQTT message for the core (topic NUL-terminated). */
typedef void (*haas_mqtt_receive_fn)(void *core, const char *topic, const uint8_t *payload, size_t len);

/* A stream of bytes for the core; return 0 to go on, non-zero to stop. */
typedef int (*haas_sink_fn)(void *core, const uint8_t *data, size_t len);

/* A file opened by the port; NULL means failure. */
typedef void *haas_file;

typedef struct haas_port {
    void *ctx; /* the port's state, handed back to every call */

    /* ---- MQTT 3.1.1 ---- */
    /* Connects (blocking up to the port's own timeout) with the given
     * credentials; clean session. */
    int (*mqtt_connect)(void *ctx, const char *host, uint16_t port, const char *client_id,
                        const char *username, const char *password, uint16_t keepalive_s);
    int (*mqtt_subscribe)(void *ctx, const char *topic, int qos);
    int (*mqtt_publish)(void *ctx, const char *topic, const void *payload, size_t len, int qos);
    /* Runs the connection for up to timeout_ms (keepalive included), calling
     * receive(core, ...) for each message that arrives. Returns 0, or
     * HAAS_PORT_ERR_NET when the connection is lost. */
    int (*mqtt_poll)(void *ctx, uint32_t timeout_ms, haas_mqtt_receive_fn receive, void *core);
    void (*mqtt_disconnect)(void *ctx);

    /* ---- HTTP ---- */
    /* GETs url from byte offset to the end (a Range request when offset >
     * 0), streaming the body to sink(core, ...). *total gets the full size of
     * the resource when the server says it. Returns 0 when the body arrived
     * whole, HAAS_PORT_ERR_NET when the transfer was cut (resume from the
     * bytes received), HAAS_PORT_ERR_HTTP for a status other than 200/206,
     * HAAS_PORT_ERR_ABORTED when sink stopped it. */
    int (*http_get)(void *ctx, const char *url, uint64_t offset, haas_sink_fn sink, void *core, uint64_t *total);

    /* ---- gzip inflater (one stream at a time) ----
     * A package is exactly one gzip member (RFC 1952) and nothing after it
     * (rules G2 and G3 of the package rule list, server/src/package_check.h):
     * the inflater checks the member's CRC-32 and ISIZE, and never skips
     * input it did not use. */
    int (*inflate_begin)(void *ctx);
    /* Inflates in (all of it, in pieces of any size, over as many calls as
     * needed), passing the output to out(core, ...). Returns:
     *   0  all of in was used and the stream has not ended: more input wanted;
     *   1  the gzip member ended, CRC-32 and ISIZE right, exactly at the end
     *      of in (called again with len 0: 1 again);
     *   HAAS_PORT_ERR_TRAILING  the member ended with input left in in (a
     *      second gzip member or trailing bytes), or a call after the end
     *      brought more input;
     *   HAAS_PORT_ERR_ABORTED   out returned non-zero;
     *   HAAS_PORT_ERR           corrupt data, a wrong CRC-32 or ISIZE.
     * After a negative return the stream is dead until inflate_begin. */
    int (*inflate_feed)(void *ctx, const uint8_t *in, size_t len, haas_sink_fn out, void *core);
    void (*inflate_end)(void *ctx);

    /* ---- digests ---- */
    int (*hash_init)(void *ctx, haas_hash_state *st, haas_hash_kind kind);
    void (*hash_update)(void *ctx, haas_hash_state *st, const void *data, size_t len);
    /* Writes 16 (MD5) or 32 (SHA-256) bytes and releases the state. */
    void (*hash_final)(void *ctx, haas_hash_state *st, uint8_t *digest);
    /* HMAC-SHA256 of data with key into out (32 bytes). */
    int (*hmac_sha256)(void *ctx, const void *key, size_t key_len, const void *data, size_t len, uint8_t out[32]);

    /* ---- files ---- */
    haas_file (*file_open)(void *ctx, const char *path, haas_file_mode mode);
    /* Returns bytes read (0 at the end) or a negative error. */
    long (*file_read)(void *ctx, haas_file f, void *buf, size_t len);
    int (*file_write)(void *ctx, haas_file f, const void *buf, size_t len);
    /* Makes the file's content durable (fsync). */
    int (*file_sync)(void *ctx, haas_file f);
    int (*file_close)(void *ctx, haas_file f);
    /* Size of a file; HAAS_PORT_ERR when it does not exist. */
    int (*file_size)(void *ctx, const char *path, uint64_t *size);
    /* 0 absent, 1 file, 2 folder. */
    int (*path_kind)(void *ctx, const char *path);
    /* Atomically renames (replacing a file, not a folder) and makes the
     * rename durable. */
    int (*rename)(void *ctx, const char *from, const char *to);
    int (*remove_file)(void *ctx, const char *path);
    /* Creates one folder (its parent exists); an existing folder is fine. */
    int (*make_dir)(void *ctx, const char *path);
    /* Removes a folder and everything in it; absent is fine. */
    int (*remove_tree)(void *ctx, const char *path);

    /* ---- system ---- */
    uint64_t (*now_ms)(void *ctx);  /* monotonic milliseconds */
    void (*log)(void *ctx, haas_log_level level, const char *message);
    /* Restarts the device. A real device does not return; a simulator may
     * return after arranging to run its boot path again. */
    void (*reboot)(void *ctx);
} haas_port;

#endif
