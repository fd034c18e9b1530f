/**
 * The few GSS-API calls Kerberos for SIP needs ([MS-SIPAE] 3.2.2: an AP-REQ
 * in gssapi-data, then per-message get_mic / verify_mic), made on the
 * system's MIT libgssapi_krb5 through koffi, so no native build is needed.
 * Both sides are here: the initiator for the plugin, the acceptor for the
 * test server. Every GSS status becomes a KerberosError carrying the
 * library's own text; buffers, names, credentials and contexts are released.
 *
 * Calls that may talk to the KDC (acquiring credentials, the first context
 * step) run on koffi's worker threads, so an unreachable KDC does not stall
 * the event loop.
 */
import { ParleyError } from '@parley/core';
import { createRequire } from 'node:module';

/** Why a Kerberos operation failed, as far as the status codes tell. */
export type KerberosFailure =
  | 'unavailable'
  | 'no-ticket'
  | 'ticket-expired'
  | 'wrong-password'
  | 'unknown-user'
  | 'unknown-service'
  | 'unknown-realm'
  | 'clock-skew'
  | 'kdc-unreachable'
  | 'bad-signature'
  | 'other';

export interface GssStatus {
  /** The GSS-API call that failed. */
  operation: string;
  major: number;
  minor: number;
  /** gss_display_status of the major and minor codes, verbatim. */
  majorText: string;
  minorText: string;
}

export class KerberosError extends ParleyError {
  declare readonly code: 'ocs-kerberos-unavailable' | 'ocs-kerberos-failed';
  constructor(
    message: string,
    readonly failure: KerberosFailure,
    readonly status?: GssStatus,
  ) {
    super(failure === 'unavailable' ? 'ocs-kerberos-unavailable' : 'ocs-kerberos-failed', message);
  }
}

// GSS-API major status routine errors (RFC 2744 3.9.1), shifted into bits 16-23.
const GSS_S_BAD_SIG = 6 << 16;
const GSS_S_NO_CRED = 7 << 16;
const GSS_S_CREDENTIALS_EXPIRED = 11 << 16;
const GSS_S_CONTINUE_NEEDED = 1;
const GSS_C_GSS_CODE = 1;
const GSS_C_MECH_CODE = 2;
const GSS_C_INITIATE = 1;
const GSS_C_ACCEPT = 2;
export const GSS_C_MUTUAL_FLAG = 2;
export const GSS_C_REPLAY_FLAG = 4;
export const GSS_C_SEQUENCE_FLAG = 8;
export const GSS_C_INTEG_FLAG = 32;
const GSS_C_INDEFINITE = 0xffffffff;

// MIT krb5 com_err codes (krb5_err.et) that the minor status carries.
const KRB5 = -1765328384;
const MINOR = {
  clientUnknown: KRB5 + 6,
  serviceUnknown: KRB5 + 7,
  passwordExpired: KRB5 + 23,
  preauthFailed: KRB5 + 24,
  badIntegrity: KRB5 + 31,
  ticketExpired: KRB5 + 32,
  skew: KRB5 + 37,
  realmUnknown: KRB5 + 155,
  kdcUnreachable: KRB5 + 156,
  ccacheNotFound: KRB5 + 141,
  noCcacheFile: KRB5 + 195,
};

function classify(operation: string, major: number, minor: number): KerberosFailure {
  const m = minor | 0;
  if (m === MINOR.kdcUnreachable) return 'kdc-unreachable';
  if (m === MINOR.realmUnknown) return 'unknown-realm';
  if (m === MINOR.skew) return 'clock-skew';
  if (m === MINOR.serviceUnknown) return 'unknown-service';
  if (m === MINOR.clientUnknown) return 'unknown-user';
  if (m === MINOR.preauthFailed || m === MINOR.badIntegrity) return 'wrong-password';
  if (m === MINOR.ticketExpired || m === MINOR.passwordExpired) return 'ticket-expired';
  if (m === MINOR.noCcacheFile || m === MINOR.ccacheNotFound) return 'no-ticket';
  const routine = major & 0x00ff0000;
  if (routine === GSS_S_CREDENTIALS_EXPIRED) return 'ticket-expired';
  // Only the ticket cache can be "without credentials"; a password sign-in failing so is something else.
  if (routine === GSS_S_NO_CRED && operation !== 'gss_acquire_cred_with_password') return 'no-ticket';
  if (routine === GSS_S_BAD_SIG) return 'bad-signature';
  return 'other';
}

