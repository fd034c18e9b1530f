import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint256 } from '@parley/core';
import { startNgircd, type NgircdServer } from '../../../test/servers/ngircd.js';
import { answeringUi, harness, waitFor } from './helpers.js';

let server: NgircdServer;
let serverFingerprint: string;

beforeAll(async () => {
  server = await startNgircd();
  serverFingerprint = fingerprint256(new X509Certificate(server.certificates.cert).raw);
});

afterAll(async () => {
  await server?.close();
});

const tlsSettings = () => ({ server: '127.0.0.1', port: server.tlsPort, tls: true });

describe('TLS', () => {
  it('verifies against the test CA when the core trusts it, without asking', async () => {
    const ui = answeringUi(false);
    const h = await harness({ ui, tls: { ca: [server.certificates.caCert] } });
    try {
      const id = await h.account('secure', tlsSettings());
      await h.parley.accounts.connect(id);
      expect(h.parley.accounts.status(id).state).toBe('online');
      expect(ui.asked).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('asks about an untrusted certificate with its fingerprint, and fails fatally when refused', async () => {
    const ui = answeringUi(false);
    const h = await harness({ ui });
    try {
      const id = await h.account('careful', tlsSettings());
      const error = await h.parley.accounts.connect(id).then(() => undefined, (e: unknown) => e);
      expect(error).toMatchObject({ reason: 'certificate-untrusted', fatal: true });
      expect((error as { hint?: string }).hint).toContain(serverFingerprint);
      expect(ui.asked).toHaveLength(1);
      expect(ui.asked[0]?.details?.['SHA-256 fingerprint']).toBe(serverFingerprint);
      expect(h.parley.accounts.status(id).state).toBe('error');
    } finally {
      await h.close();
    }
  });

  it('connects when the user trusts it, and remembers the decision', async () => {
    const ui = answeringUi(true);
    const h = await harness({ ui });
    try {
      const id = await h.account('trusting', tlsSettings());
      await h.parley.accounts.connect(id);
      expect(h.parley.accounts.status(id).state).toBe('online');
      await h.parley.accounts.disconnect(id);
      await h.parley.accounts.connect(id);
      await waitFor(() => h.parley.accounts.status(id).state === 'online', 'the second sign-in');
      expect(ui.asked).toHaveLength(1);
    } finally {
      await h.close();
    }
  });
});
