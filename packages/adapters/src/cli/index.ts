/**
 * The `tally` command line: operator tasks on a Tally database (migrate, seed, audit, reconcile,
 * export, sync-provider). `runCli` never exits the process; `bin/tally.js` sets the exit code.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { TallyError } from '@tally/core';
import { auditCommand, auditHelp } from './audit.js';
import { type CliIo, CliUsageError, EXIT, isUnavailable, STORE_OPTIONS } from './context.js';
import { exportCommand, exportHelp } from './export.js';
import { migrateCommand, migrateHelp } from './migrate.js';
import { reconcileCommand, reconcileHelp } from './reconcile.js';
import { seedCommand, seedHelp } from './seed.js';
import { syncProviderCommand, syncProviderHelp } from './sync-provider.js';

export { type CliIo, EXIT } from './context.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Flags = Record<string, string | boolean | undefined>;

interface Command {
  summary: string;
  help: string;
  options: Options;
  /** Positionals after the command name it accepts. */
  positionals: number;
  run(flags: Flags, positionals: string[], io: CliIo): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  migrate: {
    summary: 'create or upgrade the database schema',
    help: migrateHelp,
    options: STORE_OPTIONS,
    positionals: 0,
    run: (flags, _, io) => migrateCommand(flags as never, io),
  },
  seed: {
    summary: 'write deterministic sample data',
    help: seedHelp,
    options: { ...STORE_OPTIONS, seed: { type: 'string' }, customers: { type: 'string' }, days: { type: 'string' } },
    positionals: 0,
    run: (flags, _, io) => seedCommand(flags as never, io),
  },
  audit: {
    summary: 'check the ledger (exit 1 on issues)',
    help: auditHelp,
    options: { ...STORE_OPTIONS, json: { type: 'boolean' } },
    positionals: 0,
    run: (flags, _, io) => auditCommand(flags as never, io),
  },
  reconcile: {
    summary: 'compare charged provider cost with OpenRouter (exit 1 on drift)',
    help: reconcileHelp,
    options: {
      ...STORE_OPTIONS,
      since: { type: 'string' },
      until: { type: 'string' },
      customer: { type: 'string' },
      'max-drift-bps': { type: 'string' },
      json: { type: 'boolean' },
      'openrouter-url': { type: 'string' },
    },
    positionals: 0,
    run: (flags, _, io) => reconcileCommand(flags as never, io),
  },
  export: {
    summary: "export a customer's transactions as CSV",
    help: exportHelp,
    options: { ...STORE_OPTIONS, customer: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } },
    positionals: 1,
    run: (flags, positionals, io) => exportCommand(positionals[0], flags as never, io),
  },
  'sync-provider': {
    summary: 'sync OpenRouter key balances, report low ones',
    help: syncProviderHelp,
    options: { ...STORE_OPTIONS, 'low-ratio-bps': { type: 'string' }, 'openrouter-url': { type: 'string' } },
    positionals: 0,
    run: (flags, _, io) => syncProviderCommand(flags as never, io),
  },
};

export const usage = `Usage: tally <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(15)}${command.summary}`)
  .join('\n')}

Run "tally <command> --help" for a command's options.
Exit codes: 0 ok, 1 check failed, 64 usage error, 69 service unreachable, 70 unexpected error.`;

function describe(error: unknown): string {
  if (TallyError.is(error)) {
    const issues = error.issues.map((issue) => `\n  ${issue.path.join('.') || '(root)'}: ${issue.message}`).join('');
    return `${error.code}: ${error.message}${error.issues.length > 1 ? issues : ''}`;
  }
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map((inner) => describe(inner)).join('; ');
  return error instanceof Error ? error.message || error.name : String(error);
}

/** TallyError codes that mean the input was wrong: a usage error, not a crash. */
const INPUT_CODES = new Set(['VALIDATION', 'INVALID_DECIMAL', 'CATALOG_INVALID', 'NOT_FOUND', 'UNKNOWN_TIER', 'UNKNOWN_MODEL']);

/**
 * Runs `tally <argv…>` and resolves with its exit code. Output goes to `io.stdout` (results) and
 * `io.stderr` (progress, errors); settings are read from `io.env`.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(`${usage}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.stderr.write(`tally: unknown command "${name}"\n\n${usage}\n`);
    return EXIT.usage;
  }
  let parsed: { values: Flags; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, options: command.options, strict: true, allowPositionals: true }) as typeof parsed;
    if (parsed.positionals.length > command.positionals)
      throw new Error(`unexpected argument "${parsed.positionals[command.positionals]}"`);
  } catch (error) {
    io.stderr.write(`tally ${name}: ${(error as Error).message}\n\n${command.help}\n`);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    io.stdout.write(`${command.help}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(parsed.values, parsed.positionals, io);
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.stderr.write(`tally ${name}: ${error.message}\n(see "tally ${name} --help")\n`);
      return EXIT.usage;
    }
    if (isUnavailable(error)) {
      io.stderr.write(`tally ${name}: a service is unreachable: ${describe(error)}\n`);
      return EXIT.unavailable;
    }
    if (TallyError.is(error) && error.code === 'PROVIDER_REJECTED') {
      io.stderr.write(`tally ${name}: the provider refused the request (check the key): ${describe(error)}\n`);
      return EXIT.unavailable;
    }
    if (TallyError.is(error) && INPUT_CODES.has(error.code)) {
      io.stderr.write(`tally ${name}: ${describe(error)}\n`);
      return EXIT.usage;
    }
    io.stderr.write(`tally ${name}: unexpected error: ${error instanceof Error && error.stack ? error.stack : describe(error)}\n`);
    return EXIT.software;
  }
}
