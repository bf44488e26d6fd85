import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { configuredPort, prepareConfigCopy } from './config-copy.js';
import { DeployError } from './errors.js';
import { formatLintIssues, type LintIssue, lintUnitFolder } from './lint.js';
import { MIN_MEMORY, MIN_MEMORY_BYTES, parseMemorySize } from './node-heap.js';
import type { PodmanVersion } from './podman.js';
import { findInlineSecrets } from './secrets.js';
import { readDeploySource } from './source.js';
import { type Deployment, generateDeployment } from './units.js';
import { checkSourceConfig } from './validate.js';

/** Options of {@link deploy}, as `pactown quadlet deploy` passes them. */
export interface DeployRequest {
  /** A config file, or a Markdown file with a ```` ```yaml routes.yaml ```` block. */
  source: string;
  tenant: string;
  domain: string;
  subdomain: string;
  tls: boolean;
  /** Output folder; relative paths resolve from the working directory. */
  out: string;
  image: string;
  /** Container port; defaults to the config's `server.port`, else 8080. */
  port?: number;
  memory: string;
  podmanVersion: PodmanVersion;
  /** Environment used to validate the config; never written to any file. */
  env?: NodeJS.ProcessEnv;
  /** Writes the config copy even when it contains secrets as values, instead of failing. */
  allowInlineSecrets?: boolean;
}

/** Files written and findings of {@link deploy}. */
export interface DeployResult {
  outDir: string;
  deployment: Deployment;
  /** Lint warnings of the written units; errors throw instead. */
  warnings: LintIssue[];
  /** Things the operator has to know, one sentence each. */
  notes: string[];
  /** Config variables with no value on this machine, to be set in .env. */
  unsetVariables: string[];
}

const TENANT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
// Unit files cannot carry these in paths without escaping: ":" splits Volume=, "%" starts a
// systemd specifier, and whitespace splits EnvironmentFile=.
const UNSAFE_PATH = /[\s:%"\\]/;

/**
 * Writes a tenant's deployment into the output folder: config copy, Containerfile, Quadlet units,
 * Caddyfile with `tls`, and `.env.example`. Validates the config first and lints the units after;
 * throws {@link DeployError} or `ConfigError` when either fails.
 */
export async function deploy(request: DeployRequest): Promise<DeployResult> {
  checkRequest(request);

  const source = readDeploySource(request.source);
  const check = await checkSourceConfig(source, request.env);
  const inline = findInlineSecrets(source.yaml, source.firstLine);
  const where = inline.map((secret) => `${basename(source.file)}:${secret.line} ${secret.path}`);
  if (inline.length > 0 && !request.allowInlineSecrets) {
    throw new DeployError(
      `the config contains ${inline.length === 1 ? 'a secret' : `${inline.length} secrets`} as ${inline.length === 1 ? 'a value' : 'values'}, which deploy would copy into gateway.yaml:\n  ${where.join('\n  ')}\nwrite each as a reference, \${NAME} with a variable name of your choice, and set NAME in .env, or pass --allow-inline-secrets`,
    );
  }
  const config = prepareConfigCopy(source.yaml, {
    sourceName: basename(source.file),
    tenant: request.tenant,
    storageSection: check.storageSection,
  });
  if (inline.length > 0) {
    config.notes.push(
      `gateway.yaml contains secrets as values (${where.join(', ')}), because --allow-inline-secrets was given; keep the file private`,
    );
  }
  const implicit = check.implicitVariables.filter((name) => !config.variables.includes(name));
  if (implicit.length > 0) {
    config.variables.push(...implicit);
    config.notes.push(
      `the config reads ${implicit.join(', ')} from the environment without \${...}, as a fallback secret; .env.example lists ${implicit.length === 1 ? 'it' : 'them'}, so set ${implicit.length === 1 ? 'it' : 'them'} in .env`,
    );
  }

  const outDir = resolve(request.out);
  if (UNSAFE_PATH.test(outDir)) {
    throw new DeployError(
      `output folder "${outDir}" contains whitespace, ":", "%", a quote or a backslash, which unit files cannot hold; pass --out with a plain path`,
    );
  }
  const deployment = generateDeployment(config, {
    tenant: request.tenant,
    domain: request.domain.toLowerCase(),
    subdomain: request.subdomain.toLowerCase(),
    tls: request.tls,
    image: request.image,
    port: request.port ?? configuredPort(source.yaml),
    memory: request.memory,
    podmanVersion: request.podmanVersion,
    outDir,
  });
  writeDeployment(outDir, deployment);

  const issues = lintUnitFolder(outDir, { podmanVersion: request.podmanVersion });
  const errors = issues.filter((issue) => issue.severity === 'error');
  if (errors.length > 0) {
    throw new DeployError(
      `the generated units in ${outDir} failed the lint:\n${formatLintIssues(errors)}`,
    );
  }
  return {
    outDir,
    deployment,
    warnings: issues.filter((issue) => issue.severity === 'warning'),
    notes: config.notes,
    unsetVariables: check.unsetVariables,
  };
}

function checkRequest(request: DeployRequest): void {
  if (!TENANT.test(request.tenant)) {
    throw new DeployError(
      `--tenant "${request.tenant}" must be 1 to 63 letters, digits, "-" or "_", starting with a letter or digit`,
    );
  }
  checkHostname('--domain', request.domain, 2);
  checkHostname('--subdomain', request.subdomain, 1);
  if (request.image === '' || /\s/.test(request.image)) {
    throw new DeployError(`--image "${request.image}" is not an image reference`);
  }
  const memory = parseMemorySize(request.memory);
  if (memory === undefined) {
    throw new DeployError(`--memory "${request.memory}" must be a size such as 512m or 1g`);
  }
  if (memory < MIN_MEMORY_BYTES) {
    throw new DeployError(
      `--memory "${request.memory}" is below ${MIN_MEMORY}; the gateway needs about 150 MiB under load`,
    );
  }
  if (
    request.port !== undefined &&
    !(Number.isInteger(request.port) && request.port >= 1 && request.port <= 65535)
  ) {
    throw new DeployError(`--port must be a port number from 1 to 65535, got "${request.port}"`);
  }
}

function checkHostname(option: string, value: string, minLabels: number): void {
  const labels = value.split('.');
  if (
    value.length > 253 ||
    labels.length < minLabels ||
    !labels.every((label) => LABEL.test(label))
  ) {
    const example = minLabels > 1 ? 'example.com' : 'api';
    throw new DeployError(`${option} "${value}" is not a DNS name such as ${example}`);
  }
}

function writeDeployment(outDir: string, deployment: Deployment): void {
  mkdirSync(outDir, { recursive: true });
  for (const file of deployment.files) {
    writeFileSync(join(outDir, file.name), file.content, { mode: 0o644 });
  }
}
