/**
 * Which kind of server we signed in to. Microsoft servers announce their
 * event packages and option tags in the REGISTER answer ([MS-SIPREGE]);
 * a registrar that announces none of them is a standard SIP/SIMPLE server.
 */
import type { FlavourChoice } from './options.js';
import type { RegistrationResult } from './register.js';

export type Flavour = 'ocs' | 'simple';

export function detectFlavour(choice: FlavourChoice, result: Pick<RegistrationResult, 'supported' | 'allowEvents' | 'server'>, scheme: string): Flavour {
  if (choice !== 'auto') return choice;
  if (result.supported.includes('msrtc-event-categories') || result.allowEvents.some((e) => e.startsWith('vnd-microsoft-'))) return 'ocs';
  if (/^RTC\/|Lync|Skype for Business|Office Communications/i.test(result.server ?? '')) return 'ocs';
  if (scheme.toUpperCase() === 'NTLM' || scheme.toUpperCase() === 'KERBEROS') return 'ocs';
  return 'simple';
}