/** The object identifiers used, as DER bytes (RFC 1964, RFC 2743). */
const OID_KRB5_MECH = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
const OID_KRB5_PRINCIPAL = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01];
const OID_HOSTBASED_SERVICE = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x01, 0x04];

type Handle = unknown;
type Fn = ((...args: any[]) => number) & { async: (...args: any[]) => void };

interface Binding {
  koffi: any;
  oid(bytes: number[]): { length: number; elements: Buffer };
  importName: Fn;
  releaseName: Fn;
  displayName: Fn;
  acquireCred: Fn;
  acquireCredFrom: Fn;
  acquireCredWithPassword: Fn;
  releaseCred: Fn;
  initSecContext: Fn;
  acceptSecContext: Fn;
  deleteSecContext: Fn;
  contextTime: Fn;
  getMic: Fn;
  verifyMic: Fn;
  releaseBuffer: Fn;
  displayStatus: Fn;
}

let binding: Binding | undefined;
let loadError: KerberosError | undefined;
/** MIT's library by its Debian/Fedora soname; PARLEY_GSSAPI_LIBRARY names another (a path or soname). */
let libraryName = process.env.PARLEY_GSSAPI_LIBRARY || 'libgssapi_krb5.so.2';

/** Uses another GSS-API library from now on (tests, unusual installations); forgets a failed load. */
export function useGssapiLibrary(name: string): void {
  if (binding) throw new KerberosError('The GSS-API library is already loaded', 'other');
  libraryName = name;
  loadError = undefined;
}

const UNAVAILABLE = 'Kerberos is not available on this system (libgssapi_krb5 not found)';

function load(): Binding {
  if (binding) return binding;
  if (loadError) throw loadError;
  let koffi: any;
  let lib: any;
  try {
    koffi = createRequire(import.meta.url)('koffi');
  } catch (error) {
    loadError = new KerberosError(`${UNAVAILABLE}: the koffi module cannot be loaded (${(error as Error).message})`, 'unavailable');
    throw loadError;
  }
  try {
    lib = koffi.load(libraryName);
  } catch (error) {
    loadError = new KerberosError(`${UNAVAILABLE}: ${(error as Error).message}`, 'unavailable');
    throw loadError;
  }
  // Types are registered once per process; a second load (another worker) reuses them.
  const type = (name: string, make: () => unknown) => {
    try {
      return koffi.type(name);
    } catch {
      return make();
    }
  };
  type('gss_buffer_desc', () => koffi.struct('gss_buffer_desc', { length: 'size_t', value: 'void *' }));
  type('gss_OID_desc', () => koffi.struct('gss_OID_desc', { length: 'uint32_t', elements: 'void *' }));
  type('gss_OID_set_desc', () => koffi.struct('gss_OID_set_desc', { count: 'size_t', elements: 'gss_OID_desc *' }));
  type('gss_key_value_element_desc', () => koffi.struct('gss_key_value_element_desc', { key: 'const char *', value: 'const char *' }));
  type('gss_key_value_set_desc', () => koffi.struct('gss_key_value_set_desc', { count: 'uint32_t', elements: 'gss_key_value_element_desc *' }));
  type('gss_handle', () => koffi.pointer('gss_handle', koffi.opaque()));
  const f = (proto: string): Fn => lib.func(proto);
  binding = {
    koffi,
    oid: (bytes) => ({ length: bytes.length, elements: Buffer.from(bytes) }),
    importName: f('uint32_t gss_import_name(_Out_ uint32_t *minor, gss_buffer_desc *input, gss_OID_desc *type, _Out_ gss_handle *out)'),
    releaseName: f('uint32_t gss_release_name(_Out_ uint32_t *minor, _Inout_ gss_handle *name)'),
    displayName: f('uint32_t gss_display_name(_Out_ uint32_t *minor, gss_handle name, _Out_ gss_buffer_desc *out, _Out_ void **type)'),
    acquireCred: f(
      'uint32_t gss_acquire_cred(_Out_ uint32_t *minor, gss_handle name, uint32_t time, gss_OID_set_desc *mechs, int usage, _Out_ gss_handle *cred, _Out_ void **actual, _Out_ uint32_t *timerec)',
    ),
    acquireCredFrom: f(
      'uint32_t gss_acquire_cred_from(_Out_ uint32_t *minor, gss_handle name, uint32_t time, gss_OID_set_desc *mechs, int usage, gss_key_value_set_desc *store, _Out_ gss_handle *cred, _Out_ void **actual, _Out_ uint32_t *timerec)',
    ),
    acquireCredWithPassword: f(
      'uint32_t gss_acquire_cred_with_password(_Out_ uint32_t *minor, gss_handle name, gss_buffer_desc *password, uint32_t time, gss_OID_set_desc *mechs, int usage, _Out_ gss_handle *cred, _Out_ void **actual, _Out_ uint32_t *timerec)',
    ),
    releaseCred: f('uint32_t gss_release_cred(_Out_ uint32_t *minor, _Inout_ gss_handle *cred)'),
    initSecContext: f(
      'uint32_t gss_init_sec_context(_Out_ uint32_t *minor, gss_handle cred, _Inout_ gss_handle *ctx, gss_handle target, gss_OID_desc *mech, uint32_t flags, uint32_t time, void *cb, gss_buffer_desc *input, _Out_ void **actual, _Out_ gss_buffer_desc *output, _Out_ uint32_t *retflags, _Out_ uint32_t *timerec)',
    ),
    acceptSecContext: f(
      'uint32_t gss_accept_sec_context(_Out_ uint32_t *minor, _Inout_ gss_handle *ctx, gss_handle cred, gss_buffer_desc *input, void *cb, _Out_ gss_handle *src, _Out_ void **mech, _Out_ gss_buffer_desc *output, _Out_ uint32_t *retflags, _Out_ uint32_t *timerec, _Out_ gss_handle *deleg)',
    ),
    deleteSecContext: f('uint32_t gss_delete_sec_context(_Out_ uint32_t *minor, _Inout_ gss_handle *ctx, void *output)'),
    contextTime: f('uint32_t gss_context_time(_Out_ uint32_t *minor, gss_handle ctx, _Out_ uint32_t *time)'),
    getMic: f('uint32_t gss_get_mic(_Out_ uint32_t *minor, gss_handle ctx, uint32_t qop, gss_buffer_desc *msg, _Out_ gss_buffer_desc *token)'),
    verifyMic: f('uint32_t gss_verify_mic(_Out_ uint32_t *minor, gss_handle ctx, gss_buffer_desc *msg, gss_buffer_desc *token, _Out_ uint32_t *qop)'),
    releaseBuffer: f('uint32_t gss_release_buffer(_Out_ uint32_t *minor, gss_buffer_desc *buf)'),
    displayStatus: f('uint32_t gss_display_status(_Out_ uint32_t *minor, uint32_t status, int type, gss_OID_desc *mech, _Inout_ uint32_t *ctx, _Out_ gss_buffer_desc *out)'),
  };
  return binding;
}

