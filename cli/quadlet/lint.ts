import { readdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { extname, join } from 'node:path';
import {
  DEPRECATED_KEYS,
  INSTALL_KEYS,
  QUADLET_GROUP_SINCE,
  QUADLET_SECTIONS,
  RESTART_VALUES,
  SERVICE_KEYS,
  UNIT_KEYS,
} from './keys.js';
import { formatVersion, isAtLeast, type PodmanVersion } from './podman.js';
import { parseUnit, type UnitEntry, type UnitSection } from './unit-file.js';

/** One finding of {@link lintUnits}. */
export interface LintIssue {
  file: string;
  /** 1-based; 0 for a finding about the whole file. */
  line: number;
  severity: 'error' | 'warning';
  message: string;
}

/** Options of {@link lintUnits}. */
export interface LintOptions {
  /** The oldest podman the units must work on; keys newer than it are errors. */
  podmanVersion: PodmanVersion;
}

/** Unit types that the lint reads, by file extension. */
export const UNIT_EXTENSIONS = ['.container', '.network', '.volume'];

const UNIT_NAME = /^[A-Za-z0-9:_.\\-]+$/;
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** Sections whose key sets are complete, so an unknown key is an error. */
const SYSTEMD_KEYS: Record<string, Set<string>> = { Unit: UNIT_KEYS, Install: INSTALL_KEYS };
const DEPENDENCY_KEYS = [
  'Wants',
  'Requires',
  'Requisite',
  'BindsTo',
  'PartOf',
  'Upholds',
  'Before',
  'After',
];
const SINGLE_VALUE_KEYS = new Set([
  'Image',
  'ContainerName',
  'Exec',
  'ReadOnly',
  'ReadOnlyTmpfs',
  'VolatileTmp',
  'NoNewPrivileges',
  'User',
  'Group',
  'HealthCmd',
  'HealthInterval',
  'HealthTimeout',
  'HealthRetries',
  'HealthStartPeriod',
  'HealthOnFailure',
  'Notify',
  'RunInit',
  'Timezone',
  'HostName',
  'WorkingDir',
  'Rootfs',
]);
const VOLUME_OPTIONS = new Set([
  'rw',
  'ro',
  'z',
  'Z',
  'U',
  'O',
  'copy',
  'nocopy',
  'suid',
  'nosuid',
  'dev',
  'nodev',
  'exec',
  'noexec',
  'bind',
  'rbind',
  'shared',
  'rshared',
  'slave',
  'rslave',
  'private',
  'rprivate',
  'unbindable',
  'runbindable',
  'idmap',
]);

/** Collects the findings for one file, so each check is one call. */
class Findings {
  readonly issues: LintIssue[] = [];

  constructor(readonly file: string) {}

  error(line: number, message: string): void {
    this.issues.push({ file: this.file, line, severity: 'error', message });
  }

  warning(line: number, message: string): void {
    this.issues.push({ file: this.file, line, severity: 'warning', message });
  }
}

/**
 * Checks a set of Quadlet unit files (name to text) as Quadlet of `podmanVersion` would read them:
 * known sections and keys, values such as ports and paths, and references between the units.
 *
 * @example
 * const issues = lintUnits({ 'gw.network': '[Network]\n' }, { podmanVersion: parsePodmanVersion('4.4')! });
 */
export function lintUnits(units: Record<string, string>, options: LintOptions): LintIssue[] {
  const names = new Set(Object.keys(units));
  const issues: LintIssue[] = [];
  const referenced = new Set<string>();
  for (const [file, text] of Object.entries(units)) {
    const findings = new Findings(file);
    lintFile(file, text, options.podmanVersion, names, referenced, findings);
    issues.push(...findings.issues);
  }
  for (const name of names) {
    const type = extname(name);
    if ((type === '.network' || type === '.volume') && !referenced.has(name)) {
      issues.push({
        file: name,
        line: 0,
        severity: 'warning',
        message: `no .container unit uses ${name}`,
      });
    }
  }
  return issues;
}

/** Reads every `.container`, `.network` and `.volume` file of `dir` and lints them together. */
export function lintUnitFolder(dir: string, options: LintOptions): LintIssue[] {
  const units: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    if (UNIT_EXTENSIONS.includes(extname(name))) {
      units[name] = readFileSync(join(dir, name), 'utf8');
    }
  }
  return lintUnits(units, options);
}

