"""Four eyes (issue 20): what the policy lists is proposed by one officer and booked only when another
approves it, and the audit proves who did which from the SSH signatures on the git commits."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger import journal, state
from ledger.cli import main

from conftest import Runner, snapshot

pytestmark = [
    pytest.mark.skipif(
        shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed (apt-get install openssh-client)"
    ),
    pytest.mark.slow,  # real git, every commit signed with ssh-keygen: seconds a test
]
OFFICERS = ("alice", "bob", "carol")


class Officer(Runner):
    """The fund's clone, used as one officer: commits signed with that officer's key, under its git identity."""

    def __init__(self, path: Path, key: Path | None, name: str, config: Path) -> None:
        super().__init__(path)
        self.settings = {"user.signingkey": str(key)} if key else {"commit.gpgsign": "false"}
        self.name, self.config = name, config

    def __call__(self, command, *, ok: bool = True, env: dict | None = None):
        params = " ".join(f"'{k}={v}'" for k, v in self.settings.items())
        who = {f"GIT_{r}_{p}": v for r in ("AUTHOR", "COMMITTER") for p, v in (("NAME", self.name),
               ("EMAIL", f"{self.name.lower()}@fund.example"))}  # fmt: skip
        own = {"GIT_CONFIG_PARAMETERS": params, "GIT_CONFIG_GLOBAL": str(self.config), "GIT_CONFIG_NOSYSTEM": "1"}
        return super().__call__(command, ok=ok, env={**own, **who, **(env or {})})


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The fund, built once: keys for three officers and a stranger, Alice and Bob named, Carol approved in."""
    top = tmp_path_factory.mktemp("four-eyes")
    keys = top / "keys"
    keys.mkdir()
    for name in (*OFFICERS, "stranger"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(keys / name)], check=True)
    config = top / "gitconfig"
    config.write_text("[init]\n\tdefaultBranch = main\n[gpg]\n\tformat = ssh\n[commit]\n\tgpgsign = true\n")
    made = CliRunner().invoke(main, ["init", str(top / "fund"), "--name", "F", "--currency", "EUR"],
                              env={"GIT_CONFIG_PARAMETERS": f"'user.signingkey={keys / 'alice'}'",
                                   "GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1",
                                   "GIT_AUTHOR_NAME": "Alice", "GIT_AUTHOR_EMAIL": "alice@fund.example",
                                   "GIT_COMMITTER_NAME": "Alice", "GIT_COMMITTER_EMAIL": "alice@fund.example"})  # fmt: skip
    assert made.exit_code == 0, made.output
    alice = Officer(top / "fund", keys / "alice", "Alice", config)
    alice("member join Latvia --date 2025-01-01")
    alice("contribute Latvia 100 --date 2025-01-02")
    alice("package p 80 --envelope unallocated --date 2025-01-03")  # before any officer: no approval needed
    alice(f"officer add Alice --key {keys / 'alice.pub'} --role recorder --role approver --date 2025-01-04")  # 4
    alice(f"officer add Bob --key {keys / 'bob.pub'} --role approver --date 2025-01-04")  # 5: the second approver
    alice(f"propose officer add Carol --key {keys / 'carol.pub'} --role recorder --date 2025-01-04")  # 6
    Officer(top / "fund", keys / "bob", "Bob", config)("approve 6")  # 7, and 8 books Carol
    return top


@pytest.fixture
def fund(built, tmp_path) -> dict[str, Officer]:
    shutil.copytree(built, tmp_path / "copy", symlinks=True)
    top = tmp_path / "copy"
    keys, config = top / "keys", top / "gitconfig"
    clones = {name: Officer(top / "fund", keys / name, name.title(), config) for name in (*OFFICERS, "stranger")}
    clones["unsigned"] = Officer(top / "fund", None, "Alice", config)
    return clones


def audit(officer: Officer) -> dict:
    import json

    return json.loads(officer("audit --json", ok=False).stdout)


