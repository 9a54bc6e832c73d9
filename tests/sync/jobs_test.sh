#!/usr/bin/env bash
# jobs_test.sh TEST_BIN sqlite|postgresql — runs a storage test
# (test_hqdb_jobs, test_hqdb_resolve) on SQLite (its own temp file) or on a
# throwaway PostgreSQL cluster (lib.sh's
# pg_start: 127.0.0.1, a free port, removed on exit; exit 77 when
# PostgreSQL can be neither found nor installed).
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../integration/lib.sh
. "$SRC/tests/integration/lib.sh"
mk_tmp
if [ "$2" = postgresql ]; then
  pg_start
  export SQR_TEST_DB=${HQ_DB_ARGS[1]}
fi
SQR_TEST_TMP=$TMP/tmp "$1"
