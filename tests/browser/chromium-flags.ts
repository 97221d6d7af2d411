/**
 * Chromium's flags for every browser run of the project (the browser tests and the dashboard's load
 * benchmark): off the network (the machine is offline) and quiet. Playwright adds `--headless` itself.
 * A module of its own, importing nothing, so that a script run by Node's type stripping can import it.
 */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
