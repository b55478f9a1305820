"""schema/openapi.yaml describes the API as built: every route of
server/src/routes.c is documented, and every documented operation answers
with a documented status and, on success, a body matching its schema."""
import itertools
import os
import re
from urllib.parse import urlparse

import yaml

from harness import APP_ID, ROOT, EmulatorTest, make_package, package_name

SPEC_PATH = os.path.join(ROOT, "schema", "openapi.yaml")
ROUTES_C = os.path.join(ROOT, "server", "src", "routes.c")
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def normalize(path):
    return re.sub(r"\{[^}]*\}", "{}", path)


class SchemaChecker:
    def __init__(self, spec):
        self.spec = spec

    def resolve(self, schema):
        while "$ref" in schema:
            node = self.spec
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def errors(self, schema, value, where="$"):
        s = self.resolve(schema)
        if value is None:
            return [] if s.get("nullable") or not s else ["%s is null" % where]
        if "allOf" in s:
            return [e for sub in s["allOf"] for e in self.errors(sub, value, where)]
        if "oneOf" in s:
            results = [self.errors(sub, value, where) for sub in s["oneOf"]]
            return [] if any(not r for r in results) else ["%s matches no oneOf: %s" % (where, results)]
        errs = []
        t = s.get("type")
        if t == "integer":
            if not isinstance(value, (int, float)) or isinstance(value, bool) or int(value) != value:
                errs.append("%s: %r is not an integer" % (where, value))
        elif t in TYPES and not isinstance(value, TYPES[t]):
            errs.append("%s: %r is not a %s" % (where, value, t))
        if "enum" in s and value not in s["enum"]:
            errs.append("%s: %r not in %s" % (where, value, s["enum"]))
        if isinstance(value, dict):
            errs += ["%s.%s is missing" % (where, k) for k in s.get("required", []) if k not in value]
            for k, sub in s.get("properties", {}).items():
                if k in value:
                    errs += self.errors(sub, value[k], where + "." + k)
        if isinstance(value, list) and s.get("items"):
            for i, item in enumerate(value):
                errs += self.errors(s["items"], item, "%s[%d]" % (where, i))
        return errs


