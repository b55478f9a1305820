"""Alibaba Cloud's own IoT Platform API on the emulator (issue 18): the
RPC API (2018-01-20) at GET /?Action= and form POST /, called by the
project's own signing client (aliyun_client.py, signature version 1 built
as the SDKs build it, never a shortcut), on the same data as the REST API.

- the gateway: the three ways the SDKs send a call; a wrong secret, an
  unknown AccessKeyId, a parameter changed after signing, an expired or
  future or malformed Timestamp, a reused SignatureNonce, a missing common
  parameter, another Version, an unknown action: each refused with the
  cloud's code and status, and nothing changed;
- every action: its happy path, its main errors, and what the REST API then
  shows;
- the credentials: fixed by flags or variables, or made at the first start,
  printed and kept across restarts;
- end to end, as a CI job would: a product and devices provisioned through
  the API, haas-device running, firmware uploaded (GenerateOTAUploadURL, an
  OSS PostObject form, CreateOTAFirmware) and a static upgrade job created
  through the API, and every device SUCCEEDED in ListOTATaskByJob and the job
  COMPLETED in QueryOTAJob.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import unittest
from xml.etree import ElementTree

from aliyun_client import AliyunClient, oss_post_object, utc_timestamp
from harness import OUT, Emulator, EmulatorTest, wait_for
from mqtt_device import Device
from sim_device import SimDevice

KEY_ID, SECRET = "LTAI5tEmulatorTestKey", "TestSecret0123456789abcdefABCDEF"
CREDS = ["--access-key-id", KEY_ID, "--access-key-secret", SECRET]


def firmware_image(size, seed):
    out, block = bytearray(), seed.encode()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


class GatewayTest(EmulatorTest):
    """Signature, Timestamp, nonce and the common parameters."""
    emulator_args = CREDS

    def setUp(self):
        self.api = AliyunClient(self.emu.port, KEY_ID, SECRET)

    def products(self):
        return self.emu.get("/api/v1/products").json["total"]

    def test_every_way_the_sdks_send_a_call(self):
        names = []
        for style in ("GET", "POST", "POST-split"):
            name = "产品 %s *~+&=" % style  # UTF-8, a space and the characters encoded differently
            a = self.api.call("CreateProduct", {"ProductName": name}, style=style)
            self.assertTrue(a.ok, a)
            self.assertEqual(a.status, 200)
            self.assertRegex(a["RequestId"], r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
            pk = a["Data"]["ProductKey"]
            self.assertEqual(self.emu.get("/api/v1/products/" + pk).json["name"], name)
            names.append(name)
        self.assertEqual(len(set(names)), 3)

    def refused(self, answer, status, code):
        self.assertEqual((answer.status, answer.code), (status, code), answer)
        self.assertIsNone(answer.json.get("Success"), answer)
        self.assertTrue(answer["RequestId"] and answer["HostId"] and answer["Message"], answer)

    def test_wrong_secret_unknown_key_and_tampering(self):
        before = self.products()
        for style in ("GET", "POST", "POST-split"):
            a = self.api.call("CreateProduct", {"ProductName": "nope"}, style=style, secret="not-the-secret")
            self.refused(a, 400, "SignatureDoesNotMatch")
            self.assertIn("server string to sign is:", a["Message"])
        self.refused(self.api.call("CreateProduct", {"ProductName": "nope"}, key_id="LTAIunknown"), 404,
                     "InvalidAccessKeyId.NotFound")
        self.refused(self.api.call("CreateProduct", {"ProductName": "nope"}, tamper={"ProductName": "other"}), 400,
                     "SignatureDoesNotMatch")
        self.refused(self.api.call("CreateProduct", {"ProductName": "nope"}, tamper={"Signature": "AAAA"}), 400,
                     "SignatureDoesNotMatch")
        self.assertEqual(self.products(), before)

    def test_timestamp_within_15_minutes(self):
        before = self.products()
        self.refused(self.api.call("CreateProduct", {"ProductName": "old"}, timestamp=utc_timestamp(-16 * 60)), 400,
                     "InvalidTimeStamp.Expired")
        self.refused(self.api.call("CreateProduct", {"ProductName": "future"}, timestamp=utc_timestamp(16 * 60)),
                     400, "InvalidTimeStamp.Expired")
        for bad in ("2026-12-02 01:00:00", "2026-12-02T01:00:00+08:00", "yesterday"):
            self.refused(self.api.call("CreateProduct", {"ProductName": "bad"}, timestamp=bad), 400,
                         "InvalidTimeStamp.Format")
        self.assertEqual(self.products(), before)
        self.assertTrue(self.api.call("QueryProductList", timestamp=utc_timestamp(-14 * 60)).ok)

    def test_nonce_used_once(self):
        a = self.api.call("CreateProduct", {"ProductName": "once"}, nonce="nonce-used-once-1")
        self.assertTrue(a.ok, a)
        before = self.products()
        again = self.api.call("CreateProduct", {"ProductName": "twice"}, nonce="nonce-used-once-1")
        self.refused(again, 400, "SignatureNonceUsed")
        self.refused(self.api.call("QueryProductList", {}, nonce="nonce-used-once-1", style="POST"), 400,
                     "SignatureNonceUsed")
        self.assertEqual(self.products(), before)
        # a call refused before its signature was checked does not use its nonce up
        self.refused(self.api.call("QueryProductList", {}, nonce="nonce-kept-2", secret="wrong"), 400,
                     "SignatureDoesNotMatch")
        self.assertTrue(self.api.call("QueryProductList", {}, nonce="nonce-kept-2").ok)

    def test_common_parameters(self):
        for name in ("Signature", "Timestamp", "SignatureNonce", "AccessKeyId", "Action", "Version"):
            a = self.api.call("QueryProductList", drop=[name])
            self.refused(a, 400, "Missing" + name)
        self.refused(self.api.call("QueryProductList", version="2017-04-20"), 400, "InvalidVersion")
        a = self.api.call("DoesNotExist")
        self.refused(a, 404, "InvalidAction.NotFound")
        self.refused(self.api.call("QueryProductList", tamper={"SignatureMethod": "HMAC-SHA256"}), 400,
                     "InvalidSignatureMethod")

    def test_xml_when_asked_or_by_default(self):
        for over in ({"format": "XML"}, {"drop": ["Format"]}):
            a = self.api.call("CreateProduct", {"ProductName": "xml <&> 产品"}, **over)
            self.assertEqual(a.status, 200, a)
            root = ElementTree.fromstring(a.body.encode())
            self.assertEqual((root.tag, root.findtext("Success")), ("CreateProductResponse", "true"))
            pk = root.findtext("Data/ProductKey")
            self.assertEqual(self.emu.get("/api/v1/products/" + pk).json["name"], "xml <&> 产品")
        listed = ElementTree.fromstring(self.api.call("QueryProductList", {"PageSize": 200}, format="XML").body)
        self.assertGreaterEqual(len(listed.findall("Data/List/ProductInfo")), 2)  # a list: one element per item
        refused = self.api.call("QueryProduct", {"ProductKey": "a1NoSuchPk0"}, format="XML")
        root = ElementTree.fromstring(refused.body)
        self.assertEqual((root.tag, root.findtext("Success"), root.findtext("Code")),
                         ("QueryProductResponse", "false", "iot.prod.NotExistedProduct"))
        gateway = self.api.call("QueryProductList", format="XML", secret="wrong")
        root = ElementTree.fromstring(gateway.body)
        self.assertEqual((gateway.status, root.tag, root.findtext("Code")), (400, "Error", "SignatureDoesNotMatch"))

    def test_console_and_rest_still_answer(self):
        self.assertEqual(self.emu.get("/").status, 200)  # GET / without Action: the console
        self.assertEqual(self.emu.get("/api/v1/products").status, 200)
        r = self.emu.post("/", body=b"Action", headers={"Content-Type": "text/plain"})
        self.assertEqual((r.status, ElementTree.fromstring(r.body).findtext("Code")), (400, "InvalidParameter"))
        r = self.emu.post("/", body=b"Format=JSON", headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((r.status, r.json["Code"]), (400, "MissingAccessKeyId"))


class ActionsTest(EmulatorTest):
    """Every action: happy path, main errors, and the REST API's view."""
    # one HTTP thread: an RRpc waiting for its device must not hold up the
    # other calls
    emulator_args = CREDS + ["--http-threads", "1"]

    def setUp(self):
        self.api = AliyunClient(self.emu.port, KEY_ID, SECRET)

    def ok(self, action, params=None, **kw):
        return self.api.ok(action, params, **kw)

    def fails(self, action, params, code, status=200):
        a = self.api.call(action, params)
        self.assertEqual((a.status, a.code), (status, code), a)
        if status == 200:
            self.assertIs(a["Success"], False)
            self.assertTrue(a["ErrorMessage"], a)
        return a

    def product(self, name="aliyun"):
        return self.ok("CreateProduct", {"ProductName": name, "NodeType": 0})["Data"]["ProductKey"]

    def test_products(self):
        pk = self.product("产品一")
        info = self.ok("QueryProduct", {"ProductKey": pk})["Data"]
        self.assertEqual((info["ProductKey"], info["ProductName"], info["DeviceCount"]), (pk, "产品一", 0))
        listed = self.ok("QueryProductList", {"CurrentPage": 1, "PageSize": 200})["Data"]
        self.assertIn(pk, [p["ProductKey"] for p in listed["List"]["ProductInfo"]])
        self.assertEqual(listed["Total"], self.emu.get("/api/v1/products").json["total"])
        self.fails("CreateProduct", {}, "MissingProductName", 400)
        self.fails("CreateProduct", {"ProductName": "x" * 65}, "iot.common.InvalidFormattedParameter")
        self.fails("QueryProduct", {"ProductKey": "a1NoSuchPk0"}, "iot.prod.NotExistedProduct")
        self.fails("QueryProductList", {"PageSize": 0}, "iot.common.InvalidPageParams")
        self.ok("DeleteProduct", {"ProductKey": pk})
        self.assertEqual(self.emu.get("/api/v1/products/" + pk).status, 404)
        self.fails("DeleteProduct", {"ProductKey": pk}, "iot.prod.NotExistedProduct")

    def test_devices(self):
        pk = self.product()
        d = self.ok("RegisterDevice", {"ProductKey": pk, "DeviceName": "core2-api-1"})["Data"]
        rest = self.emu.get("/api/v1/products/%s/devices/core2-api-1" % pk).json
        self.assertEqual(d["DeviceSecret"], rest["deviceSecret"])
        self.assertEqual(d["DeviceStatus"], "UNACTIVE")
        made = self.ok("RegisterDevice", {"ProductKey": pk})["Data"]
        self.assertRegex(made["DeviceName"], r"^[A-Za-z0-9]{20}$")
        self.fails("RegisterDevice", {"ProductKey": pk, "DeviceName": "core2-api-1"},
                   "iot.device.AlreadyExistedDeviceName")
        self.fails("RegisterDevice", {"ProductKey": pk, "DeviceName": "no spaces"},
                   "iot.device.InvalidFormattedDeviceName")
        self.fails("RegisterDevice", {"ProductKey": "a1NoSuchPk0", "DeviceName": "core2-api-2"},
                   "iot.prod.NotExistedProduct")
        self.fails("RegisterDevice", {"DeviceName": "core2-api-2"}, "MissingProductKey", 400)

        detail = self.ok("QueryDeviceDetail", {"ProductKey": pk, "DeviceName": "core2-api-1"})["Data"]
        self.assertEqual((detail["DeviceSecret"], detail["Status"]), (d["DeviceSecret"], "UNACTIVE"))
        self.fails("QueryDeviceDetail", {"ProductKey": pk, "DeviceName": "nobody"}, "iot.device.NotExistedDevice")
        self.assertEqual(self.ok("GetDeviceStatus", {"ProductKey": pk, "DeviceName": "core2-api-1"})["Data"],
                         {"Status": "UNACTIVE"})
        self.fails("GetDeviceStatus", {"ProductKey": pk, "DeviceName": "nobody"}, "iot.device.NotExistedDevice")
        states = self.ok("BatchGetDeviceState", {"ProductKey": pk, "DeviceName.1": "core2-api-1",
                                                 "DeviceName.2": "nobody"})["DeviceStatusList"]["DeviceStatus"]
        self.assertEqual([(s["DeviceName"], s["Status"]) for s in states], [("core2-api-1", "UNACTIVE")])
        self.fails("BatchGetDeviceState", {"ProductKey": pk}, "MissingDeviceName.1", 400)

        self.ok("DisableThing", {"ProductKey": pk, "DeviceName": "core2-api-1"})
        self.assertIs(self.emu.get("/api/v1/products/%s/devices/core2-api-1" % pk).json["enabled"], False)
        self.assertEqual(self.ok("GetDeviceStatus", {"ProductKey": pk, "DeviceName": "core2-api-1"})["Data"],
                         {"Status": "DISABLE"})
        self.ok("EnableThing", {"ProductKey": pk, "DeviceName": "core2-api-1"})
        self.assertIs(self.emu.get("/api/v1/products/%s/devices/core2-api-1" % pk).json["enabled"], True)
        self.fails("DisableThing", {"ProductKey": pk, "DeviceName": "nobody"}, "iot.device.NotExistedDevice")

        page = self.ok("QueryDevice", {"ProductKey": pk, "PageSize": 1, "CurrentPage": 2})
        self.assertEqual((page["Total"], page["PageCount"], len(page["Data"]["DeviceInfo"])), (2, 2, 1))
        # a page far past the end is empty ((page - 1) x size wrapped around a 32-bit int once)
        page = self.ok("QueryDevice", {"ProductKey": pk, "PageSize": 48, "CurrentPage": 89478487})
        self.assertEqual((page["Total"], page["Data"]["DeviceInfo"]), (2, []))
        self.fails("QueryDevice", {"ProductKey": pk, "PageSize": 51}, "iot.common.InvalidPageParams")
        self.fails("QueryDevice", {"ProductKey": "a1NoSuchPk0"}, "iot.prod.NotExistedProduct")

        self.ok("DeleteDevice", {"ProductKey": pk, "DeviceName": "core2-api-1"})
        self.assertEqual(self.emu.get("/api/v1/products/%s/devices/core2-api-1" % pk).status, 404)
        self.fails("DeleteDevice", {"ProductKey": pk, "DeviceName": "core2-api-1"}, "iot.device.NotExistedDevice")

    def test_batch_register(self):
        pk = self.product()
        apply_id = self.ok("BatchRegisterDevice", {"ProductKey": pk, "Count": 5})["Data"]["ApplyId"]
        status = self.ok("QueryBatchRegisterDeviceStatus", {"ProductKey": pk, "ApplyId": apply_id})["Data"]
        self.assertEqual(status["Status"], "CREATE_SUCCESS")
        names = status["ValidList"]["Name"]
        self.assertEqual(len(names), 5)
        rest = {d["deviceName"]: d["deviceSecret"]
                for d in self.emu.get("/api/v1/products/%s/devices" % pk).json["items"]}
        self.assertEqual(sorted(rest), sorted(names))
        page = self.ok("QueryPageByApplyId", {"ApplyId": apply_id, "PageSize": 2, "CurrentPage": 3})
        self.assertEqual((page["Total"], page["PageCount"]), (5, 3))
        [last] = page["ApplyDeviceList"]["ApplyDeviceInfo"]
        self.assertEqual(last["DeviceSecret"], rest[last["DeviceName"]])
        self.fails("BatchRegisterDevice", {"ProductKey": pk, "Count": 0}, "iot.common.InvalidFormattedParameter")
        self.fails("BatchRegisterDevice", {"ProductKey": pk}, "MissingCount", 400)
        self.fails("BatchRegisterDevice", {"ProductKey": "a1NoSuchPk0", "Count": 2}, "iot.prod.NotExistedProduct")
        self.fails("QueryPageByApplyId", {"ApplyId": 999999}, "iot.device.InvalidFormattedApplyId")
        self.fails("QueryBatchRegisterDeviceStatus", {"ProductKey": pk, "ApplyId": "x"},
                   "iot.common.InvalidFormattedParameter")
        self.assertEqual(len(rest), 5)  # nothing more was made

    def test_groups(self):
        pk = self.product()
        for dn in ("grp-dev-1", "grp-dev-2"):
            self.ok("RegisterDevice", {"ProductKey": pk, "DeviceName": dn})
        g = self.ok("CreateDeviceGroup", {"GroupName": "测试分组", "GroupDesc": "via the API"})["Data"]
        self.assertEqual(self.emu.get("/api/v1/groups/" + g["GroupId"]).json["name"], "测试分组")
        a = self.ok("BatchAddDeviceGroupRelations", {"GroupId": g["GroupId"], "Device.1.ProductKey": pk,
                                                     "Device.1.DeviceName": "grp-dev-1", "Device.2.ProductKey": pk,
                                                     "Device.2.DeviceName": "grp-dev-2"})
        self.assertEqual((a["ValidDeviceCount"], a["SuccessAddedDeviceCount"]), (2, 2))
        members = self.emu.get("/api/v1/groups/%s/devices" % g["GroupId"]).json["items"]
        self.assertEqual(sorted(m["deviceName"] for m in members), ["grp-dev-1", "grp-dev-2"])
        self.fails("BatchAddDeviceGroupRelations", {"GroupId": g["GroupId"], "Device.1.ProductKey": pk,
                                                    "Device.1.DeviceName": "nobody"}, "iot.device.NotExistedDevice")
        self.fails("BatchAddDeviceGroupRelations", {"GroupId": "grp-nosuch", "Device.1.ProductKey": pk,
                                                    "Device.1.DeviceName": "grp-dev-1"}, "iot.group.NotExistedGroup")
        self.fails("BatchAddDeviceGroupRelations", {"GroupId": g["GroupId"]}, "MissingDevice.1.ProductKey", 400)
        self.fails("CreateDeviceGroup", {}, "MissingGroupName", 400)
        listed = self.ok("QueryDeviceGroupList", {"PageSize": 200})
        mine = [x for x in listed["Data"]["GroupInfo"] if x["GroupId"] == g["GroupId"]]
        self.assertEqual(mine[0]["DeviceCount"], 2)

    def test_messaging(self):
        pk = self.product()
        ds = self.ok("RegisterDevice", {"ProductKey": pk, "DeviceName": "msg-dev-1"})["Data"]["DeviceSecret"]
        dev = Device(self.emu.mqtt_port, pk, "msg-dev-1", ds).connect(subscribe=())
        try:
            dev.c.subscribe("/%s/msg-dev-1/user/get" % pk, 1)
            dev.post("barrier", {})
            topic = "/%s/msg-dev-1/user/get" % pk
            wait_for(lambda: self.ok("GetDeviceStatus", {"ProductKey": pk, "DeviceName": "msg-dev-1"})["Data"]
                     ["Status"] == "ONLINE", what="the device ONLINE")
            payload = "hello 设备 \x00\xff".encode("utf-8")
            a = self.ok("Pub", {"ProductKey": pk, "TopicFullName": topic, "Qos": 1,
                                "MessageContent": base64.b64encode(payload).decode()})
            self.assertTrue(a["MessageId"])
            _, got = dev.wait_for(lambda t, p: t == topic, "the Pub")
            self.assertEqual(got, payload)
            # RRpc: the call waits for the device's answer on .../rrpc/response/{id}
            answered = {}
            call = threading.Thread(target=lambda: answered.update(self.ok(
                "RRpc", {"ProductKey": pk, "DeviceName": "msg-dev-1", "Timeout": 5000,
                         "RequestBase64Byte": base64.b64encode(b"ping \x00\xff").decode()})))
            call.start()
            req_topic, req = dev.wait_for(lambda t, p: "/rrpc/request/" in t, "the RRPC request")
            self.assertEqual(req, b"ping \x00\xff")
            # the call waits aside: another call on the same HTTP thread is answered meanwhile
            self.assertEqual(self.ok("GetDeviceStatus", {"ProductKey": pk, "DeviceName": "msg-dev-1"})["Data"]
                             ["Status"], "ONLINE")
            self.assertTrue(call.is_alive())
            dev.publish(req_topic.replace("/rrpc/request/", "/rrpc/response/"), b"pong \x01")
            call.join(10)
            self.assertEqual((answered["RrpcCode"], base64.b64decode(answered["PayloadBase64Byte"])),
                             ("SUCCESS", b"pong \x01"))
            self.assertEqual(answered["MessageId"], req_topic.rsplit("/", 1)[1])
            silent = self.ok("RRpc", {"ProductKey": pk, "DeviceName": "msg-dev-1", "Timeout": 1000,
                                      "RequestBase64Byte": "cGluZw=="})
            self.assertEqual((silent["RrpcCode"], silent["PayloadBase64Byte"]), ("TIMEOUT", ""))
        finally:
            dev.close()
        self.fails("Pub", {"ProductKey": pk, "TopicFullName": "/sys/%s/msg-dev-1/thing/service/x" % pk,
                           "MessageContent": "aGk="}, "iot.messagebroker.InvalidTopicName")
        self.fails("Pub", {"ProductKey": pk, "TopicFullName": topic, "MessageContent": "not base64!"},
                   "iot.messagebroker.InvalidFormattedMessageContent")
        self.fails("Pub", {"ProductKey": "a1NoSuchPk0", "TopicFullName": "/a1NoSuchPk0/d/user/get",
                           "MessageContent": "aGk="}, "iot.prod.NotExistedProduct")
        self.fails("Pub", {"ProductKey": pk, "TopicFullName": topic}, "MissingMessageContent", 400)
        wait_for(lambda: self.ok("GetDeviceStatus", {"ProductKey": pk, "DeviceName": "msg-dev-1"})["Data"]
                 ["Status"] == "OFFLINE", what="the device OFFLINE")
        rr = self.ok("RRpc", {"ProductKey": pk, "DeviceName": "msg-dev-1", "Timeout": 1000,
                              "RequestBase64Byte": "cGluZw=="})
        self.assertEqual(rr["RrpcCode"], "OFFLINE")
        self.fails("RRpc", {"ProductKey": pk, "DeviceName": "nobody", "Timeout": 1000, "RequestBase64Byte": "aGk="},
                   "iot.device.NotExistedDevice")
        self.fails("InvokeThingService", {"ProductKey": pk, "DeviceName": "msg-dev-1", "Identifier": "reboot",
                                          "Args": "{}"}, "iot.tsl.NotExistedService")
        self.fails("SetDeviceProperty", {"ProductKey": pk, "DeviceName": "msg-dev-1", "Items": '{"Light":1}'},
                   "iot.tsl.NotExistedProperty")
        self.fails("SetDeviceProperty", {"ProductKey": pk, "DeviceName": "msg-dev-1", "Items": "[1]"},
                   "iot.common.InvalidFormattedParameter")
        props = self.ok("QueryDevicePropertyStatus", {"ProductKey": pk, "DeviceName": "msg-dev-1"})["Data"]
        self.assertEqual(props, {"List": {"PropertyStatusInfo": []}})
        self.fails("QueryDevicePropertyStatus", {"ProductKey": pk, "DeviceName": "nobody"},
                   "iot.device.NotExistedDevice")

    def upload(self, data, **kw):
        up = self.ok("GenerateOTAUploadURL", {"FileSuffix": "bin"})["Data"]
        self.assertEqual(up["ObjectStorage"], "OSS")
        self.assertEqual(up["FirmwareUrl"], up["Host"] + "/" + up["Key"])
        status, body = oss_post_object(up, data, **kw)
        return up, status, body

    def test_ota_firmware_and_jobs(self):
        pk = self.product("ota")
        for dn in ("ota-dev-1", "ota-dev-2"):
            self.ok("RegisterDevice", {"ProductKey": pk, "DeviceName": dn})
        body = firmware_image(40000, "api")
        up, status, text = self.upload(body)
        self.assertEqual(status, 200, text)
        # the upload's form is checked as OSS checks it
        bad, status, text = self.upload(body, fields={"Signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="})
        self.assertEqual((status, re.search("<Code>(.*)</Code>", text).group(1)), (403, "SignatureDoesNotMatch"))
        bad, status, text = self.upload(body, fields={"key": "ota/other/file.bin"})
        self.assertEqual((status, re.search("<Code>(.*)</Code>", text).group(1)), (403, "AccessDenied"))
        self.fails("CreateOTAFirmware", {"ProductKey": pk, "FirmwareName": "fw", "DestVersion": "2.0.0",
                                         "FirmwareUrl": bad["FirmwareUrl"]}, "iot.ota.InvalidFirmwareUrl")
        self.fails("CreateOTAFirmware", {"ProductKey": pk, "FirmwareName": "fw", "DestVersion": "2.0.0",
                                         "FirmwareUrl": up["FirmwareUrl"], "SignMethod": "SHA256",
                                         "FirmwareSign": hashlib.md5(body).hexdigest()}, "iot.ota.FirmwareCheckFailed")
        self.fails("CreateOTAFirmware", {"ProductKey": pk, "FirmwareName": "fw", "DestVersion": "2.0.0",
                                         "FirmwareUrl": up["FirmwareUrl"], "FirmwareSize": len(body) + 1},
                   "iot.ota.FirmwareCheckFailed")
        self.fails("CreateOTAFirmware", {"ProductKey": pk, "FirmwareName": "fw", "FirmwareUrl": up["FirmwareUrl"]},
                   "MissingDestVersion", 400)
        self.fails("CreateOTAFirmware", {"ProductKey": "a1NoSuchPk0", "FirmwareName": "fw", "DestVersion": "2.0.0",
                                         "FirmwareUrl": up["FirmwareUrl"]}, "iot.prod.NotExistedProduct")
        fw = self.ok("CreateOTAFirmware", {"ProductKey": pk, "FirmwareName": "fw-2.0.0", "DestVersion": "2.0.0",
                                           "SrcVersion": "1.0.0", "FirmwareUrl": up["FirmwareUrl"],
                                           "SignMethod": "SHA256", "FirmwareSign": hashlib.sha256(body).hexdigest(),
                                           "FirmwareSize": len(body)})["Data"]
        fid = fw["FirmwareId"]
        rest = self.emu.get("/api/v1/firmwares/" + fid).json
        self.assertEqual((rest["version"], rest["size"], rest["sha256"]), ("2.0.0", len(body),
                                                                            hashlib.sha256(body).hexdigest()))
        self.fails("CreateOTAFirmware", {"ProductKey": pk, "FirmwareName": "again", "DestVersion": "2.0.0",
                                         "FirmwareUrl": up["FirmwareUrl"]}, "iot.ota.AlreadyExistedFirmwareVersion")
        info = self.ok("QueryOTAFirmware", {"FirmwareId": fid})["FirmwareInfo"]
        self.assertEqual((info["DestVersion"], info["SrcVersion"], info["SignMethod"], info["FirmwareSize"]),
                         ("2.0.0", "1.0.0", "SHA256", len(body)))
        self.fails("QueryOTAFirmware", {"FirmwareId": "nosuchfirmware"}, "iot.ota.NotExistedFirmware")
        listed = self.ok("ListOTAFirmware", {"ProductKey": pk, "PageSize": 10})
        self.assertEqual([f["FirmwareId"] for f in listed["FirmwareInfo"]["SimpleFirmwareInfo"]], [fid])

        job_params = {"FirmwareId": fid, "ProductKey": pk, "TargetSelection": "SPECIFIC",
                      "TargetDeviceName.1": "ota-dev-1", "TargetDeviceName.2": "ota-dev-2", "TimeoutInMinutes": 30}
        self.fails("CreateOTAStaticUpgradeJob", dict(job_params, TargetSelection="GRAY"),
                   "iot.common.InvalidFormattedParameter")
        self.fails("CreateOTAStaticUpgradeJob", dict(job_params, **{"TargetDeviceName.2": "nobody"}),
                   "iot.device.NotExistedDevice")
        self.fails("CreateOTAStaticUpgradeJob", dict(job_params, FirmwareId="nosuchfirmware"),
                   "iot.ota.NotExistedFirmware")
        self.fails("CreateOTAStaticUpgradeJob", dict(job_params, TimeoutInMinutes=5000),
                   "iot.common.InvalidFormattedParameter")
        self.fails("CreateOTAStaticUpgradeJob", dict(job_params, TargetSelection="GROUP"),
                   "iot.common.InvalidFormattedParameter")
        self.assertEqual(self.emu.get("/api/v1/ota/jobs?firmwareId=" + fid).json["total"], 0)
        jid = self.ok("CreateOTAStaticUpgradeJob", job_params)["Data"]["JobId"]
        self.assertEqual(self.emu.get("/api/v1/ota/jobs/" + jid).json["counts"]["queued"], 2)
        job = self.ok("QueryOTAJob", {"JobId": jid})["Data"]
        self.assertEqual((job["JobStatus"], job["SelectionType"], job["TargetSelection"], job["DestVersion"],
                          job["TimeoutInMinutes"]), ("IN_PROGRESS", "STATIC", "SPECIFIC", "2.0.0", 30))
        tasks = self.ok("ListOTATaskByJob", {"JobId": jid, "PageSize": 10})
        self.assertEqual(tasks["Total"], 2)
        self.assertEqual({t["TaskStatus"] for t in tasks["Data"]["SimpleOTATaskInfo"]}, {"QUEUED"})
        one = self.ok("ListOTATaskByJob", {"JobId": jid, "DeviceNames.1": "ota-dev-2"})
        self.assertEqual([t["DeviceName"] for t in one["Data"]["SimpleOTATaskInfo"]], ["ota-dev-2"])
        self.fails("ListOTATaskByJob", {"JobId": "nosuchjob"}, "iot.ota.NotExistedJob")
        self.fails("QueryOTAJob", {"JobId": "nosuchjob"}, "iot.ota.NotExistedJob")
        jobs = self.ok("ListOTAJobByFirmware", {"FirmwareId": fid})
        self.assertEqual([j["JobId"] for j in jobs["Data"]["SimpleOTAJobInfo"]], [jid])
        self.fails("ListOTAJobByFirmware", {"FirmwareId": "nosuchfirmware"}, "iot.ota.NotExistedFirmware")
        self.fails("CancelOTATaskByJob", {"JobId": jid}, "iot.ota.CancelOTATaskParamsError")
        self.fails("CancelOTAStrategyByJob", {"JobId": jid}, "iot.ota.JobNotDynamic")
        self.ok("CancelOTATaskByJob", {"JobId": jid, "CancelQueuedTask": "true"})
        tasks = self.ok("ListOTATaskByJob", {"JobId": jid, "TaskStatus": "CANCELED"})
        self.assertEqual(tasks["Total"], 2)
        wait_for(lambda: self.ok("QueryOTAJob", {"JobId": jid})["Data"]["JobStatus"] == "COMPLETED",
                 what="the job COMPLETED with nobody left")
        self.fails("CancelOTATaskByJob", {"JobId": jid, "CancelQueuedTask": "true"},
                   "iot.ota.JobStatusNotSupportCancel")

    def test_task_states_as_devices_report(self):
        """NOTIFIED once the notice went out, IN_PROGRESS with the progress a
        device reports, FAILED with its code's meaning, SUCCEEDED when it
        informs the new version: read through ListOTATaskByJob."""
        pk = self.product("ota-states")
        devs = []
        try:
            for dn in ("st-dev-1", "st-dev-2", "st-dev-3"):
                ds = self.ok("RegisterDevice", {"ProductKey": pk, "DeviceName": dn})["Data"]["DeviceSecret"]
                d = Device(self.emu.mqtt_port, pk, dn, ds).connect(subscribe=())
                d.c.subscribe("/ota/device/upgrade/%s/%s" % (pk, dn), 1)
                d.publish("/ota/device/inform/%s/%s" % (pk, dn), '{"id":1,"params":{"version":"3.0.0"}}')
                devs.append(d)
            for d in devs:
                wait_for(lambda: any(m["version"] == "3.0.0" for m in self.emu.get(
                    "/api/v1/products/%s/devices/%s" % (pk, d.dn)).json.get("modules") or []),
                    what="%s informed 3.0.0" % d.dn)
            body = firmware_image(1000, "states")
            up, status, text = self.upload(body)
            self.assertEqual(status, 200, text)
            fid = self.ok("CreateOTAFirmware", {"ProductKey": pk, "FirmwareName": "fw-3.1.0", "DestVersion": "3.1.0",
                                                "SrcVersion": "3.0.0", "FirmwareUrl": up["FirmwareUrl"]})["Data"]
            jid = self.ok("CreateOTAStaticUpgradeJob", {"ProductKey": pk, "FirmwareId": fid["FirmwareId"],
                                                        "TargetSelection": "ALL", "SrcVersion.1": "3.0.0"})["Data"]
            jid = jid["JobId"]

            def states():
                tasks = self.ok("ListOTATaskByJob", {"JobId": jid})["Data"]["SimpleOTATaskInfo"]
                return {t["DeviceName"]: (t["TaskStatus"], t["Progress"]) for t in tasks}
            for d in devs:
                d.wait_for(lambda t, p: t == "/ota/device/upgrade/%s/%s" % (pk, d.dn), "the upgrade notice")
            wait_for(lambda: {s for s, _ in states().values()} == {"NOTIFIED"}, what="NOTIFIED: %r" % (states,))
            progress = "/ota/device/progress/%s/%s"
            devs[0].publish(progress % (pk, devs[0].dn), '{"id":2,"params":{"step":"45","desc":""}}')
            devs[1].publish(progress % (pk, devs[1].dn), '{"id":2,"params":{"step":"-2","desc":"no route"}}')
            devs[2].publish("/ota/device/inform/%s/%s" % (pk, devs[2].dn), '{"id":3,"params":{"version":"3.1.0"}}')
            want = {"st-dev-1": ("IN_PROGRESS", "45"), "st-dev-2": ("FAILED", "0"), "st-dev-3": ("SUCCEEDED", "100")}
            try:
                wait_for(lambda: states() == want, what="the reported states")
            except AssertionError:
                self.fail("states %r, want %r" % (states(), want))
            failed = self.ok("ListOTATaskByJob", {"JobId": jid, "TaskStatus": "FAILED"})["Data"]["SimpleOTATaskInfo"]
            self.assertIn("download failed", failed[0]["TaskDesc"])
            self.assertEqual(self.ok("QueryOTAJob", {"JobId": jid})["Data"]["JobStatus"], "IN_PROGRESS")
            self.ok("CancelOTATaskByJob", {"JobId": jid, "CancelInProgressTask": "true"})
            self.assertEqual(states()["st-dev-1"][0], "CANCELED")
            wait_for(lambda: self.ok("QueryOTAJob", {"JobId": jid})["Data"]["JobStatus"] == "COMPLETED",
                     what="the job COMPLETED")
        finally:
            for d in devs:
                d.close()

    def connect_on(self, pk, dn, version):
        """A device registered through the API, connected, informing version."""
        ds = self.ok("RegisterDevice", {"ProductKey": pk, "DeviceName": dn})["Data"]["DeviceSecret"]
        d = Device(self.emu.mqtt_port, pk, dn, ds).connect(subscribe=())
        d.c.subscribe("/ota/device/upgrade/%s/%s" % (pk, dn), 1)
        d.post("barrier", {})
        d.publish("/ota/device/inform/%s/%s" % (pk, dn), '{"id":1,"params":{"version":"%s"}}' % version)
        return d

    def test_dynamic_job(self):
        """A dynamic job takes the devices on its from-versions now and those
        that report one later, until CancelOTAStrategyByJob; it is the same
        rollout the REST API shows."""
        pk = self.product("ota-dynamic")
        devs = []
        try:
            devs.append(self.connect_on(pk, "dyn-dev-1", "5.0.0"))
            wait_for(lambda: any(m["version"] == "5.0.0" for m in self.emu.get(
                "/api/v1/products/%s/devices/dyn-dev-1" % pk).json.get("modules") or []), what="5.0.0 informed")
            up, status, text = self.upload(firmware_image(2000, "dynamic"))
            self.assertEqual(status, 200, text)
            fid = self.ok("CreateOTAFirmware", {"ProductKey": pk, "FirmwareName": "fw-5.1.0", "DestVersion": "5.1.0",
                                                "SrcVersion": "5.0.0", "FirmwareUrl": up["FirmwareUrl"]})["Data"]
            fid = fid["FirmwareId"]
            params = {"ProductKey": pk, "FirmwareId": fid, "SrcVersion.1": "5.0.0", "TimeoutInMinutes": 60}
            self.fails("CreateOTADynamicUpgradeJob", dict(params, DynamicMode=2), "iot.common.InvalidFormattedParameter")
            self.fails("CreateOTADynamicUpgradeJob", dict(params, FirmwareId="nosuchfirmware"),
                       "iot.ota.NotExistedFirmware")
            self.fails("CreateOTADynamicUpgradeJob", {"ProductKey": pk}, "MissingFirmwareId", 400)
            jid = self.ok("CreateOTADynamicUpgradeJob", params)["Data"]["JobId"]
            rollout = self.emu.get("/api/v1/rollouts/" + jid).json
            self.assertEqual((rollout["kind"], rollout["dynamic"]), ("firmware", True))
            job = self.ok("QueryOTAJob", {"JobId": jid})["Data"]
            self.assertEqual((job["JobStatus"], job["SelectionType"], job["DestVersion"], job["SrcVersions"]),
                             ("IN_PROGRESS", "DYNAMIC", "5.1.0", {"SrcVersion": ["5.0.0"]}))

            def tasks():
                return {t["DeviceName"]: t["TaskStatus"]
                        for t in self.ok("ListOTATaskByJob", {"JobId": jid})["Data"]["SimpleOTATaskInfo"]}
            devs[0].wait_for(lambda t, p: t.startswith("/ota/device/upgrade/"), "the notice", timeout=15)
            wait_for(lambda: tasks() == {"dyn-dev-1": "NOTIFIED"}, what="dyn-dev-1 NOTIFIED")
            devs.append(self.connect_on(pk, "dyn-dev-2", "5.0.0"))  # later: it joins
            wait_for(lambda: "dyn-dev-2" in tasks(), what="dyn-dev-2 taken in")
            devs[1].wait_for(lambda t, p: t.startswith("/ota/device/upgrade/"), "the notice", timeout=15)
            devs[0].publish("/ota/device/inform/%s/dyn-dev-1" % pk, '{"id":2,"params":{"version":"5.1.0"}}')
            wait_for(lambda: tasks() == {"dyn-dev-1": "SUCCEEDED", "dyn-dev-2": "NOTIFIED"}, what="the tasks")
            jobs = self.ok("ListOTAJobByFirmware", {"FirmwareId": fid})["Data"]["SimpleOTAJobInfo"]
            self.assertEqual([(j["JobId"], j["SelectionType"]) for j in jobs], [(jid, "DYNAMIC")])

            self.ok("CancelOTAStrategyByJob", {"JobId": jid})
            self.assertIs(self.emu.get("/api/v1/rollouts/" + jid).json["dynamic"], False)
            self.fails("CancelOTAStrategyByJob", {"JobId": jid}, "iot.ota.JobNotDynamic")
            self.fails("CancelOTAStrategyByJob", {"JobId": "nosuchjob"}, "iot.ota.NotExistedJob")
            devs.append(self.connect_on(pk, "dyn-dev-3", "5.0.0"))  # after the strategy ended: left out
            wait_for(lambda: any(m["version"] == "5.0.0" for m in self.emu.get(
                "/api/v1/products/%s/devices/dyn-dev-3" % pk).json.get("modules") or []), what="dyn-dev-3 informed")
            self.assertNotIn("dyn-dev-3", tasks())
            self.fails("CancelOTATaskByJob", {"JobId": jid}, "iot.ota.CancelOTATaskParamsError")
            self.ok("CancelOTATaskByJob", {"JobId": jid, "CancelNotifiedTask": "true"})
            self.assertEqual(tasks(), {"dyn-dev-1": "SUCCEEDED", "dyn-dev-2": "CANCELED"})
            wait_for(lambda: self.ok("QueryOTAJob", {"JobId": jid})["Data"]["JobStatus"] == "COMPLETED",
                     what="the job COMPLETED once nobody waits")
        finally:
            for d in devs:
                d.close()