/** Formats findings as `file:line: severity: message`, one a line. */
export function formatLintIssues(issues: LintIssue[]): string {
  return issues
    .map((issue) => {
      const place = issue.line > 0 ? `${issue.file}:${issue.line}` : issue.file;
      return `${place}: ${issue.severity}: ${issue.message}`;
    })
    .join('\n');
}

function lintFile(
  file: string,
  text: string,
  version: PodmanVersion,
  names: Set<string>,
  referenced: Set<string>,
  findings: Findings,
): void {
  const type = extname(file).slice(1);
  const quadlet = QUADLET_SECTIONS[type];
  if (!quadlet) {
    findings.error(0, `unknown unit type ".${type}"; expected .container, .network or .volume`);
    return;
  }
  if (!UNIT_NAME.test(file)) {
    findings.error(0, `"${file}" is not a valid systemd unit name (letters, digits, ":_.\\-")`);
  }

  const parsed = parseUnit(text);
  for (const error of parsed.errors) {
    findings.error(error.line, error.message);
  }
  checkSections(parsed.sections, quadlet.section, version, findings);

  const own = parsed.sections.filter((section) => section.name === quadlet.section);
  const entries = own.flatMap((section) => section.entries);
  checkQuadletKeys(entries, quadlet.section, quadlet.keys, version, findings);
  if (type === 'container') {
    checkContainer(entries, version, names, referenced, findings);
  } else if (type === 'network') {
    checkNetwork(entries, findings);
  } else {
    checkVolume(entries, version, findings);
  }

  for (const section of parsed.sections) {
    if (section.name === 'Service') {
      checkService(section.entries, type, findings);
    } else if (section.name === 'Unit') {
      checkDependencies(section.entries, names, findings);
    }
  }
}

function checkSections(
  sections: UnitSection[],
  own: string,
  version: PodmanVersion,
  findings: Findings,
): void {
  const allowed = new Set(['Unit', 'Service', 'Install', own]);
  if (isAtLeast(version, QUADLET_GROUP_SINCE)) {
    allowed.add('Quadlet');
  }
  for (const section of sections) {
    if (!allowed.has(section.name) && !section.name.startsWith('X-')) {
      findings.error(
        section.line,
        `unknown section [${section.name}] for podman ${formatVersion(version)}; expected one of ${[...allowed].map((name) => `[${name}]`).join(', ')}`,
      );
    }
    const keys = SYSTEMD_KEYS[section.name];
    for (const entry of keys ? section.entries : []) {
      const conditional = /^(Condition|Assert)[A-Z]/.test(entry.key);
      if (!keys.has(entry.key) && !conditional) {
        findings.error(entry.line, `unknown key ${entry.key}= in [${section.name}]`);
      }
    }
    if (section.name === 'Service') {
      for (const entry of section.entries.filter((item) => !SERVICE_KEYS.has(item.key))) {
        findings.warning(entry.line, `${entry.key}= in [Service] is not a key this lint knows`);
      }
    }
  }
  if (!sections.some((section) => section.name === own)) {
    findings.error(0, `missing the [${own}] section`);
  }
}

