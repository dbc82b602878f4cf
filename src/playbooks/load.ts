import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../core/index.ts';
import { PLAYBOOK_FILES } from './registry.ts';
import { PLAYBOOK_SECTIONS, type PlaybookFrontMatter, playbookFrontMatterSchema } from './schema.ts';

/** A playbook as loaded: its validated front matter and its body's sections. */
export interface Playbook extends PlaybookFrontMatter {
  /** The file it came from, relative to the playbooks folder. */
  readonly file: string;
  /** Body sections by heading (`What it means`, …), Markdown without the heading. */
  readonly sections: Readonly<Record<(typeof PLAYBOOK_SECTIONS)[number], string>>;
}

/**
 * Loads and validates the registered playbooks from `dir`. Throws a {@link ConfigError} naming the
 * file and the field (`playbooks/spot-loss.md: match.root_cause_kinds.0: …`) on the first problem,
 * so a broken playbook stops startup rather than a 3 a.m. alert.
 */
export function loadPlaybooks(dir: string, files: readonly string[] = PLAYBOOK_FILES): Playbook[] {
  const playbooks = files.map((file) => {
    const where = `playbooks/${file}`;
    let text: string;
    try {
      text = readFileSync(path.join(dir, file), 'utf8');
    } catch (err) {
      throw new ConfigError(where, `cannot read: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    return parsePlaybook(file, text);
  });
  const seen = new Map<string, string>();
  for (const p of playbooks) {
    const other = seen.get(p.id);
    if (other) throw new ConfigError(`playbooks/${p.file}`, `id: "${p.id}" is also the id of ${other}`);
    seen.set(p.id, p.file);
  }
  const fallbacks = playbooks.filter((p) => p.match.fallback);
  if (fallbacks.length > 1) {
    throw new ConfigError(
      'playbooks',
      `more than one fallback playbook: ${fallbacks.map((p) => p.file).join(', ')}`,
    );
  }
  return playbooks;
}

/** Parses one playbook file's text. Exported for tests; `file` names it in errors. */
export function parsePlaybook(file: string, text: string): Playbook {
  const where = `playbooks/${file}`;
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n([\s\S]*)$/.exec(text);
  if (!m) throw new ConfigError(where, 'must start with YAML front matter between --- lines');
  let raw: unknown;
  try {
    raw = parseYaml(m[1]!);
  } catch (err) {
    throw new ConfigError(where, `front matter is not valid YAML: ${(err as Error).message}`);
  }
  const parsed = playbookFrontMatterSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join('.') || '(front matter)';
    const message =
      issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message;
    throw new ConfigError(where, `${field}: ${message}`);
  }
  const expectedId = path.basename(file, '.md');
  if (parsed.data.id !== expectedId) {
    throw new ConfigError(where, `id: "${parsed.data.id}" must be the file name, "${expectedId}"`);
  }
  return { ...parsed.data, file, sections: sectionsOf(where, m[2]!) };
}

function sectionsOf(where: string, body: string): Playbook['sections'] {
  const found = new Map<string, string>();
  const headings = [...body.matchAll(/^##\s+(.+?)\s*$/gm)];
  headings.forEach((h, i) => {
    const start = h.index! + h[0].length;
    const end = i + 1 < headings.length ? headings[i + 1]!.index! : body.length;
    found.set(h[1]!, body.slice(start, end).trim());
  });
  const sections = {} as Record<(typeof PLAYBOOK_SECTIONS)[number], string>;
  for (const name of PLAYBOOK_SECTIONS) {
    const content = found.get(name);
    if (!content) throw new ConfigError(where, `body: the section "## ${name}" is missing or empty`);
    sections[name] = content;
  }
  return sections;
}
