// `@parley/core/remote`: what a client of a running Parley core needs, and
// nothing that starts one, so a script that talks to the owner loads in a
// fraction of the time the whole core takes. Everything here is also
// exported from `@parley/core`.
export { connectToParley, type ConnectOptions, type RemoteParley, type Disconnection } from './client.js';
export { inProcessClient, type ParleyClient } from './client-api.js';
export type { CoreSnapshot, CommandInfo } from './snapshot.js';
export { elect, OwnerClaim, type Election, type ElectOptions, type ServeOwnerOptions } from './owner.js';
export { UiRelay } from './ui-relay.js';
export { RemoteError, type RemoteErrorCode } from './errors.js';
export { RemoteParleyError } from './wire.js';
export { REMOTE_PROTOCOL_VERSION, MAX_MESSAGE_BYTES, type OwnerInfo, type OwnerStatus } from './protocol.js';
export { runFiles, type RunFiles } from './run-directory.js';
export { ParleyError, isParleyError, ConfigError } from '../errors/ParleyError.js';
export { ConnectionError, CONNECTION_ERROR_CODES } from '../errors/ConnectionError.js';
export { CORE_ERROR_CODES, defineErrorCodes, type ErrorCodeInfo, type ErrorCodeList } from '../errors/codes.js';
export { STATUS_PRIMITIVES, isStatusPrimitive } from '../presence/presence.js';
export { resolvePaths } from '../storage/paths.js';
export { formatBytes, formatRate, formatDuration } from '../transfers/format.js';
export type { TransferInfo, TransferProgress, TransferState } from '../transfers/types.js';
