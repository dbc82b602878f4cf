import { stableId } from '../core/index.ts';
import { canonicalToken, maskLine, WILDCARD } from './mask.ts';

/**
 * An online log template miner: every line is reduced to a template (its constant words, with the
 * parts that vary written `<*>`), in one pass, with bounded memory.
 *
 * How a line finds its template:
 *
 * 1. **Masking** (`mask.ts`) replaces what is variable by its shape: numbers, ids, addresses,
 *    paths, hashes, timestamps. Most lines are then already identical to earlier ones, and an
 *    exact lookup of the masked line finds the cluster (the fast path).
 * 2. Otherwise the line is compared with the clusters that have the same number of tokens and
 *    the same first token, then with those of its length whose first token is a variable (see
 *    5). A cluster accepts the line when at least half of the positions are identical and every
 *    other position is *compatible*: the cluster already has a variable there that covers the
 *    line's token, or the two tokens differ in a part that is a number or a variable, or they
 *    share a long common prefix ending at punctuation (`CONTAINER_REMOTE_LAUNCH` and
 *    `CONTAINER_REMOTE_CLEANUP`, `environment:user.dir=/` and `environment:os.name=Linux`).
 *    Two different words at the same position (`from RUNNING to FAILED` and `from NEW to
 *    SCHEDULED`, `user=root` and `user=guest`, `en0` and `awdl0`) are not merged: a handful of
 *    such words are different statements far more often than not.
 * 3. Accepting a line may generalise the cluster's template: positions that varied become
 *    variables (this is the position-wise variable detection across the lines of one cluster).
 *    A generalised cluster takes over the clusters of its bucket that it now covers.
 * 4. A new cluster that differs from earlier ones in one plain word only (`session opened for
 *    user alice|bob|carol|dave`) makes that position a variable once four distinct words have
 *    been seen there; the clusters become one.
 * 5. The first token is often a program, unit or host name in front of the statement
 *    (`com.apple.xpc.launchd: …`, `QQ(<*>) deny …`). A new cluster equal to others but for its
 *    first token merges with them when the names share a long stem, or once four distinct names
 *    have been seen, provided at least three constant words follow (in `boot (command <*>)` and
 *    `wait (command <*>)` the first word is the statement). The merged cluster is then compared
 *    with lines of any first token.
 *
 * Identity: a cluster's id is a hash of its template *as first seen* and does not change when the
 * template generalises, so ids stay stable for the life of the miner. When clusters become one,
 * the most used (then the oldest) keeps its id, and the others' `LogTemplate`s forward to it. A
 * cluster evicted and later re-created gets the id of the template it is re-created with.
 *
 * Memory: at most `maxTemplates` clusters. When there are more, the least useful tenth is evicted
 * (clusters seen once first, then the least recently seen), so memory stays bounded however many
 * distinct lines arrive. The exact-lookup cache is bounded too.
 */
export interface TemplateMinerConfig {
  /**
   * Most templates kept; beyond this the rarest and least recently seen are evicted.
   * @defaultValue 5000
   */
  readonly maxTemplates?: number;
  /**
   * Lines are cut to this many characters before mining.
   * @defaultValue 4096
   */
  readonly maxLineLength?: number;
  /**
   * Most tokens considered per line; the remainder of a longer line is one trailing variable.
   * @defaultValue 128
   */
  readonly maxTokens?: number;
  /**
   * Distinct plain words seen at one position, all else equal, that make the position a variable.
   * @defaultValue 4
   */
  readonly distinctWordsForVariable?: number;
  /**
   * Constant words a statement must have after its first token for that token to become a
   * variable (a program or host name in front); shorter statements are told apart by it.
   * @defaultValue 3
   */
  readonly constantWordsAfterName?: number;
  /**
   * Lines after which a template's words are settled: a line that differs in one of them, even
   * by a number, is another statement rather than a new value.
   * @defaultValue 16
   */
  readonly settledAfter?: number;
}

