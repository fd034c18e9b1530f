export const ERGO_VERSION: string;
export function ergoDir(): string;
export function ensureErgo(options?: { quiet?: boolean }): string;
