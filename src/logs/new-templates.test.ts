import { describe, expect, it } from 'vitest';
import { withoutLeadingWildcards } from './new-templates.ts';

describe('a new template as a title', () => {
  it('drops the wildcards a timestamp leaves at the start of a line', () => {
    expect(
      withoutLeadingWildcards('<*>/<*>/<*> <*>:<*>:<*> ERROR TaskSchedulerImpl: Lost executor <*> on <*>'),
    ).toBe('ERROR TaskSchedulerImpl: Lost executor <*> on <*>');
    expect(
      withoutLeadingWildcards('[<*>T<*>:<*>:<*>.<*>+<*>] {manager.py:<*>} INFO - DAG <*> is missing'),
    ).toBe('{manager.py:<*>} INFO - DAG <*> is missing');
    expect(withoutLeadingWildcards('<*>-<*>-<*> <*>:<*>:<*>,<*> WARN fetch failed')).toBe(
      'WARN fetch failed',
    );
  });

  it('keeps wildcards that are part of what the line says, and a template of wildcards only', () => {
    expect(withoutLeadingWildcards('ERROR Executor <*> lost')).toBe('ERROR Executor <*> lost');
    expect(withoutLeadingWildcards('<*> tasks failed')).toBe('<*> tasks failed');
    expect(withoutLeadingWildcards('<*>-<*>-<*> <*>:<*>:<*>.<*> +<*> <*> ERROR x')).toBe('ERROR x');
    expect(withoutLeadingWildcards('<*> <*>')).toBe('<*> <*>');
    expect(withoutLeadingWildcards('')).toBe('');
  });
});
