#!/usr/bin/env bash
# Build ledgers/examples/procurement: a FICTIONAL year of procurement, to show (and test) what the money
# bought. Nothing here is a real fund, member decision, supplier or contract: every name and figure is
# invented for the example, through fundledger's own commands.
#
# Usage: ledgers/examples/build-procurement.sh [FOLDER]   (default: ledgers/examples/procurement)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${1:-$here/procurement}"
fl() { ${FUNDLEDGER:-fundledger} --ledger "$target" "$@" --no-commit >/dev/null; }
SRC="Fictional example, built by ledgers/examples/build-procurement.sh"

rm -rf "$target"
${FUNDLEDGER:-fundledger} init "$target" --name "Example procurement fund (fictional)" --currency EUR \
  --manager "Northland" --no-commit >/dev/null

for member in Northland Eastmark Westria; do
  fl member join "$member" --date 2025-01-01 --source "$SRC"
done
fl rate SEK 0.0870 --date 2025-01-01 --source "$SRC (an invented rate)"
fl pledge Northland 30M --year 2025 --split drones=20M --split training=10M --date 2025-01-10 --due 2025-06-30 --source "$SRC"
fl pledge Eastmark 10M --year 2025 --instalment 2025-03-31=5M --instalment 2025-09-30=5M --date 2025-01-12 --source "$SRC"
fl contribute Northland 30M --pledge 5 --date 2025-02-01 --source "$SRC" --memo "Treasury transfer NL-001"
fl contribute Eastmark 5M --pledge 6 --date 2025-03-28 --source "$SRC" --memo "First instalment"
fl contribute Westria "100M SEK" --date 2025-02-15 --source "$SRC" --memo "Given in kronor"
fl earmark drones 4M --date 2025-03-01 --source "$SRC" --memo "Topped up from unallocated cash"
fl package fpv-drones 22M --envelope drones --date 2025-03-10 --source "$SRC" --memo "FPV drones and spares"
fl package operator-training 6M --envelope training --date 2025-03-12 --source "$SRC"
fl supplier add "Fjord Drone Works AS" --date 2025-03-14 --country NO --number 987654321 --source "$SRC"
fl supplier add "Baltic Optics SIA" --date 2025-03-14 --country LV --source "$SRC"
fl supplier add "Alpine Training GmbH" --date 2025-03-14 --country AT --source "$SRC"
fl contract fpv-drones "Fjord Drone Works AS" 15M --ref FDW-2025-01 --item "FPV drone" --quantity 3000 --date 2025-03-15 --source "$SRC"
fl contract fpv-drones "Baltic Optics SIA" 4M --ref BO-77 --item "thermal camera" --quantity 400 --date 2025-03-20 --source "$SRC"
fl contract operator-training "Alpine Training GmbH" 5M --ref ATG-9 --date 2025-03-25 --source "$SRC"
fl pay fpv-drones 5M --contract FDW-2025-01 --invoice FDW-INV-1 --date 2025-04-15 --source "$SRC" --memo "Milestone 1: first batch"
fl deliver fpv-drones --item "FPV drone" --quantity 1000 --contract FDW-2025-01 --recipient "Recipient unit A" --date 2025-05-02 --source "$SRC"
fl pay fpv-drones 5M --contract FDW-2025-01 --invoice FDW-INV-2 --date 2025-06-15 --source "$SRC" --memo "Milestone 2"
fl deliver fpv-drones --item "FPV drone" --quantity 1200 --contract FDW-2025-01 --recipient "Recipient unit B" --date 2025-07-01 --source "$SRC"
fl amend fpv-drones +1M --contract BO-77 --reason "Spare lenses added to the order" --date 2025-07-10 --source "$SRC"
fl pay fpv-drones 5M --contract BO-77 --invoice BO-INV-1 --date 2025-08-01 --source "$SRC"
fl deliver fpv-drones --item "thermal camera" --quantity 400 --contract BO-77 --recipient "Recipient unit A" --date 2025-08-20 --source "$SRC"
fl pay operator-training 2.5M --contract ATG-9 --invoice ATG-1 --date 2025-05-30 --source "$SRC" --memo "First course"
fl interest 18,250.40 --date 2025-06-30 --source "$SRC" --memo "Interest, first half"
fl charge 35 --envelope drones --date 2025-06-30 --source "$SRC" --memo "Transfer fees"
fl fee 120k --date 2025-12-31 --source "$SRC" --memo "Administration fee 2025"
fl close 2025Q2 --date 2025-07-05 --source "$SRC"
# The second currency: batteries bought in Norwegian kroner, paid when the krone had risen (a €30,000.00 loss)
fl rate NOK 0.0850 --date 2025-07-01 --source "$SRC (an invented rate)"
fl contract fpv-drones "Fjord Drone Works AS" "20M NOK" --ref FDW-2025-02 --item "battery pack" --quantity 2000 --date 2025-09-01 --source "$SRC"
fl rate NOK 0.0880 --date 2025-10-01 --source "$SRC (an invented rate)"
fl pay fpv-drones "10M NOK" --contract FDW-2025-02 --invoice FDW-INV-3 --date 2025-10-15 --source "$SRC" --memo "Batteries, first half"
