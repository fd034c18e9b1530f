import { readFileSync } from 'node:fs';
import { runConformanceSuite } from '@parley/plugin-testkit';
import { LoopbackServer, loopbackPlugin, type LoopbackServerApi } from './helpers/loopback.js';

// The loopback test protocol runs the same conformance suite as every protocol plugin.
const users = { alice: 'alice-conformance-pw', bob: 'bob-conformance-pw' };
let server: LoopbackServerApi;

runConformanceSuite(
  loopbackPlugin,
  {
    async start() {
      server = new LoopbackServer({ users }) as LoopbackServerApi;
      await server.start();
    },
    stop: () => server.stop(),
    account(role) {
      const user = role === 'peer' ? 'bob' : 'alice';
      const password = role === 'wrongPassword' ? 'not-the-password' : users[user];
      return { username: user, settings: { port: server.port }, secrets: { password } };
    },
    interrupt: () => server.restart(),
    room: () => '#conformance',
    async injectBadInput(account) {
      const garbage = [
        'not json at all',
        '{"op":',
        'null',
        '[]',
        '"a string"',
        '{"op":"msg"}',
        '{"op":"msg","from":42,"text":{"nested":true}}',
        '{"op":"presence","from":"bob","status":"on-the-moon"}',
        '{"op":"roster","entries":"not a list"}',
        '{"op":"joined","room":"#x"}',
        '{"op":"typing","from":null,"state":"dancing"}',
        '\u0000\u00ff\ufffd\ud800',
        `{"op":"msg","from":"bob","text":"${'x'.repeat(200_000)}"}`,
      ];
      server.sendRaw(account.username, `${garbage.join('\n')}\n`);
    },
  },
  { packageJson: JSON.parse(readFileSync(new URL('./fixtures/parley-plugin-loopback/package.json', import.meta.url), 'utf8')) },
);
