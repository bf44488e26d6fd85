/** Groups of an IPv6 address that name its /64 network. */
const NETWORK_GROUPS = 4;

/**
 * Returns the rate-limit key of a client address. An IPv4 address is its own key. An IPv4
 * address mapped into IPv6 (`::ffff:203.0.113.7`), the form in which a server listening on `::`
 * receives IPv4 clients, counts as its IPv4 address. An IPv6 address counts by its /64 network,
 * written as four groups (`2001:db8:0:7::/64`), because one host is usually assigned a whole /64
 * and could otherwise rotate through it. A string that is not an IP address, which a trusted
 * proxy may forward, is its own key.
 */
export function clientAddressKey(address: string): string {
  if (!address.includes(':')) {
    return address;
  }
  const groups = parseIpv6(address.toLowerCase());
  if (groups === undefined) {
    return address;
  }
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`;
  }
  const network = groups.slice(0, NETWORK_GROUPS).map((group) => group.toString(16));
  return `${network.join(':')}::/64`;
}

/** Returns the eight 16-bit groups of an IPv6 address, or undefined for another string. */
function parseIpv6(address: string): number[] | undefined {
  const zone = address.indexOf('%');
  const bare = zone === -1 ? address : address.slice(0, zone);
  const gap = bare.indexOf('::');
  if (gap !== bare.lastIndexOf('::')) {
    return undefined;
  }
  const head = groupsOf(gap === -1 ? bare : bare.slice(0, gap));
  const tail = gap === -1 ? [] : groupsOf(bare.slice(gap + 2));
  if (head === undefined || tail === undefined) {
    return undefined;
  }
  const missing = 8 - head.length - tail.length;
  if (gap === -1 ? missing !== 0 : missing < 1) {
    return undefined;
  }
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/**
 * Parses colon-separated hexadecimal groups, where the last may be a dotted IPv4 address worth
 * two groups. Returns undefined when a group is not valid.
 */
function groupsOf(text: string): number[] | undefined {
  if (text === '') {
    return [];
  }
  const parts = text.split(':');
  const groups: number[] = [];
  for (let index = 0; index < parts.length; index++) {
    const part = parts[index];
    if (index === parts.length - 1 && part.includes('.')) {
      const octets = part.split('.');
      if (octets.length !== 4 || !octets.every((octet) => /^\d{1,3}$/.test(octet))) {
        return undefined;
      }
      const [a, b, c, d] = octets.map(Number);
      if (Math.max(a, b, c, d) > 255) {
        return undefined;
      }
      groups.push((a << 8) | b, (c << 8) | d);
      continue;
    }
    if (!/^[0-9a-f]{1,4}$/.test(part)) {
      return undefined;
    }
    groups.push(Number.parseInt(part, 16));
  }
  return groups;
}
