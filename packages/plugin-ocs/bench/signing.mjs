// Messages signed per second: the plugin's MS-SIPAE signature (parse the
// message, build the signature string, HMAC-MD5 + pure-JS RC4 per message)
// against a baseline of node:crypto HMAC-MD5 alone over the same message.
// Needs the package built: `npx tsc -b packages/plugin-ocs`.
import { createHmac, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { deriveSessionKeys, NtlmFlag } from '../dist/ntlm.js';
import { MessageSigner } from '../dist/signing.js';
import { parseRawMessage } from '../dist/sip/headers.js';

const N = Number(process.env.OCS_BENCH_MESSAGES ?? 50_000);
const flags = NtlmFlag.UNICODE | NtlmFlag.SIGN | NtlmFlag.DATAGRAM | NtlmFlag.EXTENDED_SESSIONSECURITY | NtlmFlag.NEGOTIATE_128 | NtlmFlag.KEY_EXCH;
const signer = new MessageSigner({ protocol: 'NTLM', realm: 'SIP Communications Service', targetName: 'ocs.example.test', opaque: 'ABCD', version: 4, keys: deriveSessionKeys(flags, randomBytes(16)) });
const text =
  'SUBSCRIBE sip:me@company.com SIP/2.0\r\nVia: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bKabc\r\nFrom: <sip:me@company.com>;tag=1234;epid=5678\r\n' +
  'To: <sip:me@company.com>\r\nCall-ID: 0123456789abcdef\r\nCSeq: 5 SUBSCRIBE\r\nEvent: vnd-microsoft-roaming-contacts\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n';
const key = randomBytes(16);

function run(fn) {
  const start = performance.now();
  for (let i = 0; i < N; i++) fn();
  return N / ((performance.now() - start) / 1000);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const parley = [];
const baseline = [];
for (let round = 0; round < 5; round++) {
  parley.push(run(() => signer.sign(parseRawMessage(text))));
  baseline.push(run(() => createHmac('md5', key).update(text).digest()));
}
const p = median(parley);
const b = median(baseline);
console.log(`RESULT ocs-signing parley=${p.toFixed(0)} baseline=${b.toFixed(0)} unit=msg/s ratio=${(p / b).toFixed(3)}`);
