import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EncryptedFileSecretStore } from './encrypted-file-store.js';

// Cheap scrypt so the tests are quick; the format records the cost used.
const cost = { N: 1 << 10, r: 8, p: 1 };
const fixed = (value: string | undefined) => async () => value;

function storePath(): string {
  return join(mkdtempSync(join(tmpdir(), 'parley-secrets-')), 'secrets.enc');
}

describe('EncryptedFileSecretStore', () => {
  it('round-trips secrets through the encrypted file and never writes them in the clear', async () => {
    const path = storePath();
    const store = new EncryptedFileSecretStore(path, fixed('passphrase one'), { cost });
    await store.set('acc1', 'password', 'hunter2-very-secret');
    await store.set('acc2', 'token', 'tok-abc-123456');
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('hunter2-very-secret');
    expect(text).not.toContain(Buffer.from('hunter2-very-secret').toString('base64'));
    expect(JSON.parse(text)).toMatchObject({ v: 1, kdf: 'scrypt', N: cost.N });

    const reopened = new EncryptedFileSecretStore(path, fixed('passphrase one'), { cost });
    expect(await reopened.get('acc1', 'password')).toBe('hunter2-very-secret');
    expect(await reopened.keys('acc2')).toEqual(['token']);
    await reopened.delete('acc1');
    expect(await reopened.get('acc1', 'password')).toBeUndefined();
    expect(await reopened.get('acc2', 'token')).toBe('tok-abc-123456');
  });

  it('a wrong passphrase is a clear error and leaves the file untouched', async () => {
    const path = storePath();
    await new EncryptedFileSecretStore(path, fixed('right'), { cost }).set('a', 'password', 'pw');
    const before = readFileSync(path);
    const attempts: number[] = [];
    const wrong = new EncryptedFileSecretStore(path, async ({ attempt }) => {
      attempts.push(attempt);
      return 'wrong';
    }, { cost });
    await expect(wrong.get('a', 'password')).rejects.toMatchObject({ code: 'wrong-passphrase' });
    await expect(wrong.set('a', 'password', 'overwrite')).rejects.toMatchObject({ code: 'wrong-passphrase' });
    expect(attempts).toEqual([1, 2, 3, 1, 2, 3]);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(await new EncryptedFileSecretStore(path, fixed('right'), { cost }).get('a', 'password')).toBe('pw');
  });

  it('accepts the right passphrase on a later attempt', async () => {
    const path = storePath();
    await new EncryptedFileSecretStore(path, fixed('right'), { cost }).set('a', 'k', 'v');
    const answers = ['typo', 'right'];
    const store = new EncryptedFileSecretStore(path, async () => answers.shift(), { cost });
    expect(await store.get('a', 'k')).toBe('v');
  });

  it('needs a passphrase to create a store', async () => {
    const store = new EncryptedFileSecretStore(storePath(), fixed(undefined), { cost });
    await expect(store.set('a', 'k', 'v')).rejects.toMatchObject({ code: 'passphrase-required' });
  });

  it('reports a damaged or tampered file instead of reading garbage', async () => {
    const path = storePath();
    writeFileSync(path, '{"v":1,"kdf":"scrypt"');
    await expect(new EncryptedFileSecretStore(path, fixed('x'), { cost }).get('a', 'k')).rejects.toMatchObject({ code: 'secret-store-corrupt' });
    const good = storePath();
    await new EncryptedFileSecretStore(good, fixed('right'), { cost }).set('a', 'k', 'v');
    const envelope = JSON.parse(readFileSync(good, 'utf8'));
    const data = Buffer.from(envelope.data, 'base64');
    data[0] = data[0]! ^ 1;
    envelope.data = data.toString('base64');
    writeFileSync(good, JSON.stringify(envelope));
    // GCM authentication catches the flipped bit; it looks like a wrong passphrase, and nothing is decrypted.
    await expect(new EncryptedFileSecretStore(good, fixed('right'), { cost }).get('a', 'k')).rejects.toMatchObject({ code: 'wrong-passphrase' });
  });
});
