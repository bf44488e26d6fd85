import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, parseCommandArgs, UsageError } from '../command.js';
import {
  DeployError,
  type DeployResult,
  deploy,
  detectPodmanVersion,
  formatLintIssues,
  formatVersion,
  hostNotes,
  installUnits,
  isAtLeast,
  lintUnitFolder,
  MIN_QUADLET_VERSION,
  type PodmanVersion,
  parsePodmanVersion,
  quadletUnitDir,
  startCommands,
} from '../quadlet/index.js';

const DEFAULT_IMAGE = 'localhost/pactown-gateway:latest';

const HELP = `Usage: pactown quadlet deploy SOURCE --domain D --subdomain S --tenant T [options]
       pactown quadlet lint DIR [--podman-version X.Y]

deploy writes what runs the gateway under systemd with Podman Quadlet: a copy of the config, a
Containerfile, T-gateway.container, T.network, T-data.volume and .env.example (every variable
the config references, by name only). SOURCE is a config file, or a Markdown file whose fenced
\`\`\`yaml routes.yaml block holds the config. Secrets are never written; the container reads
them from the .env file next to the units.

lint checks the .container, .network and .volume files of DIR: sections and keys known to the
target podman, values such as ports and paths, and references between the units.

Options of deploy:
  --domain D            DNS domain, such as example.com (required)
  --subdomain S         name in front of the domain; the gateway serves S.D (required)
  --tenant T            prefix of the unit, container and volume names (required)
  --tls                 add a Caddy container that serves https://S.D on ports 80 and 443 with
                        a Let's Encrypt certificate; without it the gateway port is published
  --out DIR             output folder (default ./sandbox); the units name files in it by
                        absolute path, so keep it where it is
  --image NAME          gateway image (default ${DEFAULT_IMAGE})
  --port N              port of the gateway in the container, and on the host without --tls
                        (default: server.port of the config, else 8080)
  --memory SIZE         memory limit of the gateway container (default 512m)
  --podman-version X.Y  oldest podman the units must run on (default 4.4; with --install, the
                        installed version)
  --allow-inline-secrets
                        write the config copy even when it contains secrets as values, not
                        \${...} references (deploy fails on them otherwise)
  --install             check podman, then copy the units to ~/.config/containers/systemd
  --system              with --install, copy them to /etc/containers/systemd (run as root)`;

const OPTIONS = {
  domain: { type: 'string' },
  subdomain: { type: 'string' },
  tenant: { type: 'string' },
  tls: { type: 'boolean' },
  out: { type: 'string' },
  image: { type: 'string' },
  port: { type: 'string' },
  memory: { type: 'string' },
  'podman-version': { type: 'string' },
  install: { type: 'boolean' },
  system: { type: 'boolean' },
  'allow-inline-secrets': { type: 'boolean' },
} as const;

type Values = Record<string, string | boolean | undefined>;

export const quadletCommand: Command = {
  name: 'quadlet',
  summary: 'write, lint and install Podman Quadlet units for the gateway',
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    const [action, ...rest] = positionals;
    try {
      if (action === 'deploy') {
        return await runDeploy(values, rest);
      }
      if (action === 'lint') {
        return runLint(values, rest);
      }
    } catch (error) {
      if (error instanceof DeployError) {
        console.error(error.message);
        return 1;
      }
      throw error;
    }
    throw new UsageError(
      action ? `unknown quadlet action "${action}"` : 'quadlet needs an action: deploy or lint',
    );
  },
};

async function runDeploy(values: Values, positionals: string[]): Promise<number> {
  checkDeployArgs(values, positionals);
  const system = values.system === true;
  if (values.install && system && process.getuid?.() !== 0) {
    throw new DeployError(
      '--install --system writes /etc/containers/systemd; run it as root (sudo)',
    );
  }
  // Podman is checked before anything is written, so a failed install leaves no output behind.
  const installed = values.install ? detectPodmanVersion() : undefined;
  const target = targetVersion(values['podman-version'] as string | undefined, installed);
  const image = (values.image as string | undefined) ?? DEFAULT_IMAGE;

  const result = await deploy({
    source: positionals[0],
    tenant: values.tenant as string,
    domain: values.domain as string,
    subdomain: values.subdomain as string,
    tls: values.tls === true,
    out: (values.out as string | undefined) ?? 'sandbox',
    image,
    port: values.port === undefined ? undefined : Number(values.port),
    memory: (values.memory as string | undefined) ?? '512m',
    podmanVersion: target,
    allowInlineSecrets: values['allow-inline-secrets'] === true,
  });
  printResult(result, target);
  if (!installed) {
    printNextSteps(result, image, false);
    return 0;
  }

  const targetDir = quadletUnitDir(system);
  const copied = installUnits(result.outDir, result.deployment.units, targetDir);
  console.log(
    `\ninstalled ${copied.length} units into ${targetDir} (podman ${formatVersion(installed)})`,
  );
  printNextSteps(result, image, true, system);
  return 0;
}

