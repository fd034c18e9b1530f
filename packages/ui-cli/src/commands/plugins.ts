import { flag, parseCommandArgs } from '../cli/args.js';
import { EXIT } from '../cli/exit-codes.js';
import { table } from '../cli/format.js';
import { UsageError } from '../cli/usage-error.js';
import { print, printJson, withParley, type CommandContext } from './context.js';

/** Lists plugins from their manifests: no plugin code is imported. */
export async function list(context: CommandContext): Promise<number> {
  const parsed = parseCommandArgs(context.command, context.args);
  if (parsed.positionals.length > 0) throw new UsageError(`Unexpected argument "${parsed.positionals[0]}"`, context.command);
  return withParley(context, { history: false }, async ({ parley }) => {
    const plugins = await parley.plugins.list();
    const protocols = new Map((await parley.plugins.protocols()).map((p) => [p.id, p]));
    if (flag(parsed, 'json')) {
      printJson(
        context,
        plugins.map((p) => ({
          name: p.name,
          kind: p.kind,
          id: p.id,
          version: p.version,
          packageName: p.packageName,
          status: p.status,
          error: p.error === undefined ? undefined : { code: p.error.code, message: p.error.message },
          protocol: p.kind === 'protocol' ? protocols.get(p.id) : undefined,
        })),
      );
    } else if (plugins.length === 0) {
      print(context, 'No plugins installed.');
    } else {
      print(context, table(['NAME', 'KIND', 'ID', 'VERSION', 'STATUS'], plugins.map((p) => [p.name, p.kind, p.kind === 'protocol' ? p.id : '', p.version, p.error === undefined ? p.status : `${p.status}: ${p.error.message}`])));
    }
    return EXIT.ok;
  });
}
