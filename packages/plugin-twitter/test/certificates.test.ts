import { HeadlessUi, type UiRequest, type UiRequestResult } from '@parley/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLIENT_ID, removeHome, startClient, startWorld, type Client, type World } from './helpers.js';

/** A UI that accepts certificate questions and records them. */
class TrustingUi extends HeadlessUi {
  readonly asked: UiRequest[] = [];
  override async request<R extends UiRequest>(request: R): Promise<UiRequestResult<R>> {
    this.asked.push(request);
    return (request.kind === 'confirm') as unknown as UiRequestResult<R>;
  }
}

describe('server certificates', () => {
  let world: World;
  let client: Client | undefined;

  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(async () => {
    await client?.shutdown().catch(() => {});
    if (client) removeHome(client.home);
    client = undefined;
    await world.api.stop();
  });

  it('refuses an untrusted certificate when the user declines, sending no token', async () => {
    const tokens = world.api.server.issueOAuth2(world.alice.id, CLIENT_ID);
    client = await startClient(world, { trustTestCa: false, secrets: { accessToken: tokens.accessToken } });
    await expect(client.parley.accounts.connect(client.accountId)).rejects.toMatchObject({ reason: 'certificate-untrusted', fatal: true });
    expect(world.api.server.requests).toEqual([]);
  });

  it('asks the user, shows the fingerprint, and connects once trusted; later connections do not ask again', async () => {
    const tokens = world.api.server.issueOAuth2(world.alice.id, CLIENT_ID);
    const ui = new TrustingUi();
    client = await startClient(world, { trustTestCa: false, ui, secrets: { accessToken: tokens.accessToken } });
    await client.parley.accounts.connect(client.accountId);
    expect(ui.asked).toHaveLength(1);
    expect(JSON.stringify(ui.asked[0])).toMatch(/([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    await client.parley.accounts.disconnect(client.accountId);
    await client.parley.accounts.connect(client.accountId);
    expect(ui.asked).toHaveLength(1);
  });
});
