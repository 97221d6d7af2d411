// `pnpm seed`: writes deterministic sample data (customers, 90 days of usage, purchases, coupons,
// tier changes, a failed payment) into a Tally ledger. The same as `tally seed` (src/cli/seed.ts),
// which holds the logic; build the package first (`pnpm build`).
//   pnpm seed [--seed 42] [--customers 300] [--days 90] [--data-dir .tally/data | --database-url postgres://…]
import { runCli } from '../dist/cli.js';

process.exitCode = await runCli(['seed', ...process.argv.slice(2)], { stdout: process.stdout, stderr: process.stderr, env: process.env });
