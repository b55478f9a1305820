/*
 * push_faults.h - publishing a push (the HaaS upgrade push or a firmware
 * notice) through the push faults that fired for it (faults.h): dropped,
 * sent twice, sent later, or followed by a disconnect of the device. The
 * callers change the message itself (a wrong MD5 or size) before.
 * Delayed messages wait in a small queue that main() flushes by the
 * emulator's clock.
 */
#ifndef HAAS_PUSH_FAULTS_H
#define HAAS_PUSH_FAULTS_H

#include "faults.h"

#include <stddef.h>
#include <stdint.h>

/* Publishes msg on topic to device pk/dn (QoS 1) as f says (f NULL: as
 * is). Returns 0 (also when dropped or delayed: the push counts as sent),
 * or -1 when the MQTT link could not take it. */
int push_publish(const char *topic, const char *msg, size_t len, const char *pk, const char *dn, const fault_push *f);

/* Publishes the delayed pushes due at now_ms. */
void push_faults_flush(int64_t now_ms);

#endif
