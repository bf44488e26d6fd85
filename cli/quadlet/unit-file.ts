/** Reading and writing systemd unit syntax, the format that Quadlet files use. */

/** One `Key=value` line of a unit file. */
export interface UnitEntry {
  key: string;
  value: string;
  /** 1-based line where the entry starts. */
  line: number;
}

/** One `[Name]` section with its entries in file order. */
export interface UnitSection {
  name: string;
  line: number;
  entries: UnitEntry[];
}

/** A line that is neither a comment, a section header nor a `Key=value` pair. */
export interface UnitSyntaxError {
  line: number;
  message: string;
}

/** A parsed unit file. */
export interface ParsedUnit {
  sections: UnitSection[];
  errors: UnitSyntaxError[];
}

/**
 * Parses unit file text the way systemd does: `#` and `;` start comments, a trailing backslash
 * continues the value on the next line, and keys are case-sensitive.
 */
export function parseUnit(text: string): ParsedUnit {
  const sections: UnitSection[] = [];
  const errors: UnitSyntaxError[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = index + 1;
    const trimmed = lines[index].trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) {
      continue;
    }
    const header = /^\[([^\]]+)\]$/.exec(trimmed);
    if (header) {
      sections.push({ name: header[1], line, entries: [] });
      continue;
    }
    const equals = trimmed.indexOf('=');
    if (equals <= 0) {
      errors.push({ line, message: `expected Key=value or [Section], got "${trimmed}"` });
      continue;
    }
    let value = trimmed.slice(equals + 1).trim();
    // systemd joins a line that ends in a backslash with the next one, separated by a space.
    while (value.endsWith('\\') && index + 1 < lines.length) {
      index++;
      value = `${value.slice(0, -1)} ${lines[index].trim()}`.trim();
    }
    const section = sections[sections.length - 1];
    if (!section) {
      errors.push({ line, message: 'entry before the first [Section] header' });
      continue;
    }
    section.entries.push({ key: trimmed.slice(0, equals).trim(), value, line });
  }
  return { sections, errors };
}

/** A section to render, with `[key, value]` entries in order and plain strings as comment lines. */
export interface SectionSpec {
  name: string;
  entries: ([key: string, value: string] | string)[];
}

/** Renders a unit file: header comments, then each section separated by a blank line. */
export function renderUnit(header: string[], sections: SectionSpec[]): string {
  const blocks = sections.map((section) => {
    const lines = [`[${section.name}]`];
    for (const entry of section.entries) {
      lines.push(typeof entry === 'string' ? `# ${entry}` : `${entry[0]}=${entry[1]}`);
    }
    return lines.join('\n');
  });
  const top = header.map((comment) => `# ${comment}`).join('\n');
  return `${top}\n\n${blocks.join('\n\n')}\n`;
}
