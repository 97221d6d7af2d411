/**
 * `pnpm --filter dashboard start` (or `node examples/dashboard/src/server/main.ts`): the demo on
 * http://localhost:3000. The first run creates the data folder and seeds it (progress on stderr);
 * later runs start from what is there. Settings: config.ts. Ctrl-C stops it cleanly.
 */
import { TallyError } from '@tally/core';
import { configFromEnv } from './config.ts';
import { DEMO_COUPONS, DEMO_CUSTOMER } from './seed.ts';
import { startDashboard } from './serve.ts';

async function main(): Promise<void> {
  let options: ReturnType<typeof configFromEnv>;
  try {
    options = configFromEnv(process.env, process.cwd());
  } catch (error) {
    if (TallyError.is(error)) {
      process.stderr.write(`Tally dashboard: ${error.message}\n`);
      process.exitCode = 64;
      return;
    }
    throw error;
  }
  const running = await startDashboard(options);
  const { dashboard } = running;
  const shown = options.publicUrl ?? running.url;
  process.stdout.write(
    [
      `Tally dashboard: ${shown}`,
      '',
      `  Sign in at ${shown}/ as any sample customer (${DEMO_CUSTOMER} is on a fresh trial) or as admin.`,
      `  Coupons to try: ${DEMO_COUPONS.map((coupon) => coupon.code).join(', ')}. API docs: ${shown}/docs`,
      `  ${dashboard.description.database} · ${dashboard.description.payments} · ${dashboard.description.models}`,
      '',
      '  curl tokens (Authorization: Bearer …), valid as long as the data folder:',
      `    admin     ${dashboard.tokens.admin}`,
      `    customer  ${dashboard.tokens.customer}`,
      `  e.g. curl -H "Authorization: Bearer ${dashboard.tokens.admin}" ${shown}/v1/admin/customers`,
      '',
      '  Production signs people in with your identity provider instead (see src/server/session.ts: Keycloak).',
      '  Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write('Stopping at once.\n');
      process.exit(130);
    }
    stopping = true;
    process.stderr.write(`\n${signal}: stopping…\n`);
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error('Tally dashboard could not start:', error);
  process.exit(1);
});
