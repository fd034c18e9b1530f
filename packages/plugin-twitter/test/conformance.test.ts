import { readFileSync } from 'node:fs';
import { runConformanceSuite, type ConformanceAccount } from '@parley/plugin-testkit';
import twitterPlugin from '../src/index.js';
import { startXApi, type RunningXApi, type User } from './x-api-server/index.js';

// The shared conformance suite against the test X API v2 server (HTTPS, test CA).
const CLIENT_ID = 'parley-conformance-client';
let api: RunningXApi;
let alice: User;
let bob: User;

function account(user: User, tokens: { accessToken: string; refreshToken?: string }): ConformanceAccount {
  return {
    username: user.username,
    settings: { apiBaseUrl: api.url, clientId: CLIENT_ID, timelinePollMs: 100, mentionsPollMs: 100, dmPollMs: 100, followingPollMs: 200 },
    secrets: tokens.refreshToken === undefined ? { accessToken: tokens.accessToken } : { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken },
  };
}

runConformanceSuite(
  twitterPlugin,
  {
    async start() {
      api = await startXApi();
      alice = api.server.store.addUser('alice', 'Alice A.');
      bob = api.server.store.addUser('bob', 'Bob B.');
      // Each sees the other's posts in the home timeline: the "room" they share.
      api.server.store.follow(alice.id, bob.id);
      api.server.store.follow(bob.id, alice.id);
    },
    stop: () => api.stop(),
    parleyOptions: () => ({ tls: { ca: [api.ca] } }),
    account(role) {
      if (role === 'wrongPassword') return account(alice, { accessToken: 'an-access-token-the-server-never-issued' });
      const user = role === 'main' ? alice : bob;
      return account(user, api.server.issueOAuth2(user.id, CLIENT_ID));
    },
    async interrupt() {
      // The server drops the next timeline request mid-connection.
      api.server.inject('GET /2/users/:id/timelines/reverse_chronological', 'drop');
    },
    room: () => 'timeline',
    async injectBadInput() {
      // Each fault hits the next few requests to its endpoint, whichever account makes them.
      api.server.inject('GET /2/dm_events', 'malformed-json', 2);
      api.server.inject('GET /2/dm_events', 'wrong-types', 2);
      api.server.inject('GET /2/users/:id/timelines/reverse_chronological', 'unexpected-fields', 2);
      api.server.inject('GET /2/users/:id/timelines/reverse_chronological', 'wrong-types', 2);
      api.server.inject('GET /2/users/:id/following', 'malformed-json', 2);
      api.server.inject('GET /2/users/:id/mentions', 'server-error', 2);
    },
  },
  // In a worker thread, as `parley` runs it.
  { packageJson: JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')), module: new URL('../dist/index.js', import.meta.url).href },
);
