/**
 * `vnd-microsoft-provisioning-v2` ([MS-SIP] 2.2.4.x, [MS-PRES]): a one-off
 * query for server settings and the user's policy (ucPolicy properties).
 */
import { child, children, parseXml } from './xml.js';

export const PROVISIONING_BODY =
  '<provisioningGroupList xmlns="http://schemas.microsoft.com/2006/09/sip/provisioninggrouplist">' +
  '<provisioningGroup name="ServerConfiguration"/><provisioningGroup name="meetingPolicy"/><provisioningGroup name="ucPolicy"/></provisioningGroupList>';

export interface Provisioning {
  server: Record<string, string>;
  policy: Record<string, string>;
}

/** Reads the provisioning document; unknown groups are skipped. */
export function parseProvisioning(body: string): Provisioning {
  const doc = parseXml(body);
  const result: Provisioning = { server: {}, policy: {} };
  for (const group of children(doc, 'provisionGroup')) {
    const name = group.attrs.name;
    if (name === 'ServerConfiguration') {
      for (const el of group.children) if (el.children.length === 0 && el.text.trim() !== '') result.server[el.name] = el.text.trim().slice(0, 500);
    } else if (name === 'ucPolicy') {
      for (const p of children(child(group, 'propertyEntryList'), 'property')) if (p.attrs.name) result.policy[p.attrs.name] = p.text.trim().slice(0, 500);
    }
  }
  return result;
}
