// Parley's public API. Everything a UI or plugin may use is exported here.
export { createParley, Parley, type ParleyOptions } from './parley.js';
export type { Isolation } from './services/protocol-host.js';
// The types of Parley's service objects (parley.accounts, parley.conversations, …), for code that passes them around.
export type { AccountService } from './services/account-service.js';
export type { BuddyService } from './services/buddy-service.js';
export type { ChatService } from './services/chat-service.js';
export type { ConversationService } from './services/conversation-service.js';
export type { PresenceService } from './services/presence-service.js';
export type { TransferService } from './services/transfer-service.js';
export type { SettingsService, GlobalProxyView } from './services/settings-service.js';
export type { WorkerLimits } from './isolation/plugin-worker-pool.js';

export {
  ParleyError,
  isParleyError,
  ConfigError,
  PluginError,
  HistoryError,
  SecretStoreError,
  MessageError,
  type ParleyErrorFor,
  type ParleyErrorJSON,
  type ErrorFieldValue,
} from './errors/ParleyError.js';
export { ConnectionError, CONNECTION_REASONS, CONNECTION_ERROR_CODES, type ConnectionErrorReason, type ConnectionErrorDetails } from './errors/ConnectionError.js';
export {
  CORE_ERROR_CODES,
  defineErrorCodes,
  type ErrorCodeInfo,
  type ErrorCodeList,
  type CoreErrorCode,
  type ConnectionErrorCode,
  type ConfigErrorCode,
  type PluginErrorCode,
  type HistoryErrorCode,
  type SecretStoreErrorCode,
  type MessageErrorCode,
  type CommandErrorCode,
  type ConversationErrorCode,
  type TransferErrorCode,
  type IconErrorCode,
} from './errors/codes.js';
export { TransferError } from './transfers/errors.js';
export { HistoryService, type OlderMessages } from './services/history-service.js';
export { IconError, MAX_ICON_BYTES, sniffImageType, type BuddyIcon, type IconType } from './buddies/icons.js';
export type {
  FileTransferCapability,
  FileChecksum,
  OutgoingFile,
  IncomingFileOffer,
  FileTarget,
  TransferCompletion,
  TransferReporter,
  TransferState,
  TransferInfo,
  TransferProgress,
} from './transfers/types.js';
export { openTransferSink, type TransferSink } from './transfers/sink.js';
export { safeFileName } from './transfers/safe-name.js';
export { formatBytes, formatRate, formatDuration } from './transfers/format.js';
export type { TransferSettings } from './transfers/transfer-manager.js';
export { ConversationError, ConversationManagerError } from './conversations/errors.js';
export { CommandError, CommandRegistry, type CommandSpec, type CommandInvocation, type CommandHandler, type RegisteredCommand } from './commands/registry.js';

export {
  CORE_API_VERSION,
  defineProtocolPlugin,
  defineFeaturePlugin,
  type ProtocolPlugin,
  type ProtocolConnection,
  type NotDeliveredReport,
  type ProtocolCapabilities,
  type ProtocolCommand,
  type ConnectionContext,
  type FeaturePlugin,
  type ParleyPlugin,
  type PluginApi,
  type Target,
  type RosterEntry,
  type ServerChat,
  type ArchivePage,
  type ArchivedMessage,
  type ChatParticipant,
  type PeerCertificate,
} from './plugins/contract.js';
export { parseManifest, type PluginManifest } from './plugins/manifest.js';
export {
  definePluginDescriptor,
  manifestField,
  withCommandHandlers,
  type PluginDescriptor,
  type ProtocolPluginDescriptor,
  type FeaturePluginDescriptor,
  type CommandHandlers,
} from './plugins/descriptor.js';
export type { PluginInfo, PluginStatus, ProtocolDescriptor } from './plugins/registry.js';

