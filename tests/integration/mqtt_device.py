"""A device as the tests see it: an MQTT client that logs in with the
Aliyun-signed credentials of Link SDK C 4.x (docs/protocol.md section 2), keeps
every message it receives, and speaks the HaaS upgrade events."""
import hashlib
import hmac
import json
import queue
import threading
import time

import paho.mqtt.client as mqtt

TIMEOUT = 10.0


def credentials(pk, dn, ds, method="hmacsha256", timestamp="2524608000000"):
    """clientId, username, password as the HaaS firmware computes them."""
    cid = "%s.%s" % (pk, dn)
    content = "clientId%sdeviceName%sproductKey%stimestamp%s" % (cid, dn, pk, timestamp)
    digest = {"hmacsha256": hashlib.sha256, "hmacsha1": hashlib.sha1, "hmacmd5": hashlib.md5}[method]
    password = hmac.new(ds.encode(), content.encode(), digest).hexdigest()
    client_id = "%s|timestamp=%s,_ss=1,_v=sdk-c-4.0.0,securemode=3,signmethod=%s,ext=3,|" % (cid, timestamp, method)
    return client_id, "%s&%s" % (dn, pk), password


def nodejs_credentials(pk, dn, ds, timestamp="1700000000000"):
    """clientId, username, password as Alibaba's Node.js device SDK makes
    them: id `pk&dn`, hmacsha1, lower-case hex, extra keys, and no `_ss`."""
    cid = "%s&%s" % (pk, dn)
    content = "clientId%sdeviceName%sproductKey%stimestamp%s" % (cid, dn, pk, timestamp)
    password = hmac.new(ds.encode(), content.encode(), hashlib.sha1).hexdigest()
    client_id = "%s|securemode=3,signmethod=hmacsha1,timestamp=%s,lan=NODEJS,_v=1.2.8|" % (cid, timestamp)
    return client_id, "%s&%s" % (dn, pk), password


def wait_inbox(dev, pred, what, timeout):
    """The first message of dev.inbox (topic, payload) that pred accepts;
    every message taken is kept in dev.seen. Fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError("%s: timed out waiting for %s; seen %r" % (dev.dn, what, dev.seen[-5:]))
        try:
            topic, payload = dev.inbox.get(timeout=remaining)
        except queue.Empty:
            continue
        dev.seen.append((topic, payload))
        if pred(topic, payload):
            return topic, payload


class Device:
    def __init__(self, port, pk, dn, ds, keepalive=30, creds=credentials, cafile=None):
        self.pk, self.dn, self.port, self.keepalive = pk, dn, port, keepalive
        cid, user, pw = creds(pk, dn, ds)
        self.c = mqtt.Client(client_id=cid, clean_session=True, protocol=mqtt.MQTTv311, reconnect_on_failure=False)
        self.c.username_pw_set(user, pw)
        if cafile:
            self.c.tls_set(ca_certs=cafile)
        self.connack = queue.Queue()
        self.inbox = queue.Queue()
        self.seen = []
        self.disconnected = threading.Event()
        self.c.on_connect = lambda c, u, f, rc: self.connack.put(rc)
        self.c.on_message = lambda c, u, m: self.inbox.put((m.topic, m.payload))
        self.c.on_disconnect = lambda c, u, rc: self.disconnected.set()
        self.next_id = 1

    def topic(self, suffix):
        return "/sys/%s/%s/%s" % (self.pk, self.dn, suffix)

    def connect(self, subscribe=("thing/service/hli_service_upgrade_push", "thing/event/+/post_reply",
                                 "thing/deviceinfo/update_reply")):
        self.c.connect("127.0.0.1", self.port, self.keepalive)
        self.c.loop_start()
        rc = self.connack.get(timeout=TIMEOUT)
        if rc != 0:
            raise AssertionError("CONNACK %d for %s" % (rc, self.dn))
        for s in subscribe:
            result, mid = self.c.subscribe(self.topic(s), 1)
            assert result == mqtt.MQTT_ERR_SUCCESS
        # a round trip proves the subscriptions are in place
        self.post("barrier", {})
        self.wait_for(lambda t, p: t.endswith("/barrier/post_reply"), "subscriptions")
        return self

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()

    def publish(self, topic, payload, qos=1):
        info = self.c.publish(topic, payload, qos)
        info.wait_for_publish(timeout=TIMEOUT)
        assert info.is_published()

    def post(self, event, params, msg_id=None):
        if msg_id is None:
            msg_id, self.next_id = self.next_id, self.next_id + 1
        self.publish(self.topic("thing/event/%s/post" % event),
                     json.dumps({"id": msg_id, "version": "1.0", "params": params}))
        return msg_id

    def query(self, versions, firmware="0.0.1"):
        return self.post("hli_event_upgrade_query", {
            "mac": "10:10:10:10:10:10", "ip": "10.10.10.10", "userScenario": "online", "vendorId": "HaaSPython",
            "buildType": "eng", "isSecurityOn": 0, "firmwareVersion": firmware,
            "app": [{"appId": a, "version": v} for a, v in versions.items()]})

    def result(self, code, app_id, new, old):
        ext = json.dumps({"appId": app_id, "appNewVersion": new, "appOldVersion": old})
        return self.post("hli_event", {"eventType": "haas.upgrade", "eventName": "app.result", "argInt": code,
                                       "ext": ext})

    def wait_for(self, pred, what="message", timeout=TIMEOUT):
        return wait_inbox(self, pred, what, timeout)

    def wait_push(self, timeout=TIMEOUT):
        _, payload = self.wait_for(lambda t, p: t.endswith("/hli_service_upgrade_push"), "a push", timeout)
        return json.loads(payload)

    def pushes_seen(self):
        return [json.loads(p) for t, p in self.seen if t.endswith("/hli_service_upgrade_push")]