function checkQuadletKeys(
  entries: UnitEntry[],
  section: string,
  keys: Record<string, string>,
  version: PodmanVersion,
  findings: Findings,
): void {
  const seen = new Map<string, number>();
  for (const entry of entries) {
    const since = keys[entry.key];
    if (since === undefined) {
      findings.error(entry.line, `unknown key ${entry.key}= in [${section}]`);
      continue;
    }
    if (!isAtLeast(version, since)) {
      findings.error(
        entry.line,
        `${entry.key}= needs podman ${since} or newer, but the units target podman ${formatVersion(version)}`,
      );
    }
    const deprecated = DEPRECATED_KEYS[entry.key];
    if (deprecated && isAtLeast(version, deprecated.since)) {
      findings.warning(
        entry.line,
        `${entry.key}= is deprecated since podman ${deprecated.since}; use ${deprecated.use}`,
      );
    }
    const previous = seen.get(entry.key);
    if (previous !== undefined && SINGLE_VALUE_KEYS.has(entry.key)) {
      findings.warning(
        entry.line,
        `${entry.key}= is also set on line ${previous}; Quadlet uses the last value`,
      );
    }
    seen.set(entry.key, entry.line);
  }
}

function checkContainer(
  entries: UnitEntry[],
  version: PodmanVersion,
  names: Set<string>,
  referenced: Set<string>,
  findings: Findings,
): void {
  const image = entries.filter((entry) => entry.key === 'Image').pop();
  if (!image && !entries.some((entry) => entry.key === 'Rootfs')) {
    findings.error(0, 'missing Image= in [Container]');
  }
  if (image && (image.value === '' || /\s/.test(image.value))) {
    findings.error(image.line, `Image= "${image.value}" is not an image reference`);
  } else if (image && !isFullyQualified(image.value)) {
    findings.warning(
      image.line,
      `Image=${image.value} is a short name; podman may refuse it under short-name enforcement, so give the registry (docker.io/library/...)`,
    );
  }
  for (const entry of entries) {
    checkContainerEntry(entry, version, names, referenced, findings);
  }
}

function checkContainerEntry(
  entry: UnitEntry,
  version: PodmanVersion,
  names: Set<string>,
  referenced: Set<string>,
  findings: Findings,
): void {
  switch (entry.key) {
    case 'ContainerName':
      if (!CONTAINER_NAME.test(entry.value)) {
        findings.error(entry.line, `ContainerName=${entry.value} is not a valid container name`);
      }
      break;
    case 'Network':
      checkNetworkReference(entry, names, referenced, findings);
      break;
    case 'Volume':
      checkVolumeMount(entry, version, names, referenced, findings);
      break;
    case 'PublishPort':
      checkPublishPort(entry, findings);
      break;
    case 'ExposeHostPort':
      if (!isPortRange(entry.value)) {
        findings.error(entry.line, `ExposeHostPort=${entry.value} is not a port or port range`);
      }
      break;
    case 'EnvironmentFile':
      checkPath(entry, entry.value, 'EnvironmentFile', { relative: true }, findings);
      break;
    case 'Tmpfs':
      checkPath(entry, entry.value.split(':')[0], 'Tmpfs', { relative: false }, findings);
      break;
    case 'Exec':
    case 'HealthCmd':
      if (entry.value === '') {
        findings.error(entry.line, `${entry.key}= is empty`);
      }
      break;
    case 'PodmanArgs':
      if (!hasBalancedQuotes(entry.value)) {
        findings.error(entry.line, 'PodmanArgs= has an unclosed quote');
      }
      break;
  }
}

function checkNetworkReference(
  entry: UnitEntry,
  names: Set<string>,
  referenced: Set<string>,
  findings: Findings,
): void {
  const network = entry.value.split(':')[0];
  if (!network.endsWith('.network')) {
    return;
  }
  referenced.add(network);
  if (!names.has(network)) {
    findings.error(entry.line, `Network=${network} refers to a unit that is not in this folder`);
  }
}

