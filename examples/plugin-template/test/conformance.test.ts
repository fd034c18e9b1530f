import { readFileSync } from 'node:fs';
import { runConformanceSuite } from '@parley/plugin-testkit';
import examplePlugin from '../src/index.js';
import { ExampleServer } from './server.js';

// Parley's conformance suite against this plugin's own test server.
const users = { alice: 'alice-example-password', bob: 'bob-example-password' };
let server: ExampleServer;

runConformanceSuite(
  examplePlugin,
  {
    async start() {
      server = new ExampleServer(users);
      await server.start();
    },
    stop: () => server.stop(),
    account(role) {
      const user = role === 'peer' ? 'bob' : 'alice';
      return { username: user, settings: { port: server.port }, secrets: { password: role === 'wrongPassword' ? 'wrong-password' : users[user] } };
    },
    async interrupt() {
      await server.stop();
      await server.start();
    },
    async injectBadInput(account) {
      server.sendRaw(account.username, ['not json', '{"op":"msg"}', '{"op":"presence","from":"bob","status":"on-the-moon"}', '\u0000\ud800', `${'x'.repeat(100_000)}`, ''].join('\n'));
    },
    // What the server now tells everyone about the account.
    statusSeenByServer: async (account, status) => server.statusOf(account.username) === status,
  },
  { packageJson: JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) },
);

