/**
 * Masking: one log line to a sequence of tokens in which the parts that vary between two
 * occurrences of the same statement (numbers, ids, addresses, paths, hashes, timestamps…) are
 * written `<*>`. No per-source configuration: the rules are about the shape of a token, not about
 * any particular log.
 *
 * The output follows the Loghub-2.0 template conventions (Khan et al., ICSE 2022; Jiang et al.,
 * ISSTA 2024), so that templates compare with published ground truth: a whole identifier is one
 * variable (`blk_-42` → `<*>`, not `blk_<*>`), structure around variables is kept
 * (`/10.0.0.1:50010` → `<*>:<*>`, `<memory:1024,` → `<memory:<*>,`), paths and URLs with
 * variable parts are one variable after their scheme, and variables glued together collapse
 * into one.
 *
 * This runs on every line, so the common case (a word with no digit, slash or dot) costs one
 * table lookup per character.
 */

export const WILDCARD = '<*>';

// Character classes (ASCII); anything above 127 is a plain letter.
const SPACE = 1;
const DIGIT = 2;
const SLASH = 4; // `/` and `\`
const DOT = 8;
/** Splits a token into pieces; the separator is kept. */
const SEPARATOR = 16;
/** Loghub-2.0 delimiters: a variable glued to anything else absorbs it (`blk_<*>` → `<*>`). */
const DELIMITER = 32;
const LETTER = 64;
/** Separators that are not delimiters: a variable next to one is glued to it (`<*>>`). */
const GLUE = 128;

const CLASS = new Uint8Array(128);
for (const ch of ' \t\n\r\v\f') CLASS[ch.charCodeAt(0)]! |= SPACE | DELIMITER;
for (let c = 48; c <= 57; c++) CLASS[c]! |= DIGIT;
for (let c = 65; c <= 90; c++) CLASS[c]! |= LETTER;
for (let c = 97; c <= 122; c++) CLASS[c]! |= LETTER;
for (const ch of '/\\') CLASS[ch.charCodeAt(0)]! |= SLASH;
CLASS[46]! |= DOT;
for (const ch of ',;:=|()[]{}<>"\'`@#+%&!?') CLASS[ch.charCodeAt(0)]! |= SEPARATOR;
for (const ch of ',!;:=|"\'[](){}.-+@#$%&/') CLASS[ch.charCodeAt(0)]! |= DELIMITER;
for (const ch of '<>`?') CLASS[ch.charCodeAt(0)]! |= GLUE;

function classOf(c: number): number {
  return c < 128 ? CLASS[c]! : unicodeClass(c);
}

/** Above ASCII: Unicode spaces split tokens, everything else is a letter-like character. */
function unicodeClass(c: number): number {
  const space =
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff;
  return space ? SPACE | DELIMITER : 0;
}

const TOP_LEVEL_DOMAINS = new Set(
  'com net org edu gov mil int io co uk de fr jp cn hk tw kr ru br in au ca nl se ch it es eu us info biz local localdomain internal lan corp home arpa'.split(
    ' ',
  ),
);
/** Programs and libraries (`chrome.exe`, `libfoo.so`): which one is a value, like a host name. */
const PROGRAM_EXTENSIONS = new Set('exe dll sys so dylib msi bat cmd ps1 sh py pyc jar'.split(' '));

/** After the last dot: a top-level domain or a program's extension, so the token is a name. */
function isNameSuffix(suffix: string): boolean {
  const s = suffix.toLowerCase();
  return TOP_LEVEL_DOMAINS.has(s) || PROGRAM_EXTENSIONS.has(s);
}

const LITERAL = /true|false|null/i;
const LITERALS = new Set(['true', 'false', 'null']);

/**
 * Dates written with month or weekday names (`Sat Jun 25 04:07:27 2005`, `Jun 25 04:07:27`,
 * `25/Jun/2005:04:07:27 +0800`): one variable, or their words would split one statement into many.
 */
