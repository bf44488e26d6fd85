import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { WebhookProviderPlugin } from '../../core/index.js';
import { importPluginModule, resolvePluginModule } from '../../core/plugin-loader.js';
import { builtinProviders } from '../../providers/index.js';
import { type Command, parseCommandArgs, UsageError } from '../command.js';

/** The values `pactown sign` signs with, after defaults. */
export interface SignRequest {
  provider: WebhookProviderPlugin;
  body: Buffer;
  secret: string;
  timestamp: number;
  id: string;
  options: Record<string, unknown>;
  contentType: string;
}

/** Quotes a value for a POSIX shell. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Returns the headers a provider would send for the body, with `Content-Type` first. */
export function signedHeaders(request: SignRequest): Record<string, string> {
  const signed = request.provider.sign?.({
    body: request.body,
    secret: request.secret,
    timestamp: request.timestamp,
    id: request.id,
    options: request.options,
  });
  return { 'Content-Type': request.contentType, ...signed };
}

/** Builds the `curl` line that sends FILE with the headers. */
export function curlLine(url: string, headers: Record<string, string>, file: string): string {
  const flags = Object.entries(headers).map(
    ([name, value]) => `-H ${shellQuote(`${name}: ${value}`)}`,
  );
  return ['curl -sS -X POST', shellQuote(url), ...flags, `--data-binary @${shellQuote(file)}`].join(
    ' ',
  );
}

function parseOptionValue(value: string): string | boolean {
  if (value === 'true' || value === 'false') {
    return value === 'true';
  }
  return value;
}

/** Parses `--option KEY=VALUE` values; `true` and `false` become booleans. */
function parseOptions(values: string[]): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const text of values) {
    const separator = text.indexOf('=');
    if (separator <= 0) {
      throw new UsageError(`--option must be KEY=VALUE, such as mode=hmac, got "${text}"`);
    }
    options[text.slice(0, separator)] = parseOptionValue(text.slice(separator + 1));
  }
  return options;
}

function parseTimestamp(text: string | undefined): number {
  if (text === undefined) {
    return Math.floor(Date.now() / 1000);
  }
  if (!/^\d{1,12}$/.test(text)) {
    throw new UsageError(`--timestamp must be unix seconds, such as 1700000000, got "${text}"`);
  }
  return Number(text);
}

/** Finds a provider among the built-ins and the modules named with `--plugin`. */
async function findProvider(name: string, modules: string[]): Promise<WebhookProviderPlugin> {
  const candidates: unknown[] = [...builtinProviders];
  for (const specifier of modules) {
    candidates.push(...(await importPluginModule(resolvePluginModule(specifier, process.cwd()))));
  }
  const providers = candidates.filter(
    (candidate): candidate is WebhookProviderPlugin =>
      (candidate as { kind?: string } | null)?.kind === 'webhook-provider',
  );
  const provider = providers.find((candidate) => candidate.name === name);
  if (!provider) {
    const known = providers.map((candidate) => candidate.name).join(', ');
    throw new UsageError(`unknown provider "${name}"; known providers: ${known}`);
  }
  if (!provider.sign) {
    throw new UsageError(`provider "${name}" does not implement sign, so it cannot sign here`);
  }
  return provider;
}

function print(request: SignRequest, url: string, file: string): void {
  const headers = signedHeaders(request);
  for (const [name, value] of Object.entries(headers)) {
    console.log(`${name}: ${value}`);
  }
  if (Object.keys(headers).length === 1) {
    console.log(`# provider "${request.provider.name}" signs nothing in this mode`);
  }
  console.log('');
  console.log(curlLine(url, headers, file));
}

function readEventFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new UsageError(`cannot read the event file ${file}: ${(error as Error).message}`);
  }
}

/** Reads the signing secret from exactly one of --secret, --secret-env and --secret-file. */
function readSecret(values: Record<string, unknown>): string {
  const provided = ['secret', 'secret-env', 'secret-file'].filter(
    (name) => values[name] !== undefined,
  );
  if (provided.length !== 1) {
    throw new UsageError(
      provided.length === 0
        ? 'a secret is required: pass --secret, --secret-env or --secret-file'
        : `pass only one of ${provided.map((name) => `--${name}`).join(', ')}`,
    );
  }
  let secret: string;
  if (values['secret-env'] !== undefined) {
    const name = values['secret-env'] as string;
    secret = process.env[name] ?? '';
    if (secret === '') {
      throw new UsageError(`environment variable ${name} is not set or empty`);
    }
  } else if (values['secret-file'] !== undefined) {
    const file = values['secret-file'] as string;
    try {
      secret = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new UsageError(`cannot read the secret file ${file}: ${(error as Error).message}`);
    }
  } else {
    secret = values.secret as string;
  }
  if (secret === '') {
    throw new UsageError('the secret must not be empty');
  }
  return secret;
}

export const signCommand: Command = {
  name: 'sign',
  summary: 'print the headers a webhook provider would send for a file, and a curl line',
  help: `Usage: pactown sign PROVIDER (--secret S | --secret-env NAME | --secret-file F) [options] FILE

Signs the bytes of FILE as PROVIDER would and prints the request headers, one a line,
then a blank line and a curl command that sends FILE with them.

  --secret S          the route's secret (for Stripe the whole whsec_... value); visible to
                      other users in the process list, so prefer one of the next two
  --secret-env NAME   read the secret from environment variable NAME
  --secret-file F     read the secret from file F, without its trailing newline
  --timestamp T       unix seconds to sign with (default: now)
  --id ID             delivery id for providers that send one (default: a random UUID)
  --url URL           where the curl command posts (default: http://127.0.0.1:8080/webhooks/PROVIDER)
  --content-type T    Content-Type header (default: application/json)
  --option KEY=VALUE  a provider route key, such as mode=hmac for inpost; repeatable
  --plugin MODULE     load a community provider from a path or package name; repeatable`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      secret: { type: 'string', short: 's' },
      'secret-env': { type: 'string' },
      'secret-file': { type: 'string' },
      timestamp: { type: 'string', short: 't' },
      id: { type: 'string' },
      url: { type: 'string' },
      'content-type': { type: 'string' },
      option: { type: 'string', multiple: true },
      plugin: { type: 'string', multiple: true },
    });
    if (positionals.length !== 2) {
      throw new UsageError('sign takes a PROVIDER and a FILE');
    }
    const [name, file] = positionals;
    const secret = readSecret(values as Record<string, unknown>);
    const multiple = values as unknown as { option?: string[]; plugin?: string[] };
    const request: SignRequest = {
      provider: await findProvider(name, multiple.plugin ?? []),
      body: readEventFile(file),
      secret,
      timestamp: parseTimestamp(values.timestamp as string | undefined),
      id: (values.id as string | undefined) ?? randomUUID(),
      options: parseOptions(multiple.option ?? []),
      contentType: (values['content-type'] as string | undefined) ?? 'application/json',
    };
    const url = (values.url as string | undefined) ?? `http://127.0.0.1:8080/webhooks/${name}`;
    print(request, url, file);
    return 0;
  },
};
