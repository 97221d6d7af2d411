import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The customer widgets' entry (`@tally/react`) never reaches the admin analytics or recharts: an app
 * without recharts installed, or that shows no analytics, loads neither. Walks the source imports.
 */

const src = resolve(import.meta.dirname, '..');
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/g;

function reachable(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      if (!specifier) continue;
      if (!specifier.startsWith('.')) {
        packages.add(specifier);
        continue;
      }
      const stem = join(dirname(file), specifier).replace(/\.js$/, '');
      const target = [`${stem}.ts`, `${stem}.tsx`, join(stem, 'index.ts')].find((candidate) => existsSync(candidate));
      if (!target) throw new Error(`${file}: cannot resolve ${specifier}`);
      queue.push(target);
    }
  }
  return { files, packages };
}

describe('entry boundaries', () => {
  it('@tally/react reaches neither the admin widgets nor recharts', () => {
    const { files, packages } = reachable(join(src, 'index.ts'));
    expect(files.size).toBeGreaterThan(20);
    expect([...files].filter((file) => file.startsWith(join(src, 'admin')))).toEqual([]);
    expect([...packages].filter((name) => name === 'recharts' || name.startsWith('recharts/'))).toEqual([]);
  });

  it('@tally/react/admin draws with recharts', () => {
    const { packages } = reachable(join(src, 'admin/index.ts'));
    expect(packages).toContain('recharts');
  });
});
