import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestCertificates } from '../../../../test/servers/test-ca.js';
import { XApiServer, type XApiServerOptions } from './server.js';

export { XApiServer } from './server.js';
export type { Endpoint, Fault, RequestRecord } from './server.js';
export { XStore, compareIds } from './store.js';
export type { Tweet, User, DmEvent } from './store.js';

export interface RunningXApi {
  server: XApiServer;
  url: string;
  /** The test CA's PEM, to trust through `tls: { ca }` / the https agent. */
  ca: string;
  stop(): Promise<void>;
}

/** Starts a test X API on a free loopback port, with a fresh test CA. */
export async function startXApi(options: Omit<XApiServerOptions, 'tls'> = {}): Promise<RunningXApi> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-xapi-'));
  const certs = createTestCertificates(dir, ['127.0.0.1', 'localhost']);
  const server = new XApiServer({ ...options, tls: { cert: certs.cert, key: certs.key } });
  const url = await server.listen();
  return {
    server,
    url,
    ca: certs.caCert,
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
