/*
 * port_probe.h - is a TCP port already taken, and by which program?
 *
 * Used before the managed broker starts: a port held by another program
 * (typically Debian's own mosquitto service, which installing the package
 * starts on 1883) must be reported with its holder and the fix, never
 * silently shared, so that no device is sent to a broker that is not ours.
 */
#ifndef HAAS_PORT_PROBE_H
#define HAAS_PORT_PROBE_H

#include <stddef.h>

/* True when a TCP connection to host:port (numeric host) succeeds. */
int port_accepting(const char *host, int port);

/*
 * Finds the process listening on TCP `port` (any address) from /proc.
 * Returns its pid and writes its command name into `name`, or returns 0
 * when it cannot be told (not found, or another user's process without
 * the rights to look).
 */
int port_holder(int port, char *name, size_t n);

#endif
