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


def check_ota_data(msg):
    """What _ota_mqtt_process needs of an upgrade notice (or a
    firmware/get_reply), raised as AssertionError when missing; returns msg."""
    data = msg.get("data")
    if not isinstance(data, dict):
        raise AssertionError("no data object: %r" % msg)
    for key in ("size", "version", "url", "sign", "signMethod"):
        if key not in data:
            raise AssertionError("data without %s: %r" % (key, msg))
    method = data["signMethod"]
    if method not in ("Md5", "SHA256", "Sha256"):
        raise AssertionError("signMethod %r: the SDK takes only Md5, SHA256, Sha256" % method)
    if len(data["sign"]) != (32 if method == "Md5" else 64):
        raise AssertionError("sign of the wrong length for %s: %r" % (method, data["sign"]))
    if len(data["url"]) >= 256:
        raise AssertionError("url of %d bytes: the SDK's buffer is 256" % len(data["url"]))
    return msg


def linksdk_url_parts(url):
    """_download_parse_url: the host is everything between :// and the first
    '/', the path the rest (no port is taken from the URL)."""
    rest = url.split("://", 1)[1]
    slash = rest.index("/")
    return rest[:slash], rest[slash:]


def linksdk_download(url, port, cafile=None, start=0, end=None, timeout=TIMEOUT):
    """One request of aiot_download_send_request + core_http: HTTP/1.1, Host
    without a port, the SDK's Accept line, Range: bytes=start-[end], and the
    port from the firmware's own setting (AIOT_DLOPT_NETWORK_PORT). Returns
    (status, headers as sent, body); raises when the answer is one the SDK's
    parser refuses (status line not "HTTP/1.1 ", no "Content-Length: ")."""
    import socket
    host, path = linksdk_url_parts(url)
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if cafile:
        ctx = ssl.create_default_context(cafile=cafile)
        sock = ctx.wrap_socket(sock, server_hostname=host)
    request = ("GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/html, application/xhtml+xml, application/xml;q=0.9, "
               "*/*;q=0.8\r\nRange: bytes=%d-%s\r\nContent-Length: 0\r\n\r\n"
               % (path, host, start, "" if end is None else end))
    sock.sendall(request.encode())
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(4096)
        if not chunk:
            break
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 "):
        raise AssertionError("status line %r: core_http wants 'HTTP/1.1 '" % lines[0])
    status = int(lines[0][9:12])
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    if status in (200, 206) and "Content-Length" not in headers:
        raise AssertionError("no 'Content-Length: ' header (the SDK refuses chunked answers): %r" % lines)
    length = int(headers.get("Content-Length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    sock.close()
    return status, headers, body


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

    # -- firmware OTA, as components/ota/aiot_ota_api.c sends it --
    def ota_publish(self, topic, params):
        """_ota_publish_base: QoS 0, a bare numeric id from the SDK's global
        counter, and its exact spacing: {"id":N, "params":{...}}."""
        self.alink_id += 1
        self.c.publish(topic, '{"id":%d, "params":%s}' % (self.alink_id, params), 0)
        return self.alink_id

    def ota_inform(self, version, module=None):
        """aiot_ota_report_version(_ext): /ota/device/inform/{pk}/{dn}."""
        params = ('{"version":"%s","module":"%s"}' % (version, module) if module
                  else '{"version":"%s"}' % version)
        return self.ota_publish("/ota/device/inform/%s/%s" % (self.pk, self.dn), params)

    def ota_progress(self, step, module=None):
        """aiot_download_report_progress: step as a string, desc empty."""
        params = ('{"step":"%d","desc":"","module":"%s"}' % (step, module) if module
                  else '{"step":"%d","desc":""}' % step)
        return self.ota_publish("/ota/device/progress/%s/%s" % (self.pk, self.dn), params)

    def ota_query_firmware(self, module=None):
        """aiot_ota_query_firmware: /sys/{pk}/{dn}/thing/ota/firmware/get."""
        params = '{"module":"%s"}' % module if module else "{}"
        return self.ota_publish(self.topic("thing/ota/firmware/get"), params)

    def wait_ota_upgrade(self, timeout=TIMEOUT):
        """The next /ota/device/upgrade notice, checked the way
        _ota_mqtt_process parses it: its "data" (size, version, url, sign,
        signMethod Md5/SHA256/Sha256, a sign of the method's length)."""
        topic = "/ota/device/upgrade/%s/%s" % (self.pk, self.dn)
        _, payload = self.wait_for(lambda t, p: t == topic, "an OTA upgrade notice", timeout)
        return check_ota_data(json.loads(payload))

    def wait_firmware_get_reply(self, alink_id, timeout=TIMEOUT):
        topic = self.topic("thing/ota/firmware/get_reply")
        _, payload = self.wait_for(lambda t, p: t == topic and json.loads(p).get("id") == alink_id,
                                   "firmware/get_reply of id %s" % alink_id, timeout)
        return json.loads(payload)

    def barrier(self):
        """A post and its reply: every downstream message the emulator sent
        before this returns has been delivered (one broker, in order)."""
        self.wait_reply("barrier", self.post("barrier", {}))
