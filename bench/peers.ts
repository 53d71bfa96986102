import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The reference peers (`../shared/peers` beside the checkout, as CI lays it out), or the
 * folder named by HOOKRELAY_PEERS_DIR.
 */
export const PEERS = process.env.HOOKRELAY_PEERS_DIR ?? fileURLToPath(new URL('../../shared/peers', import.meta.url));

export interface PeerReceiver {
  port: Promise<number>;
  done: Promise<{ got: number; span_s: number }>;
  stop: () => void;
}

/** Installs the peers' own dependencies once (they live outside this package). */
export function ensurePeersInstalled(): void {
  if (!existsSync(`${PEERS}/lib.mjs`)) throw new Error(`benchmark peers not found at ${PEERS} (set HOOKRELAY_PEERS_DIR)`);
  if (existsSync(`${PEERS}/node_modules/pg-boss`) && existsSync(`${PEERS}/node_modules/undici`)) return;
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: PEERS, stdio: 'ignore' });
}

/** The peers' loopback receiver in its own process, counting to `n`. */
export async function startPeerReceiver(n: number): Promise<PeerReceiver> {
  const lib = (await import(pathToFileURL(`${PEERS}/lib.mjs`).href)) as { startReceiver: (n: number) => PeerReceiver };
  return lib.startReceiver(n);
}
