// Every /api/v1/… request of the app goes to the Tally handler. Next.js calls these with a NextRequest
// (a Request) and the route's params, which the handler doesn't need: it routes by the URL itself.
import { handleTally } from '../../../lib/tally';

// The handler reads the ledger on every request: never cache or prerender its answers.
export const dynamic = 'force-dynamic';

export const GET = (request: Request) => handleTally(request);
export const POST = (request: Request) => handleTally(request);
export const PUT = (request: Request) => handleTally(request);
export const PATCH = (request: Request) => handleTally(request);
export const DELETE = (request: Request) => handleTally(request);
