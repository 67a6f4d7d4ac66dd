#!/usr/bin/env bash
# Rebuild ledgers/drone-coalition from nothing, through fundledger's own commands.
#
# Every fact comes from one public report (shared/sources/000_801e35fbfa955a46.txt:
# "Belgium and Turkey Seek to Join Drone Coalition Backing Ukraine", The Gaze,
# April 2025). Where the report is silent (exact days, who gave the EUR 180M,
# the names of the other member states), the memo says so instead of guessing.
#
# Usage: ledgers/build-drone-coalition.sh [FOLDER]   (default: ledgers/drone-coalition)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${1:-$here/drone-coalition}"
fl() { ${FUNDLEDGER:-fundledger} --ledger "$target" "$@" --no-commit >/dev/null; }

SRC="The Gaze, 'Belgium and Turkey Seek to Join Drone Coalition Backing Ukraine', April 2025, citing Latvia's Ministry of Defence"

rm -rf "$target"
${FUNDLEDGER:-fundledger} init "$target" --name "Drone Coalition central procurement fund" --currency EUR \
  --manager "United Kingdom" --no-commit >/dev/null

fl member join "United Kingdom" --role co-lead --date 2024-02-01 --source "$SRC" \
  --memo "Co-leads the coalition and manages its central procurement fund. The coalition was established in February 2024; the report gives no day, so the 1st is used."
fl member join Latvia --role co-lead --date 2024-02-01 --source "$SRC" \
  --memo "Co-leads the coalition. Established in February 2024; the report gives no day, so the 1st is used."
fl member join "Unattributed members" --role aggregate --date 2024-02-01 --source "$SRC" \
  --memo "Not a state: stands for the coalition's other members (18 in all before Belgium and Turkey), whom the report does not name, so that the money it does not attribute can be recorded. Listed, never counted as a member."
fl contribute "Unattributed members" 180M --date 2025-03-01 --source "$SRC" \
  --memo "The fund 'has received EUR 180 million in contributions to date' (April 2025). The report says neither who gave it nor when: one unattributed sum, dated before the March 2025 package."
fl package recon-drones-2025-03 20M --envelope unallocated --date 2025-03-31 --source "$SRC" \
  --memo "Tactical reconnaissance drones: a EUR 20 million package announced in March 2025 (no day given, so the month's last day is used). The report does not say which contributions fund it or what has been paid."
fl member join Norway --date 2025-04-12 --source "$SRC" \
  --memo "'On April 12, Norway officially joined the Drone Coalition.'"
fl pledge Latvia 30M --year 2025 --split drones=20M --split industrial-cooperation=10M --date 2025-04-30 \
  --source "$SRC" \
  --memo "'Latvia ... has pledged EUR 30 million to the coalition in 2025: EUR 20 million for drone purchases and EUR 10 million to foster industrial cooperation between Latvian and Ukrainian defense firms.' Reported in April 2025 (no day given, so the month's last day is used); the report does not say whether any of it has been received."
fl member apply Belgium --date 2025-04-30 --source "$SRC" \
  --memo "Formally expressed interest in joining at the coalition's summit (April 2025, no day given). Accession requires approval from the existing member states."
fl member apply Turkey --date 2025-04-30 --source "$SRC" \
  --memo "Formally expressed interest in joining at the coalition's summit (April 2025, no day given). Accession requires approval from the existing member states."
echo "Built $target"
