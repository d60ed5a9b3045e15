#!/usr/bin/env bash
# Runs the whole suite twice: on SQLite files, then on PostgreSQL (a fresh database per test file).
# PostgreSQL unreachable: the second run is skipped with a loud message, unless MEDCRED_REQUIRE_PG=1 (CI),
# which makes it a failure.
set -uo pipefail
cd "$(dirname "$0")/.."

# The browser tests drive Debian's chromium (never a downloaded browser build): install it when it is
# missing and we may (root with apt-get, as on CI and the development machines); else they skip, loudly.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing Debian's chromium for the browser tests =="
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null || echo "!! chromium could not be installed: the browser tests will skip" >&2
fi

reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
PG_URL="${MEDCRED_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
export MEDCRED_TEST_PG_URL="$PG_URL"

echo "== medcred tests on SQLite =="
MEDCRED_TEST_DB=sqlite npx vitest run --reporter=default --reporter=json --outputFile.json="$reports/sqlite.json" "$@"
sqlite_rc=$?

echo "== medcred tests on PostgreSQL ($PG_URL) =="
if node -e "
  const pg = require('pg');
  const c = new pg.Client({ connectionString: process.env.MEDCRED_TEST_PG_URL, connectionTimeoutMillis: 3000 });
  c.connect().then(() => c.end()).then(() => process.exit(0), () => process.exit(1));
"; then
  MEDCRED_TEST_DB=postgres npx vitest run --reporter=default --reporter=json --outputFile.json="$reports/postgres.json" "$@"
  pg_rc=$?
elif [ "${MEDCRED_REQUIRE_PG:-0}" = "1" ]; then
  echo "!! PostgreSQL at $PG_URL is unreachable and MEDCRED_REQUIRE_PG=1: failing." >&2
  pg_rc=1
else
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  echo "!! SKIPPED: PostgreSQL at $PG_URL is unreachable; the suite ran on SQLite only. !!" >&2
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  pg_rc=0
fi

# One plain closing line over both runs.
node -e "
  const fs = require('fs'), path = require('path');
  let passed = 0, failed = 0, skipped = 0;
  for (const f of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(path.join(process.argv[1], f), 'utf8'));
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log('tests: ' + passed + ' passed, ' + failed + ' failed' + (skipped ? ', ' + skipped + ' skipped' : ''));
" "$reports"

if [ $sqlite_rc -ne 0 ] || [ $pg_rc -ne 0 ]; then
  echo "FAILED: sqlite exit $sqlite_rc, postgres exit $pg_rc" >&2
  exit 1
fi
