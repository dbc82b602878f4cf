import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleAlertBlock, firstPost, readmeExampleAlert, runDemo } from '../src/demo/example-alert.ts';

const README = path.resolve(import.meta.dirname, '../README.md');

/**
 * The README's example alert is what `guardian demo` prints as its first message, word for word
 * (`npm run docs:example-alert` writes it): the README cannot promise a message Guardian does
 * not send. And that message keeps to its shape: a header of at most 150 characters, a body of at
 * most 15 lines, no Slack escapes showing.
 */
describe('the README example alert', () => {
  const demo = runDemo();
  const message = firstPost(demo);

  it('is the first message the demo prints', () => {
    expect(readmeExampleAlert(readFileSync(README, 'utf8'))).toBe(exampleAlertBlock(message));
  });

  it('has a header of at most 150 characters and a body of at most 15 lines', () => {
    const [header, ...body] = message.split('\n');
    expect(header!.length).toBeLessThanOrEqual(150 + 2); // the text form wraps the header in *…*
    expect(body.length).toBeLessThanOrEqual(15);
    expect(message).not.toMatch(/&lt;|&gt;|&amp;/);
  });

  it('shows the demo story: the tasks that went up for retry, by DAG', () => {
    expect(message).toContain('2 tasks in 2 DAGs up for retry');
    expect(message).toContain('silver_orders');
    expect(message).toContain('silver_customers');
    expect(message).toContain('run again on their own');
  });
});
