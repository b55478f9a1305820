/*
 * fuzz_broker_input.c - libFuzzer target for what reaches the broker plugin
 * from the network: usernames, clientIds and topics (ACL decisions, the
 * automatic subscription table), and for the protocol module: the
 * emulator's identifier checks and topic parser. The input is split at NUL bytes
 * into a username, a clientId and a topic.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auto_sub.h"
#include "clientid.h"
#include "identifiers.h"
#include "topic_acl.h"
#include "topics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 3);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = copy[size + 1] = copy[size + 2] = '\0';
    const char *user = copy;
    const char *cid = user + strlen(user) + 1;
    const char *topic = cid + strlen(cid) + 1;
    if (topic > copy + size)
        topic = copy + size;
    if (cid > copy + size)
        cid = copy + size;

    struct haas_device_id dev;
    struct haas_client_id client;
    haas_parse_username(user, &dev);
    haas_parse_client_id(cid, &client);
    haas_filter_within(topic, "/sys/a1B2c3D4e5F/dev1/#");
    haas_filter_within(cid, topic);
    haas_acl_device_allows("a1B2c3D4e5F", "dev1", topic, HAAS_ACL_PUBLISH);
    haas_acl_device_allows("a1B2c3D4e5F", "dev1", topic, HAAS_ACL_SUBSCRIBE);
    struct topic_parts parts_of_topic;
    topic_parse(topic, &parts_of_topic);
    char built[TOPIC_MAX];
    topic_alink_method(built, sizeof built, topic);
    topic_service(built, sizeof built, "a1B2c3D4e5F", "dev1", cid);
    struct haas_device_id addressed;
    if (haas_auto_sub_topic_device(topic, &addressed)) {
        struct haas_auto_sub *st = haas_auto_sub_new(&addressed);
        haas_auto_sub_subscribed(st, cid);
        haas_auto_sub_unsubscribed(st, user);
        haas_auto_sub_delivers(st, topic);
        haas_auto_sub_free(st);
    }

    char name[17], id[17], version[32];
    long parts[3];
    package_filename_parse(user, name, id, version);
    version_parse(cid, parts);
    valid_display_name(topic, 64);
    free(copy);
    return 0;
}
