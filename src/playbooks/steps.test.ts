import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlaybooks } from './load.ts';
import { listItems } from './steps.ts';

describe('listItems', () => {
  it('keeps a step written over several lines whole', () => {
    const md = [
      '1. Check capacity: the Auto Scaling group (or Spot Fleet) should already be replacing the',
      '   instance; wait until the new worker registers with the master as `ALIVE`.',
      '2. Tasks that are `up_for_retry` will run again on their own; leave them.',
      '',
      'Some closing prose that is not a step.',
      '- a **bullet** with a [link](https://example.com)',
    ].join('\n');
    expect(listItems(md)).toEqual([
      'Check capacity: the Auto Scaling group (or Spot Fleet) should already be replacing the instance; wait until the new worker registers with the master as `ALIVE`.',
      'Tasks that are `up_for_retry` will run again on their own; leave them.',
      'a *bullet* with a link',
    ]);
  });

  it('cuts no step of any shipped playbook: every line of "How to fix" is in a step', () => {
    for (const p of loadPlaybooks(path.resolve(import.meta.dirname, '../../playbooks'))) {
      const fix = p.sections['How to fix'];
      const steps = listItems(fix).join(' ');
      const words = fix
        .split('\n')
        .map((l) => l.replace(/^\s*(?:\d+[.)]|[-*+])\s+/, '').trim())
        .filter(Boolean);
      for (const w of words) expect(steps, `${p.id}: "${w}"`).toContain(w.replace(/\*\*/g, '*'));
    }
  });
});
