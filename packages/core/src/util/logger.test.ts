import { describe, expect, it } from 'vitest';
import { Redactor, SinkLogger, type LogRecord } from './logger.js';

describe('logging redacts secrets', () => {
  it('hides registered secret values and secret-looking fields, in messages and nested data', () => {
    const records: LogRecord[] = [];
    const redactor = new Redactor();
    redactor.add('s3cr3t-value');
    redactor.add('ab'); // too short to redact safely
    const log = new SinkLogger((r) => records.push(r), redactor).child('xmpp');
    log.info('AUTH PLAIN s3cr3t-value sent', { password: 'whatever', nested: { token: 't', line: 'x s3cr3t-value y' }, about: 'ab' });
    expect(records[0]).toMatchObject({ scope: 'parley:xmpp', message: 'AUTH PLAIN *** sent', data: { password: '***', nested: { token: '***', line: 'x *** y' }, about: 'ab' } });
  });

  it('a failing sink does not throw into the caller', () => {
    const log = new SinkLogger(() => {
      throw new Error('disk full');
    }, new Redactor());
    expect(() => log.error('x')).not.toThrow();
  });
});