const NAMED_DATE = new RegExp(
  [
    String.raw`\b(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},?(?:\s+\d{4})?(?:\s+\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?(?:\s+(?:[A-Z]{3,4}|[+-]\d{4}))?(?:\s+\d{4})?\b`,
    String.raw`\b\d{1,2}[/-](?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[/-]\d{4}(?::\d{2}:\d{2}:\d{2})?(?:\s+[+-]\d{4})?`,
  ].join('|'),
  'g',
);
const HAS_MONTH = /Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec/;
const CLOCK = /\d{1,2}(:\d{2}){1,2}/;
const ZONE = /\s([A-Z]{3,4})(?:\s+\d{4})?$/;

/**
 * A named date is one value, written as its clock when it has one (`Fri Jun 17 07:07:00 2005` →
 * `<*>:<*>:<*>`, the words and numbers beside the clock glued to its first and last variables),
 * as every other clock is written; a time zone word stays (`… 09:04:50 EDT 2004` →
 * `<*>:<*>:<*> EDT <*>`).
 */
function maskNamedDate(date: string): string {
  const clock = CLOCK.exec(date);
  if (!clock) return WILDCARD;
  const time = clock[0].replace(/\d+/g, WILDCARD);
  const zone = ZONE.exec(date);
  if (!zone) return time;
  return `${time} ${zone[1]}${zone[0].length > zone[1]!.length + 1 ? ` ${WILDCARD}` : ''}`;
}

/** `5.2 KB`: a size is one quantity, the unit belongs to the value. */
const SIZE_UNIT = /^(?:[KMGTPE]i?B|B)([,;.)\]]*)$/;

/**
 * Splits `line` on whitespace and masks each token. At most `maxTokens` tokens are kept; the rest
 * of a longer line becomes one trailing variable.
 */
export function maskLine(line: string, maxTokens = 128): string[] {
  const text = HAS_MONTH.test(line) ? line.replace(NAMED_DATE, maskNamedDate) : line;
  const literals = LITERAL.test(text);
  const out: string[] = [];
  const len = text.length;
  let i = 0;
  while (i < len) {
    let c = text.charCodeAt(i);
    let cls = c < 128 ? CLASS[c]! : unicodeClass(c);
    while (cls & SPACE && ++i < len) {
      c = text.charCodeAt(i);
      cls = c < 128 ? CLASS[c]! : unicodeClass(c);
    }
    if (i >= len) break;
    if (out.length === maxTokens) {
      out[maxTokens - 1] = WILDCARD;
      break;
    }
    const start = i;
    let seen = 0;
    let lastDot = -1;
    for (;;) {
      seen |= cls;
      if (cls & DOT) lastDot = i;
      if (++i >= len) break;
      c = text.charCodeAt(i);
      cls = c < 128 ? CLASS[c]! : unicodeClass(c);
      if (cls & SPACE) break;
    }
    const token = text.slice(start, i);
    out.push(needsWork(token, seen, lastDot - start, literals) ? maskClassified(token, seen) : token);
  }
  mergeSizeUnits(out);
  collapseLists(out);
  return out;
}

/** Whether a token may hold a variable: a digit, a path, a host name or a boolean/null literal. */
function needsWork(token: string, seen: number, lastDot: number, literals: boolean): boolean {
  if (seen & (DIGIT | SLASH)) return true;
  if (seen & DOT && lastDot > 0 && isNameSuffixAt(token, lastDot + 1)) return true;
  return literals && token.length >= 4 && LITERAL.test(token);
}

function isNameSuffixAt(token: string, from: number): boolean {
  let end = from;
  while (end < token.length && classOf(token.charCodeAt(end)) & (LETTER | DIGIT)) end++;
  return end - from >= 2 && isNameSuffix(token.slice(from, end));
}

function mergeSizeUnits(tokens: string[]): void {
  for (let i = 0; i < tokens.length - 1; i++) {
    if (!tokens[i]!.endsWith(WILDCARD)) continue;
    const m = SIZE_UNIT.exec(tokens[i + 1]!);
    if (!m) continue;
    tokens[i] += m[1]!;
    tokens.splice(i + 1, 1);
  }
}

