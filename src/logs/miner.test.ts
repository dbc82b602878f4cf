import { describe, expect, it } from 'vitest';
import { canonicalToken, maskLine } from './mask.ts';
import { generaliseToken, TemplateMiner } from './miner.ts';

const masked = (line: string) => maskLine(line).join(' ');

function mine(lines: readonly string[], miner = new TemplateMiner()) {
  return lines.map((l, i) => miner.add(l, i));
}

describe('masking', () => {
  it.each([
    [
      'numbers, signed and decimal',
      'took 160 ms, -17 left, 0.023958297 done',
      'took <*> ms, <*> left, <*> done',
    ],
    [
      'HDFS block ids',
      'Deleting block blk_-1608999687919862906 of blk_38865049064139660',
      'Deleting block <*> of <*>',
    ],
    [
      'IPs with ports keep the colon',
      'Served block to /10.251.203.80:50010 from 10.0.0.1',
      'Served block to <*>:<*> from <*>',
    ],
    [
      'host/ip:port',
      'Old: msra-sa-41/10.190.173.170:9000 New: msra-sa-41:9000',
      'Old: <*>/<*>:<*> New: <*>:<*>',
    ],
    [
      'hex and 0x values',
      'session 0x14ed93111f20005 at QuorumServer@33557fe4',
      'session <*> at QuorumServer@<*>',
    ],
    ['UUIDs', 'request 82a4184f-c885-4f7d-920c-748f51b90574 done', 'request <*> done'],
    [
      'ids glued to words',
      'Assigned container_1445144423722_0020_01_000002 to attempt_1_m_000000_0',
      'Assigned <*> to <*>',
    ],
    ['paths', 'Reading /var/lib/zookeeper/version-2/snapshot.b00000084 now', 'Reading <*> now'],
    ['windows paths', 'Loaded C:\\Windows\\winsxs\\cbscore.dll', 'Loaded C:<*>'],
    [
      'URLs with digits, scheme kept',
      'Input split: hdfs://10.10.34.11:9000/pjhe/logs/2kSOSP.log:21876+7292',
      'Input split: hdfs://<*>',
    ],
    ['URL host:port', 'Default file system [hdfs://msra-sa-41:9000]', 'Default file system [hdfs://<*>:<*>]'],
    [
      'URLs without digits are constants',
      'see http://wiki.apache.org/hadoop/NoRouteToHost',
      'see http://wiki.apache.org/hadoop/NoRouteToHost',
    ],
    [
      'key=value keeps the key',
      'headroom=<memory:10240, vCores:-17> ok',
      'headroom=<memory:<*>, vCores:<*> ok',
    ],
    ['quoted values', "output of task 'attempt_201706092018_0024_m_000003_1012'", "output of task '<*>'"],
    ['booleans and null', 'maps.isEmpty=true config null', 'maps.isEmpty=<*> config <*>'],
    ['dates with names', 'connection at Sat Jun 25 04:07:27 2005 closed', 'connection at <*>:<*>:<*> closed'],
    ['dates with a zone', 'built Sat May 8 09:04:50 EDT 2004 ok', 'built <*>:<*>:<*> EDT <*> ok'],
    ['dates without a clock', 'since Jun 25, 2005 ok', 'since <*> ok'],
    [
      'hex addresses are one value, clocks keep their colons',
      'mac FF:F2:9F:16:E2:23:00:0D:60:E9:1D:DC pci 0000:00:1e.0 at [09:21:58.929]',
      'mac <*> pci <*> at [<*>:<*>:<*>]',
    ],
    [
      'a word, then a value after dots',
      'generating core.2275 alignment.......0 (0=sup,1=usr).......1',
      'generating core.<*> alignment.......<*> (<*>=sup,<*>=usr).......<*>',
    ],
    ['ISO timestamps', 'at 2026-03-04T01:40:33.899Z ok', 'at <*>:<*>:<*> ok'],
    ['sizes with units', 'estimated size 5.2 KB, free 317.0 KB)', 'estimated size <*>, free <*>)'],
    ['lists of values', 'ask 10.0.0.1:50010 to delete blk_1 blk_2 blk_3 blk_4', 'ask <*>:<*> to delete <*>'],
    ['lists of numbered names', 'resolve name an98 an99 an100 an101 now', 'resolve name <*> now'],
    ['two numbered names are not a list', 'link eth0 eth1 up', 'link eth0 eth1 up'],
    ['a name before its number', 'jetty-6.1.26 on MININT-FNANLI5.example.com', 'jetty-<*> on MININT-<*>'],
    [
      'host names without digits',
      'open through proxy.cse.cuhk.edu.hk:5070 HTTPS',
      'open through <*>:<*> HTTPS',
    ],
    [
      'names with incidental digits stay',
      'Slf4jLogger started on HttpServer2 via log4j',
      'Slf4jLogger started on HttpServer2 via log4j',
    ],
    [
      'a letter and a digit is a name',
      'CPU: L2 cache: 256K (supports C1)',
      'CPU: L2 cache: <*> (supports C1)',
    ],
    [
      'qualified names with a version segment stay',
      'Adding org.apache.hadoop.mapreduce.v2.api.MRClientProtocolPB',
      'Adding org.apache.hadoop.mapreduce.v2.api.MRClientProtocolPB',
    ],
  ])('%s', (_name, line, expected) => {
    expect(masked(line)).toBe(expected);
  });

  it('splits on any whitespace and ignores empty lines', () => {
    expect(maskLine('  a\tb  \u00a0c\n')).toEqual(['a', 'b', 'c']);
    expect(maskLine('   ')).toEqual([]);
  });

  it('folds the tokens past the limit into one trailing variable', () => {
    expect(maskLine('a b c d e f', 4)).toEqual(['a', 'b', 'c', '<*>']);
  });

  it('collapses variables glued to text, Loghub-2.0 style', () => {
    expect(canonicalToken('blk_<*>')).toBe('<*>');
    expect(canonicalToken('vCores:<*>>')).toBe('vCores:<*>');
    expect(canonicalToken('<*>.<*>.<*>')).toBe('<*>');
    expect(canonicalToken('MININT-<*>')).toBe('MININT-<*>');
    expect(canonicalToken('[<*>]')).toBe('[<*>]');
  });
});

