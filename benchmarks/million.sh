#!/bin/bash
# The million-entry figures of docs/PERFORMANCE.md ("A million entries"), run on demand:
#
#   python benchmarks/generate.py /tmp/fund-1m 1000000        # about an hour
#   python -m ledger --ledger /tmp/fund-1m export --format hledger -o /tmp/fund-1m.journal
#   benchmarks/million.sh /tmp/fund-1m /tmp/fund-1m.journal
#
# One first read (the cache thrown away), then the best of three warm runs of each question, then ledger-cli's
# month register on the export for comparison. Each line: seconds, peak memory, the command.
set -u
L=${1:?the ledger folder}
E=${2:-}
cd "$(dirname "$0")/.."
F="python -m ledger --ledger $L"
t() { /usr/bin/time -f "%e s %M KB  $*" "$@" > /dev/null; }
rm -rf "$L/.cache"
t $F report summary
for i in 1 2 3; do t $F report summary; done
for i in 1 2 3; do t $F report summary --period 2028Q1; done
for i in 1 2 3; do t $F report statement Latvia --period 2028Q1; done
for i in 1 2 3; do t $F report statement Norway --period 2030Q4; done
# A package of about 400 entries (the generated fund has no member of a few hundred): its register.
P=$(python - "$L" <<'PY'
import sys
from pathlib import Path
from ledger import journal
books = journal.load(journal.open_ledger(Path(sys.argv[1])), use_cache=True)
sizes = sorted((len(ids), name) for name, ids in books.index.ids["package"].items())
print(min(sizes, key=lambda size: abs(size[0] - 400))[1])
PY
)
echo "package $P"
for i in 1 2 3; do t $F report register --package "$P"; done
for i in 1 2 3; do t $F report register --from 2028-01-01 --to 2028-01-31; done
t $F export --format hledger --as-of 2024-12-31 -o /tmp/million-as-of.journal
if [ -n "$E" ] && command -v ledger > /dev/null; then
    t ledger -f "$E" reg -b 2028-01-01 -e 2028-02-01
fi
