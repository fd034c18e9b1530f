import { HeadlessUi, type UiRequest, type UiRequestResult } from '@parley/core';
import { describe, expect, it } from 'vitest';
import { CLIENT_ID, worldPerTest } from './helpers.js';

/** A UI that accepts certificate questions and records them. */
class TrustingUi extends HeadlessUi {
  readonly asked: UiRequest[] = [];
  override async request<R extends UiRequest>(request: R): Promise<UiRequestResult<R>> {
    this.asked.push(request);
    return (request.kind === 'confirm') as unknown as UiRequestResult<R>;
  }
}

describe('server certificates', () => {
  const x = worldPerTest();

  it('refuses an untrusted certificate when the user declines, sending no token', async () => {
    const tokens = x.world.api.server.issueOAuth2(x.world.alice.id, CLIENT_ID);
    const client = await x.start({ trustTestCa: false, secrets: { accessToken: tokens.accessToken } });
    await expect(client.parley.accounts.connect(client.accountId)).rejects.toMatchObject({ reason: 'certificate-untrusted', fatal: true });
    expect(x.world.api.server.requests).toEqual([]);
  });

  it('asks the user, shows the fingerprint, and connects once trusted; later connections do not ask again', async () => {
    const tokens = x.world.api.server.issueOAuth2(x.world.alice.id, CLIENT_ID);
    const ui = new TrustingUi();
    const client = await x.start({ trustTestCa: false, ui, secrets: { accessToken: tokens.accessToken } });
    await client.parley.accounts.connect(client.accountId);
    expect(ui.asked).toHaveLength(1);
    expect(JSON.stringify(ui.asked[0])).toMatch(/([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    await client.parley.accounts.disconnect(client.accountId);
    await client.parley.accounts.connect(client.accountId);
    expect(ui.asked).toHaveLength(1);
  });
});