/**
 * Three or more variables, or numbered names of one name, in a row are a list of values
 * (`delete blk_1 blk_2 blk_3 …`, `name an14 an15 … an128`) whose length varies from line to
 * line: one variable.
 */
function collapseLists(tokens: string[]): void {
  for (let i = 0; i + 2 < tokens.length; i++) {
    const stem = listStem(tokens[i]!);
    if (stem === null) continue;
    let j = i + 1;
    let named = stem;
    for (; j < tokens.length; j++) {
      const next = listStem(tokens[j]!);
      if (next === null || (next !== '' && named !== '' && next !== named)) break;
      if (next !== '') named = next;
    }
    if (j - i < 3) continue;
    tokens[i] = WILDCARD;
    tokens.splice(i + 1, j - i - 1);
  }
}

const NUMBERED_NAME = /^([A-Za-z]+)\d+$/;

/**
 * What makes a token an item of a list of values: `''` for a variable, the name for a numbered
 * name (`an14 an15 … an128`, `node7 node8`: one name, numbered), null for anything else.
 */
function listStem(token: string): string | null {
  if (token === WILDCARD) return '';
  const m = NUMBERED_NAME.exec(token);
  return m ? m[1]! : null;
}

/** Masks one whitespace-free token. */
export function maskToken(token: string): string {
  let seen = 0;
  for (let i = 0; i < token.length; i++) seen |= classOf(token.charCodeAt(i));
  return maskClassified(token, seen);
}

/** `seen`: the union of the classes of the token's characters. */
function maskClassified(token: string, seen: number): string {
  if (!(seen & (SEPARATOR | SLASH))) return maskAtom(token); // one atom: nothing to split or glue
  if (seen & DIGIT && token.includes(':')) {
    const unglued = token.replace(HEX_ADDRESS, hexAddress);
    if (unglued !== token) return maskClassified(unglued, seen | GLUE);
  }
  const masked = (seen & SLASH && maskUrl(token)) || maskPieces(token, seen);
  // Only `<`, `>`, `` ` `` and `?` split pieces without being delimiters, so only they can glue.
  return seen & GLUE && masked !== token ? canonicalToken(masked) : masked;
}

/** Three or more hex groups joined by colons: a MAC, PCI or IPv6 address, or a clock. */
const HEX_ADDRESS = /(?<![\w:.])[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){2,}(?:\.[0-9A-Fa-f]+)?(?![\w:])/g;
/** `hh:mm`, `hh:mm:ss`, `hh:mm:ss.fff`: a clock keeps its colons. */
const CLOCK_TIME = /^\d{1,2}(?::\d{2}){1,2}(?:\.\d+)?$/;

/** An address (its groups are one value) is one variable; a clock is left to the pieces. */
function hexAddress(text: string): string {
  return CLOCK_TIME.test(text) ? text : WILDCARD;
}

const SCHEME_CHAR = /[A-Za-z0-9+.-]/;
const URL_TRAILER = /[)\]}'",;.>]/;
const HAS_DIGIT = /\d/;
const HOST_PORT = /^([^/@:]+):(\d+)$/;

/**
 * `scheme://rest`: the rest is one variable when it has digits (an address, a path with ids);
 * `host:port` alone keeps its colon. A URL without digits is a constant (a documentation link).
 */
function maskUrl(token: string): string | null {
  const sep = token.indexOf('://');
  if (sep <= 0) return null;
  let start = sep;
  while (start > 0 && SCHEME_CHAR.test(token[start - 1]!)) start--;
  if (start === sep) return null;
  let end = token.length;
  while (end > sep + 3 && URL_TRAILER.test(token[end - 1]!)) end--;
  const rest = token.slice(sep + 3, end);
  if (!HAS_DIGIT.test(rest)) return token;
  const hostPort = HOST_PORT.exec(rest);
  const body = hostPort ? `${maskAtom(hostPort[1]!)}:${WILDCARD}` : WILDCARD;
  return `${maskPieces(token.slice(0, start), SLASH)}${token.slice(start, sep + 3)}${body}${token.slice(end)}`;
}