class OpenApiTest(EmulatorTest):
    counter = itertools.count(1)
    emulator_args = ("--clock", "virtual")  # so that POST /api/v1/clock answers 200 too

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with open(SPEC_PATH) as f:
            cls.spec = yaml.safe_load(f)
        cls.checker = SchemaChecker(cls.spec)
        cls.emu.app()

    def fixture(self):
        """Fresh resources for one operation: names never repeat."""
        n = next(self.counter)
        emu = self.emu
        pk = emu.product("openapi %d" % n)
        emu.device(pk, "dev-%d" % n)
        gid = emu.post("/api/v1/groups", {"name": "g%d" % n}).json["groupId"]
        emu.post("/api/v1/groups/%s/devices" % gid, {"devices": [{"productKey": pk, "deviceName": "dev-%d" % n}]})
        version = "1.%d.0" % n
        r = emu.upload(APP_ID, package_name(version), make_package({}, version=version))
        assert r.status == 201, r
        url = urlparse(r.json["url"])
        tid = None
        if n > 1:  # version 1.1.0 of the first fixture is the tasks' version
            tid = emu.post("/api/v1/tasks", {"appId": APP_ID, "version": "1.1.0", "groupId": gid}).json["taskId"]
        empty_app = "88001000%08d" % (90000000 + n)
        emu.app("openapi%d" % n, empty_app)
        emu.post("/api/v1/products/%s/ota/modules" % pk, {"moduleName": "m%d" % n})
        fw = emu.post("/api/v1/products/%s/firmwares?version=1.0.%d" % (pk, n), body=b"firmware %d" % n,
                      headers={"Content-Type": "application/octet-stream"}).json["firmwareId"]
        job = emu.post("/api/v1/ota/jobs", {"firmwareId": fw, "targetType": "product"}).json["jobId"]
        for old in emu.get("/api/v1/faults").json["items"]:  # rules are few (64 at most): one per fixture
            emu.delete("/api/v1/faults/%s" % old["faultId"])
        fault = emu.post("/api/v1/faults", {"action": "delay", "ms": 1, "scope": {"productKey": pk},
                                            "enabled": False}).json["faultId"]
        start = "2030-01-01T00:00:00Z"  # scheduled: pausable, cancelable
        rollout = emu.post("/api/v1/rollouts", {"kind": "firmware", "firmwareId": fw, "targetType": "devices",
                                                "devices": ["dev-%d" % n], "startAt": start}).json["rolloutId"]
        return {"n": n, "productKey": pk, "deviceName": "dev-%d" % n, "groupId": gid, "appId": APP_ID,
                "emptyApp": empty_app, "version": version, "taskId": tid, "download": url,
                "moduleName": "m%d" % n, "firmwareId": fw, "jobId": job, "rolloutId": rollout, "faultId": fault}

    def call(self, method, path, f):
        emu = self.emu
        fill = lambda p: (p.replace("{productKey}", f["productKey"]).replace("{deviceName}", f["deviceName"])
                          .replace("{groupId}", f["groupId"]).replace("{appId}", f["appId"])
                          .replace("{version}", f["version"]).replace("{taskId}", f["taskId"] or "task-x")
                          .replace("{moduleName}", f["moduleName"]).replace("{firmwareId}", f["firmwareId"])
                          .replace("{jobId}", f["jobId"]).replace("{rolloutId}", f["rolloutId"])
                          .replace("{faultId}", f["faultId"]))
        target = fill(path)
        n = f["n"]
        bodies = {
            ("post", "/api/v1/products"): {"name": "p%d" % n},
            ("post", "/api/v1/products/{productKey}/devices"): {"deviceName": "new-%d" % n},
            ("post", "/api/v1/groups"): {"name": "new %d" % n},
            ("post", "/api/v1/groups/{groupId}/devices"): {"devices": [{"productKey": f["productKey"],
                                                                       "deviceName": f["deviceName"]}]},
            ("post", "/api/v1/apps"): {"appName": "created%d" % n, "appId": "88001000%08d" % (80000000 + n)},
            ("post", "/api/v1/tasks"): {"appId": APP_ID, "version": "1.1.0", "groupId": f["groupId"]},
            ("post", "/api/v1/products/{productKey}/ota/modules"): {"moduleName": "new-%d" % n},
            ("post", "/api/v1/ota/jobs"): {"firmwareId": f["firmwareId"], "targetType": "devices",
                                           "devices": [f["deviceName"]], "timeoutMinutes": 30},
            ("post", "/api/v1/clock"): {"advanceSeconds": 1},
            ("post", "/api/v1/faults"): {"action": "truncate", "at": 10, "scope": {"productKey": f["productKey"]},
                                         "trigger": {"times": 1}, "enabled": False},
            ("post", "/api/v1/rollouts"): {"kind": "app", "productKey": f["productKey"], "appId": APP_ID,
                                           "version": f["version"], "targetType": "group", "groupId": f["groupId"],
                                           "batches": ["1", "100%"], "errorPercent": 10, "ratePerMinute": 60,
                                           "timeoutSeconds": 300, "maxRetries": 2, "dynamic": True},
        }
        if (method, path) == ("post", "/api/v1/products/{productKey}/firmwares"):
            return emu.post(target + "?version=2.0.%d&signMethod=SHA256&srcVersions=1.0.%d" % (n, n),
                            body=b"new firmware", headers={"Content-Type": "application/octet-stream"})
        if (method, path) == ("post", "/api/v1/rollouts/{rolloutId}/resume"):
            emu.post(target.replace("/resume", "/pause"))
        if (method, path) == ("delete", "/api/v1/firmwares/{firmwareId}"):
            emu.post("/api/v1/ota/jobs/%s/cancel" % f["jobId"])
        if (method, path) == ("delete", "/api/v1/apps/{appId}"):
            target = "/api/v1/apps/" + f["emptyApp"]
        if (method, path) == ("delete", "/api/v1/apps/{appId}/versions/{version}"):
            self.emu.post(target + "/deprecate")
        if (method, path) == ("post", "/api/v1/apps/{appId}/versions"):
            v = "2.%d.0" % n
            return emu.upload(APP_ID, package_name(v), make_package({}, version=v))
        if path == "/{bucket}/{object}":
            return emu.get(f["download"].path + "?" + f["download"].query)
        if path in ("/", "/{file}"):  # the console's files are checked in test_live.py
            return None
        return emu.request(method.upper(), target, body=bodies.get((method, path)))

    def test_every_route_is_documented(self):
        with open(ROUTES_C) as f:
            routes = re.findall(r'\{"(GET|POST|DELETE)", "([^"]+)"', f.read())
        documented = {(m.upper(), normalize(p)) for p, ops in self.spec["paths"].items() for m in ops
                      if m in ("get", "post", "delete")}
        built = {(m, normalize(p)) for m, p in routes}
        self.assertEqual(built - documented, set(), "routes missing from openapi.yaml")
        self.assertEqual(documented - built, set(), "documented paths that do not exist")

    def test_every_operation_answers_as_documented(self):
        checked = 0
        for path, ops in self.spec["paths"].items():
            for method, op in ops.items():
                if method not in ("get", "post", "delete"):
                    continue
                with self.subTest(op="%s %s" % (method.upper(), path)):
                    r = self.call(method, path, self.fixture())
                    if r is None:
                        continue
                    documented = op["responses"]
                    self.assertIn(str(r.status), documented, r)
                    self.assertLess(r.status, 300, r)  # the fixtures make every call valid
                    content = documented[str(r.status)].get("content", {})
                    if "application/json" in content:
                        schema = content["application/json"]["schema"]
                        self.assertEqual(self.checker.errors(schema, r.json), [])
                    checked += 1
        self.assertGreaterEqual(checked, 30)

    def test_error_bodies_match_the_error_schema(self):
        for path in ("/api/v1/products/a1nothere00", "/api/v1/apps/1", "/api/v1/nothing", "/api/v1/tasks/x"):
            r = self.emu.get(path)
            self.assertEqual(r.status, 404)
            self.assertEqual(self.checker.errors({"$ref": "#/components/schemas/Error"}, r.json), [])
