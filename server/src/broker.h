/*
 * broker.h - the managed broker: a mosquitto child process that haas-emu
 * starts with a generated configuration, supervises and restarts.
 *
 * The configuration (<data>/broker/mosquitto.conf) loads the project's
 * auth/ACL plugin (build/haas_auth.so) against the emulator's database and
 * declares haas-emu's service account. Without --broker this is the default,
 * so `make run` is one command and one process tree; with --broker HOST:PORT
 * none of this runs.
 */
#ifndef HAAS_BROKER_H
#define HAAS_BROKER_H

#include "config.h"
#include "tls_certs.h"

#include <stddef.h>

/*
 * Writes the configuration and starts mosquitto, waiting (a few seconds at
 * most) until it accepts connections. With `tls` (may be NULL), the TLS
 * listeners (--mqtts-port, --mqtts-extra-port) present its certificate. A
 * broker of a previous run of this data directory still shutting down is
 * waited for; a port held by another program is an error naming it. A
 * supervisor thread restarts the broker when it dies. Returns 0, or -1 with
 * a message in err.
 */
int broker_start(const config *cfg, const char *db_path, const char *service_user,
                 const char *service_password, const tls_files *tls, char *err, size_t errlen);

/*
 * Before broker_start: a default MQTT or MQTT-over-TLS port that another
 * program already holds (Debian's own mosquitto on 1883, typically) is
 * replaced in cfg by the next free one, with a warning naming the holder.
 * Ports the user chose are left alone (broker_start then refuses them).
 */
void broker_choose_ports(config *cfg);

/* The running child's pid, or 0. */
int broker_pid(void);

/* How many times the child has been (re)started. */
int broker_starts(void);

/* Stops the child (SIGTERM, then SIGKILL) and the supervisor. */
void broker_stop(void);

#endif
