import { BlockList, isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  definePlugin,
  errorBody,
  type JsonSchema,
  type OptionsIssue,
  PLUGIN_API_VERSION,
} from '../../core/index.js';

/** Options of the `ip-allow` policy as written. */
interface IpAllowOptions {
  allow?: string[];
  deny?: string[];
}

const rangeList: JsonSchema = {
  type: 'array',
  items: { type: 'string', minLength: 1 },
};

const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { allow: rangeList, deny: rangeList },
};

/** Parses `10.0.0.0/8`, `2001:db8::/32` or a single address; undefined when invalid. */
export function parseRange(
  text: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const version = isIP(address);
  if (version === 0) {
    return undefined;
  }
  const bits = version === 4 ? 32 : 128;
  const prefix = slash === -1 ? bits : Number(text.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits || text.endsWith('/')) {
    return undefined;
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

function blockListOf(ranges: string[]): BlockList {
  const list = new BlockList();
  for (const text of ranges) {
    const range = parseRange(text);
    if (range) {
      list.addSubnet(range.address, range.prefix, range.family);
    }
  }
  return list;
}

/** Tells whether `ip` is in `list`; an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is IPv4. */
function contains(list: BlockList, ip: string): boolean {
  const mapped = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  return list.check(mapped, isIP(mapped) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The `ip-allow` policy: rejects with 403 clients outside `allow` (when given) or inside `deny`.
 * The client address is Fastify's `request.ip`, which follows `server.trust_proxy`.
 *
 * @example
 * ```yaml
 * plugins:
 *   - ip-allow: { allow: [10.0.0.0/8, 192.168.1.0/24], deny: [10.0.13.0/24] }
 * ```
 */
export default definePlugin({
  name: 'ip-allow',
  kind: 'policy',
  apiVersion: PLUGIN_API_VERSION,
  description: 'allows or denies clients by address, as CIDR lists',
  optionsSchema,
  check(options: IpAllowOptions): OptionsIssue[] {
    const issues: OptionsIssue[] = [];
    for (const list of ['allow', 'deny'] as const) {
      for (const [index, text] of (options[list] ?? []).entries()) {
        if (!parseRange(text)) {
          issues.push({
            path: [list, index],
            message: `"${text}" is not an IP address or CIDR range`,
            hint: 'write an address such as 10.0.0.1 or a range such as 10.0.0.0/8 or 2001:db8::/32',
          });
        }
      }
    }
    if ((options.allow ?? []).length === 0 && (options.deny ?? []).length === 0) {
      issues.push({ path: [], message: 'give allow: or deny: with at least one range' });
    }
    return issues;
  },
  register(scope, options: IpAllowOptions, context) {
    const allow =
      options.allow && options.allow.length > 0 ? blockListOf(options.allow) : undefined;
    const deny = options.deny && options.deny.length > 0 ? blockListOf(options.deny) : undefined;
    const route = context.route.path;
    scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      const ip = request.ip;
      const denied =
        (deny !== undefined && contains(deny, ip)) || (allow !== undefined && !contains(allow, ip));
      if (denied) {
        request.log.info(
          { route, ip, code: 'PACTOWN_ERR_IP_FORBIDDEN' },
          'rejected request: client address not allowed',
        );
        return reply
          .code(403)
          .send(
            errorBody(
              'PACTOWN_ERR_IP_FORBIDDEN',
              `client address ${ip} is not allowed on this route`,
              route,
            ),
          );
      }
    });
  },
});