describe('generaliseToken', () => {
  it('keeps a pattern that already covers the other token', () => {
    expect(generaliseToken('<*>:<*>', 'MININT-<*>:<*>')).toEqual({ token: '<*>:<*>', wordChange: false });
    expect(generaliseToken('MININT-<*>:<*>', '<*>:<*>')).toEqual({ token: '<*>:<*>', wordChange: false });
  });

  it('makes the differing part a variable when it is a number, not a name with digits', () => {
    expect(generaliseToken('port:<*>', 'port:8080')?.token).toBe('port:<*>');
    expect(generaliseToken('id=7', 'id=8')?.token).toBe('id=<*>');
    // `en0` and `awdl0`, `IPV4` and `IPV6` are names: like words, they need several values.
    expect(generaliseToken('en0', 'awdl0')).toBeNull();
    // A key's value that is a word is a word too (`user=root|guest`): several values are needed.
    expect(generaliseToken('user=alice', 'user=bob')).toBeNull();
  });

  it('merges words under a shared stem but not plain different words', () => {
    expect(generaliseToken('CONTAINER_REMOTE_LAUNCH', 'CONTAINER_REMOTE_CLEANUP')).toEqual({
      token: '<*>',
      wordChange: true,
    });
    expect(generaliseToken('environment:user.dir=/', 'environment:host.name=<*>')?.token).toBe(
      'environment:<*>',
    );
    expect(generaliseToken('RUNNING', 'FAILED')).toBeNull();
    expect(generaliseToken('FAIL_CONTAINER_CLEANUP', 'SUCCESS_CONTAINER_CLEANUP')).toBeNull();
    expect(generaliseToken('job-jar', 'job-conf')).toBeNull();
  });
});

