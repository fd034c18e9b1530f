import type { Election, ElectOptions } from '@parley/core';
import { connectToParley, isParleyError } from '@parley/core/remote';

/**
 * Attaches to the home's owner through the light client alone when one
 * answers; otherwise runs the core's full election, which may make this
 * process the owner. Only that second way loads the core (its owner lock and
 * socket server with it), so a client of a running owner never does.
 */
export async function attachOrElect(options: ElectOptions): Promise<Election> {
  try {
    return { role: 'client', client: await connectToParley(options) };
  } catch (error) {
    // No owner, or a run directory the election itself first puts right (mode 0700): elect.
    if (!isParleyError(error, ['owner-not-running', 'socket-insecure'])) throw error;
  }
  const { elect } = await import('@parley/core');
  return elect(options);
}
