"""A signing client of Alibaba Cloud's IoT Platform API (2018-01-20, RPC
style, signature version 1), written for the tests from the documented
algorithm, as the official SDKs build a call: the common parameters
(Format, Version, AccessKeyId, SignatureMethod, Timestamp,
SignatureVersion, SignatureNonce, RegionId, Action), every parameter
name and value percent-encoded (RFC 3986 unreserved characters kept,
everything else %XX upper case), sorted by name, joined with '&'; the
StringToSign METHOD&%2F&<that, encoded again>; the Signature
base64(HMAC-SHA1(secret + "&", StringToSign)).

Three ways to send a call, as the SDKs do: GET /?<query> (aliyun CLI, the
Java SDK), POST / with everything in a form body (pop-core), and POST / with
the common parameters in the query and the action's in the body
(aliyun-python-sdk-core). The tests can break any part on purpose (another
secret, an old Timestamp, a nonce used before, a parameter left out).

Also the OSS PostObject form upload that GenerateOTAUploadURL prepares.
"""
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import ssl
import urllib.parse
import uuid

COMMON = ("Format", "Version", "AccessKeyId", "SignatureMethod", "Timestamp", "SignatureVersion",
          "SignatureNonce", "RegionId", "Action")


def encode(text):
    """Percent-encoding as the SDKs do it: only A-Z a-z 0-9 - _ . ~ stay."""
    return urllib.parse.quote(str(text), safe="~")


def canonical_query(params):
    return "&".join("%s=%s" % (encode(k), encode(v))
                    for k, v in sorted(params.items(), key=lambda kv: encode(kv[0])) if k != "Signature")


def string_to_sign(method, params):
    return "%s&%s&%s" % (method, encode("/"), encode(canonical_query(params)))


def sign(secret, method, params):
    digest = hmac.new((secret + "&").encode(), string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def utc_timestamp(offset_seconds=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Answer:
    def __init__(self, status, body):
        self.status, self.body = status, body
        try:
            self.json = json.loads(body)
        except ValueError:
            self.json = None

    @property
    def code(self):
        return (self.json or {}).get("Code")

    @property
    def ok(self):
        return self.status == 200 and (self.json or {}).get("Success") is True

    def __getitem__(self, key):
        return self.json[key]

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:400])


class AliyunClient:
    def __init__(self, port, key_id, secret, host="127.0.0.1", style="GET"):
        self.port, self.key_id, self.secret, self.host, self.style = port, key_id, secret, host, style

    def params(self, action, params, **over):
        p = {"Format": over.get("format", "JSON"), "Version": over.get("version", "2018-01-20"),
             "AccessKeyId": over.get("key_id", self.key_id), "SignatureMethod": "HMAC-SHA1",
             "Timestamp": over.get("timestamp") or utc_timestamp(), "SignatureVersion": "1.0",
             "SignatureNonce": over.get("nonce") or str(uuid.uuid4()), "RegionId": "cn-shanghai",
             "Action": action}
        p.update({k: str(v) for k, v in (params or {}).items()})
        for name in over.get("drop", ()):
            p.pop(name, None)
        return p

    def call(self, action, params=None, style=None, **over):
        """One signed call; over: timestamp, nonce, secret, key_id, version,
        format, drop (names left out), tamper (a parameter changed after
        signing)."""
        style = style or self.style
        method = "GET" if style == "GET" else "POST"
        p = self.params(action, params, **over)
        if "Signature" not in over.get("drop", ()):
            p["Signature"] = sign(over.get("secret", self.secret), method, p)
        for k, v in over.get("tamper", {}).items():
            p[k] = v
        headers = {}
        if style == "GET":
            path, body = "/?" + "&".join("%s=%s" % (encode(k), encode(v)) for k, v in p.items()), None
        elif style == "POST":  # pop-core: everything in the form body
            path, body = "/", "&".join("%s=%s" % (encode(k), encode(v)) for k, v in p.items())
        else:  # "POST-split", aliyun-python-sdk-core: common parameters in the query
            query = {k: v for k, v in p.items() if k in COMMON or k == "Signature"}
            form = {k: v for k, v in p.items() if k not in query}
            path = "/?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
            body = urllib.parse.urlencode(form)  # form encoding: a space is '+'
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = body.encode()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return Answer(resp.status, resp.read().decode("utf-8", "replace"))
        finally:
            conn.close()

    def ok(self, action, params=None, **kw):
        a = self.call(action, params, **kw)
        assert a.ok, "%s: %r" % (action, a)
        return a.json


def oss_post_object(upload, data, filename="firmware.bin", cafile=None, fields=None):
    """The OSS PostObject form upload of a GenerateOTAUploadURL answer's
    Data (Host, Key, Policy, OSSAccessKeyId, Signature): the fields first,
    the file last. Returns (status, body)."""
    boundary = "----haas-emu-test-" + uuid.uuid4().hex
    form = {"key": upload["Key"], "policy": upload["Policy"], "OSSAccessKeyId": upload["OSSAccessKeyId"],
            "Signature": upload["Signature"], "success_action_status": "200"}
    form.update(fields or {})
    parts = []
    for name, value in form.items():
        if value is not None:
            parts.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                          % (boundary, name, value)).encode())
    parts.append(("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                  "Content-Type: application/octet-stream\r\n\r\n" % (boundary, filename)).encode() + data + b"\r\n")
    parts.append(("--%s--\r\n" % boundary).encode())
    url = urllib.parse.urlsplit(upload["Host"])
    if url.scheme == "https":
        conn = http.client.HTTPSConnection(url.hostname, url.port, timeout=30,
                                           context=ssl.create_default_context(cafile=cafile))
    else:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request("POST", url.path or "/", body=b"".join(parts),
                     headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()