/** A mined template, as the miner currently knows it. */
export interface LogTemplate {
  /** Stable for the cluster's life: a hash of the template as first seen. */
  readonly id: string;
  /** The template text: tokens separated by single spaces, variables written `<*>`. */
  readonly template: string;
  readonly tokens: readonly string[];
  /** Lines matched. */
  readonly count: number;
  /** Time of the first and of the latest line matched, as given to `add`. */
  readonly firstSeen: number;
  readonly lastSeen: number;
}

export interface MineResult {
  readonly template: LogTemplate;
  /** The line started a new template. */
  readonly created: boolean;
  /** The line made an existing template more general (some position became a variable). */
  readonly generalised: boolean;
}

class Cluster implements LogTemplate {
  readonly ownId: string;
  /** Where it is compared: `bucketOf` its tokens, or its length's open bucket (`openBucketOf`). */
  bucket: string;
  slots: string[];
  hits = 0;
  first: number;
  last: number;
  /** Miner sequence number of the latest hit, for recency. */
  touched = 0;
  evicted = false;
  /** Set when a more general cluster took this one over; readers are forwarded to it. */
  absorbedInto: Cluster | null = null;
  #text: string | null = null;

  /** Tokens after the first, as first seen: finds the clusters that differ only in their first. */
  rest = '';

  constructor(id: string, bucket: string, tokens: string[], time: number) {
    this.ownId = id;
    this.bucket = bucket;
    this.slots = tokens;
    this.first = time;
    this.last = time;
  }

  /** The cluster that currently stands for this one (itself unless absorbed). */
  live(): Cluster {
    let c: Cluster = this;
    while (c.absorbedInto) c = c.absorbedInto;
    return c;
  }

  get id(): string {
    return this.live().ownId;
  }
  get template(): string {
    const c = this.live();
    c.#text ??= c.slots.join(' ');
    return c.#text;
  }
  get tokens(): readonly string[] {
    return this.live().slots;
  }
  get count(): number {
    return this.live().hits;
  }
  get firstSeen(): number {
    return this.live().first;
  }
  get lastSeen(): number {
    return this.live().last;
  }

  generalise(position: number, token: string): void {
    this.slots[position] = token;
    this.#text = null;
  }

  absorb(other: Cluster): void {
    other.absorbedInto = this;
    this.hits += other.hits;
    if (other.first < this.first) this.first = other.first;
    if (other.last > this.last) this.last = other.last;
    if (other.touched > this.touched) this.touched = other.touched;
  }
}

const DEFAULTS = { maxTemplates: 5000, maxLineLength: 4096, maxTokens: 128, maxPerBucket: 256 } as const;

/** What a miner has learnt, as plain data: its templates and its clock of lines. */
export interface MinerSnapshot {
  readonly lines: number;
  /** Least recently matched first. */
  readonly templates: readonly {
    readonly id: string;
    readonly tokens: readonly string[];
    readonly count: number;
    readonly firstSeen: number;
    readonly lastSeen: number;
    /** The miner's line number at its latest match (recency, for eviction). */
    readonly touched: number;
    /**
     * Its first token became a variable over lines that differed there (a program or host name):
     * it is compared with lines of any first token. Absent in snapshots from before it existed.
     */
    readonly openFirst?: boolean;
  }[];
}

/**
 * Distinct plain words seen at one position, all else equal, that make the position a variable
 * (`session opened for user alice|bob|carol|dave`). Fewer stay distinct templates: a handful of
 * states (`from RUNNING to FAILED`, `LOOKING|FOLLOWING|LEADING`) are different statements.
 */
const DISTINCT_WORDS_FOR_VARIABLE = 4;

/** See `TemplateMinerConfig.constantWordsAfterName`. */
const CONSTANT_WORDS_AFTER_NAME = 3;

/** See `TemplateMinerConfig.settledAfter`. */
const SETTLED_AFTER = 16;

export class TemplateMiner {
  readonly #maxTemplates: number;
  readonly #maxLineLength: number;
  readonly #maxTokens: number;
  readonly #maxCached: number;
  readonly #distinctWords: number;
  readonly #minRest: number;
  readonly #settledAfter: number;
  readonly #clusters = new Map<string, Cluster>();
  /** Masked line → cluster: the fast path. Bounded; entries of evicted clusters are dropped lazily. */
  readonly #exact = new Map<string, Cluster>();
  /** `tokenCount \0 firstToken` → clusters to compare with. */
  readonly #buckets = new Map<string, Cluster[]>();
  /** `tokenCount \0 tokens after the first` → clusters created with them (stale ones skipped). */
  readonly #rests = new Map<string, Cluster[]>();
  #sequence = 0;
  #evictions = 0;