/** Whether the GSS-API library can be loaded here (no exception). */
export function kerberosAvailable(): boolean {
  try {
    load();
    return true;
  } catch {
    return false;
  }
}

interface BufferDesc {
  length: number;
  value: unknown;
}

const input = (data: Buffer): BufferDesc => ({ length: data.length, value: data });

/** Copies a buffer the library allocated and releases it. */
function take(b: Binding, desc: BufferDesc): Buffer {
  if (!desc.value || !desc.length) return Buffer.alloc(0);
  const out = Buffer.from(b.koffi.decode(desc.value, 'uint8_t', Number(desc.length)) as Uint8Array);
  b.releaseBuffer([0], desc);
  return out;
}

function statusText(b: Binding, status: number, type: number): string {
  if (status === 0) return '';
  const parts: string[] = [];
  const ctx = [0];
  // gss_display_status may have several messages for one code; it says so through ctx.
  for (let i = 0; i < 8; i++) {
    const out: BufferDesc = { length: 0, value: null };
    if (b.displayStatus([0], status, type, b.oid(OID_KRB5_MECH), ctx, out) >>> 16 !== 0) break;
    parts.push(take(b, out).toString('utf8').replace(/\0+$/, ''));
    if (ctx[0] === 0) break;
  }
  return parts.join('; ');
}

function isError(major: number): boolean {
  return (major & 0xffff0000) !== 0;
}

function fail(b: Binding, operation: string, major: number, minor: number): KerberosError {
  const status: GssStatus = { operation, major, minor, majorText: statusText(b, major, GSS_C_GSS_CODE), minorText: statusText(b, minor, GSS_C_MECH_CODE) };
  const text = status.minorText && !/^Unknown code/.test(status.minorText) ? status.minorText : status.majorText;
  return new KerberosError(text || `${operation} failed (major ${major >>> 0}, minor ${minor >>> 0})`, classify(operation, major, minor), status);
}

function check(b: Binding, operation: string, major: number, minor: number[]): void {
  if (isError(major)) throw fail(b, operation, major, minor[0] ?? 0);
}

