// Runs the restart soak (soak/main.ts) from its TypeScript source, with the
// test servers' launchers imported by path from the repository. Vite's module
// runner transpiles the TypeScript; the Parley packages themselves are loaded
// from their built `dist` (run `npm run build` first, as `npm run soak` does).
import { fileURLToPath } from 'node:url';
import { createServer, createServerModuleRunner } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const server = await createServer({
  root,
  configFile: false,
  logLevel: 'warn',
  appType: 'custom',
  server: { middlewareMode: true, hmr: false, ws: false, watch: null },
  optimizeDeps: { noDiscovery: true, include: [] },
  // The packages as users get them: their built output, loaded by Node itself.
  ssr: { external: ['@parley/core', '@parley/plugin-xmpp', '@parley/plugin-irc', '@parley/plugin-ocs'] },
});
const runner = createServerModuleRunner(server.environments.ssr, { hmr: false });
let code = 0;
try {
  const main = await runner.import('/soak/main.ts');
  code = await main.run(process.argv.slice(2));
} catch (error) {
  console.error(error);
  code = 1;
} finally {
  await runner.close();
  await server.close();
}
process.exit(code);