class CredentialsTest(unittest.TestCase):
    """--access-key-id/--access-key-secret, their variables, or a pair made
    and kept."""

    def pair_in_log(self, emu):
        m = re.search(r"AccessKeyId (\S+) AccessKeySecret (\S+)", emu.read_log())
        self.assertTrue(m, emu.read_log()[-2000:])
        return m.group(1), m.group(2)

    def test_made_printed_and_kept(self):
        emu = Emulator("aliyun-credentials-made").start()
        try:
            key_id, secret = self.pair_in_log(emu)
            self.assertRegex(key_id, r"^LTAI[A-Za-z0-9]{20}$")
            self.assertRegex(secret, r"^[A-Za-z0-9]{30}$")
            self.assertTrue(AliyunClient(emu.port, key_id, secret).call("QueryProductList").ok)
        finally:
            emu.stop()
        emu.start(fresh=False)
        try:
            self.assertEqual(self.pair_in_log(emu), (key_id, secret))
            self.assertTrue(AliyunClient(emu.port, key_id, secret).call("QueryProductList").ok)
        finally:
            emu.stop()

    def test_from_variables(self):
        emu = Emulator("aliyun-credentials-env", env={"HAAS_ACCESS_KEY_ID": "LTAIfromEnv",
                                                      "HAAS_ACCESS_KEY_SECRET": "envSecret"}).start()
        try:
            self.assertEqual(self.pair_in_log(emu), ("LTAIfromEnv", "envSecret"))
            self.assertTrue(AliyunClient(emu.port, "LTAIfromEnv", "envSecret").call("QueryProductList").ok)
            a = AliyunClient(emu.port, "LTAIfromEnv", "other").call("QueryProductList")
            self.assertEqual((a.status, a.code), (400, "SignatureDoesNotMatch"))
        finally:
            emu.stop()


