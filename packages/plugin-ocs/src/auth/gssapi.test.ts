import { describe, expect, it } from 'vitest';
import { GssCredential, KerberosError, kerberosAvailable, useGssapiLibrary } from './gssapi.js';

describe('GSS-API binding without the library', () => {
  it('says Kerberos is not available, with a typed error, when libgssapi_krb5 cannot be loaded', async () => {
    useGssapiLibrary('libgssapi_krb5-does-not-exist.so.9');
    expect(kerberosAvailable()).toBe(false);
    const error = await GssCredential.fromTicketCache().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KerberosError);
    expect(error).toMatchObject({ code: 'ocs-kerberos-unavailable', failure: 'unavailable' });
    expect((error as Error).message).toMatch(/^Kerberos is not available on this system \(libgssapi_krb5 not found\)/);
    useGssapiLibrary('libgssapi_krb5.so.2');
    expect(kerberosAvailable()).toBe(true);
  });
});
