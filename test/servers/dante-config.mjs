// Dante's configuration for the tests and benchmarks: one proxy on a loopback
// port that connects onward from its own loopback address, so a destination
// that sees a client from there knows it came through the proxy.

/** The address the proxies connect onward from. */
export const PROXY_EGRESS = '127.0.0.3';

/** `danted.conf` for a proxy on 127.0.0.1:`port`; `auth`: SOCKS5 username/password against system accounts. */
export function danteConfig({ port, auth = false }) {
  return [
    'logoutput: stderr',
    `internal: 127.0.0.1 port = ${port}`,
    `external: ${PROXY_EGRESS}`,
    `socksmethod: ${auth ? 'username' : 'none'}`,
    'clientmethod: none',
    'user.privileged: root',
    'user.unprivileged: nobody',
    'client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: connect error }',
    'socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: connect error }',
    '',
  ].join('\n');
}

/**
 * The spawnDaemon spec of Dante with `conf`. It serves each client from a
 * child that outlives the main process: stopping the proxy stops the group,
 * so no tunnel stays up after stop().
 */
export function danteDaemon(conf, port) {
  return { name: 'danted', command: 'danted', args: ['-f', conf, '-N', '1'], ports: [port], processGroup: true };
}
