// Alibaba Cloud's official Node.js SDKs against haas-emu's IoT Platform API,
// unchanged but for the endpoint and the AccessKey pair:
//   node official_sdks.js <http port> <AccessKeyId> <AccessKeySecret>
// pop-core (RPCClient, signature version 1, GET and form POST) and the
// generated @alicloud/iot20180120 (its RPC signature: signatureAlgorithm
// 'v2'). Prints one JSON line of what each call answered; any thrown error
// that was not expected ends it with status 1.
// Run by tests/integration/test_aliyun_api.py (OfficialSdkTest).
'use strict';
const RPCClient = require('@alicloud/pop-core').RPCClient;
const Iot = require('@alicloud/iot20180120');
const OpenApi = require('@alicloud/openapi-client');

const [port, keyId, secret] = process.argv.slice(2);

async function popCore(out) {
  const iot = new RPCClient({accessKeyId: keyId, accessKeySecret: secret, endpoint: 'http://127.0.0.1:' + port,
                             apiVersion: '2018-01-20'});
  const p = await iot.request('CreateProduct', {ProductName: 'pop-core 产品 *~', NodeType: 0}, {method: 'POST'});
  out.popProduct = p.Data.ProductKey;
  const d = await iot.request('RegisterDevice', {ProductKey: p.Data.ProductKey, DeviceName: 'pop-core-1'});
  out.popSecret = d.Data.DeviceSecret;
  const s = await iot.request('BatchGetDeviceState', {ProductKey: p.Data.ProductKey, DeviceName: ['pop-core-1']},
                              {method: 'GET'});
  out.popStates = s.DeviceStatusList.DeviceStatus.map(x => [x.DeviceName, x.Status]);
  try {
    await iot.request('QueryProduct', {ProductKey: 'a1NoSuchPk0'});
    out.popMissing = 'no error';
  } catch (e) {
    out.popMissing = e.code;
  }
  const wrong = new RPCClient({accessKeyId: keyId, accessKeySecret: secret + 'x',
                               endpoint: 'http://127.0.0.1:' + port, apiVersion: '2018-01-20'});
  try {
    await wrong.request('QueryProductList', {});
    out.popWrongSecret = 'no error';
  } catch (e) {
    out.popWrongSecret = e.code;
  }
}

async function tea(out) {
  const client = new Iot.default(new OpenApi.Config({accessKeyId: keyId, accessKeySecret: secret,
    endpoint: '127.0.0.1:' + port, protocol: 'http', signatureAlgorithm: 'v2', regionId: 'cn-shanghai'}));
  const p = await client.createProduct(new Iot.CreateProductRequest({productName: 'tea 产品', nodeType: 0}));
  out.teaProduct = p.body.data.productKey;
  const d = await client.registerDevice(new Iot.RegisterDeviceRequest({productKey: p.body.data.productKey,
                                                                       deviceName: 'tea-dev-1'}));
  out.teaSecret = d.body.data.deviceSecret;
  const g = await client.createDeviceGroup(new Iot.CreateDeviceGroupRequest({groupName: 'tea-group'}));
  const rel = await client.batchAddDeviceGroupRelations(new Iot.BatchAddDeviceGroupRelationsRequest({
    groupId: g.body.data.groupId, device: [{productKey: p.body.data.productKey, deviceName: 'tea-dev-1'}]}));
  out.teaGroup = [g.body.data.groupId, rel.body.successAddedDeviceCount];
  const q = await client.queryProduct(new Iot.QueryProductRequest({productKey: 'a1NoSuchPk0'}));
  out.teaMissing = [q.body.success, q.body.code];
  const up = await client.generateOTAUploadURL(new Iot.GenerateOTAUploadURLRequest({fileSuffix: 'bin'}));
  out.teaUpload = up.body.data.firmwareUrl.startsWith(up.body.data.host + '/');
}

(async () => {
  const out = {};
  await popCore(out);
  await tea(out);
  console.log(JSON.stringify(out));
})().catch(e => {
  console.log('FAILED', e.code, e.message);
  process.exit(1);
});
