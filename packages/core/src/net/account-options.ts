import type { OptionSchema, Settings } from '../options/schema.js';
import type { ValidatedSettings } from '../options/validate.js';
import { checkProxySetting, splitProxyPassword } from './proxy.js';

/**
 * Account options the core adds to every protocol's form (its advanced tab):
 * the network layer reads them, the plugin never has to.
 */
export const CORE_ACCOUNT_OPTIONS: OptionSchema = {
  proxy: {
    kind: 'choice',
    label: 'Proxy',
    group: 'advanced',
    allowCustom: true,
    choices: [
      { value: 'default', label: 'Use the global proxy setting (also when empty)' },
      { value: 'none', label: 'No proxy' },
      { value: 'env', label: 'From the environment (ALL_PROXY, HTTPS_PROXY, http_proxy, NO_PROXY)' },
    ],
    description: 'Or a proxy URL: socks5://[user@]host:port, socks5h://… (the proxy resolves names), socks4://…, http://[user@]host:port (HTTP CONNECT)',
  },
  proxyPassword: { kind: 'secret', label: 'Proxy password', group: 'advanced', description: 'For a proxy URL with a user name' },
};

/**
 * Checks the `proxy` setting and moves a password written into its URL to
 * the secrets: the account file keeps the URL without it.
 */
export function separateProxyPassword(validated: ValidatedSettings): ValidatedSettings {
  const proxy = validated.settings.proxy;
  if (typeof proxy !== 'string') return validated;
  checkProxySetting(proxy);
  const { url, password } = splitProxyPassword(proxy);
  if (password === undefined) return validated;
  const settings: Settings = Object.freeze({ ...validated.settings, proxy: url });
  return { settings, secrets: Object.freeze({ ...validated.secrets, proxyPassword: password }) };
}