/** Calls `fn` on one of koffi's worker threads: the library may wait for the KDC. */
function callAsync(fn: Fn, args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (error: Error | null, result: number) => (error ? reject(error) : resolve(result)));
  });
}

function importName(b: Binding, text: string, kind: number[]): Handle {
  const minor = [0];
  const out: Handle[] = [null];
  check(b, 'gss_import_name', b.importName(minor, input(Buffer.from(text, 'utf8')), b.oid(kind), out), minor);
  return out[0];
}

function releaseName(b: Binding, name: Handle): void {
  if (name) b.releaseName([0], [name]);
}

function krb5Mechs(b: Binding) {
  return { count: 1, elements: [b.oid(OID_KRB5_MECH)] };
}

/** Kerberos credentials: the user's (initiator) or a service's from a keytab (acceptor). */
export class GssCredential {
  private handle: Handle;
  private constructor(
    private readonly b: Binding,
    handle: Handle,
    /** Seconds the credentials stay valid, as the library reported. */
    readonly lifetime: number,
  ) {
    this.handle = handle;
  }

  /**
   * The user's ticket from the default cache (KRB5CCNAME, kinit): single
   * sign-on. Fails with 'no-ticket' or 'ticket-expired' when there is none.
   */
  static async fromTicketCache(): Promise<GssCredential> {
    const b = load();
    const minor = [0];
    const cred: Handle[] = [null];
    const time = [0];
    const major = await callAsync(b.acquireCred, [minor, null, GSS_C_INDEFINITE, krb5Mechs(b), GSS_C_INITIATE, cred, [null], time]);
    check(b, 'gss_acquire_cred', major, minor);
    if (time[0] === 0) {
      b.releaseCred([0], cred);
      throw new KerberosError('The Kerberos ticket has expired', 'ticket-expired');
    }
    return new GssCredential(b, cred[0], time[0]!);
  }

  /**
   * A ticket got with the password from the KDC, kept in memory only: the
   * user's ticket cache is neither read nor written.
   */
  static async withPassword(principal: string, password: string): Promise<GssCredential> {
    const b = load();
    const name = importName(b, principal, OID_KRB5_PRINCIPAL);
    try {
      const minor = [0];
      const cred: Handle[] = [null];
      const time = [0];
      const major = await callAsync(b.acquireCredWithPassword, [minor, name, input(Buffer.from(password, 'utf8')), GSS_C_INDEFINITE, krb5Mechs(b), GSS_C_INITIATE, cred, [null], time]);
      check(b, 'gss_acquire_cred_with_password', major, minor);
      return new GssCredential(b, cred[0], time[0]!);
    } finally {
      releaseName(b, name);
    }
  }

  /** A service's keys from `keytab`, for accepting contexts (the server side). */
  static fromKeytab(keytab: string): GssCredential {
    const b = load();
    const minor = [0];
    const cred: Handle[] = [null];
    const store = { count: 1, elements: [{ key: 'keytab', value: keytab }] };
    check(b, 'gss_acquire_cred_from', b.acquireCredFrom(minor, null, GSS_C_INDEFINITE, krb5Mechs(b), GSS_C_ACCEPT, store, cred, [null], [0]), minor);
    return new GssCredential(b, cred[0], GSS_C_INDEFINITE);
  }

  /** @internal */
  get raw(): Handle {
    if (!this.handle) throw new KerberosError('The Kerberos credentials were released', 'other');
    return this.handle;
  }

  release(): void {
    if (this.handle) this.b.releaseCred([0], [this.handle]);
    this.handle = null;
  }
}

/** One established (or establishing) security context: signs and verifies. */
abstract class GssContext {
  protected ctx: Handle = null;
  protected done = false;
  constructor(protected readonly b: Binding) {}

  get complete(): boolean {
    return this.done;
  }

  /** Seconds the context stays valid; 0 once expired. */
  get remaining(): number {
    if (!this.ctx || !this.done) return 0;
    const time = [0];
    const major = this.b.contextTime([0], this.ctx, time);
    return isError(major) ? 0 : time[0]!;
  }

  /** gss_get_mic over `message`. */
  getMic(message: Buffer): Buffer {
    if (!this.done) throw new KerberosError('The Kerberos security context is not established', 'other');
    const minor = [0];
    const out: BufferDesc = { length: 0, value: null };
    check(this.b, 'gss_get_mic', this.b.getMic(minor, this.ctx, 0, input(message), out), minor);
    return take(this.b, out);
  }

