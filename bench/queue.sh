#!/usr/bin/env bash
# Seeds a throwaway database with 100,000 requests and records EXPLAIN ANALYZE
# of the review queue's default page and text searches in
# docs/benchmark-results/queue.md. The database is created and dropped here.
set -euo pipefail
cd "$(dirname "$0")/.."

admin_url="${BENCH_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
database="ist_intake_bench_$$"
bench_url="${admin_url%/*}/$database"
results=docs/benchmark-results/queue.md

cleanup() { psql "$admin_url" -qc "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null; }
trap cleanup EXIT

cargo build --release --quiet --bin ist-intake --example queue_benchmark
DATABASE_URL="$bench_url" target/release/ist-intake migrate >/dev/null

mkdir -p "$(dirname "$results")"
{
    echo "# Review queue benchmark"
    echo
    echo "Recorded by \`bench/queue.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB memory, $(uname -srm);"
    echo "$(psql "$admin_url" -Atc 'SELECT version()' | cut -d, -f1)."
    echo
    DATABASE_URL="$bench_url" target/release/examples/queue_benchmark
} > "$results"
echo "wrote $results"
