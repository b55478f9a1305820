// mqtt_device.mjs — a device as a bare MQTT 3.1.1 client over a loopback
// socket (no library): it logs in with the Aliyun-signed credentials of
// Link SDK C 4.x (as tests/integration/mqtt_device.py does), subscribes,
// publishes at QoS 1 and keeps every message it receives. Enough to play a
// firmware OTA device (docs/protocol.md) from a browser test.
import crypto from 'node:crypto';
import net from 'node:net';
import { waitUntil } from './wait.mjs';

// clientId, username and password as the HaaS firmware computes them.
export function credentials(productKey, deviceName, deviceSecret, timestamp = '2524608000000') {
  const id = `${productKey}.${deviceName}`;
  const content = `clientId${id}deviceName${deviceName}productKey${productKey}timestamp${timestamp}`;
  return {
    clientId: `${id}|timestamp=${timestamp},_ss=1,_v=sdk-c-4.0.0,securemode=3,signmethod=hmacsha256,ext=3,|`,
    username: `${deviceName}&${productKey}`,
    password: crypto.createHmac('sha256', deviceSecret).update(content).digest('hex'),
  };
}

const str = (s) => {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
};

function packet(type, body) {
  const len = [];
  let n = body.length;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n) byte |= 0x80;
    len.push(byte);
  } while (n);
  return Buffer.concat([Buffer.from([type, ...len]), body]);
}

const u16 = (n) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};

// Connects and logs in; resolves once the broker accepted (CONNACK 0).
// → {subscribe(topic), publish(topic, message), messages, waitFor(pred, what, timeout), close()}
export async function connectDevice({ port, productKey, deviceName, deviceSecret, host = '127.0.0.1', keepalive = 60 }) {
  const sock = net.connect({ port, host });
  const messages = []; // {topic, payload (string), json (or null)}
  const acks = new Map(); // packet id → resolve(answer)
  let connack = null;
  let closed = false;
  let nextId = 1;
  let buf = Buffer.alloc(0);

  function onPacket(type, body) {
    const kind = type >> 4;
    if (kind === 2) connack = body[1];
    else if (kind === 3) {
      const qos = (type >> 1) & 3;
      const tlen = body.readUInt16BE(0);
      const topic = body.subarray(2, 2 + tlen).toString('utf8');
      let at = 2 + tlen;
      if (qos) {
        const id = body.readUInt16BE(at);
        at += 2;
        sock.write(packet(0x40, u16(id)));
      }
      const payload = body.subarray(at).toString('utf8');
      let json = null;
      try {
        json = JSON.parse(payload);
      } catch {
        json = null;
      }
      messages.push({ topic, payload, json });
    } else if (kind === 4 || kind === 9) {
      const id = body.readUInt16BE(0);
      const done = acks.get(id);
      acks.delete(id);
      if (done) done(kind === 9 ? [...body.subarray(2)] : true);
    }
  }

  sock.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      let len = 0;
      let mult = 1;
      let i = 1;
      for (; i < 5; i++) {
        if (i >= buf.length) return;
        len += (buf[i] & 0x7f) * mult;
        mult *= 128;
        if (!(buf[i] & 0x80)) break;
      }
      const start = i + 1;
      if (buf.length < start + len) return;
      onPacket(buf[0], buf.subarray(start, start + len));
      buf = buf.subarray(start + len);
    }
  });
  sock.on('close', () => {
    closed = true;
  });
  sock.on('error', () => {
    closed = true;
  });

  const who = `${productKey}/${deviceName}`;
  await new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const c = credentials(productKey, deviceName, deviceSecret);
  sock.write(packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2]), u16(keepalive), str(c.clientId), str(c.username), str(c.password)])));
  await waitUntil(() => connack !== null || closed, { timeout: 10000, what: `CONNACK for ${who}` });
  if (connack !== 0) throw new Error(`the broker refused ${who}: CONNACK ${connack} (closed: ${closed})`);
  const ping = setInterval(() => {
    if (!closed) sock.write(Buffer.from([0xc0, 0]));
  }, (keepalive * 1000) / 2);
  ping.unref();

  // Sends a packet with a fresh id; resolves with its acknowledgement.
  function acked(make, what) {
    const id = nextId++;
    let answer = null;
    acks.set(id, (a) => {
      answer = a;
    });
    sock.write(make(id));
    return waitUntil(() => answer || (closed && Promise.reject(new Error('connection closed'))), { timeout: 10000, what: `${what} of ${who}` });
  }

  return {
    messages,
    // Resolves with the granted QoS; fails when the broker refused (0x80).
    async subscribe(topic, qos = 1) {
      const [granted] = await acked((id) => packet(0x82, Buffer.concat([u16(id), str(topic), Buffer.from([qos])])), `SUBACK for ${topic}`);
      if (granted === 0x80) throw new Error(`the broker refused the subscription of ${who} to ${topic}`);
      return granted;
    },
    // QoS 1: resolves once the broker acknowledged (PUBACK).
    publish(topic, message) {
      const payload = Buffer.from(typeof message === 'string' ? message : JSON.stringify(message), 'utf8');
      return acked((id) => packet(0x32, Buffer.concat([str(topic), u16(id), payload])), `PUBACK for ${topic}`);
    },
    // The first message received that pred({topic, payload, json}) accepts.
    waitFor(pred, what, timeout = 15000) {
      return waitUntil(() => messages.find(pred), { timeout, what: `${what} at ${who} (received: ${messages.map((m) => m.topic).join(', ') || 'nothing'})` });
    },
    close() {
      clearInterval(ping);
      if (!closed) sock.end(Buffer.from([0xe0, 0]));
      closed = true;
    },
  };
}
