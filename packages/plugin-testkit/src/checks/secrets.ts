import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Lab } from '../lab.js';
import { eventually } from '../wait.js';
import { onlinePair, unique } from './pair.js';

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const stat = statSync(full);
    if (stat.isDirectory()) out.push(...filesUnder(full));
    else if (stat.isFile()) out.push(full);
  }
  return out;
}

/** The shapes a secret takes on the wire or in a careless log line. */
function forms(secret: string, usernames: readonly string[]): string[] {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const out = [secret, b64(secret), Buffer.from(secret).toString('hex'), encodeURIComponent(secret)];
  for (const user of usernames) {
    const local = user.split('@')[0]!;
    // SASL PLAIN (RFC 4616): authzid NUL authcid NUL password, base64 on the wire.
    for (const id of new Set([user, local])) out.push(b64(`\u0000${id}\u0000${secret}`), b64(`${id}\u0000${id}\u0000${secret}`));
  }
  return [...new Set(out)].filter((f) => f.length >= 4);
}

export function secretChecks(lab: Lab): void {
  describe('secrets', () => {
    it('no secret appears in any log record of the suite, nor in plain text in the files Parley wrote', async () => {
      // Sign-in, a message and a failed sign-in of its own, in case this test runs alone.
      const [a, b] = await onlinePair(lab);
      const text = unique('secrets check');
      await a.parley.conversations.sendIm(a.accountId, b.address, text);
      await eventually(() => b.received.some(([m]) => m.text === text), 'the message', lab.timeout);
      const wrong = await lab.client('wrongPassword');
      await wrong.connect().catch(() => undefined);
      const usernames = [a.account.username, b.account.username, wrong.account.username];
      await lab.cleanup();

      expect(lab.secrets.size, 'the harness handed out no secrets to look for').toBeGreaterThan(0);
      expect(lab.logs.length).toBeGreaterThan(0);
      const logText = lab.logs.map((r) => JSON.stringify(r)).join('\n');
      for (const secret of lab.secrets) {
        for (const form of forms(secret, usernames)) {
          const at = logText.indexOf(form);
          expect(at, `a secret (as "${form.slice(0, 2)}…") is in the log: …${logText.slice(Math.max(0, at - 80), at)}[secret]…`).toBe(-1);
        }
      }
      for (const home of lab.allHomes()) {
        for (const file of filesUnder(home)) {
          const bytes = readFileSync(file);
          for (const secret of lab.secrets) {
            const leaked = [Buffer.from(secret, 'utf8'), Buffer.from(secret, 'utf16le'), Buffer.from(Buffer.from(secret).toString('base64'))].some((f) => bytes.includes(f));
            expect(leaked, `a secret is stored in plain text in ${file}`).toBe(false);
          }
        }
      }
    });
  });
}