function checkVolumeMount(
  entry: UnitEntry,
  version: PodmanVersion,
  names: Set<string>,
  referenced: Set<string>,
  findings: Findings,
): void {
  const parts = entry.value.split(':');
  if (parts.length > 3) {
    findings.error(entry.line, `Volume=${entry.value} has more than SOURCE:DEST:OPTIONS`);
    return;
  }
  const [source, destination, options] = parts.length === 1 ? ['', parts[0], ''] : parts;
  checkPath(entry, destination, 'Volume destination', { relative: false }, findings);
  for (const option of options ? options.split(',') : []) {
    if (!VOLUME_OPTIONS.has(option)) {
      findings.error(entry.line, `Volume= option "${option}" is not a known mount option`);
    }
  }
  if (source.endsWith('.volume')) {
    referenced.add(source);
    if (!names.has(source)) {
      findings.error(entry.line, `Volume=${source} refers to a unit that is not in this folder`);
    }
  } else if (source.startsWith('/') || source.startsWith('%')) {
    checkPath(entry, source, 'Volume source', { relative: false }, findings);
  } else if (source.startsWith('.')) {
    if (!isAtLeast(version, '4.5')) {
      findings.error(
        entry.line,
        `Volume source ${source} is relative, which needs podman 4.5 or newer; use an absolute path`,
      );
    }
  } else if (source !== '' && !CONTAINER_NAME.test(source)) {
    findings.error(entry.line, `Volume source "${source}" is neither a path nor a volume name`);
  }
}

function checkPath(
  entry: UnitEntry,
  path: string,
  what: string,
  rules: { relative: boolean },
  findings: Findings,
): void {
  const unquoted = path.replace(/^"(.*)"$/, '$1');
  if (unquoted === '') {
    findings.error(entry.line, `${what} is empty`);
    return;
  }
  // `%h`, `%t` and other systemd specifiers expand to absolute paths.
  const absolute = unquoted.startsWith('/') || unquoted.startsWith('%');
  if (!absolute && !rules.relative) {
    findings.error(entry.line, `${what} ${unquoted} is not an absolute path`);
  }
  // Quadlet splits some values on whitespace, so only a quoted path may contain it.
  if (/\s/.test(path) && !/^".*"$/.test(path)) {
    findings.error(entry.line, `${what} "${path}" contains whitespace; quote it`);
  }
  if (unquoted.split('/').includes('..')) {
    findings.error(entry.line, `${what} ${unquoted} contains a ".." segment`);
  }
}

function checkPublishPort(entry: UnitEntry, findings: Findings): void {
  const parts = splitPorts(entry.value.trim());
  if (parts.length > 3) {
    findings.error(entry.line, `PublishPort=${entry.value} is not [IP:][HOST_PORT:]CONTAINER_PORT`);
    return;
  }
  const containerPort = parts[parts.length - 1];
  const hostPort = parts.length >= 2 ? parts[parts.length - 2] : '';
  const address = parts.length === 3 ? parts[0].replace(/^\[(.*)\]$/, '$1') : '';
  if (!isPortRange(containerPort)) {
    findings.error(entry.line, `PublishPort container port "${containerPort}" is not a port`);
  }
  if (hostPort !== '' && !isPortRange(hostPort.replace(/\/(tcp|udp|sctp)$/, ''))) {
    findings.error(entry.line, `PublishPort host port "${hostPort}" is not a port`);
  }
  if (address !== '' && isIP(address) === 0) {
    findings.error(entry.line, `PublishPort address "${address}" is not an IP address`);
  }
}

/** Splits `IP:HOST:CONTAINER` on colons outside `[...]`, as Quadlet does for IPv6 addresses. */
function splitPorts(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  let bracket = false;
  for (const character of value) {
    if (character === ':' && !bracket) {
      parts.push(current);
      current = '';
      continue;
    }
    if (character === '[') {
      bracket = true;
    } else if (character === ']') {
      bracket = false;
    }
    current += character;
  }
  parts.push(current);
  return parts;
}

/** Returns true when `value` is a port or `LOW-HIGH` range from 1 to 65535, with an optional protocol. */
function isPortRange(value: string): boolean {
  const match = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(value);
  if (!match) {
    return false;
  }
  const low = Number(match[1]);
  const high = match[2] === undefined ? low : Number(match[2]);
  return low >= 1 && high <= 65535 && low <= high;
}

