/**
 * The demo's secrets, made at random on first run and kept in the data folder (`secrets.json`, mode
 * 0600): the sign-in token key, the unsubscribe-link key, the BYOK vault key and the sandbox's webhook
 * secret. They live as long as the data they protect; deleting the folder starts everything afresh.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TallyError } from '@tally/core';

export interface DemoSecrets {
  /** HMAC key of the `tally_demo` sign-in tokens (32 bytes, base64url). */
  sessionKey: string;
  /** HMAC key of the unsubscribe links (32 bytes, base64url: 43 characters). */
  unsubscribeSecret: string;
  /** AES-256-GCM key of the BYOK vault (32 bytes, base64). */
  vaultKey: string;
  /** What the sandbox signs its webhooks with. */
  webhookSecret: string;
}

const FILE = 'secrets.json';
const KEYS = ['sessionKey', 'unsubscribeSecret', 'vaultKey', 'webhookSecret'] as const;

function fresh(): DemoSecrets {
  return {
    sessionKey: randomBytes(32).toString('base64url'),
    unsubscribeSecret: randomBytes(32).toString('base64url'),
    vaultKey: randomBytes(32).toString('base64'),
    webhookSecret: `whsec_demo_${randomBytes(24).toString('base64url')}`,
  };
}

function check(value: unknown, path: string): DemoSecrets {
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  const bad = KEYS.filter((key) => typeof record?.[key] !== 'string' || (record[key] as string).length < 32);
  if (!record || bad.length > 0) {
    throw new TallyError(
      'VALIDATION',
      `${path} is damaged (${bad.join(', ') || 'not an object'}): delete the data folder to start afresh`,
      {
        details: { path },
      },
    );
  }
  if (Buffer.from(record.vaultKey as string, 'base64').byteLength !== 32) {
    throw new TallyError('VALIDATION', `${path}: vaultKey is not 32 bytes of base64`, { details: { path } });
  }
  return {
    sessionKey: record.sessionKey,
    unsubscribeSecret: record.unsubscribeSecret,
    vaultKey: record.vaultKey,
    webhookSecret: record.webhookSecret,
  } as DemoSecrets;
}

/** The folder's secrets, made (atomically: two processes starting at once agree) when there are none. */
export async function loadSecrets(dataDir: string): Promise<DemoSecrets> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, FILE);
  try {
    await writeFile(path, `${JSON.stringify(fresh(), null, 2)}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    parsed = null;
  }
  return check(parsed, path);
}