def test_a_payment_proposed_by_one_and_approved_by_another_is_booked(fund):
    alice, bob = fund["alice"], fund["bob"]
    assert alice.json("propose pay p 30 --invoice 17 --date 2025-02-01")["kind"] == "proposal"  # 9
    assert alice.json("balance")["rows"][0]["balance"] == "100.00"  # proposed: nothing moved
    assert [(r["proposal"], r["kind"], r["amount"]) for r in alice.json("proposals")["rows"]] == [(9, "pay", "30.00")]
    booked = bob("approve 9 --json").stdout
    assert '"kind": "approval"' in booked and '"kind": "pay"' in booked  # 10 approves, 11 pays
    rows = {r["account"]: r["balance"] for r in alice.json("balance")["rows"]}
    assert rows["expenses:packages:p"] == "30.00"
    data = audit(alice)
    assert data["clean"], data["findings"]
    assert [(a["proposal"], a["proposer"], a["approvers"], a["booked_as"]) for a in data["approvals"]] == [
        (6, "Alice", ["Bob"], 8), (9, "Alice", ["Bob"], 11),
    ]  # fmt: skip
    approvals = alice.json("report approvals")["rows"]
    assert approvals[-1] == {"proposal": 9, "date": "2025-02-01", "kind": "pay", "proposer": "Alice",
                             "approvers": ["Bob"], "status": "booked", "booked_as": 11}  # fmt: skip


def test_what_the_policy_lists_is_refused_unproposed(fund):
    before = snapshot(fund["alice"].path)
    refused = fund["alice"]("pay p 10 --date 2025-02-01", ok=False)
    assert refused.stderr.strip() == (
        "refused: a pay entry needs another officer to approve it: record it with `fundledger propose pay …`, "
        "then `fundledger approve ID`"
    )
    assert snapshot(fund["alice"].path) == before
    fund["alice"]("earmark drones 5 --date 2025-02-01")  # not on the policy: recorded as ever


def test_an_officer_cannot_approve_their_own_proposal(fund):
    fund["alice"]("propose pay p 10 --date 2025-02-01")
    before = snapshot(fund["alice"].path)
    refused = fund["alice"]("approve 9", ok=False)
    assert refused.stderr.strip() == (
        "refused: Alice proposed #9 (its commit is signed with this clone's key); another officer approves it"
    )
    assert snapshot(fund["alice"].path) == before


def test_the_audit_names_an_approval_not_signed_by_an_officer(fund):
    fund["alice"]("propose pay p 10 --date 2025-02-01")  # 9
    fund["stranger"]("approve 9")  # 10 approves, 11 pays: signed, but by a key the fund does not list
    fund["alice"]("propose pay p 5 --date 2025-02-02")  # 12
    fund["unsigned"]("approve 12")  # 13, 14: not signed at all
    data = audit(fund["alice"])
    assert not data["clean"]
    assert {f["entry"]: f["message"] for f in data["findings"]} == {
        10: "entry #10 approves proposal #9, but its commit is not signed by an officer's key",
        13: "entry #13 approves proposal #12, but its commit is not signed by an officer's key",
    }
    assert fund["alice"]("audit", ok=False).exit_code == 1


def test_an_approver_without_the_role_and_a_list_changed_under_a_proposal(fund):
    fund["alice"]("propose pay p 10 --date 2025-02-01")  # 9
    fund["carol"]("approve 9")  # 10, 11: Carol is a recorder only
    fund["alice"]("propose pay p 5 --date 2025-02-02")  # 12
    fund["alice"](f"propose officer add Dan --key {fund['alice'].path.parent / 'keys' / 'stranger.pub'} --role approver"
                  " --date 2025-02-02")  # 13  # fmt: skip
    fund["bob"]("approve 13")  # 14, 15: Dan named, while proposal 12 waits
    fund["bob"]("approve 12")  # 16, 17
    messages = {f["entry"]: f["message"] for f in audit(fund["alice"])["findings"]}
    assert messages == {
        10: "entry #10: Carol approved proposal #9 without the approver role",
        16: "entry #16 approves proposal #12 after the officer list changed under it (#15)",
    }


def test_a_proposal_whose_money_went_elsewhere_is_refused_at_approval(fund):
    fund["alice"]("propose pay p 70 --date 2025-02-01")  # 9
    fund["alice"]("propose pay p 60 --date 2025-02-01")  # 10: both fit the 80 committed, one at a time
    fund["bob"]("approve 9")  # 11, 12
    before = snapshot(fund["alice"].path)
    refused = fund["bob"]("approve 10", ok=False)
    assert refused.stderr.strip() == (
        "refused: proposal #10 cannot be booked now: package p has €10.00 left to pay; payment of €60.00 exceeds it"
    )
    assert snapshot(fund["alice"].path) == before
    fund["bob"]('reject 10 --reason "Paid by #12 already"')
    again = fund["bob"]("approve 10", ok=False)
    assert again.stderr.strip() == "refused: proposal #10 is rejected (#13)"


def test_a_policy_threshold(fund):
    fund["alice"]("propose policy pay --approvals 1 --above 20 --date 2025-02-01")  # 9
    fund["bob"]("approve 9")  # 10, 11
    fund["alice"]("pay p 20 --date 2025-02-02")  # at the threshold: no approval needed
    refused = fund["alice"]("pay p 21 --date 2025-02-02", ok=False)
    assert "needs another officer to approve it" in refused.stderr


