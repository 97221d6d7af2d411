import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// @tally/core must run on every runtime and bind to no vendor: these checks keep it that way.
const root = join(import.meta.dirname, '..');
const probe = join(root, 'packages/core/src/__boundary-probe__.ts');

afterAll(() => rmSync(probe, { force: true }));

describe('@tally/core boundary', () => {
  it('has zod as its only runtime dependency, and ky for the /client subpath', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'packages/core/package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual(['ky', 'zod']);
    expect(manifest.peerDependencies ?? {}).toEqual({});
  });

  it.each([
    ['@tally/core', 'packages/core/src/index.ts'],
    ['@tally/core/http', 'packages/core/src/http/index.ts'],
  ])('%s reaches no ky: only @tally/core/client pays for it', (_entry, start) => {
    // tsup copies the module graph file for file (bundle: false), so the source graph is the shipped one.
    const seen = new Set<string>();
    const bare = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const [, spec] of source.matchAll(/^\s*(?:import|export)\s(?!type\b)[^'"]*?from\s*'([^']+)'/gm)) {
        if (!spec) continue;
        if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
        else bare.add(spec);
      }
    };
    visit(join(root, start));
    expect(seen.size).toBeGreaterThan(5);
    expect([...bare].sort()).toEqual(['zod']);
  });

  it.each([
    ["import { readFile } from 'node:fs';", 'node:*'],
    ["import path from 'path';", 'a bare Node built-in'],
    ["import React from 'react';", 'react'],
    ["import { jsx } from 'react/jsx-runtime';", 'a react subpath'],
    ["import pg from 'pg';", 'pg'],
    ["import Stripe from 'stripe';", 'stripe'],
    ["import ky from 'ky';", 'ky outside /client'],
    ["import { openai } from '@ai-sdk/openai';", 'an AI SDK provider'],
    ["import { generateText } from 'ai';", 'the AI SDK'],
    ["import { PGlite } from '@electric-sql/pglite';", 'PGlite'],
  ])('Biome refuses %s (%s)', (statement) => {
    writeFileSync(probe, `${statement}\nexport const probe = [${statement.match(/import \{? ?(\w+)/)?.[1]}];\n`);
    let output = '';
    try {
      execFileSync(join(root, 'node_modules/.bin/biome'), ['lint', '--max-diagnostics=50', probe], {
        cwd: root,
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? '') + String((error as { stderr?: string }).stderr ?? '');
    }
    expect(output).toMatch(/noRestrictedImports|noNodejsModules/);
  });
});
