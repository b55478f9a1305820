"""REST API: test device groups (tutorial 2.4) and apps (tutorial 5.2)."""
from harness import APP_ID, EmulatorTest, make_package, package_name


class GroupsTest(EmulatorTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pk = cls.emu.product("groups")
        for dn in ("g-dev1", "g-dev2", "g-dev3"):
            cls.emu.device(cls.pk, dn)

    def new_group(self, name="测试分组"):
        r = self.emu.post("/api/v1/groups", {"name": name})
        self.assertEqual(r.status, 201, r)
        return r.json["groupId"]

    def members(self, gid):
        r = self.emu.get("/api/v1/groups/%s/devices" % gid)
        self.assertEqual(r.status, 200, r)
        return sorted(d["deviceName"] for d in r.json["items"])

    def test_create_get_list(self):
        gid = self.new_group()
        g = self.emu.get("/api/v1/groups/" + gid).json
        self.assertEqual((g["groupId"], g["name"], g["deviceCount"]), (gid, "测试分组", 0))
        self.assertIn(gid, [x["groupId"] for x in self.emu.get("/api/v1/groups?limit=500").json["items"]])
        self.assertEqual(self.emu.post("/api/v1/groups", {"name": ""}).code, "InvalidName")
        self.assertEqual(self.emu.post("/api/v1/groups", {}).code, "InvalidName")

    def test_add_list_remove_members(self):
        gid = self.new_group()
        body = {"devices": [{"productKey": self.pk, "deviceName": "g-dev1"},
                            {"productKey": self.pk, "deviceName": "g-dev2"}]}
        r = self.emu.post("/api/v1/groups/%s/devices" % gid, body)
        self.assertEqual((r.status, r.json["added"], r.json["deviceCount"]), (200, 2, 2))
        # adding again is harmless
        r = self.emu.post("/api/v1/groups/%s/devices" % gid, body)
        self.assertEqual((r.json["added"], r.json["deviceCount"]), (0, 2))
        self.assertEqual(self.members(gid), ["g-dev1", "g-dev2"])
        member = self.emu.get("/api/v1/groups/%s/devices" % gid).json["items"][0]
        self.assertIn("deviceSecret", member)
        self.assertIn("status", member)
        r = self.emu.delete("/api/v1/groups/%s/devices/%s/g-dev1" % (gid, self.pk))
        self.assertEqual(r.status, 204)
        self.assertEqual(self.members(gid), ["g-dev2"])
        r = self.emu.delete("/api/v1/groups/%s/devices/%s/g-dev1" % (gid, self.pk))
        self.assertEqual((r.status, r.code), (404, "NotAMember"))

    def test_unknown_device_adds_nothing(self):
        gid = self.new_group()
        body = {"devices": [{"productKey": self.pk, "deviceName": "g-dev3"},
                            {"productKey": self.pk, "deviceName": "no-such-device"}]}
        r = self.emu.post("/api/v1/groups/%s/devices" % gid, body)
        self.assertEqual((r.status, r.code), (404, "DeviceNotFound"))
        self.assertEqual(self.members(gid), [])
        for bad in ({}, {"devices": []}, {"devices": [{"productKey": self.pk}]}, {"devices": "x"}):
            r = self.emu.post("/api/v1/groups/%s/devices" % gid, bad)
            self.assertEqual((r.status, r.code), (400, "InvalidDevices"), bad)

    def test_unknown_group(self):
        self.assertEqual(self.emu.get("/api/v1/groups/grp-nothere").code, "GroupNotFound")
        self.assertEqual(self.emu.get("/api/v1/groups/grp-nothere/devices").code, "GroupNotFound")
        r = self.emu.post("/api/v1/groups/grp-nothere/devices",
                          {"devices": [{"productKey": self.pk, "deviceName": "g-dev1"}]})
        self.assertEqual((r.status, r.code), (404, "GroupNotFound"))
        self.assertEqual(self.emu.delete("/api/v1/groups/grp-nothere").code, "GroupNotFound")

    def test_delete_group_and_device_leaves_group(self):
        gid = self.new_group()
        self.emu.device(self.pk, "g-temp")
        self.emu.post("/api/v1/groups/%s/devices" % gid, {"devices": [{"productKey": self.pk, "deviceName": "g-temp"}]})
        self.emu.delete("/api/v1/products/%s/devices/g-temp" % self.pk)
        self.assertEqual(self.members(gid), [])
        self.assertEqual(self.emu.delete("/api/v1/groups/" + gid).status, 204)
        self.assertEqual(self.emu.get("/api/v1/groups/" + gid).status, 404)


class AppsTest(EmulatorTest):
    def test_create_as_the_tutorial_states(self):
        r = self.emu.post("/api/v1/apps", {"appName": "python9000", "appId": APP_ID, "description": "升级演示"})
        self.assertEqual(r.status, 201, r)
        a = r.json
        self.assertEqual((a["appName"], a["appId"], a["description"], a["versionCount"], a["latestVersion"]),
                         ("python9000", APP_ID, "升级演示", 0, None))
        self.assertEqual(self.emu.get("/api/v1/apps/" + APP_ID).json, a)
        self.assertIn(APP_ID, [x["appId"] for x in self.emu.get("/api/v1/apps").json["items"]])

    def test_name_and_id_rules(self):
        cases = [
            ({"appName": "", "appId": "8800100000000001"}, "InvalidAppName"),
            ({"appName": "a" * 17, "appId": "8800100000000001"}, "InvalidAppName"),
            ({"appName": "my_app", "appId": "8800100000000001"}, "InvalidAppName"),
            ({"appName": "我的应用", "appId": "8800100000000001"}, "InvalidAppName"),
            ({"appName": "okname", "appId": "880010000000001"}, "InvalidAppId"),
            ({"appName": "okname", "appId": "88001000000000012"}, "InvalidAppId"),
            ({"appName": "okname", "appId": "8800200000000001"}, "InvalidAppId"),
            ({"appName": "okname", "appId": "880010000000000a"}, "InvalidAppId"),
            ({"appName": "okname", "appId": 8800100000000001}, "InvalidAppId"),
        ]
        for body, code in cases:
            r = self.emu.post("/api/v1/apps", body)
            self.assertEqual((r.status, r.code), (400, code), body)
        self.assertEqual(self.emu.get("/api/v1/apps/8800100000000001").status, 404)
        r = self.emu.post("/api/v1/apps", {"appName": "a" * 16, "appId": "8800100000000001"})
        self.assertEqual(r.status, 201)

    def test_both_unique(self):
        self.emu.app("uniq1", "8800100000000002")
        r = self.emu.post("/api/v1/apps", {"appName": "uniq2", "appId": "8800100000000002"})
        self.assertEqual((r.status, r.code), (409, "AppExists"))
        r = self.emu.post("/api/v1/apps", {"appName": "uniq1", "appId": "8800100000000003"})
        self.assertEqual((r.status, r.code), (409, "AppNameTaken"))

    def test_delete_only_without_versions(self):
        self.emu.app("delme", "8800100000000004")
        name = package_name("1.0.0", "delme", "8800100000000004")
        data = make_package({}, "delme", "8800100000000004", "1.0.0")
        self.assertEqual(self.emu.upload("8800100000000004", name, data).status, 201)
        r = self.emu.delete("/api/v1/apps/8800100000000004")
        self.assertEqual((r.status, r.code), (409, "AppHasVersions"))
        self.emu.post("/api/v1/apps/8800100000000004/versions/1.0.0/deprecate")
        self.assertEqual(self.emu.delete("/api/v1/apps/8800100000000004/versions/1.0.0").status, 204)
        self.assertEqual(self.emu.delete("/api/v1/apps/8800100000000004").status, 204)
        self.assertEqual(self.emu.get("/api/v1/apps/8800100000000004").code, "AppNotFound")
        self.assertEqual(self.emu.delete("/api/v1/apps/8800100000000004").code, "AppNotFound")