describe('TemplateMiner', () => {
  it('groups the lines of one statement and writes its variables as <*>', () => {
    const miner = new TemplateMiner();
    const r = mine(
      [
        'Running task 0.0 in stage 1.0 (TID 4)',
        'Running task 12.0 in stage 3.0 (TID 1877)',
        'Finished task 0.0 in stage 1.0 (TID 4). 2703 bytes result sent to driver',
        'Running task 7.0 in stage 3.0 (TID 1880)',
      ],
      miner,
    );
    expect(r[0]!.template.id).toBe(r[1]!.template.id);
    expect(r[0]!.template.template).toBe('Running task <*> in stage <*> (TID <*>)');
    expect(r[2]!.template.template).toBe(
      'Finished task <*> in stage <*> (TID <*>). <*> bytes result sent to driver',
    );
    expect(miner.size).toBe(2);
    expect(r[0]!.template.count).toBe(3);
  });

  it('keeps statements apart that differ in a constant word', () => {
    const r = mine([
      'attempt_1 TaskAttempt Transitioned from NEW to UNASSIGNED',
      'attempt_2 TaskAttempt Transitioned from UNASSIGNED to ASSIGNED',
      'attempt_3 TaskAttempt Transitioned from ASSIGNED to RUNNING',
      'Block broadcast_1 stored as bytes in memory',
      'Block broadcast_2 stored as values in memory',
    ]);
    expect(new Set(r.map((x) => x.template.id)).size).toBe(5);
  });

  it('makes a position variable once it has shown several distinct words', () => {
    const miner = new TemplateMiner();
    const users = ['alice', 'bob', 'carol', 'dave', 'erin'];
    const r: ReturnType<TemplateMiner['add']>[] = [];
    const ids: string[] = [];
    for (const [i, u] of users.entries()) {
      r.push(miner.add(`session opened for user ${u} by sshd`, i));
      ids.push(r[i]!.template.id);
      // Three users are three statements as far as anyone can tell; the fourth makes it a
      // variable, and the earlier clusters are taken over.
      if (i === 2) expect(miner.size).toBe(3);
    }
    expect(r[4]!.template.template).toBe('session opened for user <*> by sshd');
    expect(new Set(r.map((x) => x.template.template))).toEqual(
      new Set(['session opened for user <*> by sshd']),
    );
    expect(miner.size).toBe(1);
    expect(r[0]!.template.count).toBe(5);
    // The oldest of the equally used clusters survives, with its id; the fourth line joined it.
    expect(ids[3]).toBe(ids[0]);
    expect(r[3]!.created).toBe(false);
    expect(r[3]!.generalised).toBe(true);
  });

  it('lets a free-text value at the end of a template take more words, but not another field', () => {
    const miner = new TemplateMiner();
    const r = mine(
      [
        'Server environment:java.vendor=Oracle Corporation',
        'Server environment:user.dir=/',
        'Server environment:host.name=mesos-master-1',
        'Server environment:zookeeper.version=3.4.5--1, built on 06/10/2013 17:26 GMT',
        'Server environment:os.name=Linux',
      ],
      miner,
    );
    expect(new Set(r.map((x) => x.template.template))).toEqual(new Set(['Server environment:<*>']));
    expect(miner.size).toBe(1);

    const other = new TemplateMiner();
    const [short, long, bare, bareLonger] = mine(
      [
        'authentication failure; rhost=10.0.0.1',
        'authentication failure; rhost=10.0.0.2 user=root',
        'Connection closed by 10.0.0.1',
        'Connection closed by 10.0.0.2 [preauth]',
      ],
      other,
    );
    expect(long!.template.id).not.toBe(short!.template.id);
    expect(bareLonger!.template.id).not.toBe(bare!.template.id);
  });

  it('treats host and program names as values', () => {
    const r = mine([
      'chrome.exe - www.google.com:443 close, 1190 bytes sent',
      'firefox.exe - mail.example.org:443 close, 20 bytes sent',
    ]);
    expect(r[1]!.template.id).toBe(r[0]!.template.id);
    expect(r[0]!.template.template).toBe('<*> - <*>:<*> close, <*> bytes sent');
  });

  it('generalises a template across lines and keeps its id', () => {
    const miner = new TemplateMiner();
    const first = miner.add('Processing the event EventType: CONTAINER_REMOTE_LAUNCH for container c_1', 1);
    const id = first.template.id;
    const second = miner.add('Processing the event EventType: CONTAINER_REMOTE_CLEANUP for container c_2', 2);
    expect(second.generalised).toBe(true);
    expect(second.template.id).toBe(id);
    expect(first.template.template).toBe('Processing the event EventType: <*> for container <*>');
    expect(miner.get(id)?.count).toBe(2);
  });

  it('derives ids from the template, so another miner gives the same ids', () => {
    const lines = ['Got assigned task 1', 'Got assigned task 2', 'Registered BlockManager'];
    const a = mine(lines).map((r) => r.template.id);
    const b = mine(lines).map((r) => r.template.id);
    expect(a).toEqual(b);
    expect(a[0]).toMatch(/^tpl_/);
  });

  it('records counts and first/last seen times', () => {
    const miner = new TemplateMiner();
    miner.add('Got assigned task 1', 1000);
    miner.add('Got assigned task 2', 5000);
    const t = miner.add('Got assigned task 3', 3000).template;
    expect({ count: t.count, firstSeen: t.firstSeen, lastSeen: t.lastSeen }).toEqual({
      count: 3,
      firstSeen: 1000,
      lastSeen: 5000,
    });
    expect(miner.templates()[0]).toBe(miner.get(t.id));
  });

  it('matches without learning', () => {
    const miner = new TemplateMiner();
    miner.add('Got assigned task 1');
    expect(miner.match('Got assigned task 99')?.template).toBe('Got assigned task <*>');
    expect(miner.match('Something else entirely')).toBeUndefined();
    expect(miner.size).toBe(1);
  });

  it('stays within maxTemplates when every line is a new statement', () => {
    const miner = new TemplateMiner({ maxTemplates: 50 });
    const word = (n: number) => n.toString(36).replace(/\d/g, (d) => 'abcdefghij'[Number(d)]!);
    for (let i = 0; i < 5000; i++) miner.add(`${word(i * 7919)} ${word(i)} never repeats ${word(i * 31)}`, i);
    expect(miner.size).toBeLessThanOrEqual(50);
    expect(miner.evictions).toBeGreaterThan(4900);
    // A frequent template survives the churn.
    const miner2 = new TemplateMiner({ maxTemplates: 20 });
    for (let i = 0; i < 2000; i++) {
      miner2.add(`Heartbeat from worker ${i}`, i);
      miner2.add(`${word(i * 7919)} once ${word(i)}`, i);
    }
    expect(miner2.match('Heartbeat from worker 1')?.count).toBe(2000);
  });

  it('keeps one template for a stream of ever-new ids', () => {
    const miner = new TemplateMiner();
    for (let i = 0; i < 20_000; i++) {
      miner.add(
        `Receiving block blk_${i * 7_777_777} src: /10.0.${i % 256}.${i % 7}:${40_000 + i} dest: /10.0.0.1:50010`,
        i,
      );
    }
    expect(miner.size).toBe(1);
    expect(miner.templates()[0]!.template).toBe('Receiving block <*> src: <*>:<*> dest: <*>:<*>');
  });

  it('cuts very long lines before mining', () => {
    const miner = new TemplateMiner({ maxLineLength: 64 });
    const r = miner.add(`x ${'y '.repeat(10_000)}`);
    expect(r.template.template.length).toBeLessThanOrEqual(64);
  });
});

