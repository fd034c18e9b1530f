/**
 * The core's file transfer shapes as this plugin uses them (core API 1.4):
 * declared here by structure until the plugin builds against that core.
 */
export interface OutgoingFile {
  id: string;
  peer: string;
  path: string;
  name: string;
  size: number;
  mimeType?: string;
  description?: string;
}

export interface IncomingFileOffer {
  id: string;
  peer: string;
  name: string;
  size?: number;
  resumable?: boolean;
  origin?: string;
}

export interface FileTarget {
  path: string;
  offset: number;
  maxBytes: number;
}

export interface TransferReporter {
  offered(offer: IncomingFileOffer): void;
  accepted(id: string): void;
  progress(id: string, bytes: number): void;
  completed(id: string): void;
  failed(id: string, error: Error): void;
  cancelled(id: string, reason?: string): void;
}