function maskPieces(token: string, seen: number): string {
  if (!(seen & SEPARATOR)) return maskPiece(token, seen);
  let out = '';
  let pieceStart = 0;
  const len = token.length;
  for (let i = 0; i < len; i++) {
    if (!(classOf(token.charCodeAt(i)) & SEPARATOR)) continue;
    if (i > pieceStart) out += maskPiece(token.slice(pieceStart, i), seen);
    out += token[i];
    pieceStart = i + 1;
  }
  if (pieceStart < len) out += maskPiece(token.slice(pieceStart), seen);
  return out;
}

/** A piece has no separator; it may still be a path (`/a/b`, `C:\x`) or have `/` inside. */
function maskPiece(piece: string, seen: number): string {
  if (!(seen & SLASH)) return maskAtom(piece);
  const slash = piece.indexOf('/');
  if (slash < 0) return piece.includes('\\') ? WILDCARD : maskAtom(piece);
  if (piece.includes('\\') || isPath(piece)) return WILDCARD;
  return piece
    .split('/')
    .map((segment) => (segment === '' ? segment : maskAtom(segment)))
    .join('/');
}

function isPath(piece: string): boolean {
  if (piece.length < 2) return false;
  if (piece[0] === '/') return piece[1] !== '/';
  return piece.startsWith('./') || piece.startsWith('../') || piece.startsWith('~/');
}

/** An atom: no separators, no slashes. */
function maskAtom(atom: string): string {
  let end = atom.length;
  while (end > 0 && atom.charCodeAt(end - 1) === 46) end--;
  if (end === 0) return atom;
  // `.......1` after a key: the dots lead to the value and stay.
  if (atom.charCodeAt(0) === 46) return `.${maskAtom(atom.slice(1))}`;
  const tail = end === atom.length ? '' : atom.slice(end);
  // The most common variable by far: a number or an id that starts with a digit.
  if (classOf(atom.charCodeAt(0)) & DIGIT) return WILDCARD + tail;
  let digits = 0;
  let longestRun = 0;
  let run = 0;
  let leadingLetters = 0; // letters before the first non-letter
  let firstOther = -1;
  for (let i = 0; i < end; i++) {
    const cls = classOf(atom.charCodeAt(i));
    if (cls & DIGIT) {
      digits++;
      if (++run > longestRun) longestRun = run;
    } else run = 0;
    if (firstOther < 0) {
      if (cls & LETTER) leadingLetters++;
      else firstOther = i;
    }
  }
  const core = tail === '' ? atom : atom.slice(0, end);
  if (digits === 0) {
    return LITERALS.has(core.toLowerCase()) || isHostOrProgramName(core) ? WILDCARD + tail : atom;
  }
  if (leadingLetters === 0) return WILDCARD + tail;
  // `jetty-6.1.26`, `BP-1347369012-10.0.0.1`, `node-7`: a name, then the value.
  if (leadingLetters >= 2 && core.charCodeAt(firstOther) === 45) {
    // The name's next word must hold a digit: `node-7`, `MININT-FNANLI5`, not `msra-sa-41`.
    for (let i = firstOther + 1; i < core.length; i++) {
      const cls = classOf(core.charCodeAt(i));
      if (cls & DIGIT) return `${core.slice(0, firstOther)}-${WILDCARD}${tail}`;
      if (!(cls & LETTER)) break;
    }
  }
  if (longestRun <= 2 && isIdentifierWithIncidentalDigits(core)) return atom;
  const dot = core.indexOf('.');
  // `core.2275`, `alignment.....0`: a word, then a value after a dot; the word stays.
  if (dot > 0 && dot === firstOther) return canonicalToken(core.split('.').map(maskSegment).join('.')) + tail;
  return WILDCARD + tail;
}

