const MiB = 2 ** 20;

const UNIT_BYTES: Record<string, number> = { b: 1, k: 2 ** 10, m: MiB, g: 2 ** 30 };

/** The smallest `--memory` that deploy accepts: the gateway peaks at about 150 MiB under load. */
export const MIN_MEMORY = '192m';
export const MIN_MEMORY_BYTES = 192 * MiB;

/** Largest young-generation semi-space, in MiB: V8's own default on a 64-bit host. */
const MAX_SEMI_SPACE_MIB = 16;

/**
 * Parses a size in podman's `--memory` units (`512m`, `1g`, `65536k`, bytes without a unit,
 * units in either case). Returns undefined for anything else.
 */
export function parseMemorySize(size: string): number | undefined {
  const match = /^(\d+)([bkmg]?)$/i.exec(size);
  if (!match) {
    return undefined;
  }
  const unit = (match[2] ?? '').toLowerCase();
  return Number(match[1]) * (UNIT_BYTES[unit] ?? 1);
}

/**
 * Returns the Node flags that size V8's heap for a process with `memoryBytes` to itself.
 *
 * In a container, Node sizes its heap from the memory limit. It gives half of the limit to the old
 * generation, as these flags do, but in a 512 MiB container only 1 MiB to each semi-space. With
 * that young generation the proxy route served about a third fewer requests per second, so the
 * semi-space here is 1/32 of the memory, at most V8's 16 MiB host default.
 *
 * Outside a container, Node's heap limit follows the host's memory: 4 GiB on a 24 GiB host. With
 * that limit, old space grew from 29 to 87 MiB of mostly dead objects under webhook load before a
 * full collection ran. The smaller old generation set here makes V8 collect it much sooner.
 */
export function nodeHeapFlags(memoryBytes: number): string[] {
  const mib = Math.floor(memoryBytes / MiB);
  const oldSpace = Math.max(1, Math.floor(mib / 2));
  const semiSpace = Math.max(1, Math.min(MAX_SEMI_SPACE_MIB, Math.floor(mib / 32)));
  return [`--max-old-space-size=${oldSpace}`, `--max-semi-space-size=${semiSpace}`];
}

/** Returns {@link nodeHeapFlags} for a size in podman's units, and throws for an invalid size. */
export function nodeHeapFlagsForSize(size: string): string[] {
  const bytes = parseMemorySize(size);
  if (bytes === undefined) {
    throw new Error(`invalid memory size "${size}": expected a size such as 512m or 1g`);
  }
  return nodeHeapFlags(bytes);
}