def test_report_approvals_for_a_period(fund):
    fund["alice"]("propose pay p 10 --date 2025-02-01")  # 9
    fund["bob"]("approve 9 --date 2025-02-02")
    rows = fund["alice"].json("report approvals --period 2025-02")["rows"]
    assert [(r["proposal"], r["proposer"], r["approvers"]) for r in rows] == [(9, "Alice", ["Bob"])]
    assert fund["alice"].json("report approvals --period 2025-03")["rows"] == []


def test_the_funds_allowed_signers_cannot_name_a_key_an_officer(fund, tmp_path):
    """Found by review: a line `officer-bob <Alice's second key>` in allowed_signers made Alice's own approval
    look like Bob's. Only the journal's officer entries say which key is whose."""
    import subprocess as sp

    second = tmp_path / "alice2"
    sp.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice2", "-f", str(second)], check=True)
    alice = fund["alice"]
    (alice.path / "allowed_signers").write_text(f"officer-bob {(second.with_suffix('.pub')).read_text()}")
    sp.run(["git", "add", "allowed_signers"], cwd=alice.path, check=True, env={**__import__("os").environ,
           "GIT_CONFIG_GLOBAL": str(alice.config)})  # fmt: skip
    alice("propose pay p 10 --date 2025-02-01")
    impostor = Officer(alice.path, second, "Alice", alice.config)
    impostor("approve 9")  # signed by a key no officer entry names
    messages = [f["message"] for f in audit(alice)["findings"]]
    assert "entry #10 approves proposal #9, but its commit is not signed by an officer's key" in messages


def test_an_approval_that_could_not_be_booked_is_refused(fund):
    """Found by review: sync could record an approval whose entry the books then refused, blocking every entry
    after it. Now an approval is refused unless its entry passes every rule as the books stand; the proposal
    can still be rejected, and the ledger takes entries as before."""
    fund["alice"]("propose pay p 70 --date 2025-02-01")  # 9
    fund["alice"]("propose pay p 20 --date 2025-02-01")  # 10
    fund["bob"]("approve 9")  # 11, 12: 10 left in p
    before = snapshot(fund["alice"].path)
    refused = fund["bob"]("approve 10", ok=False)
    assert refused.stderr.strip() == (
        "refused: proposal #10 cannot be booked now: package p has €10.00 left to pay; payment of €20.00 exceeds it"
    )
    assert snapshot(fund["alice"].path) == before
    fund["bob"]('reject 10 --reason "Only 10 left"')
    fund["alice"]("earmark more 1 --date 2025-02-03")


def test_a_new_key_keeps_the_old_approvals_proven(fund, tmp_path):
    """Found by review: naming a new key for Bob made every approval he signed with the old one a finding."""
    import subprocess as sp

    fund["alice"]("propose pay p 10 --date 2025-02-01")  # 9
    fund["bob"]("approve 9")  # 10, 11
    new = tmp_path / "bob2"
    sp.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bob2", "-f", str(new)], check=True)
    fund["alice"](f"propose officer add Bob --key {new}.pub --role approver --date 2025-02-02")  # 12
    fund["carol"]("approve 12")  # 13, 14: Carol is no approver: a finding, but not about Bob's old approval
    messages = [f["message"] for f in audit(fund["alice"])["findings"]]
    assert not any("#10" in m for m in messages), messages


def test_charges_fees_and_reversals_wait_for_approval_too(fund):
    """Found by review: money could leave through a charge, a fee or a reversal with no second officer."""
    for command in ("charge 5 --date 2025-02-01", "fee 5 --date 2025-02-01", "reverse 2 --reason x --date 2025-02-01"):
        refused = fund["alice"](command, ok=False)
        assert "needs another officer to approve it" in refused.stderr, command


def test_a_close_proposed_and_approved_keeps_the_state_of_the_books_it_follows(fund):
    alice, bob = fund["alice"], fund["bob"]
    alice("propose close 2025-01 --date 2025-02-02")  # 9
    bob("approve 9")  # 10, and 11 books the close
    ledger = journal.open_ledger(alice.path)
    books = journal.load(ledger, use_cache=False)
    assert books.entry(11).kind == "close" and books.proposals[9].booked_as == 11
    where = state.path(ledger.path, books.entry(11).get("state"))
    assert json.loads(where.read_bytes())["books"]["v"]["count"] == 10  # after the approval, before the close
    assert alice.json("verify")["states"] == {"ok": [11], "missing": [], "other": []}