function maskSegment(segment: string): string {
  return segment === '' ? segment : maskAtom(segment);
}

/**
 * Names whose digits are part of the name, not a value: `log4j`, `Slf4jLogger`, `s3a`, `k8s`,
 * `HttpServer2`, `jk2_init`, and qualified names with a version segment
 * (`org.apache.hadoop.mapreduce.v2.api.Foo`). A value that looks like this (`node3`) still
 * becomes a variable once several values are seen at the same place, as a word does (see the miner).
 */
function isIdentifierWithIncidentalDigits(core: string): boolean {
  let dots = 0;
  for (let i = 0; i < core.length; i++) if (core.charCodeAt(i) === 46) dots++;
  let start = 0;
  for (let i = 0; i <= core.length; i++) {
    if (i < core.length && !SEGMENT_BREAK.has(core.charCodeAt(i))) continue;
    if (!isIncidentalSegment(core, start, i, dots >= 2)) return false;
    start = i + 1;
  }
  return true;
}

/** `.`, `$`, `_`, `-` */
const SEGMENT_BREAK = new Set([46, 36, 95, 45]);

/**
 * A segment without digits, `Slf4jLogger`/`s3a` (letters, one or two digits, letters),
 * `HttpServer2` (two or more letters, one digit), `L2`/`C1` (a letter and a digit: a level, a
 * state, a unit), or in a qualified name `v2`.
 */
function isIncidentalSegment(s: string, from: number, to: number, qualified: boolean): boolean {
  let lead = 0;
  let i = from;
  while (i < to && classOf(s.charCodeAt(i)) & LETTER) {
    lead++;
    i++;
  }
  if (i === to) return true;
  let digits = 0;
  while (i < to && classOf(s.charCodeAt(i)) & DIGIT) {
    digits++;
    i++;
  }
  if (lead === 0 || digits === 0 || digits > 2) return false;
  if (i === to)
    return digits === 1 && (lead >= 2 || to - from === 2 || (qualified && s.charCodeAt(from) === 118));
  while (i < to && classOf(s.charCodeAt(i)) & LETTER) i++;
  return i === to;
}

const DOMAIN_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+$/;

/**
 * `www.example.com`, `proxy.cse.cuhk.edu.hk` (a host name, not a Java package like
 * `org.apache.Foo`), `chrome.exe` (a program).
 */
function isHostOrProgramName(core: string): boolean {
  const dot = core.lastIndexOf('.');
  if (dot <= 0 || !isNameSuffix(core.slice(dot + 1))) return false;
  return DOMAIN_NAME.test(core);
}

const GLUED = /[^\s,!;:=|"'[\](){}.\-+@#$%&/]*<\*>[^\s,!;:=|"'[\](){}.\-+@#$%&/]*/g;

/**
 * The canonical form of a token that contains variables: a run of text glued to a variable
 * (`blk_<*>`, `<*>ms`, `<*>>`) is one variable, and `<*>.<*>` or `<*><*>` collapse into one.
 */
export function canonicalToken(token: string): string {
  if (!hasGlue(token)) return token;
  let t = token.replace(GLUED, WILDCARD);
  for (;;) {
    const next = t.replaceAll('<*>.<*>', WILDCARD).replaceAll('<*><*>', WILDCARD);
    if (next === t) return t;
    t = next;
  }
}

/** Whether some `<*>` in `token` touches a non-delimiter, or two are joined by a dot. */
function hasGlue(token: string): boolean {
  for (let at = token.indexOf(WILDCARD); at >= 0; at = token.indexOf(WILDCARD, at + 3)) {
    if (at > 0 && !(classOf(token.charCodeAt(at - 1)) & DELIMITER)) return true;
    const after = at + 3;
    if (after < token.length) {
      const c = token.charCodeAt(after);
      if (!(classOf(c) & DELIMITER)) return true;
      if (c === 46 && token.startsWith(WILDCARD, after + 1)) return true;
    }
  }
  return false;
}