  /** gss_verify_mic: false for a wrong signature; throws for anything else (an expired context). */
  verifyMic(message: Buffer, mic: Buffer): boolean {
    if (!this.done) throw new KerberosError('The Kerberos security context is not established', 'other');
    const minor = [0];
    const major = this.b.verifyMic(minor, this.ctx, input(message), input(mic), [0]);
    if (!isError(major)) return true;
    const error = fail(this.b, 'gss_verify_mic', major, minor[0]!);
    if (error.failure === 'bad-signature' || (major & 0x00ff0000) === 9 << 16 /* DEFECTIVE_TOKEN */) return false;
    throw error;
  }

  dispose(): void {
    if (this.ctx) this.b.deleteSecContext([0], [this.ctx], null);
    this.ctx = null;
    this.done = false;
  }
}

/** The client side: AP-REQ out, AP-REP in (mutual authentication). */
export class GssInitiator extends GssContext {
  private readonly target: Handle;
  private flagsGranted = 0;

  /**
   * `service` is the SIP service principal as [MS-SIPAE] gives it in
   * targetname, "sip/<server FQDN>"; it is imported as the host-based
   * service sip@<FQDN>, so the realm comes from the host's domain.
   */
  constructor(
    private readonly credential: GssCredential | undefined,
    readonly service: string,
    private readonly flags: number,
  ) {
    const b = load();
    super(b);
    const slash = service.indexOf('/');
    const hostBased = slash > 0 ? `${service.slice(0, slash)}@${service.slice(slash + 1)}` : service;
    this.target = importName(b, hostBased, OID_HOSTBASED_SERVICE);
  }

  /** Flags the context ended up with (GSS_C_MUTUAL_FLAG if the server proved itself). */
  get grantedFlags(): number {
    return this.flagsGranted;
  }

  /** One step: the first call (no token) returns the AP-REQ; the next takes the AP-REP. */
  async step(token?: Buffer): Promise<Buffer | undefined> {
    if (token) return this.stepSync(token);
    // The first step asks the KDC for a service ticket: off the event loop.
    const { args, after } = this.prepare(undefined);
    return after(await callAsync(this.b.initSecContext, args));
  }

  /** A step with the server's token (the AP-REP): local work only, done synchronously. */
  stepSync(token: Buffer): Buffer | undefined {
    const { args, after } = this.prepare(token);
    return after(this.b.initSecContext(...args));
  }

  private prepare(token: Buffer | undefined): { args: unknown[]; after: (major: number) => Buffer | undefined } {
    const b = this.b;
    const minor = [0];
    const ctx = [this.ctx];
    const out: BufferDesc = { length: 0, value: null };
    const flags = [0];
    const args = [minor, this.credential?.raw ?? null, ctx, this.target, b.oid(OID_KRB5_MECH), this.flags, 0, null, token ? input(token) : null, [null], out, flags, [0]];
    const after = (major: number): Buffer | undefined => {
      this.ctx = ctx[0];
      if (isError(major)) {
        take(b, out);
        throw fail(b, 'gss_init_sec_context', major, minor[0]!);
      }
      this.done = (major & GSS_S_CONTINUE_NEEDED) === 0;
      this.flagsGranted = flags[0]!;
      const reply = take(b, out);
      return reply.length ? reply : undefined;
    };
    return { args, after };
  }

  override dispose(): void {
    super.dispose();
    releaseName(this.b, this.target);
  }
}

/** The server side: takes the AP-REQ, returns the AP-REP when the client asked for one. */
export class GssAcceptor extends GssContext {
  private source = '';
  constructor(private readonly credential: GssCredential) {
    super(load());
  }

  /** The client's principal, user@REALM, once complete. */
  get initiator(): string {
    return this.source;
  }

  step(token: Buffer): Buffer | undefined {
    const b = this.b;
    const minor = [0];
    const ctx = [this.ctx];
    const out: BufferDesc = { length: 0, value: null };
    const src: Handle[] = [null];
    const major = b.acceptSecContext(minor, ctx, this.credential.raw, input(token), null, src, [null], out, [0], [0], [null]);
    this.ctx = ctx[0];
    if (isError(major)) {
      take(b, out);
      releaseName(b, src[0]);
      throw fail(b, 'gss_accept_sec_context', major, minor[0]!);
    }
    this.done = (major & GSS_S_CONTINUE_NEEDED) === 0;
    if (src[0]) {
      const name: BufferDesc = { length: 0, value: null };
      if (!isError(b.displayName([0], src[0], name, [null]))) this.source = take(b, name).toString('utf8');
      releaseName(b, src[0]);
    }
    const reply = take(b, out);
    return reply.length ? reply : undefined;
  }
}
