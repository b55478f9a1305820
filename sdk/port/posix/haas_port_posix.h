/*
 * haas_port_posix.h - the Linux implementation of the device SDK's port
 * interface (haas_port.h): MQTT 3.1.1 with libmosquitto, HTTP range GET
 * with libcurl, gzip with zlib, MD5/SHA-256/HMAC-SHA256 with OpenSSL 3 EVP,
 * and plain POSIX files under a folder that stands in for the device's flash.
 *
 * One haas_posix_port is one simulated device. Any number of them can live
 * in one process (the fleet mode): they share nothing but the once-only
 * library initialisation (mosquitto_lib_init, curl_global_init). A single
 * instance is not thread-safe; distinct instances may run on distinct
 * threads. Link with -lmosquitto -lcurl -lz -lcrypto.
 *
 * Behaviour the portable core can rely on
 * ---------------------------------------
 * MQTT
 *   - mqtt_connect resolves host (every address is tried in turn; over TLS
 *     see below), opens the TCP connection and waits for CONNACK, all within
 *     10 s. It returns HAAS_PORT_ERR when the broker refuses (bad
 *     credentials, ...) and HAAS_PORT_ERR_NET when the broker cannot be
 *     reached or does not answer in time. A keepalive of 1..4 s is raised
 *     to 5 s (libmosquitto's floor); 0 disables keepalive. A new connect
 *     first drops any old connection.
 *   - mqtt_subscribe waits (up to 10 s) for the SUBACK: HAAS_PORT_ERR when the
 *     broker refused the subscription (0x80), HAAS_PORT_ERR_NET when the
 *     connection is lost or the SUBACK does not come.
 *   - mqtt_publish with QoS 0 hands the message to the socket; with QoS 1 it
 *     waits (up to 10 s) for the PUBACK, so 0 means the broker has it.
 *     Only QoS 0 and 1 are accepted.
 *   - Messages are delivered ONLY from inside mqtt_poll, on the caller's
 *     thread, never from inside libmosquitto: a message that arrives while
 *     connect/subscribe/publish waits is queued (at most 256 messages /
 *     4 MiB; beyond that it is dropped with a warning) and delivered by the
 *     next mqtt_poll. The receive callback may itself call publish,
 *     subscribe, disconnect or connect.
 *   - mqtt_poll runs the connection (keepalive pings included) for up to
 *     timeout_ms, but returns as soon as it has delivered at least one
 *     message. It returns HAAS_PORT_ERR_NET once the connection is lost (or
 *     was never made); messages that arrived before the loss are delivered
 *     first. There is no automatic reconnect. The core must call mqtt_poll at
 *     least once per keepalive period (an HTTP download does not run the MQTT
 *     connection).
 *   - Each connection holds 3 descriptors (the socket and libmosquitto's
 *     internal socketpair). The port waits with poll(2), so descriptors past
 *     FD_SETSIZE work, but there libmosquitto's socketpair is no longer
 *     drained and grows to its socket buffer size (~200 KiB of kernel memory
 *     per device): a fleet of more than ~300 devices is better split across
 *     processes (and needs RLIMIT_NOFILE raised anyway).
 *   - libmosquitto writes with write(2); so that a write to a dead broker
 *     cannot kill the process, every MQTT call blocks SIGPIPE on the calling
 *     thread for its duration and discards a SIGPIPE it caused. The process's
 *     signal dispositions are not changed.
 * MQTT over TLS (haas_posix_port_config.use_tls)
 *   - mqtt_connect runs the TLS handshake (libmosquitto with OpenSSL, TLS 1.2
 *     or later) inside the same 10 s. The broker's certificate must chain to
 *     a CA of ca_file (or, without ca_file, of the system's store, capath
 *     /etc/ssl/certs) and name host as the core passed it (a DNS name, or an
 *     IP address in an IP SAN): host name verification is always on. So
 *     that the name checked is host itself, libmosquitto resolves host and
 *     connects to the first address that does not refuse at once (the
 *     plain-TCP rule "every address is tried in turn" does not apply).
 *   - A failed handshake (unknown CA, wrong host name, a plain listener, ...)
 *     returns HAAS_PORT_ERR_NET, like an unreachable broker: the core tries
 *     again later. The log line gives libmosquitto's reason
 *     (mosquitto_strerror and its OpenSSL error lines). A ca_file that
 *     cannot be read returns HAAS_PORT_ERR. The file is read at every
 *     connect, so it may be replaced while the device runs.
 * HTTP
 *   - http_get sends "Range: bytes=<offset>-" when offset > 0 and follows no
 *     redirect. Accepted: 200 when offset is 0, and 206 whose Content-Range
 *     starts at offset. A 200 to a ranged request (the server ignored Range),
 *     a 206 starting elsewhere, and every other status give HAAS_PORT_ERR_HTTP;
 *     no byte of such a body reaches the sink.
 *   - The sink gets the body in blocks of 16 KiB (the last one shorter),
 *     however the network splits it, so the same file always makes the same
 *     sink calls (and flash writes). After a cut, the bytes received so far
 *     still reach the sink before http_get returns.
 *   - *total (may be NULL) is set to the full size of the resource when the
 *     server says it (Content-Range's total, else Content-Length + offset),
 *     and to 0 when it does not.
 *   - HAAS_PORT_ERR_NET: connection failure (10 s connect timeout), less than
 *     1 byte/s for 15 s, a body shorter than announced, or a 206 that stops
 *     before the end of the resource: resume from the bytes the sink got.
 *     HAAS_PORT_ERR_ABORTED: the sink returned non-zero. HAAS_PORT_ERR: a
 *     malformed or non-http(s) URL. A body without Content-Length ends when
 *     the server closes the connection, so a cut there cannot be told apart.
 *   - https:// URLs always verify the server: its certificate must chain to
 *     a CA of ca_file (only those, when set; else libcurl's default store)
 *     and name the URL's host. A certificate that fails verification, or a
 *     ca_file that cannot be loaded, gives HAAS_PORT_ERR (trying again
 *     cannot help; the core reports the download as failed) with curl's
 *     reason in the log. use_tls does not matter here: the URL decides.
 * gzip
 *   - inflate_feed passes the output in chunks of at most 16 KiB. After the
 *     end of the gzip stream (return 1) any further feed returns 1 again and
 *     ignores its input (trailing bytes after the first member are ignored).
 *     After an error every feed returns an error until inflate_begin.
 *     HAAS_PORT_ERR for corrupt data, HAAS_PORT_ERR_ABORTED when the sink
 *     stopped. inflate_begin while a stream is open restarts it.
 * Digests
 *   - hash_init allocates an EVP_MD_CTX and keeps its pointer in the
 *     haas_hash_state; hash_final frees it. Every successful hash_init MUST be
 *     paired with a hash_final (also when the core gives up half-way), else
 *     the context leaks. update/final on a state whose init failed do nothing.
 * Files (all paths relative to root, see haas_posix_port_new)
 *   - A path must start with '/' and contain no ".." component, else the call
 *     fails (HAAS_PORT_ERR, NULL for file_open) and a warning is logged.
 *     "/" itself (the root) cannot be renamed or removed.
 *   - Symbolic links are never followed in the last component: file_open of a
 *     symlink fails, path_kind reports it as a file (1), file_size gives the
 *     link's own size, remove_file/remove_tree remove the link, not its target.
 *   - file_open: READ, WRITE (create or truncate, mode 0644), APPEND (create).
 *     file_read fills the buffer unless the end of the file comes first.
 *   - Every change of a folder's content is made durable before returning:
 *     rename fsyncs the destination's parent folder (and the source's, when
 *     different); remove_file, make_dir and remove_tree fsync the parent.
 *   - file_sync fsyncs the file and, the first time for a file that its
 *     file_open created, its parent folder too: the new name is durable
 *     with the content (fsync of a file alone does not promise its folder
 *     entry).
 *   - rename replaces an existing file but fails when the destination is a
 *     folder; remove_file and remove_tree accept an absent path (return 0);
 *     remove_tree of a file removes the file; make_dir accepts an existing
 *     folder but fails when a file has that name.
 * System
 *   - now_ms: CLOCK_MONOTONIC in ms. log: one line "<prefix> LEVEL message" on
 *     stderr (LEVEL is DEBUG, INFO, WARN or ERROR; newlines in the message are
 *     shown as spaces). reboot logs and sets a flag that
 *     haas_posix_port_reboot_requested reports; it returns to the core.
 *
 * Crash injection (power-cut tests)
 * ---------------------------------
 * Read once, by haas_posix_port_new, from the environment:
 *   HAAS_CRASH_AT=N (decimal, N >= 1): the port counts "durable steps", that
 *     is every call of file_write, file_sync, rename, remove_file, make_dir
 *     and remove_tree whose path(s) passed validation (whether or not it
 *     changes anything). At the N-th step the process dies on the spot with
 *     raise(SIGKILL) before the step completes; a file_write first writes the
 *     first half (len / 2 bytes) of its buffer (a torn write). The count is
 *     per haas_posix_port instance, from 1.
 *   HAAS_CRASH_TRACE=path: before each durable step the port appends one
 *     line to that file: "<n> <op> <path>\n", where op is the function's name
 *     (file_write, file_sync, rename, remove_file, make_dir, remove_tree),
 *     path is the path as the core passed it (for file_write/file_sync, the
 *     path the file was opened with) and rename adds " <to>" after <from>.
 *     The line of the step that crashes is written too.
 *   HAAS_FS_LOG=path: the power-loss model's record
 *     (tests/integration/test_power_loss.py). Every change of the file
 *     system the port makes, and every sync, is appended as one line, core
 *     paths throughout: "step <n> <op> <path>" before each durable step,
 *     "create <path>" (file_open or a flash write made the file), "trunc
 *     <path>", "open <path>" (a flash area's existing file), "write <path>
 *     <offset> <hex bytes>", "fsync <path>" (a file), "dirsync <folder>",
 *     "rename <from> <to>", "unlink <path>", "mkdir <path>", "rmtree
 *     <path>". Slow (writes are logged in hex): for tests.
 *   HAAS_TEST_UNSAFE_RENAME=1: rename no longer fsyncs the folders. A
 *     planted bug, for the test that proves the power-loss model sees a
 *     missing folder fsync; never set it otherwise.
 * Invalid values are ignored with a warning.
 */
