import { DeployError } from './errors.js';

/** The config found in a Markdown file. */
export interface FencedConfig {
  text: string;
  /** 1-based line of the block's first content line in the Markdown file. */
  line: number;
}

interface FencedBlock extends FencedConfig {
  info: string;
  /** 1-based line of the opening fence. */
  fenceLine: number;
  closed: boolean;
}

// CommonMark: up to three spaces of indentation, then three or more backticks or tildes.
const OPENING_FENCE = /^( {0,3})(`{3,}|~{3,})(.*)$/;

/** Lists the fenced code blocks of a CommonMark document with their info strings. */
function fencedBlocks(markdown: string): FencedBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: FencedBlock[] = [];
  let index = 0;
  while (index < lines.length) {
    const open = OPENING_FENCE.exec(lines[index]);
    // A backtick fence's info string may not contain a backtick, so "```a```" is inline code.
    if (!open || (open[2][0] === '`' && open[3].includes('`'))) {
      index++;
      continue;
    }
    const [, indent, fence, info] = open;
    const closing = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    const content: string[] = [];
    const fenceLine = index + 1;
    index++;
    while (index < lines.length && !closing.test(lines[index])) {
      content.push(stripIndent(lines[index], indent.length));
      index++;
    }
    const closed = index < lines.length;
    index++;
    const text = content.length > 0 ? `${content.join('\n')}\n` : '';
    blocks.push({ info: info.trim(), text, line: fenceLine + 1, fenceLine, closed });
  }
  return blocks;
}

function stripIndent(line: string, width: number): string {
  let removed = 0;
  while (removed < width && line[removed] === ' ') {
    removed++;
  }
  return line.slice(removed);
}

/**
 * Returns true when an info string marks the gateway config: language `yaml` (or `yml`) and the file name
 * `routes.yaml`, written as a word or as `title=`, `file=` or `filename=`.
 */
export function isConfigInfo(info: string): boolean {
  const [language, ...words] = info.split(/\s+/);
  if (!['yaml', 'yml'].includes(language?.toLowerCase() ?? '')) {
    return false;
  }
  return words.some((word) => /^(?:(?:title|file|filename)=)?(["']?)routes\.yaml\1$/.test(word));
}

/**
 * Extracts the gateway config from the one fenced block marked ```` ```yaml routes.yaml ```` in
 * `markdown`. Throws a {@link DeployError} when there is none, more than one, or it is not closed.
 */
export function extractFencedConfig(markdown: string, file: string): FencedConfig {
  const blocks = fencedBlocks(markdown).filter((block) => isConfigInfo(block.info));
  if (blocks.length === 0) {
    throw new DeployError(
      `${file}: fenced \`\`\`yaml routes.yaml block not found; mark the block that holds the config with \`\`\`yaml routes.yaml`,
    );
  }
  if (blocks.length > 1) {
    const lines = blocks.map((block) => block.fenceLine).join(', ');
    throw new DeployError(
      `${file}: ${blocks.length} \`\`\`yaml routes.yaml blocks found (lines ${lines}); keep the marker on one of them`,
    );
  }
  const [block] = blocks;
  if (!block.closed) {
    throw new DeployError(
      `${file}:${block.fenceLine}: the \`\`\`yaml routes.yaml block is never closed; end it with a fence line`,
    );
  }
  if (block.text.trim() === '') {
    throw new DeployError(`${file}:${block.fenceLine}: the \`\`\`yaml routes.yaml block is empty`);
  }
  return { text: block.text, line: block.line };
}