function hasBalancedQuotes(value: string): boolean {
  let quote: string | undefined;
  for (let index = 0; index < value.length; index++) {
    const character = value[index];
    if (character === '\\') {
      index++;
    } else if (quote === undefined && (character === '"' || character === "'")) {
      quote = character;
    } else if (character === quote) {
      quote = undefined;
    }
  }
  return quote === undefined;
}

function isFullyQualified(image: string): boolean {
  const first = image.split('/')[0];
  return (
    image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')
  );
}

function checkNetwork(entries: UnitEntry[], findings: Findings): void {
  for (const entry of entries) {
    if (entry.key === 'Subnet' && !isCidr(entry.value)) {
      findings.error(entry.line, `Subnet=${entry.value} is not a CIDR range such as 10.89.1.0/24`);
    }
    if (entry.key === 'Gateway' && isIP(entry.value) === 0) {
      findings.error(entry.line, `Gateway=${entry.value} is not an IP address`);
    }
  }
}

function isCidr(value: string): boolean {
  const [address, bits] = value.split('/');
  const family = isIP(address);
  const max = family === 6 ? 128 : 32;
  return family !== 0 && /^\d+$/.test(bits ?? '') && Number(bits) <= max;
}

function checkVolume(entries: UnitEntry[], version: PodmanVersion, findings: Findings): void {
  for (const entry of entries.filter((item) => item.key === 'User' || item.key === 'Group')) {
    // Before 4.8, Quadlet reads User= and Group= of a volume as numbers only.
    if (!/^\d+$/.test(entry.value) && !isAtLeast(version, '4.8')) {
      findings.error(
        entry.line,
        `${entry.key}=${entry.value} must be a numeric id before podman 4.8`,
      );
    }
  }
}

function checkService(entries: UnitEntry[], type: string, findings: Findings): void {
  for (const entry of entries) {
    if (entry.key === 'Restart' && !RESTART_VALUES.has(entry.value)) {
      findings.error(
        entry.line,
        `Restart=${entry.value} is not one of ${[...RESTART_VALUES].join(', ')}`,
      );
    }
    if (
      type === 'container' &&
      entry.key === 'Type' &&
      !['notify', 'oneshot'].includes(entry.value)
    ) {
      findings.error(
        entry.line,
        `Type=${entry.value}: Quadlet containers accept only notify or oneshot`,
      );
    }
    if (entry.key === 'KillMode' && !['mixed', 'control-group'].includes(entry.value)) {
      findings.error(
        entry.line,
        `KillMode=${entry.value}: Quadlet accepts only mixed or control-group`,
      );
    }
  }
}

/** Checks that `X.service` names in [Unit] dependencies come from units in this folder. */
function checkDependencies(entries: UnitEntry[], names: Set<string>, findings: Findings): void {
  for (const entry of entries.filter((item) => DEPENDENCY_KEYS.includes(item.key))) {
    for (const unit of entry.value.split(/\s+/).filter((name) => name.endsWith('.service'))) {
      if (!serviceSource(unit, names)) {
        findings.error(
          entry.line,
          `${entry.key}=${unit} refers to a service that no unit in this folder generates`,
        );
      }
    }
  }
}

/** Finds the Quadlet file that generates `service`: `a.service` from a.container, `a-network.service` from a.network. */
function serviceSource(service: string, names: Set<string>): string | undefined {
  const base = service.slice(0, -'.service'.length);
  const candidates = [`${base}.container`];
  if (base.endsWith('-network')) {
    candidates.push(`${base.slice(0, -'-network'.length)}.network`);
  }
  if (base.endsWith('-volume')) {
    candidates.push(`${base.slice(0, -'-volume'.length)}.volume`);
  }
  return candidates.find((candidate) => names.has(candidate));
}
