/**
 * IRCv3 strict transport security (https://ircv3.net/specs/extensions/sts).
 * A server that advertises `sts` in CAP LS tells a client on a plain link
 * which TLS port to use instead (`port=`): the client closes the link and
 * connects there at once. Over TLS the value carries `duration=` seconds: the
 * client remembers, for that long, that this host is only to be reached
 * over TLS on that port, and then never connects to it in plain text, even
 * when the account says so. Each secure connection that sees the policy
 * starts its duration again; `duration=0` removes it.
 */

export interface StsValue {
  port?: number;
  duration?: number;
}

/** Policies longer than this are cut to it: a server cannot pin a host for ever. */
const MAX_DURATION_S = 366 * 86_400;

/** `port=6697,duration=2592000,preload` → its parts; malformed ones are left out. */
export function parseSts(value: string | undefined): StsValue {
  const out: StsValue = {};
  if (typeof value !== 'string' || value.length > 200) return out;
  for (const item of value.split(',')) {
    const eq = item.indexOf('=');
    const key = eq === -1 ? item : item.slice(0, eq);
    const raw = eq === -1 ? '' : item.slice(eq + 1);
    if (key === 'port' && /^\d{1,5}$/.test(raw)) {
      const port = Number(raw);
      if (port >= 1 && port <= 65_535 && out.port === undefined) out.port = port;
    } else if (key === 'duration' && /^\d{1,12}$/.test(raw) && out.duration === undefined) {
      out.duration = Math.min(Number(raw), MAX_DURATION_S);
    }
  }
  return out;
}

/** The `sts` value in the last parameter of a CAP LS or NEW line, when the server offers it. */
export function stsValueOf(list: string | undefined): string | undefined {
  if (typeof list !== 'string') return undefined;
  for (const word of list.split(' ')) {
    if (word === 'sts') return '';
    if (word.startsWith('sts=')) return word.slice(4);
  }
  return undefined;
}

interface SavedPolicy {
  port: number;
  /** Epoch milliseconds. */
  expires: number;
}

const STATE_KEY = 'sts';
const MAX_HOSTS = 100;

/** The policies this account has seen, by host, kept in its state. */
export class StsPolicies {
  constructor(
    private readonly state: { getState<T>(key: string): T | undefined; setState(key: string, value: unknown): void },
    private readonly now: () => number = Date.now,
  ) {}

  private load(): Record<string, SavedPolicy> {
    const saved = this.state.getState<Record<string, SavedPolicy>>(STATE_KEY);
    const out: Record<string, SavedPolicy> = {};
    if (typeof saved !== 'object' || saved === null) return out;
    for (const [host, policy] of Object.entries(saved)) {
      if (typeof policy?.port === 'number' && Number.isInteger(policy.port) && policy.port >= 1 && policy.port <= 65_535 && typeof policy.expires === 'number' && Number.isFinite(policy.expires)) {
        out[host] = { port: policy.port, expires: policy.expires };
      }
    }
    return out;
  }

  /** The TLS port `host` must be reached on, while its policy lasts. */
  portFor(host: string): number | undefined {
    const policy = this.load()[host.toLowerCase()];
    return policy !== undefined && policy.expires > this.now() ? policy.port : undefined;
  }

  /**
   * A secure connection to `host` on `port` saw the policy: remember it for
   * `duration` seconds from now, or forget it when the duration is 0.
   * Returns what changed.
   */
  seenOverTls(host: string, port: number, duration: number): 'stored' | 'removed' | 'unchanged' {
    const policies = this.load();
    const key = host.toLowerCase();
    if (duration === 0) {
      if (policies[key] === undefined) return 'unchanged';
      delete policies[key];
      this.state.setState(STATE_KEY, policies);
      return 'removed';
    }
    delete policies[key];
    policies[key] = { port, expires: this.now() + duration * 1000 };
    const hosts = Object.keys(policies);
    for (const old of hosts.slice(0, Math.max(0, hosts.length - MAX_HOSTS))) delete policies[old];
    this.state.setState(STATE_KEY, policies);
    return 'stored';
  }
}