#ifndef HAAS_PORT_POSIX_H
#define HAAS_PORT_POSIX_H

#include "haas_fw.h"
#include "haas_port.h"

typedef struct haas_posix_port haas_posix_port;

/*
 * What a port is created with (haas_posix_port_new_with). Zero-initialise it
 * and set what you need: the zero values give a plain-TCP port.
 */
typedef struct {
    /* The folder that simulates the flash: every path the core passes
     * ("/data/pyamp/main.py") is taken relative to it (it must exist;
     * trailing '/' are ignored). Required. */
    const char *root;
    /* Starts every log line; NULL gives "haas". */
    const char *log_prefix;
    /* Non-zero: MQTT over TLS (see "MQTT over TLS" above); 0: plain TCP. */
    int use_tls;
    /* PEM file of the CAs trusted for the broker's certificate (use_tls) and
     * for https:// downloads, instead of the system's store. NULL: the
     * system's store (libmosquitto: capath /etc/ssl/certs; libcurl: its
     * built-in default). */
    const char *ca_file;
} haas_posix_port_config;

/*
 * Creates a port from cfg (its strings are copied; cfg need not outlive the
 * call). Returns NULL when cfg or cfg->root is NULL or root is empty, or on
 * allocation or library initialisation failure.
 */
haas_posix_port *haas_posix_port_new_with(const haas_posix_port_config *cfg);

