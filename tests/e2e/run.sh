#!/usr/bin/env bash
# The browser and OpenAPI tests (CTest runs them; see tests/CMakeLists.txt).
#   tests/e2e/run.sh install             npm ci, only when node_modules is missing or stale
#   tests/e2e/run.sh FILE.test.mjs...    run those node:test files (FOLIO_BIN, UI_ARTIFACTS set)
# playwright-core drives Debian's /usr/bin/chromium: no browser is ever downloaded.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ "${1:-}" = install ]; then
    stamp="$here/node_modules/.folio-lock.sha256"
    want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        (cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline)
        echo "$want" > "$stamp"
    fi
    exit 0
fi
cd "$here"
exec node --test --test-concurrency=1 "$@"