class VirtualClockTest(EmulatorTest):
    """Timestamp is checked against the emulator's clock: under --clock
    virtual, the time the virtual clock shows, moved by POST /api/v1/clock."""
    emulator_args = CREDS + ["--clock", "virtual", "--clock-start", "2026-01-01T00:00:00Z"]

    def test_timestamp_follows_the_virtual_clock(self):
        api = AliyunClient(self.emu.port, KEY_ID, SECRET)
        a = api.call("QueryProductList", timestamp=utc_timestamp())  # the real time: far from the emulator's
        self.assertEqual((a.status, a.code), (400, "InvalidTimeStamp.Expired"), a)
        self.assertTrue(api.call("QueryProductList", timestamp="2026-01-01T00:14:00Z").ok)
        r = self.emu.post("/api/v1/clock", {"advanceSeconds": 3600})
        self.assertEqual(r.status, 200, r)
        a = api.call("QueryProductList", timestamp="2026-01-01T00:14:00Z")
        self.assertEqual((a.status, a.code), (400, "InvalidTimeStamp.Expired"), a)
        self.assertTrue(api.call("QueryProductList", timestamp="2026-01-01T01:10:00Z").ok)

SDK_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sdk")


class OfficialSdkTest(EmulatorTest):
    """Alibaba Cloud's own Node.js SDKs (pop-core, @alicloud/iot20180120;
    tests/sdk/package.json pins them) against the emulator, changed only in
    endpoint and AccessKey pair: tests/sdk/official_sdks.js."""
    emulator_args = CREDS

    @classmethod
    def setUpClass(cls):
        if not shutil.which("node") or not shutil.which("npm"):
            raise unittest.SkipTest("Node.js with npm is needed for the official SDKs")
        if not os.path.exists(os.path.join(SDK_DIR, "node_modules", ".package-lock.json")):
            npm = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=SDK_DIR, capture_output=True,
                                 text=True, timeout=600)
            if npm.returncode != 0:
                raise AssertionError("npm ci in tests/sdk failed:\n" + (npm.stdout + npm.stderr)[-3000:])
        super().setUpClass()

    def test_pop_core_and_iot20180120(self):
        run = subprocess.run(["node", os.path.join(SDK_DIR, "official_sdks.js"), str(self.emu.port), KEY_ID, SECRET],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        out = json.loads(run.stdout.strip().splitlines()[-1])
        for pk, dn, secret in ((out["popProduct"], "pop-core-1", out["popSecret"]),
                               (out["teaProduct"], "tea-dev-1", out["teaSecret"])):
            device = self.emu.get("/api/v1/products/%s/devices/%s" % (pk, dn)).json
            self.assertEqual(device["deviceSecret"], secret)
        self.assertEqual(self.emu.get("/api/v1/products/" + out["popProduct"]).json["name"], "pop-core 产品 *~")
        self.assertEqual(out["popStates"], [["pop-core-1", "UNACTIVE"]])
        self.assertEqual(out["popMissing"], "iot.prod.NotExistedProduct")
        self.assertEqual(out["popWrongSecret"], "SignatureDoesNotMatch")
        gid, added = out["teaGroup"]
        self.assertEqual(added, 1)
        self.assertEqual(self.emu.get("/api/v1/groups/" + gid).json["deviceCount"], 1)
        self.assertEqual(out["teaMissing"], [False, "iot.prod.NotExistedProduct"])
        self.assertIs(out["teaUpload"], True)

OLD, NEW = "1.0.0", "1.0.1"


class EndToEndTest(unittest.TestCase):
    """A CI job's OTA pipeline against the emulator, only through the API."""

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator(cls.__module__ + "." + cls.__name__, CREDS)
        cls.emu.args += ["--public-url", "https://127.0.0.1:%d" % cls.emu.https_port]
        cls.emu.start()
        cls.api = AliyunClient(cls.emu.port, KEY_ID, SECRET, style="POST")
        tmp = os.path.join(OUT, "aliyun-e2e")
        os.makedirs(tmp, exist_ok=True)
        cls.cafile = os.path.join(tmp, "ca.pem")
        with open(cls.cafile, "wb") as f:
            f.write(cls.emu.get("/api/v1/ca.pem").body)
        cls.devices = []

    @classmethod
    def tearDownClass(cls):
        for d in cls.devices:
            d.stop()
        cls.emu.stop()

    def test_provision_upload_upgrade(self):
        api = self.api
        pk = api.ok("CreateProduct", {"ProductName": "CI Core2", "NodeType": 0})["Data"]["ProductKey"]
        names = ["ci-core2-1", "ci-core2-2"]
        for dn in names:
            ds = api.ok("RegisterDevice", {"ProductKey": pk, "DeviceName": dn})["Data"]["DeviceSecret"]
            d = SimDevice("aliyun-e2e-" + dn, self.emu, pk, dn, ds)
            d.install("0.0.1")
            self.devices.append(d)
            d.start(["--no-python", "--firmware-version", OLD, "--fw-download-port", str(self.emu.https_port),
                     "--ca-file", self.cafile, "--fw-confirm", "yes", "--fw-max-boots", "2"])
        for d in self.devices:
            d.wait_log("firmware version %s informed" % OLD)
        states = lambda: api.ok("BatchGetDeviceState", {"ProductKey": pk, "DeviceName.1": names[0],  # noqa: E731
                                                        "DeviceName.2": names[1]})["DeviceStatusList"]["DeviceStatus"]
        wait_for(lambda: {s["Status"] for s in states()} == {"ONLINE"}, what="both devices ONLINE")

        body = firmware_image(200 * 1024 + 5, "aliyun-e2e")
        up = api.ok("GenerateOTAUploadURL", {"FileSuffix": "bin"})["Data"]
        status, text = oss_post_object(up, body, cafile=self.cafile)
        self.assertEqual(status, 200, text)
        fid = api.ok("CreateOTAFirmware", {"ProductKey": pk, "FirmwareName": "core2-" + NEW, "DestVersion": NEW,
                                           "SrcVersion": OLD, "FirmwareUrl": up["FirmwareUrl"], "SignMethod": "MD5",
                                           "FirmwareSign": hashlib.md5(body).hexdigest(),
                                           "FirmwareSize": len(body)})["Data"]["FirmwareId"]
        jid = api.ok("CreateOTAStaticUpgradeJob", {"ProductKey": pk, "FirmwareId": fid, "TargetSelection": "ALL",
                                                   "SrcVersion.1": OLD, "TimeoutInMinutes": 10})["Data"]["JobId"]

        def tasks():
            return api.ok("ListOTATaskByJob", {"JobId": jid, "PageSize": 10})["Data"]["SimpleOTATaskInfo"]
        wait_for(lambda: [t["TaskStatus"] for t in tasks()] == ["SUCCEEDED", "SUCCEEDED"], timeout=120,
                 interval=0.2, what="both tasks SUCCEEDED: %r" % (tasks,))
        done = tasks()
        self.assertEqual(sorted(t["DeviceName"] for t in done), names)
        self.assertEqual({(t["SrcVersion"], t["DestVersion"], t["Progress"]) for t in done}, {(OLD, NEW, "100")})
        wait_for(lambda: api.ok("QueryOTAJob", {"JobId": jid})["Data"]["JobStatus"] == "COMPLETED",
                 what="the job COMPLETED")
        for d in self.devices:
            d.wait_log("firmware version %s informed" % NEW)
            detail = api.ok("QueryDeviceDetail", {"ProductKey": pk, "DeviceName": d.dn})["Data"]
            self.assertEqual(detail["Status"], "ONLINE")


if __name__ == "__main__":
    unittest.main()
