import ipaddr from 'ipaddr.js';

/** Why an address was refused, or null when a delivery may connect to it. */
export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

const ALLOWED: AddressVerdict = { allowed: true };
const refuse = (reason: string): AddressVerdict => ({ allowed: false, reason });

// Only global unicast space (2000::/3) is routable on the public internet; anything outside
// it that ipaddr.js does not name (IPv4-compatible ::a.b.c.d, 0100::/64 discard, …) is refused.
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/** IPv6 forms that carry an IPv4 address in their low 32 bits; the embedded address decides. */
const EMBEDS_V4_LOW32 = new Set(['ipv4Mapped', 'rfc6145', 'rfc6052']);

function checkV4(address: ipaddr.IPv4, via?: string): AddressVerdict {
  const range = address.range();
  if (range === 'unicast') return ALLOWED;
  return refuse(via ? `${range} address embedded in ${via}` : `${range} address`);
}

function embeddedV4(address: ipaddr.IPv6, offsetBytes: number): ipaddr.IPv4 {
  const bytes = address.toByteArray();
  return new ipaddr.IPv4(bytes.slice(offsetBytes, offsetBytes + 4));
}

/**
 * The SSRF decision: may a delivery connect to `ip`? Public unicast only. Refuses loopback,
 * private, link-local, CGNAT, multicast, broadcast, unspecified, reserved and documentation
 * ranges, in IPv4 and IPv6, and IPv4 addresses smuggled in IPv4-mapped, IPv4-translated,
 * NAT64 or 6to4 IPv6 forms. Teredo is refused outright (its embedded address is obfuscated).
 * Anything that does not parse as an IP address is refused.
 */
export function checkAddress(ip: string): AddressVerdict {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // Strip an IPv6 zone id ("fe80::1%eth0"): the address part alone decides.
    parsed = ipaddr.parse(ip.replace(/%.*$/, ''));
  } catch {
    return refuse('not an IP address');
  }
  if (parsed.kind() === 'ipv4') return checkV4(parsed as ipaddr.IPv4);

  const v6 = parsed as ipaddr.IPv6;
  const range = v6.range();
  if (EMBEDS_V4_LOW32.has(range)) {
    // NAT64's local-use /48 (64:ff9b:1::/48) does not use the low 32 bits in a fixed way: refuse it.
    if (range === 'rfc6052' && !v6.match(ipaddr.parseCIDR('64:ff9b::/96'))) return refuse('local-use NAT64 address');
    return checkV4(embeddedV4(v6, 12), range);
  }
  if (range === '6to4') return checkV4(embeddedV4(v6, 2), '6to4');
  if (range !== 'unicast') return refuse(`${range} address`);
  if (!v6.match(GLOBAL_UNICAST_V6)) return refuse('address outside global unicast space');
  return ALLOWED;
}

/** True when `host` (a URL hostname, brackets allowed) is an IP literal in any notation `URL` accepts. */
export function isIpLiteral(host: string): boolean {
  // Every IPv4 notation has a digit and every IPv6 one a colon; most host names have neither,
  // and skipping ipaddr.js for them matters (its parser throws and catches internally, which
  // was a tenth of the CPU of an endpoint create).
  if (!/[0-9:]/.test(host)) return false;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return ipaddr.isValid(bare);
}

/** Host names that always mean this machine, whatever DNS says. */
export function isLocalHostName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === 'localhost.localdomain';
}