describe('TemplateMiner: settled words', () => {
  it('keeps a word its many lines all had: a line that differs there is another statement', () => {
    const miner = new TemplateMiner({ settledAfter: 16 });
    const line = (tty: string, i: number) => `authentication failure; uid=0 tty=${tty} rhost=10.0.0.${i}`;
    for (let i = 0; i < 16; i++) miner.add(line('NODEVssh', i), i);
    const other = miner.add(line(':0', 99), 99);
    expect(other.created).toBe(true);
    expect(miner.templates().map((t) => t.template)).toEqual([
      'authentication failure; uid=<*> tty=NODEVssh rhost=<*>',
      'authentication failure; uid=<*> tty=:<*> rhost=<*>',
    ]);
    // Before that, the same difference is a new value of the one template.
    const young = new TemplateMiner({ settledAfter: 16 });
    young.add(line('NODEVssh', 1));
    expect(young.add(line(':0', 2)).created).toBe(false);
    expect(young.size).toBe(1);
  });
});

describe('TemplateMiner: names in front of a statement', () => {
  const statement = 'deny mach-lookup com.apple.networking.captivenetworksupport';

  it('makes the first token a variable once four names were seen, then takes any name', () => {
    const miner = new TemplateMiner();
    const names = ['Safari', 'QQ', 'Mail', 'Photos'];
    const results = names.map((name, i) => miner.add(`${name}(${100 + i}) ${statement}`, i));
    expect(results.slice(0, 3).every((r) => r.created)).toBe(true);
    expect(miner.size).toBe(1);
    expect(miner.templates()[0]!.template).toBe(`<*>(<*>) ${statement}`);
    // A fifth name joins without a new template, and keeps the id of the most used one.
    const next = miner.add(`Finder(7) ${statement}`, 9);
    expect(next.created).toBe(false);
    expect(next.template.id).toBe(results[0]!.template.id);
    expect(next.template.count).toBe(5);
  });

  it('merges names sharing a stem at once', () => {
    const miner = new TemplateMiner();
    const tail = 'scheduler_evaluate_activity told me to run this job; however, later.';
    miner.add(`com.apple.icloud.fmfd.heartbeat: ${tail}`);
    miner.add(`com.apple.Safari.SafeBrowsing.Update: ${tail}`);
    expect(miner.templates().map((t) => t.template)).toEqual([`com.apple.<*>: ${tail}`]);
  });

  it('keeps short statements apart by their first word', () => {
    const miner = new TemplateMiner();
    for (const [i, word] of ['boot', 'wait', 'halt', 'risBoot', 'cluster'].entries()) {
      miner.add(`${word} (command ${1900 + i})`, i);
    }
    expect(miner.size).toBe(5);
  });

  it('restores a template whose first token is a variable, and reads older snapshots', () => {
    const miner = new TemplateMiner();
    for (const [i, name] of ['Safari', 'QQ', 'Mail', 'Photos'].entries())
      miner.add(`${name}(${i}) ${statement}`, i);
    const saved = JSON.parse(JSON.stringify(miner.snapshot()));
    expect(saved.templates[0].openFirst).toBe(true);
    const restored = new TemplateMiner();
    expect(restored.restore(saved)).toBe(1);
    expect(restored.add(`Finder(7) ${statement}`).template.id).toBe(miner.templates()[0]!.id);
    // A snapshot written before the field existed: the template is kept, compared as before.
    const old = {
      ...saved,
      templates: saved.templates.map(({ openFirst: _, ...t }: { openFirst?: boolean }) => t),
    };
    const fromOld = new TemplateMiner();
    expect(fromOld.restore(old)).toBe(1);
    expect(fromOld.templates()[0]!.template).toBe(`<*>(<*>) ${statement}`);
  });
});