  constructor(config: TemplateMinerConfig = {}) {
    this.#maxTemplates = Math.max(1, config.maxTemplates ?? DEFAULTS.maxTemplates);
    this.#maxLineLength = Math.max(16, config.maxLineLength ?? DEFAULTS.maxLineLength);
    this.#maxTokens = Math.max(2, config.maxTokens ?? DEFAULTS.maxTokens);
    this.#maxCached = this.#maxTemplates * 4;
    this.#distinctWords = Math.max(2, config.distinctWordsForVariable ?? DISTINCT_WORDS_FOR_VARIABLE);
    this.#minRest = Math.max(1, config.constantWordsAfterName ?? CONSTANT_WORDS_AFTER_NAME);
    this.#settledAfter = Math.max(2, config.settledAfter ?? SETTLED_AFTER);
  }

  /** Mines one line seen at `time` (epoch ms, or any monotone number). */
  add(line: string, time = 0): MineResult {
    const tokens = this.#tokens(line);
    const key = tokens.join(' ');
    const seq = ++this.#sequence;
    const cached = this.#lookup(key);
    if (cached) return this.#hit(cached, time, seq, false);

    const bucketKey = bucketOf(tokens);
    // Its own bucket first, then the templates whose first token is a variable.
    for (const k of [bucketKey, openBucketOf(tokens.length)]) {
      const bucket = this.#buckets.get(k);
      const found = bucket && bestMatch(bucket, tokens, this.#settledAfter);
      if (!found) continue;
      const cluster = found.cluster;
      let generalised = false;
      for (let i = 0; i < tokens.length; i++) {
        const merged = found.merged[i];
        if (merged !== undefined && merged !== cluster.slots[i]) {
          cluster.generalise(i, merged);
          generalised = true;
        }
      }
      if (generalised) {
        this.#absorbCovered(cluster, bucket);
        this.#absorbLonger(cluster);
      }
      this.#remember(key, cluster);
      return this.#hit(cluster, time, seq, generalised);
    }
    const shorter = this.#matchShorter(tokens);
    if (shorter) {
      this.#remember(key, shorter);
      return this.#hit(shorter, time, seq, false);
    }
    const cluster = this.#create(bucketKey, tokens, time);
    const survivor = this.#promoteFirstToken(cluster) ?? this.#promoteRepeatedWords(cluster);
    this.#remember(key, survivor ?? cluster);
    // Taken over at once by an older cluster: not a new template, a new value of a known one.
    return this.#hit(survivor ?? cluster, time, seq, survivor !== null, survivor === null);
  }

  /** The template a line would join, without learning from it. */
  match(line: string): LogTemplate | undefined {
    const tokens = this.#tokens(line);
    const cached = this.#lookup(tokens.join(' '));
    if (cached) return cached;
    let found: Match | null = null;
    for (const k of [bucketOf(tokens), openBucketOf(tokens.length)]) {
      const bucket = this.#buckets.get(k);
      found = (bucket && bestMatch(bucket, tokens, this.#settledAfter)) || null;
      if (found) break;
    }
    if (!found) return this.#matchShorter(tokens) ?? undefined;
    // Only a match the template already covers, with no generalisation needed.
    for (let i = 0; i < tokens.length; i++) {
      const merged = found.merged[i];
      if (merged !== undefined && merged !== found.cluster.slots[i]) return undefined;
    }
    return found.cluster;
  }

  /**
   * The templates kept, each token passed through `token` (to redact what must not be stored), so
   * that a restarted process knows what it had seen (`restore`).
   */
  snapshot(token: (t: string) => string = (t) => t): MinerSnapshot {
    const templates = [...this.#clusters.values()]
      .sort((a, b) => a.touched - b.touched)
      .map((c) => ({
        id: c.ownId,
        tokens: c.slots.map(token),
        count: c.hits,
        firstSeen: c.first,
        lastSeen: c.last,
        touched: c.touched,
        ...(c.bucket === openBucketOf(c.slots.length) ? { openFirst: true } : {}),
      }));
    return { lines: this.#sequence, templates };
  }

  /**
   * Takes back a `snapshot` into a miner that has mined nothing yet; the most recently matched
   * templates that fit. Templates that are not well-formed are skipped. Returns how many it took.
   */
  restore(snapshot: MinerSnapshot): number {
    if (this.#sequence > 0 || !Array.isArray(snapshot?.templates)) return 0;
    const valid = snapshot.templates.filter(
      (t) =>
        typeof t?.id === 'string' &&
        Array.isArray(t.tokens) &&
        t.tokens.length > 0 &&
        t.tokens.every((x: unknown) => typeof x === 'string') &&
        [t.count, t.firstSeen, t.lastSeen, t.touched].every(Number.isFinite),
    );
    let taken = 0;
    for (const t of valid.slice(-this.#maxTemplates)) {
      if (this.#clusters.has(t.id)) continue;
      const tokens = [...t.tokens];
      const key = t.openFirst === true ? openBucketOf(tokens.length) : bucketOf(tokens);
      const cluster = new Cluster(t.id, key, tokens, t.firstSeen);
      cluster.hits = t.count;
      cluster.last = t.lastSeen;
      cluster.touched = t.touched;
      cluster.rest = restOf(tokens);
      if (key !== openBucketOf(tokens.length))
        this.#rests.set(cluster.rest, [...(this.#rests.get(cluster.rest) ?? []), cluster]);
      this.#clusters.set(t.id, cluster);
      const bucket = this.#buckets.get(key) ?? [];
      bucket.push(cluster);
      this.#buckets.set(key, bucket);
      taken++;
    }
    this.#sequence = Number.isFinite(snapshot.lines) ? Math.max(0, snapshot.lines) : 0;
    return taken;
  }

  /** A kept template by id. */
  get(id: string): LogTemplate | undefined {
    return this.#clusters.get(id);
  }

  /** All templates currently kept, most frequent first. */
  templates(): LogTemplate[] {
    return [...this.#clusters.values()].sort((a, b) => b.hits - a.hits || a.first - b.first);
  }

  /** Templates currently kept. */
  get size(): number {
    return this.#clusters.size;
  }

  /** Templates evicted so far to stay within `maxTemplates`. */
  get evictions(): number {
    return this.#evictions;
  }

  #tokens(line: string): string[] {
    const text = line.length > this.#maxLineLength ? line.slice(0, this.#maxLineLength) : line;
    return maskLine(text, this.#maxTokens);
  }

  #lookup(key: string): Cluster | undefined {
    const cached = this.#exact.get(key);
    if (!cached) return undefined;
    const live = cached.live();
    if (live.evicted) {
      this.#exact.delete(key);
      return undefined;
    }
    return live;
  }

  #hit(cluster: Cluster, time: number, seq: number, generalised: boolean, created = false): MineResult {
    cluster.hits++;
    cluster.touched = seq;
    if (time > cluster.last) cluster.last = time;
    if (time < cluster.first) cluster.first = time;
    return { template: cluster, created, generalised };
  }

  #remember(key: string, cluster: Cluster): void {
    if (this.#exact.size >= this.#maxCached) {
      // Oldest entries first (Map keeps insertion order); a quarter at a time keeps this amortised O(1).
      let drop = this.#maxCached >> 2;
      for (const k of this.#exact.keys()) {
        this.#exact.delete(k);
        if (--drop <= 0) break;
      }
    }
    this.#exact.set(own(key), cluster);
  }

  #create(bucketKey: string, tokens: string[], time: number): Cluster {
    if (this.#clusters.size >= this.#maxTemplates) this.#evict();
    const text = tokens.join(' ');
    let id = stableId('tpl_', text);
    for (let n = 1; this.#clusters.has(id); n++) id = stableId('tpl_', text, n);
    const cluster = new Cluster(id, bucketKey, tokens.map(own), time);
    this.#clusters.set(id, cluster);
    let bucket = this.#buckets.get(bucketKey);
    if (!bucket) {
      bucket = [];
      this.#buckets.set(bucketKey, bucket);
    }
    if (bucket.length >= DEFAULTS.maxPerBucket) this.#trimBucket(bucketKey, bucket);
    this.#buckets.get(bucketKey)!.push(cluster);
    cluster.rest = restOf(tokens);
    const rests = this.#rests.get(cluster.rest);
    if (rests) {
      // Stale entries (absorbed, evicted) go when the list is next touched.
      const live = rests.filter(
        (c) => !c.evicted && !c.absorbedInto && c.bucket !== openBucketOf(tokens.length),
      );
      live.push(cluster);
      this.#rests.set(cluster.rest, live.slice(-DEFAULTS.maxPerBucket));
    } else this.#rests.set(cluster.rest, [cluster]);
    return cluster;
  }

  /**
   * A new cluster equal to others but for its first token (a program, host or unit name in front
   * of the same statement): when those names share a stem and the rest varies in digits
   * (`com.apple.<*>:`), or enough distinct names have been seen, the first token is a variable.
   * The clusters become one, compared from then on with lines of any first token.
   */
  #promoteFirstToken(cluster: Cluster): Cluster | null {
    const n = cluster.slots.length;
    const open = openBucketOf(n);
    const siblings = (this.#rests.get(cluster.rest) ?? []).filter(
      (c) =>
        c !== cluster &&
        !c.evicted &&
        !c.absorbedInto &&
        c.bucket !== open &&
        c.slots[0] !== cluster.slots[0] &&
        sameAfterFirst(c.slots, cluster.slots),
    );
    if (siblings.length === 0) return null;
    // A short statement (`boot (command <*>)`, `Launching <*>`) is its first word: kept apart.
    let constants = 0;
    for (let i = 1; i < n; i++) if (!cluster.slots[i]!.includes(WILDCARD)) constants++;
    if (constants < this.#minRest) return null;
    const first = cluster.slots[0]!;
    const stemmed = siblings.some((c) => generaliseToken(c.slots[0]!, first) !== null);
    if (!stemmed && siblings.length + 1 < this.#distinctWords) return null;
    const group = [cluster, ...siblings];
    let survivor = siblings[0]!;
    for (const c of siblings) if (c.hits > survivor.hits) survivor = c;
    let token = survivor.slots[0]!;
    for (const c of group) token = commonShape(token, c.slots[0]!);
    for (const c of group) {
      const bucket = this.#buckets.get(c.bucket);
      const kept = bucket?.filter((x) => x !== c) ?? [];
      if (kept.length > 0) this.#buckets.set(c.bucket, kept);
      else this.#buckets.delete(c.bucket);
      if (c !== survivor) {
        survivor.absorb(c);
        this.#clusters.delete(c.ownId);
      }
    }
    survivor.generalise(0, token);
    survivor.bucket = open;
    const openBucket = this.#buckets.get(open) ?? [];
    openBucket.push(survivor);
    this.#buckets.set(open, openBucket);
    this.#absorbCovered(survivor, openBucket);
    return survivor;
  }

  /**
   * A new cluster that differs from others of its bucket in one word only: when that position
   * has now shown enough distinct words, it is a variable, and those clusters become one. The
   * most used of them survives (keeping its id); returns it, or null when nothing changed.
   */
  #promoteRepeatedWords(cluster: Cluster): Cluster | null {
    const bucket = this.#buckets.get(cluster.bucket)!;
    const n = cluster.slots.length;
    if (bucket.length < this.#distinctWords || n < 2) return null;
    for (let i = 1; i < n; i++) {
      if (cluster.slots[i]!.includes(WILDCARD)) continue;
      let survivor: Cluster | null = null;
      let siblings = 0;
      for (const other of bucket) {
        if (other === cluster || !differsOnlyAt(other.slots, cluster.slots, i)) continue;
        siblings++;
        if (!survivor || other.hits > survivor.hits) survivor = other;
      }
      if (!survivor || siblings + 1 < this.#distinctWords) continue;
      // The punctuation the words share stays: `(<*>)`, `user=<*>`.
      let token = cluster.slots[i]!;
      for (const other of bucket)
        if (differsOnlyAt(other.slots, cluster.slots, i)) token = commonShape(token, other.slots[i]!);
      survivor.generalise(i, token);
      this.#absorbCovered(survivor, bucket);
      return survivor;
    }
    return null;
  }

  /**
   * A line longer than a template that ends in a free-text value (`Server environment:<*>`,
   * its last token a variable after a constant stem) whose extra words fall in that value:
   * `Server environment:java.vendor=Oracle Corporation`. A bare `<*>` at the end does not
   * absorb words (`Connection closed by <*>` and `Connection closed by <*> [preauth]` differ).
   */
  #matchShorter(tokens: readonly string[]): Cluster | null {
    const n = tokens.length;
    for (let m = n - 1; m >= Math.max(1, n - MAX_TAIL_WORDS); m--) {
      const bucket = this.#buckets.get(bucketOf(tokens, m));
      if (!bucket) continue;
      for (const c of bucket) if (coversWithTail(c.slots, tokens)) return c;
    }
    return null;
  }

  /** After `cluster`'s last token became a free-text value: takes over longer clusters it covers. */
  #absorbLonger(cluster: Cluster): void {
    const m = cluster.slots.length;
    if (!isFreeTextTail(cluster.slots[m - 1]!)) return;
    for (let n = m + 1; n <= m + MAX_TAIL_WORDS; n++) {
      const key = bucketOf(cluster.slots, n);
      const bucket = this.#buckets.get(key);
      if (!bucket) continue;
      const kept: Cluster[] = [];
      for (const other of bucket) {
        if (coversWithTail(cluster.slots, other.slots)) {
          cluster.absorb(other);
          this.#clusters.delete(other.ownId);
        } else kept.push(other);
      }
      if (kept.length === 0) this.#buckets.delete(key);
      else if (kept.length < bucket.length) this.#buckets.set(key, kept);
    }
  }

  /** Takes over the clusters of `bucket` whose every position `cluster` now covers. */
  #absorbCovered(cluster: Cluster, bucket: Cluster[]): void {
    let absorbed = false;
    for (const other of bucket) {
      if (other === cluster || !isCoveredBy(other.slots, cluster.slots)) continue;
      cluster.absorb(other);
      this.#clusters.delete(other.ownId);
      absorbed = true;
    }
    if (!absorbed) return;
    const kept = bucket.filter((c) => !c.absorbedInto);
    this.#buckets.set(cluster.bucket, kept);
  }

  #trimBucket(key: string, bucket: Cluster[]): void {
    const keep = bucket.sort((a, b) => b.touched - a.touched).slice(0, DEFAULTS.maxPerBucket >> 1);
    for (const c of bucket.slice(keep.length)) this.#drop(c);
    this.#buckets.set(key, keep);
    this.#purgeExact();
  }

  #drop(c: Cluster): void {
    c.evicted = true;
    this.#clusters.delete(c.ownId);
    this.#evictions++;
  }

  /** Drops the least useful tenth: clusters seen once first, then the least recently seen. */
  #evict(): void {
    const victims = [...this.#clusters.values()]
      .sort((a, b) => Number(a.hits > 1) - Number(b.hits > 1) || a.touched - b.touched)
      .slice(0, Math.max(1, Math.ceil(this.#maxTemplates / 10)));
    const touchedBuckets = new Set<string>();
    for (const c of victims) {
      this.#drop(c);
      touchedBuckets.add(c.bucket);
    }
    for (const key of touchedBuckets) {
      const kept = this.#buckets.get(key)?.filter((c) => !c.evicted) ?? [];
      if (kept.length > 0) this.#buckets.set(key, kept);
      else this.#buckets.delete(key);
    }
    this.#purgeExact();
  }

  /** Drops index entries of evicted clusters, which would otherwise keep them in memory. */
  #purgeExact(): void {
    for (const [key, c] of this.#exact) if (c.live().evicted) this.#exact.delete(key);
    for (const [key, list] of this.#rests) {
      const live = list.filter((c) => !c.evicted && !c.absorbedInto);
      if (live.length === 0) this.#rests.delete(key);
      else if (live.length < list.length) this.#rests.set(key, live);
    }
  }
}

/**
 * A copy of `s` that shares no memory with the text it was cut from. A token or key cut from a
 * line may be a view into the whole chunk the line came in (a megabyte of a file, a Loki response
 * body): kept in a template, it would keep all of that alive.
 */
function own(s: string): string {
  return s.length < 16 ? s : Buffer.from(s, 'utf8').toString('utf8');
}

function sameAfterFirst(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 1; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function differsOnlyAt(a: readonly string[], b: readonly string[], position: number): boolean {
  for (let i = 0; i < a.length; i++) {
    if (i === position) {
      if (a[i] === b[i] || a[i]!.includes(WILDCARD)) return false;
    } else if (a[i] !== b[i]) return false;
  }
  return true;
}

/** Every position of `tokens` is equal to, or covered by a variable of, `general`. */
function isCoveredBy(tokens: readonly string[], general: readonly string[]): boolean {
  for (let i = 0; i < tokens.length; i++) {
    const g = general[i]!;
    const t = tokens[i]!;
    if (g !== t && !(g.includes(WILDCARD) && covers(g, t))) return false;
  }
  return true;
}

/** The clusters of `length` tokens whose first token is a variable. */
function openBucketOf(length: number): string {
  return `${length}\u0000\u0001`;
}

function restOf(tokens: readonly string[]): string {
  return `${tokens.length}\u0000${tokens.slice(1).join(' ')}`;
}

/**
 * The most specific token covering both, whatever their words: the common prefix and suffix
 * (ending at punctuation) around one variable (`com.apple.<*>:`, `<*>(<*>)`).
 */
function commonShape(a: string, b: string): string {
  if (a === b) return a;
  if (a.includes(WILDCARD) && covers(a, b)) return a;
  if (b.includes(WILDCARD) && covers(b, a)) return b;
  const [p, s] = commonEnds(a, b);
  return canonicalToken(a.slice(0, p) + WILDCARD + a.slice(a.length - s));
}

/** Lengths of the common prefix and suffix of `a` and `b`, each ending at punctuation. */
function commonEnds(a: string, b: string): [number, number] {
  const max = Math.min(a.length, b.length);
  let p = 0;
  while (p < max && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  while (p > 0 && (isWordChar(a.charCodeAt(p - 1)) || inWildcard(a, p))) p--;
  let s = 0;
  while (s < max - p && a.charCodeAt(a.length - 1 - s) === b.charCodeAt(b.length - 1 - s)) s++;
  while (s > 0 && (isWordChar(a.charCodeAt(a.length - s)) || inWildcard(a, a.length - s))) s--;
  return [p, s];
}

/** `length` (default: the tokens') and first token: the clusters a line is compared with. */
function bucketOf(tokens: readonly string[], length = tokens.length): string {
  return `${length}\u0000${tokens[0] ?? ''}`;
}

/** Most extra words a free-text value at the end of a template absorbs. */
const MAX_TAIL_WORDS = 8;

/** A last token that is a key then a variable: `environment:<*>`, `reason=<*>`. */
function isFreeTextTail(token: string): boolean {
  if (token.length <= WILDCARD.length + 1 || !token.endsWith(WILDCARD)) return false;
  const stem = token.slice(0, -WILDCARD.length);
  return (stem.endsWith(':') || stem.endsWith('=')) && !stem.includes(WILDCARD);
}

/** `user=root`: a further field, so a different statement, not more of the free text. */
const FIELD = /^[A-Za-z_][\w.-]*=/;

/**
 * `template` (shorter, ending in a free-text value) covers `tokens`: the positions before the
 * last are equal or covered, and the rest of the line, joined, falls in the last one.
 */
function coversWithTail(template: readonly string[], tokens: readonly string[]): boolean {
  const m = template.length;
  const last = template[m - 1]!;
  if (m >= tokens.length || !isFreeTextTail(last)) return false;
  for (let i = 0; i < m - 1; i++) {
    const t = template[i]!;
    if (t !== tokens[i] && !(t.includes(WILDCARD) && covers(t, tokens[i]!))) return false;
  }
  for (let i = m; i < tokens.length; i++) if (FIELD.test(tokens[i]!)) return false;
  return covers(last, tokens.slice(m - 1).join(' '));
}

interface Match {
  readonly cluster: Cluster;
  /** Per position, the generalised token (undefined where the tokens are identical). */
  readonly merged: (string | undefined)[];
}

/** The cluster of the bucket that accepts the line with the most identical positions. */
function bestMatch(
  bucket: readonly Cluster[],
  tokens: readonly string[],
  settledAfter: number,
): Match | null {
  let best: Match | null = null;
  let bestSame = -1;
  let bestWords = 0;
  for (const cluster of bucket) {
    const merged: (string | undefined)[] = new Array(tokens.length);
    let same = 0;
    let words = 0;
    let ok = true;
    for (let i = 0; i < tokens.length; i++) {
      const a = cluster.slots[i]!;
      const b = tokens[i]!;
      if (a === b) {
        same++;
        continue;
      }
      const g = generaliseToken(a, b);
      // A word the cluster's many lines all had is part of the statement (`tty=NODEVssh`, not
      // `tty=:0`): a line that differs there is another statement.
      if (g === null || (cluster.hits >= settledAfter && !a.includes(WILDCARD))) {
        ok = false;
        break;
      }
      if (g.wordChange) words++;
      merged[i] = g.token;
    }
    if (!ok || same * 2 < tokens.length) continue;
    if (same > bestSame || (same === bestSame && words < bestWords)) {
      best = { cluster, merged };
      bestSame = same;
      bestWords = words;
    }
  }
  return best;
}

interface Generalised {
  readonly token: string;
  /** The tokens differed only in plain words (under a common prefix). */
  readonly wordChange: boolean;
}

/**
 * The most specific token covering both `a` (the cluster's) and `b` (the line's), or null when
 * they look like different constants.
 */
export function generaliseToken(a: string, b: string): Generalised | null {
  if (a === WILDCARD) return { token: a, wordChange: false };
  const aVar = a.includes(WILDCARD);
  const bVar = b.includes(WILDCARD);
  if (aVar && covers(a, b)) return { token: a, wordChange: false };
  if (bVar && covers(b, a)) return { token: b, wordChange: false };

  // Common prefix and suffix, each ending at punctuation and never cutting a `<*>` in two.
  const [p, s] = commonEnds(a, b);
  const midA = a.slice(p, a.length - s);
  const midB = b.slice(p, b.length - s);
  const variable = (m: string) => m.includes(WILDCARD) || /^\d/.test(m);
  if (midA === '' || midB === '') {
    if (!variable(midA + midB)) return null;
    // `()` and `(<*>)`, `rhost=` and `rhost=<*>`: an empty value; the punctuation around it stays.
    return { token: canonicalToken(a.slice(0, p) + WILDCARD + a.slice(a.length - s)), wordChange: false };
  }
  if (variable(midA) || variable(midB)) {
    return { token: canonicalToken(a.slice(0, p) + WILDCARD + a.slice(a.length - s)), wordChange: false };
  }
  // Different words under a long shared stem: `CONTAINER_REMOTE_LAUNCH|CLEANUP`. A short key is
  // not enough (`user=root|guest`): its values are words, variables only once several are seen.
  const prefix = a.slice(0, p);
  if (prefix.length >= 6 && /[A-Za-z]/.test(prefix)) {
    return { token: canonicalToken(prefix + WILDCARD + a.slice(a.length - s)), wordChange: true };
  }
  return null;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Position `i` is strictly inside a `<*>` of `s` (a cut there would split it). */
function inWildcard(s: string, i: number): boolean {
  return (s[i - 1] === '<' && s[i] === '*') || (s[i - 1] === '*' && s[i] === '>');
}

/** Whether `pattern` (with `<*>` matching one or more characters) matches all of `text`. */
function covers(pattern: string, text: string): boolean {
  const parts = pattern.split(WILDCARD);
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (!text.startsWith(first) || !text.endsWith(last)) return false;
  if (first.length + last.length + (parts.length - 1) > text.length) return false;
  let pos = first.length;
  const end = text.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i]!;
    const at = text.indexOf(part, pos + 1);
    if (at < 0 || at + part.length > end - 1) return false;
    pos = at + part.length;
  }
  return pos < end;
}
