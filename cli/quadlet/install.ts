import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';

/** Returns the folder that systemd's Quadlet generator reads: the user's, or with `system` the host's. */
export function quadletUnitDir(system: boolean, env: NodeJS.ProcessEnv = process.env): string {
  if (system) {
    return '/etc/containers/systemd';
  }
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(configHome, 'containers', 'systemd');
}

/** Copies the named unit files from `outDir` into `targetDir` and returns the paths written. */
export function installUnits(outDir: string, units: string[], targetDir: string): string[] {
  mkdirSync(targetDir, { recursive: true });
  return units.map((unit) => {
    const target = join(targetDir, unit);
    copyFileSync(join(outDir, unit), target);
    return target;
  });
}

/** Lists the commands that load the installed units and start the services, in order. */
export function startCommands(services: string[], system: boolean): string[] {
  const systemctl = system ? 'sudo systemctl' : 'systemctl --user';
  const commands = [`${systemctl} daemon-reload`];
  commands.push(...services.map((service) => `${systemctl} start ${service}`));
  commands.push(`${systemctl} status ${services.join(' ')}`);
  return commands;
}

/** Options of {@link hostNotes}. */
export interface HostCheckOptions {
  system: boolean;
  /** Lowest host port the units publish. */
  lowestPort: number;
  outDir: string;
  /** Overrides for tests; default to the live files. */
  unprivilegedPortStartFile?: string;
  lingerDir?: string;
  user?: string;
}

/**
 * Checks the host for what stops rootless services from running, and returns one instruction for
 * each problem found: ports below 1024, no lingering for the user, no .env file yet.
 */
export function hostNotes(options: HostCheckOptions): string[] {
  const notes: string[] = [];
  if (!existsSync(join(options.outDir, '.env'))) {
    notes.push(
      `${join(options.outDir, '.env')} does not exist yet, and the gateway does not start without it: cp ${join(options.outDir, '.env.example')} ${join(options.outDir, '.env')}, fill in the values, chmod 600 it`,
    );
  }
  if (options.system) {
    return notes;
  }
  const start = unprivilegedPortStart(options.unprivilegedPortStartFile);
  if (start !== undefined && options.lowestPort < start) {
    notes.push(
      `rootless podman cannot publish port ${options.lowestPort}, because net.ipv4.ip_unprivileged_port_start is ${start}: echo 'net.ipv4.ip_unprivileged_port_start=${options.lowestPort}' | sudo tee /etc/sysctl.d/99-pactown-ports.conf && sudo sysctl --system`,
    );
  }
  const user = options.user ?? userInfo().username;
  const lingerDir = options.lingerDir ?? '/var/lib/systemd/linger';
  if (!existsSync(join(lingerDir, user))) {
    notes.push(
      `lingering is off for ${user}, so the services stop at logout and do not start at boot: sudo loginctl enable-linger ${user}`,
    );
  }
  return notes;
}

function unprivilegedPortStart(
  file = '/proc/sys/net/ipv4/ip_unprivileged_port_start',
): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    // The file is missing outside Linux, and then there is no limit to report.
    return undefined;
  }
}