/*
 * Creates a plain-TCP port with the system's CA store: the same as
 * haas_posix_port_new_with with only root and log_prefix set.
 */
haas_posix_port *haas_posix_port_new(const char *root, const char *log_prefix);

/* Fills out: out->ctx = p and every function pointer of haas_port. */
void haas_posix_port_fill(haas_posix_port *p, haas_port *out);

/*
 * Returns 1 when the core called reboot() since the last call, else 0; the
 * flag is cleared by this call. The simulator then runs its boot path again.
 */
int haas_posix_port_reboot_requested(haas_posix_port *p);

/*
 * Releases the port: drops the MQTT connection (undelivered messages are
 * lost), ends an open inflate stream, closes the files still open through
 * file_open and frees everything. NULL is fine.
 */
void haas_posix_port_free(haas_posix_port *p);

/*
 * The MQTT connection's socket, or -1 when not connected: a program that
 * runs many devices (haas-device --fleet) waits on all of them with one
 * poll() and drives only those with something to read.
 */
int haas_posix_port_mqtt_socket(haas_posix_port *p);

/* 1 when messages are queued for the next mqtt_poll (they arrived while the
 * port waited for something else): drive the device even if its socket is
 * quiet. */
int haas_posix_port_mqtt_pending(haas_posix_port *p);

/*
 * Flash areas for firmware OTA (haas_fw.h's haas_flash), kept as files in
 * the folder dir, a core path like "/data/.fw" (created when absent; its
 * parent must exist): slot0 and slot1 (slot_size bytes each; 0 gives
 * 16 MiB), otadata0, otadata1, task0 and task1 (4 KiB each). A file holds
 * what was written since the area's last erase; bytes past its end read
 * as 0xFF, and an absent file is an erased area. write and erase fsync the
 * file (and the folder when they create it) before returning; a write to
 * an otadata or task area truncates the file first (the area's whole
 * content is replaced). They are durable steps of the crash injection,
 * traced as "flash_write <dir>/<area>" and "flash_erase <dir>/<area>"; a
 * crash in a write leaves its first half on the file (a torn record).
 * Fills out (out->ctx = p). Returns 0, or HAAS_PORT_ERR when dir is not a
 * valid core path or cannot be created.
 */
int haas_posix_flash_fill(haas_posix_port *p, const char *dir, uint64_t slot_size, haas_flash *out);

/* A broker address as a user writes it (haas_posix_parse_broker). */
typedef struct {
    char host[256]; /* a name or an IP address, without brackets ("::1") */
    uint16_t port;
    int use_tls;    /* for haas_posix_port_config.use_tls */
} haas_posix_broker;

#define HAAS_POSIX_MQTT_PORT 1883  /* mqtt:// without a port */
#define HAAS_POSIX_MQTTS_PORT 8883 /* mqtts:// without a port */

/*
 * Parses a broker address:
 *   HOST:PORT            plain MQTT (the port is required)
 *   mqtt://HOST[:PORT]   plain MQTT, port 1883 by default
 *   mqtts://HOST[:PORT]  MQTT over TLS, port 8883 by default
 * The scheme is case-insensitive. An IPv6 literal goes in brackets
 * ("mqtts://[::1]:8883", "[::1]:1883"); an unbracketed HOST contains no
 * ':'. PORT is decimal, 1..65535. Nothing may follow (no path, no user).
 * Returns 0, or -1 when spec is malformed, names another scheme or its
 * host is longer than 255 bytes (out is then zeroed).
 */
int haas_posix_parse_broker(const char *spec, haas_posix_broker *out);

#endif
