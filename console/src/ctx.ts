import type { Session } from './api';

export interface PageCtx {
  session: Session;
  tenant: string;
  signal: AbortSignal;
  /** Runs when the page is left. */
  onLeave(f: () => void): void;
  /** True while this page is still the current one. */
  alive(): boolean;
}

/** The editor registers here to block navigation with unsaved changes. */
export const navGuard: { dirty: () => boolean } = { dirty: () => false };

/** Data handed from one page to the next (e.g. a template to the editor). */
export const handoff: { template?: import('./api').Template; name?: string; testInput?: string; savedMessage?: string } = {};
