import type { DaemonSpec } from './daemon.mjs';

export declare const PROXY_EGRESS = '127.0.0.3';
export declare function danteConfig(options: { port: number; auth?: boolean }): string;
export declare function danteDaemon(conf: string, port: number): DaemonSpec;
