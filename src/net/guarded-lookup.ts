import { promises as dns } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { checkAddress, isLocalHostName } from './address-policy.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Turns a host name into every address it has. Tests inject one to map names without DNS. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) => {
  const found = await dns.lookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** What a tenant reads when a name resolves to an address deliveries may not reach. */
export const NON_PUBLIC_NAME = 'the host name resolves to a non-public address';
/** What a tenant reads when the host is `localhost` or one of its forms. */
export const LOCAL_NAME = 'the host name always means this machine';

/**
 * Raised when the SSRF guard refuses a target; the transport reports it as error kind `blocked`.
 * `message` is what the tenant may read (stored on the attempt, served over REST) and never names
 * a resolved address: that would let a tenant map the host's internal DNS. `detail` says which
 * address was refused and why, for the host's log only.
 */
export class BlockedAddressError extends Error {
  override readonly name = 'BlockedAddressError';
  readonly code = 'EHOOKRELAY_BLOCKED';

  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
  }
}

/**
 * Resolves `hostname` and checks every address it resolves to. One refused address refuses the
 * whole name: a host that answers with a public and a private address is a rebinding attempt
 * more often than a real deployment.
 */
export async function resolveChecked(hostname: string, resolve: Resolver, allowPrivateNetworks: boolean): Promise<ResolvedAddress[]> {
  if (!allowPrivateNetworks && isLocalHostName(hostname)) throw new BlockedAddressError(LOCAL_NAME, `${hostname} always means this machine`);
  const addresses = await resolve(hostname);
  if (addresses.length === 0) throw Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' });
  if (!allowPrivateNetworks) {
    for (const { address } of addresses) {
      const verdict = checkAddress(address);
      if (!verdict.allowed) throw new BlockedAddressError(NON_PUBLIC_NAME, `${hostname} resolves to ${address}, a ${verdict.reason}`);
    }
  }
  return addresses;
}

/**
 * A `lookup` for `net.connect`/`tls.connect`: the socket connects only to addresses this function
 * checked, so a DNS answer that changes between check and connect (rebinding) cannot slip through.
 * The host name itself stays on the request, so `Host` and TLS SNI are unchanged.
 */
export function guardedLookup(resolve: Resolver, allowPrivateNetworks: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolveChecked(hostname, resolve, allowPrivateNetworks).then(
      (addresses) => {
        const usable = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
        const first = usable[0];
        if (!first) {
          callback(Object.assign(new Error(`no IPv${options.family} address for ${hostname}`), { code: 'ENOTFOUND' }), '', 4);
          return;
        }
        if (options.all) (callback as unknown as (err: null, addresses: ResolvedAddress[]) => void)(null, usable);
        else callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 4),
    );
  };
}
