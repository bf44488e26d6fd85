import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { referencedVariables, substituteEnv } from '../../core/config/env.js';

/** Container path of the gateway config. */
export const CONTAINER_CONFIG_PATH = '/etc/pactown/gateway.yaml';
/** Container path of the data volume, unless the config names an absolute `storage.path`. */
export const DATA_MOUNT_PATH = '/var/lib/pactown';
/** The variable that the config copy reads `storage.path` from when deploy writes that key. */
export const STORAGE_VARIABLE = 'STORAGE_PATH';

/** Container path of the SQLite store, and the variables the unit sets for it. */
export interface StoragePlacement {
  /** Container path the data volume is mounted at. */
  mountPath: string;
  /** Non-secret variables that the container unit sets so `storage.path` resolves there. */
  environment: Record<string, string>;
}

/** The config as deploy writes it next to the units. */
export interface ConfigCopy {
  text: string;
  /** Every variable the copy references, in order of first use. */
  variables: string[];
  storage: StoragePlacement;
  /** Things the operator has to know or fix, one sentence each. */
  notes: string[];
}

/** Options of {@link prepareConfigCopy}. */
export interface ConfigCopyOptions {
  /** The file the config came from, named in the copy's header. */
  sourceName: string;
  tenant: string;
  /**
   * Whether this build of the gateway has a `storage:` config section. Deploy adds
   * `storage.path` only then, because the config schema rejects unknown top-level keys.
   */
  storageSection: boolean;
}

const WHOLE_REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}$/;

/**
 * Builds the config copy for the container: the source text unchanged, except that
 * `storage.path` is made to resolve on the data volume (see {@link placeStorage}).
 */
export function prepareConfigCopy(yaml: string, options: ConfigCopyOptions): ConfigCopy {
  const notes: string[] = [];
  const placed = placeStorage(yaml, options.storageSection, notes);
  notes.push(...pluginFileNotes(yaml));
  notes.push(...loopbackTargetNotes(yaml));
  const header = [
    `# Config of the ${options.tenant} gateway, copied from ${options.sourceName} by \`pactown quadlet deploy\`.`,
    `# The container reads it at ${CONTAINER_CONFIG_PATH}; secrets come from the .env file, never from here.`,
  ].join('\n');
  const text = `${header}\n${placed.text}`;
  return { text, variables: referencedVariables(text), storage: placed.storage, notes };
}

/**
 * Decides where the SQLite store goes. An absolute `storage.path` gets the volume mounted there.
 * A `${NAME}` reference gets NAME set to the mount path. A relative path, or none when the gateway
 * has a `storage:` section, becomes `${STORAGE_PATH:-<path>}`, so the copy still runs outside the
 * container, where STORAGE_PATH is unset.
 */
function placeStorage(
  yaml: string,
  storageSection: boolean,
  notes: string[],
): { text: string; storage: StoragePlacement } {
  const document = parseDocument(yaml);
  const node = document.getIn(['storage', 'path'], true);
  const value = isScalar(node) ? node.value : undefined;
  const onVolume = { mountPath: DATA_MOUNT_PATH, environment: {} };
  const redirected = {
    mountPath: DATA_MOUNT_PATH,
    environment: { [STORAGE_VARIABLE]: DATA_MOUNT_PATH },
  };

  if (typeof value !== 'string') {
    if (value !== undefined || !storageSection) {
      return { text: yaml, storage: onVolume };
    }
    return { text: addStoragePath(yaml, './data'), storage: redirected };
  }

  const reference = WHOLE_REFERENCE.exec(value);
  if (reference) {
    return {
      text: yaml,
      storage: { mountPath: DATA_MOUNT_PATH, environment: { [reference[1]]: DATA_MOUNT_PATH } },
    };
  }
  if (value.includes('${')) {
    notes.push(
      `storage.path "${value}" combines variables; make sure it resolves under ${DATA_MOUNT_PATH}, where the data volume is mounted`,
    );
    return { text: yaml, storage: onVolume };
  }
  if (value.startsWith('/')) {
    return { text: yaml, storage: { mountPath: value, environment: {} } };
  }
  document.setIn(['storage', 'path'], `\${${STORAGE_VARIABLE}:-${value}}`);
  notes.push(
    `storage.path "${value}" is relative, so the copy reads it from ${STORAGE_VARIABLE}, which the container sets to ${DATA_MOUNT_PATH}`,
  );
  return { text: document.toString(), storage: redirected };
}

/** Hosts that name the container itself once the config runs inside it. */
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0)$/i;

/**
 * Warns about route targets on a loopback address. Inside the container that address is the
 * container itself, not the host, so such a route would reach nothing.
 */
function loopbackTargetNotes(yaml: string): string[] {
  const routes = (parseDocument(yaml).toJS() as { routes?: unknown } | null)?.routes;
  if (!Array.isArray(routes)) {
    return [];
  }
  const notes: string[] = [];
  for (const [index, route] of routes.entries()) {
    for (const key of ['target', 'ws_target']) {
      const target = (route as Record<string, unknown> | null)?.[key];
      if (typeof target !== 'string' || target.includes('${')) {
        continue;
      }
      let host: string;
      try {
        host = new URL(target).host.replace(/:\d+$/, '');
      } catch {
        continue;
      }
      if (LOOPBACK_HOST.test(host)) {
        notes.push(
          `routes[${index}].${key} ${target} is a loopback address, which inside the container is the container itself; use the service's host name on the network, or host.containers.internal for a service on the host`,
        );
      }
    }
  }
  return notes;
}

/** Adds `storage.path` to config text, appending a section so the user's formatting stays. */
function addStoragePath(yaml: string, fallback: string): string {
  const document = parseDocument(yaml);
  const path = `\${${STORAGE_VARIABLE}:-${fallback}}`;
  if (isMap(document.get('storage', true))) {
    document.setIn(['storage', 'path'], path);
    return document.toString();
  }
  const separator = yaml.endsWith('\n') ? '' : '\n';
  return `${yaml}${separator}\n# Added by pactown quadlet deploy: the SQLite store lives on the data volume.\nstorage:\n  path: ${path}\n`;
}

/** Notes for `plugins:` entries that are file paths, which the container image does not contain. */
function pluginFileNotes(yaml: string): string[] {
  const plugins = parseDocument(yaml).get('plugins', true);
  if (!isSeq(plugins)) {
    return [];
  }
  return plugins.items
    .map((item) => (isScalar(item) ? String(item.value) : ''))
    .filter((specifier) => /^(\.{1,2}\/|\/)/.test(specifier))
    .map(
      (specifier) =>
        `plugin "${specifier}" is a file path, but the image holds only the gateway's own build; publish it as an npm package or copy it into the image`,
    );
}

/**
 * Returns the port the gateway listens on in the container: `server.port` when it is a number, or
 * the default of `${PORT:-N}`, else 8080. The deployer's own environment is not read.
 */
export function configuredPort(yaml: string): number {
  const node = parseDocument(yaml).getIn(['server', 'port'], true);
  const value = isScalar(node) ? node.value : undefined;
  const text = typeof value === 'string' ? substituteEnv(value, {}).value : value;
  const port = Number(text);
  return Number.isInteger(port) && port > 0 && port <= 65535 ? port : 8080;
}
