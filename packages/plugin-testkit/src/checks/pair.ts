import type { Client, Lab } from '../lab.js';

/** `main` and `peer`, each in its own Parley, both signed in. */
export async function onlinePair(lab: Lab): Promise<[Client, Client]> {
  const a = await lab.client('main');
  const b = await lab.client('peer');
  await a.connect();
  await b.connect();
  return [a, b];
}

export function stateOf(client: Client): string {
  return client.parley.accounts.status(client.accountId).state;
}

/** A text no earlier test sent, so a message is recognised as this test's. */
export function unique(label: string): string {
  return `${label} ${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
