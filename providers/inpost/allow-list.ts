import { BlockList, isIP } from 'node:net';

/** An allow-list entry: an address or a CIDR range. */
interface AllowEntry {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Parses `91.216.25.0/24`, `2001:db8::/32` or a single address; `undefined` when invalid. */
export function parseAllowEntry(text: string): AllowEntry | undefined {
  const [address, prefixText, extra] = text.trim().split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) {
    return undefined;
  }
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const maxPrefix = version === 4 ? 32 : 128;
  if (prefixText === undefined) {
    return { address, prefix: maxPrefix, family };
  }
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= maxPrefix)) {
    return undefined;
  }
  return { address, prefix, family };
}

/** Converts an IPv4-mapped IPv6 address (`::ffff:91.216.25.7`) to dotted IPv4; others stay unchanged. */
function unmapped(ip: string): string {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return match ? match[1] : ip;
}

/** Builds a matcher for a list of valid entries (check them with {@link parseAllowEntry}). */
export function createAllowList(entries: readonly string[]): (ip: string) => boolean {
  const list = new BlockList();
  for (const text of entries) {
    const entry = parseAllowEntry(text);
    if (entry) {
      list.addSubnet(entry.address, entry.prefix, entry.family);
    }
  }
  return (ip) => {
    const address = unmapped(ip);
    const version = isIP(address);
    if (version === 0) {
      return false;
    }
    return list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  };
}