export type { OptionSchema, OptionSpec, OptionGroup, Settings, SettingValue, StringOption, IntegerOption, BooleanOption, ChoiceOption, SecretOption, StringListOption } from './options/schema.js';
export { validateSettings, type ValidatedSettings } from './options/validate.js';
export {
  serverOption,
  portOption,
  tlsOption,
  securityOption,
  CONNECTION_SECURITY_LABELS,
  type ConnectionSecurity,
  type ServerOptionInit,
  type PortOptionInit,
  type TlsOptionInit,
  type SecurityOptionInit,
} from './options/builders.js';
export type { AccountInfo, AccountStatus, ConnectionState } from './accounts/account.js';
export type { NewAccount, AccountChanges } from './accounts/account-manager.js';
export type { ReconnectOptions } from './connection/reconnect-policy.js';

export { STATUS_PRIMITIVES, OFFLINE, availabilityRank, mostAvailable, isOnline, isStatusPrimitive, type StatusPrimitive, type Presence } from './presence/presence.js';
export type { Message, MessageFlags, MessageDirection, IncomingMessage, OutgoingMessage, FormattedBody, TypingState } from './conversations/message.js';
export type { ConversationInfo, ConversationView, ConversationKind } from './conversations/conversation.js';
export type { Buddy, Contact, ContactView, SavedChat } from './buddies/buddy-list.js';

export { HOOK_NAMES, type HookName, type ParleyHooksTapOnly, type BuddyStatusChange, type TapOptions } from './hooks/hooks.js';
export type { ParleyEventMap, ParleyEvents, ParleyEventsListenOnly } from './events/events.js';
export { HOOK_DESCRIPTIONS, type HookDescription } from './hooks/descriptions.js';
export { EVENT_DESCRIPTIONS } from './events/descriptions.js';
export { HeadlessUi, type UiOps, type UiRequest, type UiRequestResult, type UiRequestContext, type UiRequestPurpose, type UiRequests, type UiNotifications, type NotificationLevel } from './ui/ui-ops.js';

export type { HistoryStore, HistoryQuery, HistoryEntry } from './history/history-store.js';
export { SqliteHistory, type SqliteHistoryOptions } from './history/sqlite-history.js';
export type { IndexMergeOptions } from './history/index-merger.js';
export type { SecretStore, PassphraseProvider } from './secrets/secret-store.js';
export { resolvePaths, type ParleyPaths } from './storage/paths.js';
export { TOKENS } from './di/tokens.js';
export type { Logger, LogSink, LogRecord, LogLevel } from './util/logger.js';

export { describePeerCertificate, describeCertificate, certificateError, isCertificateErrorCode, fingerprint256 } from './net/tls.js';
export { parseHttpUrl } from './net/http-url.js';
export { createNet, type Net, type NetConfig, type NetCallbacks, type ConnectOptions as NetConnectOptions, type StartTlsOptions, type SrvRecord } from './net/net.js';
export type { Listener as NetListener, ListenOptions as NetListenOptions, AcceptOptions as NetAcceptOptions } from './net/listen.js';
export {
  parseProxyUrl,
  formatProxyUrl,
  describeProxy,
  chooseProxy,
  proxyFromEnvironment,
  bypassesProxy,
  splitProxyPassword,
  checkProxySetting,
  PROXY_SCHEMES,
  PROXY_KEYWORDS,
  type ProxyServer,
  type ProxyScheme,
  type ProxyChoice,
} from './net/proxy.js';
export { CORE_ACCOUNT_OPTIONS } from './net/account-options.js';
export { GLOBAL_SECRETS } from './services/protocol-host.js';

export { connectToParley, type ConnectOptions, type RemoteParley, type Disconnection } from './remote/client.js';
export { inProcessClient, type ParleyClient } from './remote/client-api.js';
export type { CoreSnapshot, CommandInfo } from './remote/snapshot.js';
export { elect, OwnerClaim, type Election, type ElectOptions, type ServeOwnerOptions } from './remote/owner.js';
export type { ParleyServer } from './remote/server.js';
export { UiRelay, type RemoteUi } from './remote/ui-relay.js';
export { RemoteError, type RemoteErrorCode } from './remote/errors.js';
export { RemoteParleyError, type WireError as RemoteWireError } from './remote/wire.js';
export { REMOTE_PROTOCOL_VERSION, MAX_MESSAGE_BYTES, type OwnerInfo, type OwnerStatus } from './remote/protocol.js';
export { runFiles, type RunFiles } from './remote/run-directory.js';
