/*
 * rrpc.h - the cloud's synchronous call to a device (the IoT Platform
 * API's RRpc, aliyun_actions_messaging.c): the request goes out on
 * /sys/{pk}/{dn}/rrpc/request/{messageId}, and the device's answer on
 * /sys/{pk}/{dn}/rrpc/response/{messageId} (haas-emu subscribes to it:
 * topics.h, TOPIC_RRPC_RESPONSE) is handed to the call waiting for it.
 */
#ifndef HAAS_RRPC_H
#define HAAS_RRPC_H

#include "topics.h"

#include <stddef.h>

typedef enum {
    RRPC_SUCCESS, /* the device answered: *resp holds its payload */
    RRPC_TIMEOUT, /* no answer within timeout_ms */
    RRPC_NOT_SENT /* the MQTT link is down, or out of memory */
} rrpc_outcome;

/*
 * Publishes request (len bytes) to device pk/dn under message id and waits
 * at most timeout_ms (real milliseconds) for its answer. On RRPC_SUCCESS
 * *resp (free it) holds the answer's resp_len bytes. Not on the MQTT link
 * thread.
 */
rrpc_outcome rrpc_call(const char *pk, const char *dn, long long id, const void *request, size_t len, int timeout_ms,
                       unsigned char **resp, size_t *resp_len);

/* The handler of TOPIC_RRPC_RESPONSE (device_events.c): wakes the call
 * waiting for that device and message id, if any. */
void rrpc_events_response(const struct topic_parts *t, const char *topic, const void *payload, int len);

#endif
