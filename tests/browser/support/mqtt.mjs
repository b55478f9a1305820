// mqtt.mjs — one MQTT login attempt with mosquitto_pub (MQTT 3.1.1, as the
// Link SDK): resolves with its exit code and output, refused or not.
import { execFile } from 'node:child_process';

export const MOSQUITTO_PUB = process.env.MOSQUITTO_PUB || 'mosquitto_pub';

// A Link SDK-style clientId: "<id>|timestamp=…,_ss=1,securemode=3,signmethod=…|".
export function linkClientId(id, signmethod = 'hmacsha256') {
  return `${id}|timestamp=2524608000000,_ss=1,securemode=3,signmethod=${signmethod}|`;
}

export function mqttLogin({ port, clientId, username, password, host = '127.0.0.1' }) {
  const args = ['-V', 'mqttv311', '-h', host, '-p', String(port), '-i', clientId, '-u', username, '-P', password, '-t', 'x', '-m', 'x'];
  return new Promise((resolve, reject) => {
    execFile(MOSQUITTO_PUB, args, { timeout: 15000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err); // not started, or timed out
      resolve({ code: err ? err.code : 0, output: `${stdout}${stderr}` });
    });
  });
}