describe('TemplateMiner snapshot', () => {
  it('restores its templates, ids, counts and recency into a fresh miner, which then mines the same', () => {
    const lines = [
      'Received block blk_1 of size 67108864 from /10.251.42.84',
      'Received block blk_2 of size 67108864 from /10.251.42.85',
      'PacketResponder 1 for block blk_3 terminating',
      'session opened for user alice',
      'session opened for user bob',
    ];
    const original = new TemplateMiner({ maxTemplates: 100 });
    for (const [i, line] of lines.entries()) original.add(line, i);
    const saved = JSON.parse(JSON.stringify(original.snapshot()));
    const restored = new TemplateMiner({ maxTemplates: 100 });
    expect(restored.restore(saved)).toBe(original.size);
    expect(restored.templates()).toEqual(original.templates());
    // The next lines land in the same templates, with the same outcome, in both.
    const next = [
      'Received block blk_9 of size 1024 from /10.0.0.1',
      'PacketResponder 2 for block blk_4 terminating',
    ];
    for (const line of next) {
      const a = original.add(line, 10);
      const b = restored.add(line, 10);
      expect([b.template.id, b.created, b.generalised]).toEqual([a.template.id, a.created, a.generalised]);
    }
    // Only into a fresh miner, and only the most recent that fit.
    expect(restored.restore(saved)).toBe(0);
    const small = new TemplateMiner({ maxTemplates: 1 });
    expect(small.restore(saved)).toBe(1);
    expect(small.templates()[0]!.id).toBe(saved.templates.at(-1).id);
  });
});
