"""A device that behaves on the wire exactly as Alibaba's Link SDK C 4.x
(4.1.0, the MQTT stack of HaaS firmware on a Core2) does, as read from its
sources (core/aiot_mqtt_api.c, core/utils/core_auth.c,
components/data-model/aiot_dm_api.c):

- CONNECT: MQTT 3.1.1, clean session, keepalive 1200 s, username `dn&pk`,
  clientId `pk.dn|timestamp=2524608000000,_ss=1,_v=sdk-c-4.1.0,
  securemode=3,signmethod=hmacsha256,ext=3,_conn=tcp_<hex>|` (securemode=2
  and `_conn=tls_...` over TLS), password HMAC-SHA256 in UPPER-case hex;
- no SUBSCRIBE ever: its modules rely on the platform's automatic
  subscription; downstream messages are matched against local handlers;
- event posts at QoS 0 as `{"id":"N","version":"1.0","params":...,
  "sys":{"ack":1}}`, compact, id a string (a global counter), no method;
  OTA-style messages use bare numeric ids;
- after a lost connection it sends the identical CONNECT again (same
  clientId, clean session) and subscribes nothing.

docs/protocol.md sections 2 and 4. The project's tests use it to prove that real HaaS
firmware works against the emulator unchanged; no Link SDK code is copied.
"""
import hashlib
import hmac
import json
import queue
import ssl
import threading
import time

import paho.mqtt.client as mqtt

from mqtt_device import wait_inbox

TIMEOUT = 10.0
SDK_TIMESTAMP = "2524608000000"


def linksdk_credentials(pk, dn, ds, tls=False, conn_ms=0x2a):
    """clientId, username, password as core_auth.c builds them."""
    cid = "%s.%s" % (pk, dn)
    client_id = ("%s|timestamp=%s,_ss=1,_v=sdk-c-4.1.0,securemode=%s,signmethod=hmacsha256,ext=3,_conn=%s_%x|"
                 % (cid, SDK_TIMESTAMP, "2" if tls else "3", "tls" if tls else "tcp", conn_ms))
    content = "clientId%sdeviceName%sproductKey%stimestamp%s" % (cid, dn, pk, SDK_TIMESTAMP)
    password = hmac.new(ds.encode(), content.encode(), hashlib.sha256).hexdigest().upper()
    return client_id, "%s&%s" % (dn, pk), password


def compact(obj):
    """JSON as the SDK's format strings write it (no spaces)."""
    return json.dumps(obj, separators=(",", ":"))


class LinkSdkDevice:
    """One device. connect() blocks until CONNACK; messages land in inbox."""

    def __init__(self, port, pk, dn, ds, cafile=None, host="127.0.0.1"):
        self.pk, self.dn, self.port, self.host = pk, dn, port, host
        self.client_id, self.username, self.password = linksdk_credentials(pk, dn, ds, tls=cafile is not None)
        self.cafile = cafile
        self.connacks = queue.Queue()
        self.inbox = queue.Queue()
        self.seen = []
        self.lost = threading.Event()
        self.alink_id = 0
        self.c = self._client()

    def _client(self):
        c = mqtt.Client(client_id=self.client_id, clean_session=True, protocol=mqtt.MQTTv311,
                        reconnect_on_failure=False)
        c.username_pw_set(self.username, self.password)
        if self.cafile:
            c.tls_set(ca_certs=self.cafile, cert_reqs=ssl.CERT_REQUIRED)
        c.on_connect = lambda cl, u, f, rc: self.connacks.put(rc)
        c.on_message = lambda cl, u, m: self.inbox.put((m.topic, m.payload))
        c.on_disconnect = lambda cl, u, rc: self.lost.set()
        return c

    def topic(self, suffix):
        return "/sys/%s/%s/%s" % (self.pk, self.dn, suffix)

    def connect(self, timeout=TIMEOUT):
        """CONNECT (no SUBSCRIBE follows); raises unless CONNACK 0."""
        self.lost.clear()
        self.c.connect(self.host, self.port, 1200)
        self.c.loop_start()
        rc = self.connacks.get(timeout=timeout)
        if rc != 0:
            raise AssertionError("CONNACK %d for %s" % (rc, self.dn))
        return self

    def reconnect(self, deadline=30.0):
        """What the SDK does after a lost connection: the identical CONNECT
        again (a fresh socket, clean session), retried until it is taken."""
        self.c.loop_stop()
        self.c = self._client()
        end = time.monotonic() + deadline
        while True:
            try:
                return self.connect(timeout=5)
            except (OSError, AssertionError, queue.Empty):
                self.c.loop_stop()
                self.c = self._client()
                if time.monotonic() > end:
                    raise
                time.sleep(0.2)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()

    def next_id(self):
        self.alink_id += 1
        return str(self.alink_id)

    def post(self, event, params, ack=1, alink_id=None):
        """aiot_dm_send(AIOT_DMMSG_EVENT_POST): QoS 0, id a string."""
        alink_id = alink_id if alink_id is not None else self.next_id()
        body = '{"id":%s,"version":"1.0","params":%s,"sys":{"ack":%d}}' % (
            json.dumps(alink_id), compact(params), ack)
        self.c.publish(self.topic("thing/event/%s/post" % event), body, 0)
        return alink_id

    def query(self, versions, firmware="1.0.0", alink_id=None):
        return self.post("hli_event_upgrade_query", {
            "mac": "10:10:10:10:10:10", "ip": "10.10.10.10", "userScenario": "online", "vendorId": "HaaSPython",
            "buildType": "eng", "isSecurityOn": 0, "firmwareVersion": firmware,
            "app": [{"appId": a, "version": v} for a, v in versions.items()]}, alink_id=alink_id)

    def result(self, code, app_id, new, old):
        ext = compact({"appId": app_id, "appNewVersion": new, "appOldVersion": old})
        return self.post("hli_event", {"eventType": "haas.upgrade", "eventName": "app.result", "argInt": code,
                                       "ext": ext})

    def service_reply(self, service, alink_id, data=None):
        """The reply of an async service call, as the SDK sends it (QoS 0)."""
        body = '{"id":"%s","code":200,"data":%s}' % (alink_id, compact(data or {}))
        self.c.publish(self.topic("thing/service/%s_reply" % service), body, 0)

    def wait_for(self, pred, what="message", timeout=TIMEOUT):
        return wait_inbox(self, pred, what, timeout)

    def wait_reply(self, event, alink_id, timeout=TIMEOUT):
        """The post_reply of one post, parsed; checks the fields the SDK's
        reply parser requires (id, code, data)."""
        topic = self.topic("thing/event/%s/post_reply" % event)
        _, payload = self.wait_for(lambda t, p: t == topic and json.loads(p).get("id") == alink_id,
                                   "post_reply of %s id %s" % (event, alink_id), timeout)
        reply = json.loads(payload)
        for key in ("id", "code", "data"):
            if key not in reply:
                raise AssertionError("post_reply without %s: %r" % (key, payload))
        if b": " in payload or b", " in payload:
            raise AssertionError("post_reply is not compact JSON (the SDK's parser needs it): %r" % payload)
        return reply

    def wait_push(self, timeout=TIMEOUT):
        _, payload = self.wait_for(lambda t, p: t.endswith("/thing/service/hli_service_upgrade_push"),
                                   "a push", timeout)
        return json.loads(payload)

    def barrier(self):
        """A post and its reply: every downstream message the emulator sent
        before this returns has been delivered (one broker, in order)."""
        self.wait_reply("barrier", self.post("barrier", {}))
