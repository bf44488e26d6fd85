import 'reflect-metadata';
import { injectable } from 'tsyringe';
import {
  type JsonSchema,
  PLUGIN_API_VERSION,
  PLUGIN_KINDS,
  type PluginDescriptor,
  type PluginKind,
  type PluginLookup,
  type PluginOfKind,
} from './plugin-api.js';
import type { RouteKind } from './routes/kind.js';
import type { DeliveryMode } from './webhooks/delivery.js';

/** A plugin that could not be registered, with the reason. */
export class PluginRegistrationError extends Error {
  constructor(
    readonly pluginName: string,
    message: string,
  ) {
    super(message);
    this.name = 'PluginRegistrationError';
  }
}

/** Checks the shape of a descriptor; returns the problems found, or none. */
export function describeDescriptorProblems(value: unknown): string[] {
  if (value === null || typeof value !== 'object') {
    return ['the export is not a plugin descriptor object'];
  }
  const descriptor = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof descriptor.name !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(descriptor.name)) {
    problems.push('"name" must be a lower-case name such as "my-provider"');
  }
  if (!PLUGIN_KINDS.includes(descriptor.kind as PluginKind)) {
    problems.push(`"kind" must be one of ${PLUGIN_KINDS.join(', ')}`);
  }
  if (descriptor.apiVersion !== PLUGIN_API_VERSION) {
    problems.push(
      `"apiVersion" is ${JSON.stringify(descriptor.apiVersion)} but this gateway implements ${PLUGIN_API_VERSION}`,
    );
  }
  const entry = descriptor.kind === 'policy' ? 'register' : 'create';
  if (typeof descriptor[entry] !== 'function') {
    problems.push(`a ${String(descriptor.kind)} plugin must export a "${entry}" function`);
  }
  if (descriptor.optionsSchema !== undefined && typeof descriptor.optionsSchema !== 'object') {
    problems.push('"optionsSchema" must be a JSON Schema object');
  }
  return problems;
}

/** Where a registered plugin came from, for messages and `/routes`. */
export type PluginSource = 'built-in' | string;

/**
 * The registries of one gateway instance: one per plugin kind, plus the route kinds. Created per
 * gateway in its own tsyringe container, so tests and reloads never share registrations.
 */
@injectable()
export class PluginRegistry implements PluginLookup {
  private readonly byKind = new Map<PluginKind, Map<string, PluginDescriptor>>();
  private readonly sources = new Map<PluginDescriptor, PluginSource>();
  private readonly routeKinds = new Map<string, RouteKind>();
  private readonly sections = new Map<string, JsonSchema>();
  private readonly deliveryModes = new Map<string, DeliveryMode>();

  constructor() {
    for (const kind of PLUGIN_KINDS) {
      this.byKind.set(kind, new Map());
    }
  }

  /** Adds a descriptor; throws {@link PluginRegistrationError} on a bad shape or a name clash. */
  register(value: unknown, source: PluginSource = 'built-in'): PluginDescriptor {
    const problems = describeDescriptorProblems(value);
    const name = String((value as { name?: unknown } | null)?.name ?? '<unnamed>');
    if (problems.length > 0) {
      throw new PluginRegistrationError(name, problems.join('; '));
    }
    const descriptor = value as PluginDescriptor;
    const registry = this.byKind.get(descriptor.kind)!;
    const existing = registry.get(descriptor.name);
    if (existing) {
      throw new PluginRegistrationError(
        descriptor.name,
        `a ${descriptor.kind} plugin named "${descriptor.name}" is already registered from ${this.sources.get(existing)}; rename one of them`,
      );
    }
    registry.set(descriptor.name, descriptor);
    this.sources.set(descriptor, source);
    return descriptor;
  }

  get<K extends PluginKind>(kind: K, name: string): PluginOfKind<K> | undefined {
    return this.byKind.get(kind)?.get(name) as PluginOfKind<K> | undefined;
  }

  list<K extends PluginKind>(kind: K): PluginOfKind<K>[] {
    return [...(this.byKind.get(kind)?.values() ?? [])] as PluginOfKind<K>[];
  }

  /** Finds a plugin of any kind by name, for "wrong kind" messages. */
  findAnyKind(name: string): PluginDescriptor | undefined {
    for (const registry of this.byKind.values()) {
      const found = registry.get(name);
      if (found) {
        return found;
      }
    }
    return undefined;
  }

  sourceOf(descriptor: PluginDescriptor): PluginSource {
    return this.sources.get(descriptor) ?? 'built-in';
  }

  /** Adds a route kind; the last kind without a discriminator is the default. */
  registerRouteKind(kind: RouteKind): void {
    if (this.routeKinds.has(kind.name)) {
      throw new PluginRegistrationError(
        kind.name,
        `route kind "${kind.name}" is already registered`,
      );
    }
    this.routeKinds.set(kind.name, kind);
  }

  routeKind(name: string): RouteKind | undefined {
    return this.routeKinds.get(name);
  }

  listRouteKinds(): RouteKind[] {
    return [...this.routeKinds.values()];
  }

  /** Picks the route kind for a route as written. */
  selectRouteKind(raw: Record<string, unknown>): RouteKind | undefined {
    const kinds = this.listRouteKinds();
    return (
      kinds.find(
        (kind) => kind.discriminator !== undefined && raw[kind.discriminator] !== undefined,
      ) ?? kinds.find((kind) => kind.discriminator === undefined)
    );
  }

  /** Adds a webhook delivery mode (`sync`, `queue`). */
  registerDeliveryMode(mode: DeliveryMode): void {
    if (this.deliveryModes.has(mode.name)) {
      throw new PluginRegistrationError(
        mode.name,
        `delivery mode "${mode.name}" is already registered`,
      );
    }
    this.deliveryModes.set(mode.name, mode);
  }

  deliveryMode(name: string): DeliveryMode | undefined {
    return this.deliveryModes.get(name);
  }

  listDeliveryModes(): DeliveryMode[] {
    return [...this.deliveryModes.values()];
  }

  /** Adds a top-level config section, such as `admin:` or `storage:`, with its schema. */
  registerConfigSection(name: string, schema: JsonSchema): void {
    this.sections.set(name, schema);
  }

  configSections(): Record<string, JsonSchema> {
    return Object.fromEntries(this.sections);
  }

  /** Options schema of a plugin, defaulting to "any object". */
  static optionsSchemaOf(descriptor: PluginDescriptor): JsonSchema {
    return descriptor.optionsSchema ?? { type: 'object' };
  }
}
