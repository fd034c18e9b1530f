import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';

/**
 * A small XMPP server on a real socket that speaks just enough of RFC 6120
 * (stream header, features, SASL) to play a SCRAM server (RFC 5802 §5) — a
 * faithful one, or one that lies in the messages the tests choose. Plaintext
 * only: clients reach it with security "plain".
 */
export interface ScramServerOptions {
  password: string;
  mechanism: 'SCRAM-SHA-1' | 'SCRAM-SHA-256';
  /** Replaces the server-first message (given the client nonce and the honest message). */
  serverFirst?: (clientNonce: string, honest: string) => string;
  /** Replaces the server-final message (given the honest "v=..."). */
  serverFinal?: (honest: string) => string;
  /** Where the server-final goes: in <success/> (usual) or in a last <challenge/> (RFC 6120 §6.3.10). */
  finalIn?: 'success' | 'challenge';
}

export interface ScramServer {
  port: number;
  /** Whether a client's proof was correct, per connection. */
  readonly proofs: boolean[];
  /** Stream headers after a <success/>: a client that goes on after it. */
  readonly restartsAfterSuccess: number;
  close(): Promise<void>;
}

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

function header(): string {
  return `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='${randomBytes(6).toString('hex')}' from='localhost' version='1.0' xml:lang='en'>`;
}

export async function startScramServer(options: ScramServerOptions): Promise<ScramServer> {
  const hash = options.mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha1';
  const size = hash === 'sha256' ? 32 : 20;
  const salt = randomBytes(16);
  const iterations = 4096;
  const salted = pbkdf2Sync(options.password, salt, iterations, size, hash);
  const hmac = (key: Buffer, text: string) => createHmac(hash, key).update(text).digest();
  const clientKey = hmac(salted, 'Client Key');
  const storedKey = createHash(hash).update(clientKey).digest();
  const serverKey = hmac(salted, 'Server Key');

  const proofs: boolean[] = [];
  let restartsAfterSuccess = 0;
  const sockets = new Set<Socket>();

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = '';
    let succeeded = false;
    let firstBare = '';
    let serverFirst = '';
    let nonce = '';
    let finalSent = false;
    const send = (text: string) => socket.write(text);
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      for (;;) {
        const stream = /<stream:stream[^>]*>/.exec(buffer);
        const element = /<(auth|response)\b[^>]*?(?:\/>|>([^<]*)<\/\1>)/.exec(buffer);
        const first = [stream, element].filter((m) => m !== null).sort((a, b) => a!.index - b!.index)[0];
        if (first === undefined || first === null) return;
        buffer = buffer.slice(first.index + first[0].length);
        if (first === stream) {
          if (succeeded) {
            restartsAfterSuccess++;
            send(`${header()}<stream:features/>`);
          } else {
            send(`${header()}<stream:features><mechanisms xmlns='${NS_SASL}'><mechanism>${options.mechanism}</mechanism></mechanisms></stream:features>`);
          }
          continue;
        }
        const data = Buffer.from(first[2] ?? '', 'base64').toString('utf8');
        if (first[1] === 'auth') {
          // client-first: "n,,n=<user>,r=<nonce>"
          firstBare = data.slice(3);
          const clientNonce = /(?:^|,)r=([^,]*)/.exec(firstBare)?.[1] ?? '';
          nonce = clientNonce + randomBytes(12).toString('base64');
          const honest = `r=${nonce},s=${salt.toString('base64')},i=${iterations}`;
          serverFirst = options.serverFirst?.(clientNonce, honest) ?? honest;
          send(`<challenge xmlns='${NS_SASL}'>${Buffer.from(serverFirst).toString('base64')}</challenge>`);
          continue;
        }
        if (finalSent) {
          // The empty answer to a server-final sent as a challenge.
          succeeded = true;
          send(`<success xmlns='${NS_SASL}'/>`);
          continue;
        }
        const withoutProof = data.replace(/,p=[^,]*$/, '');
        const proof = Buffer.from(/,p=([^,]*)$/.exec(data)?.[1] ?? '', 'base64');
        const authMessage = `${firstBare},${serverFirst},${withoutProof}`;
        const signature = hmac(storedKey, authMessage);
        const recovered = Buffer.alloc(size);
        for (let i = 0; i < size && i < proof.length; i++) recovered[i] = proof[i]! ^ signature[i]!;
        const ok = proof.length === size && timingSafeEqual(createHash(hash).update(recovered).digest(), storedKey);
        proofs.push(ok);
        if (!ok) {
          send(`<failure xmlns='${NS_SASL}'><not-authorized/></failure>`);
          continue;
        }
        const honest = `v=${hmac(serverKey, authMessage).toString('base64')}`;
        const final = Buffer.from(options.serverFinal?.(honest) ?? honest).toString('base64');
        if (options.finalIn === 'challenge') {
          finalSent = true;
          send(`<challenge xmlns='${NS_SASL}'>${final}</challenge>`);
        } else {
          succeeded = true;
          send(`<success xmlns='${NS_SASL}'>${final}</success>`);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    proofs,
    get restartsAfterSuccess() {
      return restartsAfterSuccess;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