function checkDeployArgs(values: Values, positionals: string[]): void {
  if (positionals.length !== 1) {
    throw new UsageError('quadlet deploy takes exactly one SOURCE');
  }
  for (const option of ['domain', 'subdomain', 'tenant']) {
    if (typeof values[option] !== 'string') {
      throw new UsageError(`quadlet deploy needs --${option}`);
    }
  }
  if (values.port !== undefined && !/^\d+$/.test(values.port as string)) {
    throw new UsageError(`--port must be a port number from 1 to 65535, got "${values.port}"`);
  }
  if (values.system && !values.install) {
    throw new UsageError('--system only applies with --install');
  }
}

/** The podman version the units target: --podman-version, else the installed one, else 4.4. */
function targetVersion(
  option: string | undefined,
  installed: PodmanVersion | undefined,
): PodmanVersion {
  if (option === undefined) {
    return installed ?? MIN_QUADLET_VERSION;
  }
  const version = /^\d+\.\d+(\.\d+)?$/.test(option) ? parsePodmanVersion(option) : undefined;
  if (!version) {
    throw new UsageError(`--podman-version "${option}" must be a version such as 4.4 or 5.2.1`);
  }
  if (!isAtLeast(version, '4.4')) {
    throw new DeployError(`--podman-version ${option} has no Quadlet; it needs 4.4 or newer`);
  }
  if (installed && !isAtLeast(installed, formatVersion(version))) {
    throw new DeployError(
      `--podman-version ${option} is newer than the installed podman ${formatVersion(installed)}; the units would not load`,
    );
  }
  return version;
}

function printResult(result: DeployResult, target: PodmanVersion): void {
  const names = result.deployment.files.map((file) => file.name).join('  ');
  console.log(`wrote ${result.outDir}:\n  ${names}`);
  console.log(
    `lint: units are valid for podman ${formatVersion(target)} or newer (${plural(result.warnings.length, 'warning')})`,
  );
  if (result.warnings.length > 0) {
    console.log(formatLintIssues(result.warnings));
  }
  for (const note of result.notes) {
    console.log(`note: ${note}`);
  }
  if (result.unsetVariables.length > 0) {
    const verb = result.unsetVariables.length === 1 ? 'has' : 'have';
    console.log(
      `note: ${result.unsetVariables.join(', ')} ${verb} no value on this machine; set the values in ${join(result.outDir, '.env')}`,
    );
  }
  if (result.deployment.services.length > 1) {
    console.log(
      'note: behind Caddy, client addresses arrive in X-Forwarded-For; add the subnet of the network (podman network inspect) to server.trust_proxy',
    );
  }
}

function printNextSteps(
  result: DeployResult,
  image: string,
  installed: boolean,
  system = false,
): void {
  const out = relative(process.cwd(), result.outDir) || '.';
  const steps = [
    `cp ${out}/.env.example ${out}/.env && chmod 600 ${out}/.env, then fill in the values`,
    `podman build -f ${out}/Containerfile -t ${image} ${projectRoot()}`,
  ];
  if (installed) {
    const lowestPort = result.deployment.services.length > 1 ? 80 : portOf(result);
    for (const note of hostNotes({ system, lowestPort, outDir: result.outDir })) {
      console.log(`note: ${note}`);
    }
    steps.push(...startCommands(result.deployment.services, system));
  } else {
    steps.push(
      'run the same command with --install (or --install --system) on the server, which checks podman and copies the units',
    );
  }
  console.log(`\nnext:\n${steps.map((step, index) => `  ${index + 1}. ${step}`).join('\n')}`);
  console.log(
    `\nthe gateway will answer at ${result.deployment.services.length > 1 ? 'https' : 'http'}://${result.deployment.hostname}${result.deployment.services.length > 1 ? '' : `:${portOf(result)}`}/health`,
  );
}

function portOf(result: DeployResult): number {
  const unit = result.deployment.files.find((file) => file.name.endsWith('-gateway.container'));
  const match = /--port (\d+)/.exec(unit?.content ?? '');
  return Number(match?.[1] ?? 8080);
}

/**
 * Returns the gateway's source folder, which is the build context of the Containerfile, or a
 * placeholder when this install of the gateway has no sources.
 */
function projectRoot(): string {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  return existsSync(join(root, 'core', 'index.ts'))
    ? root
    : 'PATH_TO_A_CLONE_OF_THE_GATEWAY_SOURCE';
}

function runLint(values: Values, positionals: string[]): number {
  if (positionals.length !== 1) {
    throw new UsageError('quadlet lint takes exactly one DIR');
  }
  const deployOnly = Object.keys(OPTIONS).filter(
    (name) => name !== 'podman-version' && values[name] !== undefined,
  );
  if (deployOnly.length > 0) {
    throw new UsageError(`quadlet lint does not take --${deployOnly.join(', --')}`);
  }
  const target = targetVersion(values['podman-version'] as string | undefined, undefined);
  const issues = lintUnitFolder(resolve(positionals[0]), { podmanVersion: target });
  if (issues.length > 0) {
    console.log(formatLintIssues(issues));
  }
  const errors = issues.filter((issue) => issue.severity === 'error').length;
  console.log(
    `${plural(errors, 'error')}, ${plural(issues.length - errors, 'warning')} for podman ${formatVersion(target)}`,
  );
  return errors > 0 ? 1 : 0;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
