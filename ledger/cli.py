"""The `fundledger` command: a thin click layer over the fund operations, reports and renderers.

A command body finds the ledger, asks `journal.record` or a report for data
and hands it to `render`. Every `LedgerError` becomes one line on stderr and
exit status 1, here and only here; click's usage errors exit 2.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import click

from ledger import __version__
from ledger.errors import BadInput, LedgerError
from ledger.export import FORMATS as EXPORT_FORMATS


class FundGroup(click.Group):
    """Turns the library's errors into one clear line and a non-zero exit, never a traceback.

    Exit status: 0 done, 1 refused or bad input, 2 usage (click's), 130
    interrupted (Ctrl-C); a reader that went away (`| head`) ends it quietly.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["fundledger.argv"] = list(args)  # to name a whole `-5M` that click reads as option `-5`
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        from ledger.journal import few_collections

        try:
            with few_collections():  # a report of 10,000 rows makes as many objects as a read of 10,000 entries
                return super().invoke(ctx)
        except LedgerError as problem:
            from ledger.text import inert

            click.echo(f"{problem.prefix}: {inert(str(problem))}", err=True)
            ctx.exit(1)
        except click.NoSuchOption as problem:  # `earmark training -5M`: a negative amount, not an option
            argv = ctx.meta.get("fundledger.argv", [])
            given = next((a for a in argv if a.startswith(problem.option_name)), problem.option_name)
            if not re.fullmatch(r"-[0-9][0-9.,_]*\w*", given):
                raise
            click.echo(f"error: {given!r} is negative: amounts are positive (to undo an entry, `reverse` it; "
                       "to make a package smaller, `amend PACKAGE -AMOUNT`)", err=True)  # fmt: skip
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            _quiet_pipe()
            ctx.exit(0)


def _quiet_pipe() -> None:
    """The reader of our output went away: nothing more to say, and no complaint when the output closes."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


class DateType(click.ParamType):
    """A day as people type it: 2025-03-20, 2025-3-5, today, yesterday, -3d (three days ago).

    A day that cannot be read is bad input like a bad amount: one line and
    exit status 1 (not click's usage error).
    """

    name = "DATE"
    _DAY = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
    _AGO = re.compile(r"-([0-9]{1,4})d")

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        text = value.strip().lower()
        today = dt.date.today()
        if text in ("today", "yesterday"):
            return today - dt.timedelta(days=text == "yesterday")
        if ago := self._AGO.fullmatch(text):
            return today - dt.timedelta(days=int(ago[1]))
        day = self._DAY.fullmatch(text)
        if day is None:
            self.fail(f"{value!r} is not a date: write it as YYYY-MM-DD (2025-03-20), today, yesterday or -3d",
                      param, ctx)  # fmt: skip
        year, month, number = (int(part) for part in day.groups())
        try:
            return dt.date(year, month, number)
        except ValueError:
            if not 1 <= month <= 12:
                self.fail(f"{value!r} is not a date: there is no month {month}", param, ctx)
            month_name = dt.date(2000, month, 1).strftime("%B")
            self.fail(f"{value!r} is not a date: there is no {number} {month_name} in {year}", param, ctx)

    def fail(self, message: str, param=None, ctx=None):
        hint = param.get_error_hint(ctx).strip("'") if param is not None and ctx is not None else "a date"
        raise BadInput(f"{hint} {message}")


DATE = DateType()


class NameChoice(click.Choice):
    """A choice among names the program fixes (reports, entry kinds): a misspelt one is told the closest.

    `choices` may be a function, called only when a value is checked, so
    that `--help` does not import what lists the names.
    """

    def __init__(self, what: str, choices: tuple[str, ...] | Callable[[], tuple[str, ...]]) -> None:
        self.what = what
        self._choices = choices
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        return self._choices() if callable(self._choices) else self._choices

    @choices.setter
    def choices(self, value) -> None:  # click's __init__ sets it; the names are ours
        pass

    def get_invalid_choice_message(self, value, ctx) -> str:
        from ledger.text import did_you_mean

        near = did_you_mean(str(value), self.choices, cutoff=0.6)
        return f"{value!r} is not a {self.what}{near} (one of: {', '.join(self.choices)})"


def _kind_names() -> tuple[str, ...]:
    from ledger import kinds

    return kinds.NAMES

# Kept here rather than imported so that `fundledger --help` does not load the reports.
REPORT_NAMES = (
    "summary", "balance", "contributors", "pledges", "earmarks", "packages", "members", "register", "rates",
    "statement", "funding", "suppliers", "deliveries", "closes", "approvals", "reconcile",
)  # fmt: skip


@dataclass
class Options:
    ledger: str | None
    proposing: bool = False  # set by `propose`: the command's entry is proposed, not recorded


def _ledger(ctx: click.Context):
    from ledger import journal

    return journal.open_ledger(journal.find(ctx.find_object(Options).ledger))


def _books(ledger, **options):
    """The ledger's books (see `journal.load`), with a progress bar if reading them takes long."""
    from ledger import journal, render

    with render.ReadProgress(f"reading {ledger.path.name}") as progress:
        return journal.load(ledger, progress=progress, **options)


def _complete(kind: str):
    """Shell completion of the names the ledger in use holds: members, earmarks, packages or suppliers."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
        from click.shell_completion import CompletionItem

        from ledger import journal

        try:
            ledger = journal.open_ledger(journal.find(ctx.find_root().params.get("ledger_path")))
            books = journal.load(ledger)
        except Exception:  # a shell's tab key must never print an error: no ledger, no names
            return []
        names = {
            "member": [m.name for m in books.members.values()],
            "earmark": list(books.earmarks),
            "package": list(books.packages),
            "supplier": [supplier.name for supplier in books.suppliers.values()],
            "envelope": ["unallocated", *books.earmarks],
        }[kind]
        return [CompletionItem(n) for n in sorted(names) if n.casefold().startswith(incomplete.casefold())]

    return complete


@click.group(
    cls=FundGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--ledger",
    "ledger_path",
    metavar="PATH",
    help="The ledger folder. Default: $FUNDLEDGER_DIR, else the nearest folder upward holding ledger.toml.",
)
@click.version_option(__version__, prog_name="fundledger")
@click.pass_context
def main(ctx: click.Context, ledger_path: str | None) -> None:
    """Keep the books of a multinational procurement fund: an append-only,
    double-entry ledger in TOML files, in git.

    \b
    Example:
      fundledger init coalition --name "Drone Coalition central fund" --currency EUR
      cd coalition
      fundledger member join Latvia --date 2024-02-01 --role co-lead
      fundledger pledge Latvia 30M --year 2025 --split drones=20M --split industrial-cooperation=10M
      fundledger balance
    """
    ctx.obj = Options(ledger_path)
    if ctx.invoked_subcommand is None:  # `fundledger` alone: its help, on stdout, and success
        click.echo(ctx.get_help())


# --- creating a ledger ---------------------------------------------------


@main.command()
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", required=True, help="The fund's name, as reports show it.")
@click.option("--currency", required=True, help="The fund's currency, an ISO 4217 code (EUR).")
@click.option("--manager", default="", help="The member state that manages the fund.")
@click.option("--no-commit", is_flag=True, help="Do not commit ledger.toml and .gitignore to git.")
@click.option("--json", "as_json", is_flag=True, help="Print what was created as one JSON object.")
def init(path: Path, name: str, currency: str, manager: str, no_commit: bool, as_json: bool) -> None:
    """Create a new ledger folder at PATH (git-initialised unless already inside a work tree).

    \b
    Example:
      fundledger init coalition --name "Drone Coalition central fund" --currency EUR --manager "United Kingdom"
    """
    from ledger import git, journal, render

    _check_text({"name": name, "manager": manager})
    ledger = journal.init(path, name, currency.upper(), manager)
    note = ""
    if not git.inside_work_tree(path):
        git.init(path)
        note = " and a new git repository"
    if not as_json:
        click.echo(f"Created ledger {name!r} ({ledger.settings.currency}) in {path}{note}.")
    from ledger import sync as syncing

    files = [path / journal.SETTINGS_FILE, path / ".gitignore"]
    if note:  # a repository of its own: let `git pull` replay entries (docs/SYNC.md)
        syncing.setup(ledger, _self_command())
    elif not as_json:  # someone else's repository: its git settings are not ours to change unasked
        click.echo("To let `git pull` replay journal entries, run `fundledger git-setup` (docs/SYNC.md).")
    committed = False
    if not no_commit:
        try:
            git.commit_paths(path, files, f"fundledger: init {name}\n\nCreates the ledger; ledger.toml never changes.")
            committed = True
        except git.GitError as problem:
            click.echo(f"warning: the ledger is created but not committed ({problem})", err=True)
    if as_json:
        click.echo(render.dumps({"path": str(path), "name": name, "currency": ledger.settings.currency,
                                 "manager": manager, "new_repository": bool(note), "committed": committed}))  # fmt: skip


# --- recording -----------------------------------------------------------


def recording(command: Callable) -> Callable:
    """The options every recording command takes, written once."""

    @click.option("--date", "date", type=DATE, default=None,
                  help="The event's date: YYYY-MM-DD, today, yesterday or -3d. Default: today.")  # fmt: skip
    @click.option("--memo", default="", help="What this is, in words (a bank reference, an invoice).")
    @click.option("--source", default="", help="A citation: URL, decision number, bank reference.")
    @click.option("--dry-run", is_flag=True, help="Show the entry that would be recorded; write nothing.")
    @click.option("--json", "as_json", is_flag=True, help="Print the entry as one JSON object.")
    @click.option("--no-commit", is_flag=True, help="Do not commit the entry to git (audit will list it).")
    @click.option("-q", "--quiet", is_flag=True, help="Print only the id of each entry recorded, one a line.")
    @functools.wraps(command)
    def wrapper(*args, date, memo, source, dry_run, as_json, no_commit, quiet, **kwargs):
        from ledger import fund

        if quiet and as_json:
            raise click.UsageError("choose one of --quiet and --json")
        _check_text({"memo": memo, "source": source, **kwargs})
        note = fund.Note(date or dt.date.today(), memo, source)
        build = command(*args, note=note, **kwargs)
        if click.get_current_context().find_object(Options).proposing:  # `fundledger propose COMMAND …`
            if getattr(build, "batch", ""):
                raise click.UsageError("a batch is not proposed; propose its entries one by one")
            build = _proposal_of(build, note)
        _record(build, dry_run=dry_run, as_json=as_json, commit=not no_commit, quiet=quiet)

    wrapper.records = True  # `propose` takes only commands that record one entry through here
    return wrapper


def renamed(old: str, new: str, dest: str, *, multiple: bool = False) -> Callable[[Callable], Callable]:
    """Keep option `old` working for one more version as a deprecated spelling of `new` (which sets `dest`).

    `--from` and `--to` mean days everywhere (reports); where a recording
    command used them for an envelope or a recipient, the option has its own
    name now. The old spelling still works, with a one-line warning on stderr.
    """

    hidden = f"deprecated_{dest}"

    def decorate(command: Callable) -> Callable:
        @click.option(old, hidden, multiple=multiple, default=None, hidden=True)
        @functools.wraps(command)
        def wrapper(*args, **kwargs):
            given = kwargs.pop(hidden)
            if given:
                ctx = click.get_current_context()
                click.echo(f"warning: {old} is deprecated for {ctx.info_name}; write {new} "
                           "(the old spelling goes in the next version)", err=True)  # fmt: skip
                if kwargs.get(dest) and ctx.get_parameter_source(dest) is click.core.ParameterSource.COMMANDLINE:
                    raise click.UsageError(f"give {new} only ({old} is its old spelling)")
                kwargs[dest] = given
            return command(*args, **kwargs)

        return wrapper

    return decorate


def _proposal_of(build: Callable, note) -> Callable:
    from ledger import fund

    return lambda books: fund.propose(books, build(books), note)


def _check_text(values: dict) -> None:
    """Refuse a command-line value that is not Unicode text: argv bytes that are not UTF-8 arrive as lone surrogates."""
    ctx = click.get_current_context()
    for name, value in values.items():
        for text in value if isinstance(value, tuple) else (value,):
            if not isinstance(text, str):
                continue
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                param = next((p for p in ctx.command.params if p.name == name), None)
                shown = param.get_error_hint(ctx) if param is not None else name
                raw = bytes(ord(c) - 0xDC00 for c in text if "\udc80" <= c <= "\udcff")
                what = f"the bytes {raw!r}, which are not UTF-8" if raw else "a lone surrogate"
                raise BadInput(f"{shown} is not valid UTF-8 text: it holds {what}; write it in UTF-8") from None


def _record(build: Callable, *, dry_run: bool, as_json: bool, commit: bool, ledger=None, quiet: bool = False) -> None:
    from ledger import render, writer

    ledger = ledger or _ledger(click.get_current_context())
    with render.ReadProgress(f"reading {ledger.path.name}") as progress:
        batch = getattr(build, "batch", "")  # a plan of several entries names them for the commit's subject
        recorded = writer.record(ledger, build, dry_run=dry_run, commit=commit, progress=progress, batch=batch)
    _warn_not_committed(recorded)
    if quiet:  # for scripts: `id=$(fundledger pledge … -q)`
        for entry in recorded.entries:
            click.echo(entry.id)
        return
    if batch:  # several entries (reverse --batch): one line, or all of them as JSON
        entries = recorded.entries
        if as_json:
            click.echo(render.dumps({"recorded": [render.entry_json(e) for e in entries], "dry_run": dry_run}))
        else:
            verb = "Would record" if dry_run else "Recorded"
            click.echo(f"{verb} {len(entries)} entries (#{entries[0].id}-#{entries[-1].id}): {batch}.")
        return
    for entry in recorded.entries:  # an approval that books its proposal records two
        if as_json:
            data = render.entry_json(entry)
            if dry_run:
                data["dry_run"] = True
            click.echo(render.dumps(data))
        else:
            render.console().print(render.entry_panel(entry, ledger.settings.currency, dry_run=dry_run))


def _warn_not_committed(recorded) -> None:
    if recorded.not_committed:
        from ledger.text import inert

        click.echo(f"warning: {inert(recorded.not_committed)}", err=True)


@main.group()
def member() -> None:
    """Record who is a member: join, apply, approve, leave."""


@member.command("join")
@click.argument("name")
@click.option("--role", default="member", show_default=True, help="member, co-lead, lead, ...")
@recording
def member_join(name: str, role: str, note):
    """Record that NAME is a member from --date on.

    \b
    Example:
      fundledger member join Latvia --date 2024-02-01 --role co-lead
    """
    from ledger import fund

    return lambda books: fund.join(books, name, role, note)


@member.command("apply")
@click.argument("name")
@recording
def member_apply(name: str, note):
    """Record that NAME applied to join; it is pending until approved.

    \b
    Example:
      fundledger member apply Belgium --date 2025-04-11
    """
    from ledger import fund

    return lambda books: fund.apply(books, name, note)


@member.command("approve")
@click.argument("name")
@click.option("--by", "by", default="", metavar="MEMBER", help="The member whose approval this is.")
@click.option("--decision", default="", metavar="TEXT", help="A collective decision that admits NAME at once.")
@recording
def member_approve(name: str, by: str, decision: str, note):
    """Record an approval of NAME's application.

    NAME becomes a member once every member active on that date has approved
    (--by), or at once with a collective --decision.

    \b
    Example:
      fundledger member approve Belgium --by Latvia --date 2025-05-01
      fundledger member approve Belgium --decision "Coalition decision 2025/3" --date 2025-05-01
    """
    from ledger import fund

    if bool(by) == bool(decision):
        raise click.UsageError("give either --by MEMBER or --decision TEXT")
    return lambda books: fund.approve(books, name, note, by=by, decision=decision)


@member.command("leave")
@click.argument("name")
@recording
def member_leave(name: str, note):
    """Record that NAME is no longer a member from --date on.

    \b
    Example:
      fundledger member leave Norway --date 2026-01-01
    """
    from ledger import fund

    return lambda books: fund.leave(books, name, note)


@main.command()
@click.argument("member_name", metavar="MEMBER", shell_complete=_complete("member"))
@click.argument("amount")
@click.option("--year", type=int, required=True, help="The year the pledge is for.")
@click.option("--split", "splits", multiple=True, metavar="EARMARK=AMOUNT", help="Part of the pledge for a purpose.")
@click.option("--rate", "rate_text", metavar="RATE", help="For an amount in another currency: the rate to use.")
@click.option("--due", "due", type=DATE, default=None, help="The day all of it falls due.")
@click.option(
    "--instalment", "instalments", multiple=True, metavar="DATE=AMOUNT",
    help="Part of it that falls due on DATE (repeat; they add up to AMOUNT, in its currency).",
)  # fmt: skip
@recording
def pledge(
    member_name: str, amount: str, year: int, splits: tuple[str, ...], rate_text: str | None, due, instalments, note
):
    """Record MEMBER's promise to give AMOUNT for a year, optionally split by earmark.

    An AMOUNT in another currency (£10M, 25M NOK) is valued at the rate
    recorded for the pledge's date (see `rate`) or at --rate, and the pledge
    is followed in that currency.

    \b
    Example:
      fundledger pledge Latvia 30M --year 2025 --split drones=20M --split industrial-cooperation=10M
      fundledger pledge "United Kingdom" £10M --year 2025 --date 2025-02-10
      fundledger pledge Latvia 30M --year 2025 --due 2025-06-30
      fundledger pledge Estonia 10M --year 2025 --instalment 2025-03-31=5M --instalment 2025-09-30=5M
    """
    from ledger import fund

    if due and instalments:
        raise click.UsageError("give --due or --instalment, not both")
    return lambda books: fund.pledge(
        books, member_name, amount, year, splits, note, rate_text=rate_text, due=due, instalments=instalments
    )


@main.command()
@click.argument("member_name", metavar="MEMBER", shell_complete=_complete("member"))
@click.argument("amount")
@click.option("--pledge", "pledge_id", type=int, default=None, metavar="ID", help="The pledge this settles.")
@click.option("--split", "splits", multiple=True, metavar="EARMARK=AMOUNT", help="Earmark part of the money.")
@click.option("--rate", "rate_text", metavar="RATE", help="For an amount in another currency: the rate to use.")
@recording
def contribute(
    member_name: str, amount: str, pledge_id: int | None, splits: tuple[str, ...], rate_text: str | None, note
):
    """Record money received from MEMBER.

    Against a pledge, the cash goes to the pledge's earmarks pro rata to what
    is outstanding (or as --split says); without one, to unallocated cash
    (or to the earmarks --split names).

    An AMOUNT in another currency (£10M, 25M NOK) is booked in the fund's
    currency at the rate recorded for its date (see `rate`) or at --rate,
    rounded once to the cent; the entry keeps the amount as given. Against a
    pledge in that currency, the difference from the pledge's value is an
    exchange gain or loss.

    \b
    Example:
      fundledger contribute Latvia 30M --pledge 4 --date 2025-02-01 --memo "Treasury transfer LV-2025-001"
      fundledger contribute "United Kingdom" "€5,000,000" --date 2025-02-10
      fundledger contribute "United Kingdom" £10M --date 2025-02-10 --rate 1.1850
    """
    from ledger import fund

    return lambda books: fund.contribute(
        books, member_name, amount, note, pledge_id=pledge_id, splits=splits, rate_text=rate_text
    )


@main.command()
@click.argument("currency", metavar="CURRENCY")
@click.argument("rate_text", metavar="RATE")
@recording
def rate(currency: str, rate_text: str, note):
    """Record what one unit of CURRENCY is worth in the fund's currency, from --date on.

    Money given or pledged in CURRENCY on that date or later (until the next
    rate) is converted at RATE. Cite where the rate comes from with --source.

    \b
    Example:
      fundledger rate GBP 1.1850 --date 2025-02-10 --source "ECB reference rate"
    """
    from ledger import fund

    return lambda books: fund.rate(books, currency.upper(), rate_text, note)


@main.command()
@click.argument("name")
@click.argument("amount")
@click.option("--envelope", "envelope", default="unallocated", show_default=True, metavar="ENVELOPE",
              shell_complete=_complete("envelope"), help="Where the money comes from: 'unallocated' or another earmark.")  # fmt: skip
@click.option("--purpose", default="", help="What the earmark is for, in words.")
@renamed("--from", "--envelope", "envelope")
@recording
def earmark(name: str, amount: str, envelope: str, purpose: str, note):
    """Set AMOUNT of cash aside under earmark NAME, out of --envelope (default: unallocated cash).

    \b
    Example:
      fundledger earmark training 2M --date 2025-02-11 --purpose "Operator training"
      fundledger earmark counter-drones 1M --envelope drones --date 2025-05-02
    """
    from ledger import fund

    return lambda books: fund.earmark(books, name, amount, note, source=envelope, purpose=purpose)


@main.command()
@click.argument("name")
@click.argument("amount")
@click.option(
    "--envelope",
    "sources",
    multiple=True,
    metavar="ENVELOPE[=AMOUNT]",
    shell_complete=_complete("envelope"),
    help="Where the money comes from: an earmark or 'unallocated'; repeat for several, one without amount takes "
    "the rest.  [required]",
)
@renamed("--from", "--envelope", "sources", multiple=True)
@recording
def package(name: str, amount: str, sources: tuple[str, ...], note):
    """Commit AMOUNT to purchase package NAME, out of one or more envelopes.

    \b
    Example:
      fundledger package recon-drones-2025-03 20M --envelope drones --date 2025-03-20
      fundledger package fpv-2025-06 8M --envelope drones=5M --envelope unallocated
    """
    from ledger import fund

    if not sources:
        raise click.UsageError("Missing option '--envelope': say where the package's money comes from")
    return lambda books: fund.package(books, name, amount, sources, note)


@main.command()
@click.argument("package_name", metavar="PACKAGE", shell_complete=_complete("package"))
@click.argument("amount")
@click.option("--supplier", default="", help="Who is paid.")
@click.option("--invoice", default="", metavar="REF", help="The supplier's invoice: the same one is not paid twice.")
@click.option("--again", default="", metavar="REASON", help="Pay an invoice already paid, and say why.")
@click.option("--contract", default="", metavar="REF", help="The contract this pays (a milestone), by its reference.")
@recording
def pay(package_name: str, amount: str, supplier: str, invoice: str, again: str, contract: str, note):
    """Pay AMOUNT out of what PACKAGE has committed.

    A second payment of the same package, supplier and --invoice is refused,
    naming the first, unless --again says why it is paid again.

    \b
    Example:
      fundledger pay recon-drones-2025-03 5M --date 2025-04-01 --memo "Invoice 17, first tranche"
      fundledger pay recon-drones-2025-03 2.4M --supplier "Baltic Drone Tech" --invoice BDTC-88
      fundledger pay recon-drones-2025-03 3M --contract NIS-2025-7 --invoice 17
    """
    from ledger import fund

    if again and not invoice:
        raise click.UsageError("--again is for an --invoice already paid")
    return lambda books: fund.pay(
        books, package_name, amount, note, supplier=supplier, invoice=invoice, again=again, contract=contract
    )


@main.group()
def supplier() -> None:
    """Name the fund's suppliers: `supplier add`."""


@supplier.command("add")
@click.argument("name")
@click.option("--country", required=True, metavar="CC", help="Its country, an ISO 3166 code (SE, LV, DE).")
@click.option("--number", default="", metavar="REG", help="Its registration number.")
@recording
def supplier_add(name: str, country: str, number: str, note):
    """Name supplier NAME once; contracts and payments then name it, and a misspelling is refused.

    \b
    Example:
      fundledger supplier add "Nordic Interceptor Systems AB" --country SE --number 556677-8899
    """
    from ledger import fund

    return lambda books: fund.supplier(books, name, country, note, number=number)


@main.command()
@click.argument("package_name", metavar="PACKAGE", shell_complete=_complete("package"))
@click.argument("supplier_name", metavar="SUPPLIER")
@click.argument("amount")
@click.option("--ref", "ref", required=True, metavar="REF", help="The contract's reference (it names the contract).")
@click.option("--item", default="", help="What the contract buys.")
@click.option("--quantity", type=click.IntRange(min=1), default=None, help="How many of --item.")
@recording
def contract(package_name: str, supplier_name: str, amount: str, ref: str, item: str, quantity, note):
    """Contract AMOUNT of PACKAGE with SUPPLIER, under reference --ref.

    Refused beyond what the package has not yet put under contract. Pay it
    with `pay PACKAGE AMOUNT --contract REF`; record what arrives with
    `deliver`.

    \b
    Example:
      fundledger contract recon-drones-2025-03 "Nordic Interceptor Systems AB" 12M --ref NIS-2025-7 \\
          --quantity 400 --item "recon drone"
    """
    from ledger import fund

    if (quantity is None) != (not item):
        raise click.UsageError("give --item and --quantity together, or neither")
    return lambda books: fund.contract(books, package_name, supplier_name, amount, ref, note, item=item, quantity=quantity)


@main.command()
@click.argument("package_name", metavar="PACKAGE", shell_complete=_complete("package"))
@click.option("--item", required=True, help="What arrived.")
@click.option("--quantity", type=click.IntRange(min=1), required=True, help="How many.")
@click.option("--contract", default="", metavar="REF", help="The contract it was delivered under.")
@click.option("--recipient", "recipient", default="", metavar="RECIPIENT", help="Who received it.")
@click.option("--value", default="", metavar="AMOUNT", help="What it is worth, if stated.")
@renamed("--to", "--recipient", "recipient")
@recording
def deliver(package_name: str, item: str, quantity: int, contract: str, recipient: str, value: str, note):
    """Record what arrived for PACKAGE: it moves no money, and is never more than its contract states.

    \b
    Example:
      fundledger deliver recon-drones-2025-03 --item "recon drone" --quantity 120 --contract NIS-2025-7 \\
          --recipient "Recipient unit" --date 2025-06-15
    """
    from ledger import fund

    return lambda books: fund.deliver(
        books, package_name, item, quantity, note, contract=contract, recipient=recipient, value=value
    )


@main.group()
def officer() -> None:
    """Name the fund's officers and the keys their commits are signed with: `officer add`."""


@officer.command("add")
@click.argument("name")
@click.option("--key", "key_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The officer's SSH public key (a .pub file), the one its git commits are signed with.")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(("recorder", "approver", "auditor")),
              help="recorder, approver, auditor (repeat).")  # fmt: skip
@recording
def officer_add(name: str, key_file: Path, roles: tuple[str, ...], note):
    """Name officer NAME with its signing key and roles (again, to change them: that needs approval too).

    \b
    Example:
      fundledger officer add "A. Officer" --key alice.pub --role recorder --role approver
    """
    from ledger import fund
    from ledger.errors import BadInput

    try:
        key = key_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as problem:
        raise BadInput(f"cannot read key {key_file}: {getattr(problem, 'strerror', None) or problem}") from None
    return lambda books: fund.officer(books, name, key, roles, note)


@main.command()
@click.argument("kind")
@click.option("--approvals", type=click.IntRange(0, 5), required=True, help="How many other officers approve it.")
@click.option("--above", default="", metavar="AMOUNT", help="Only entries that move more than AMOUNT.")
@recording
def policy(kind: str, approvals: int, above: str, note):
    """Set how many other officers must approve an entry of KIND (pay, package, contract, …).

    Once a fund names its officers, packages and their amendments,
    contracts, payments, write-offs, closes, reopenings, officers and
    policies need one approval each unless a policy says otherwise.

    \b
    Example:
      fundledger policy pay --approvals 2 --above 1M
    """
    from ledger import fund

    return lambda books: fund.policy(books, kind, approvals, note, above=above)


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
@click.pass_context
def propose(ctx: click.Context, command: tuple[str, ...]):
    """Propose COMMAND (any recording command) instead of recording it: another officer approves it.

    The proposal is checked against the rules as they stand and moves no
    money; `fundledger approve ID` books it (checked again then), and
    `fundledger reject ID --reason …` closes it.

    \b
    Example:
      fundledger propose pay recon-drones-2025-03 5M --invoice 17
      fundledger proposals
    """
    name, *rest = command
    sub = main.get_command(ctx, name)
    if isinstance(sub, click.Group) and rest:
        parent = sub.make_context(name, [rest[0]], parent=ctx)
        sub, rest, ctx = sub.get_command(parent, rest[0]), rest[1:], parent
    if sub is None or not getattr(sub.callback, "records", False) or name in ("propose", "approve", "reject"):
        raise click.UsageError(f"{' '.join(command[:2])!r} is not a command that records an entry, to propose")
    ctx.find_object(Options).proposing = True
    with sub.make_context(sub.name, list(rest), parent=ctx) as sub_ctx:
        sub.invoke(sub_ctx)


@main.command("approve")
@click.argument("proposal_id", metavar="ID", type=int)
@recording
def approve_command(proposal_id: int, note):
    """Approve proposal ID; the last approval it needs books the entry (its rules checked again now).

    An officer cannot approve their own proposal: the audit proves who
    proposed and who approved from the signatures on the git commits.

    \b
    Example:
      fundledger approve 12 --memo "Checked against invoice 17"
    """
    from ledger import fund

    def approval(books):
        from ledger import audit
        from ledger.errors import Refused

        ledger = _ledger(click.get_current_context())
        me = audit.own_proposal(ledger, books, proposal_id)
        if me is not None:
            raise Refused(f"{me} proposed #{proposal_id} (its commit is signed with this clone's key); "
                          "another officer approves it")  # fmt: skip
        return fund.approve_proposal(books, proposal_id, note)

    return approval


@main.command()
@click.argument("proposal_id", metavar="ID", type=int)
@click.option("--reason", required=True, help="Why it is not booked.")
@recording
def reject(proposal_id: int, reason: str, note):
    """Reject proposal ID, saying why; it is then never booked.

    \b
    Example:
      fundledger reject 12 --reason "Invoice 17 is already paid"
    """
    from ledger import fund

    return lambda books: fund.reject(books, proposal_id, reason, note)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the proposals as JSON.")
@click.option("--all", "everything", is_flag=True, help="Also those booked or rejected.")
def proposals(as_json: bool, everything: bool) -> None:
    """List the proposals waiting for approval, with what each would record.

    \b
    Example:
      fundledger proposals
      fundledger proposals --all --json
    """
    from ledger import render, reports

    report = reports.proposals_report(_books(_ledger(click.get_current_context())), everything=everything)
    click.echo(render.emit(report, "json" if as_json else "table") or "", nl=False)


ENVELOPE_HELP = "'unallocated', an earmark, or package:NAME."


@main.command()
@click.argument("amount")
@click.option("--envelope", "envelope", default="unallocated", show_default=True, metavar="ENVELOPE",
              shell_complete=_complete("envelope"), help="Where it goes: " + ENVELOPE_HELP)  # fmt: skip
@renamed("--to", "--envelope", "envelope")
@recording
def interest(amount: str, envelope: str, note):
    """Record bank interest of AMOUNT received into an envelope (income:interest).

    \b
    Example:
      fundledger interest 1234.56 --date 2025-06-30 --memo "Q2 interest" --source "Statement 2025-06"
    """
    from ledger import fund

    return lambda books: fund.interest(books, amount, note, envelope=envelope)


@main.command()
@click.argument("amount")
@click.option("--envelope", "envelope", default="unallocated", show_default=True, metavar="ENVELOPE",
              shell_complete=_complete("envelope"), help="Where it is paid from: " + ENVELOPE_HELP)  # fmt: skip
@renamed("--from", "--envelope", "envelope")
@recording
def charge(amount: str, envelope: str, note):
    """Record a bank charge of AMOUNT paid out of an envelope (expenses:bank-charges).

    \b
    Example:
      fundledger charge 25 --date 2025-04-02 --memo "SWIFT fee, transfer LV-2025-001"
    """
    from ledger import fund

    return lambda books: fund.charge(books, amount, note, envelope=envelope)


@main.command()
@click.argument("amount")
@click.option("--envelope", "envelope", default="unallocated", show_default=True, metavar="ENVELOPE",
              shell_complete=_complete("envelope"), help="Where it is paid from: " + ENVELOPE_HELP)  # fmt: skip
@renamed("--from", "--envelope", "envelope")
@recording
def fee(amount: str, envelope: str, note):
    """Record the manager's fee of AMOUNT paid out of an envelope (expenses:management-fee).

    \b
    Example:
      fundledger fee 150k --date 2025-12-31 --memo "Administration fee 2025"
    """
    from ledger import fund

    return lambda books: fund.fee(books, amount, note, envelope=envelope)


@main.command("write-off")
@click.argument("pledge_id", metavar="PLEDGE_ID", type=int)
@click.option("--reason", required=True, help="Why what is left will not be received.")
@click.option("--withdrawn", is_flag=True, help="The member withdrew it (its contribution is reduced), not the fund.")
@recording
def write_off(pledge_id: int, reason: str, withdrawn: bool, note):
    """Close what is left of pledge PLEDGE_ID: written off by the fund, or --withdrawn by the member.

    The remainder is closed in the pledge's own currency and its receivable
    released; the pledge then shows what was received and what was closed.

    \b
    Example:
      fundledger write-off 12 --reason "USD 25 bank charge on the way" --date 2025-07-01
      fundledger write-off 14 --withdrawn --reason "Budget cut, letter of 2025-09-01"
    """
    from ledger import fund

    return lambda books: fund.write_off(books, pledge_id, reason, note, withdrawn=withdrawn)


@main.command(context_settings={"ignore_unknown_options": True})  # so that `-2M` is a change, not an option
@click.argument("package_name", metavar="PACKAGE", shell_complete=_complete("package"))
@click.argument("change", required=False, default="")
@click.option("--envelope", "sources", multiple=True, metavar="ENVELOPE[=AMOUNT]", shell_complete=_complete("envelope"),
              help="For an increase: where the money comes from (an earmark or 'unallocated').")  # fmt: skip
@click.option("--close", "close_it", is_flag=True, help="Give back all that is not paid, and close the package.")
@click.option("--contract", "contract_ref", default="", metavar="REF", help="Amend this contract of PACKAGE instead.")
@click.option("--reason", required=True, help="Why the package changes.")
@renamed("--from", "--envelope", "sources", multiple=True)
@recording
def amend(package_name: str, change: str, sources: tuple[str, ...], close_it: bool, contract_ref: str, reason: str, note):
    """Increase (+AMOUNT) or decrease (-AMOUNT) PACKAGE, or --close it.

    What a decrease or a close gives back goes to the envelopes the package
    came from, in proportion to what each gave it (leftover cents to the
    largest remainders). Never below what is already paid.

    \b
    Example:
      fundledger amend recon-drones-2025-03 +1M --envelope drones --reason "Two more launchers"
      fundledger amend recon-drones-2025-03 -2M --reason "Contract came in under budget"
      fundledger amend recon-drones-2025-03 --close --reason "Delivered; the rest is not needed"
      fundledger amend recon-drones-2025-03 +500k --contract NIS-2025-7 --reason "Spare batteries"
    """
    from ledger import fund

    if bool(change) == close_it:
        raise click.UsageError("give a change (+1M or -2M) or --close")
    if change and change[0] not in "+-":
        raise click.UsageError(f"the change {change!r} starts with + (an increase) or - (a decrease)")
    if contract_ref:
        if sources:
            raise click.UsageError("a contract grows from its package's money: it takes no --envelope")
        return lambda books: _amended_contract(books, package_name, contract_ref, note, reason, change, close_it)
    return lambda books: fund.amend(books, package_name, note, reason, change=change, sources=sources, close=close_it)


def _amended_contract(books, package_name: str, ref: str, note, reason: str, change: str, close_it: bool):
    from ledger import fund

    entry = fund.amend_contract(books, ref, note, reason, change=change, close=close_it)
    if entry.get("package") not in ("", package_name):
        raise click.UsageError(f"contract {ref} is package {entry.get('package')}'s, not {package_name}'s")
    return entry


@main.command()
@click.argument("period")
@recording
def close(period: str, note):
    """Close PERIOD (2024, 2025Q1 or 2025-03): nothing may be dated in it afterwards.

    The close holds every account's balance at the period's end and the seal
    a report as of that day prints, so such a report gives the same figures
    forever; a correction is dated in the open period. Only `reopen` undoes it.

    \b
    Example:
      fundledger close 2024 --date 2025-01-15
      fundledger report closes
    """
    from ledger import fund

    return lambda books: fund.close(books, period, note)


@main.command()
@click.argument("close_id", metavar="CLOSE_ID", type=int)
@click.option("--reason", required=True, help="Why the period is opened again.")
@recording
def reopen(close_id: int, reason: str, note):
    """Reopen the period closed by entry CLOSE_ID, saying why (audit lists every reopening).

    \b
    Example:
      fundledger reopen 171 --reason "Auditor's adjustment AJE-3"
    """
    from ledger import fund

    return lambda books: fund.reopen(books, close_id, reason, note)


@main.command()
@click.argument("entry_id", metavar="[ID]", type=int, required=False)
@click.option("--reason", required=True, help="Why the entry is undone.")
@click.option("--batch", "batch_id", type=int, default=None, help="Undo every entry of import batch BATCH instead.")
@recording
def reverse(entry_id: int | None, reason: str, batch_id: int | None, note):
    """Undo entry ID with an entry of exactly opposite postings (at most once).

    With --batch, undo every entry an import recorded, in one commit.

    \b
    Example:
      fundledger reverse 9 --reason "Invoice 17 paid twice by mistake" --date 2025-04-02
      fundledger reverse --batch 40 --reason "Imported with the wrong mapping"
    """
    from ledger import fund

    if (entry_id is None) == (batch_id is None):
        raise click.UsageError("give an entry ID or --batch BATCH (not both)")
    if batch_id is not None:
        from ledger import importer

        return importer.reverse_batch(_ledger(click.get_current_context()), batch_id, reason, note)
    return lambda books: fund.reverse(books, entry_id, reason, note)


@main.command()
@click.option("-y", "--yes", is_flag=True, help="Remove the unfinished bytes and record the repair.")
@click.option("--json", "as_json", is_flag=True, help="Print what was found (and cut, and recorded) as JSON.")
def repair(yes: bool, as_json: bool) -> None:
    """Show, and with --yes remove, an unfinished write at the very end of the newest journal file.

    A crash or a full disk in the middle of a write can leave part of an
    entry at the end of the journal; loading then refuses the ledger. This
    removes exactly those bytes (nothing else is ever cut) and records a
    `repair` entry saying how many bytes were removed and their SHA-256.

    \b
    Example:
      fundledger repair         # show what would be cut
      fundledger repair --yes   # cut it and record the repair
      fundledger repair -y --json
    """
    from ledger import fund, journal, render, writer
    from ledger.errors import TornWrite
    from ledger.text import inert

    ledger = _ledger(click.get_current_context())
    result: dict = {"interrupted_append_cut": 0, "unfinished": None, "repaired": None}
    if yes:
        with journal.lock(ledger):
            cut = journal.finish_interrupted(ledger)
        result["interrupted_append_cut"] = cut or 0
        if cut and not as_json:
            click.echo(f"cut back an append a kill left short ({cut} bytes, as .cache/{journal.INTENT_FILE} noted)")
    try:
        _books(ledger)
    except TornWrite as torn:
        tail = journal.unfinished_tail(torn)
        name = str(Path(torn.path).relative_to(ledger.path))
        result["unfinished"] = {"file": name, "offset": torn.offset, "bytes": len(tail),
                                "text": tail.decode("utf-8", "replace")}  # fmt: skip
        if not as_json:
            preview = inert(tail[:300].decode("utf-8", "replace"))
            click.echo(f"{name} ends with an unfinished entry at byte {torn.offset} ({len(tail)} bytes):")
            click.echo(f"  {preview}{'…' if len(tail) > 300 else ''}")
            if not yes:
                click.echo("Run `fundledger repair --yes` to remove exactly these bytes and record the repair.")
        if yes:
            with journal.lock(ledger):  # the cut and its record, with no other write between them
                removed, offset = journal.cut_unfinished_tail(ledger, torn), torn.offset
                note = fund.Note(dt.date.today(), memo=f"Removed an unfinished write of {len(removed)} bytes from {name}")
                recorded = writer.record(ledger, lambda books: fund.repair(books, name, offset, removed, note))
            _warn_not_committed(recorded)
            result["repaired"] = render.entry_json(recorded.entry)
            if not as_json:
                render.console().print(render.entry_panel(recorded.entry, ledger.settings.currency))
    else:
        if not as_json:
            click.echo("nothing to repair: every journal file ends with a whole entry")
    if as_json:
        click.echo(render.dumps(result))


@main.command("import")
@click.argument("statement_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--map",
    "mapping_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The mapping (TOML): columns of a CSV, names of members, rules for payments (docs/IMPORT.md).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be recorded and what refused; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan (or what was recorded) as JSON.")
@click.option("--no-commit", is_flag=True, help="Do not commit the imported entries to git.")
@click.option("--no-match", is_flag=True, help="Book money received as unpledged, never against an open pledge.")
@click.option(
    "--record-matched",
    is_flag=True,
    help="Record the rows that can be recorded; write the others to a CSV of unmatched rows.",
)
@click.option(
    "--unmatched",
    "unmatched_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where --record-matched writes the unmatched rows. Default: FILE's name with .unmatched.csv, here.",
)
def import_(
    statement_file: Path,
    mapping_file: Path | None,
    dry_run: bool,
    as_json: bool,
    no_commit: bool,
    no_match: bool,
    record_matched: bool,
    unmatched_file: Path | None,
) -> None:
    """Record a bank statement (camt.053/052/054, MT940 or CSV): all rows or none.

    Money in becomes contributions (against the member's open pledge), money
    out payments against the contract (or from the package) its text names,
    bank charges and interest their own entries. A row already recorded is
    skipped, so importing the same file twice records nothing the second
    time. A statement's opening and closing balances must agree with the
    books' cash. Every import is a batch: `reverse --batch ID` undoes it.
    FILE `-` reads standard input. See docs/IMPORT.md.

    \b
    Example:
      fundledger import ledgers/examples/camt053-statement.xml --map ledgers/examples/bank.map.toml --dry-run
      fundledger import statement.csv --map ledgers/examples/bank-statement.map.toml
      fundledger import statement.sta --map bank.map.toml --record-matched --unmatched left.csv
      curl -s https://bank.example/statement.xml | fundledger import - --map bank.map.toml
    """
    from ledger import importer, render, writer
    from ledger.errors import Refused
    from ledger.statements import show

    ledger = _ledger(click.get_current_context())
    mapping = importer.load_mapping(mapping_file) if mapping_file else None
    statement = importer.read_statement(statement_file, mapping)
    mapping = importer.with_ledger_accounts(mapping or importer.Mapping(), ledger.settings.bank_accounts)
    options = {"match": not no_match, "partial": record_matched}
    books = _books(ledger)
    made_on = (books.count, books.seal)
    with render.progress(len(statement.rows), f"checking {statement_file.name}") as tick:
        planned = importer.plan(books, statement, mapping, tick=tick, **options)
    refusal = planned.refusal(partial=record_matched)
    if dry_run or refusal:
        if as_json:
            click.echo(render.dumps(show.as_json(planned, dry_run=True)))
        else:
            render.console().print(render.import_table(planned, ledger.settings.currency))
            _echo_lines([*show.reconciliation_lines(planned), *planned.notes])
        if refusal:
            done = "nothing would be recorded (dry run)" if dry_run else "nothing was recorded"
            raise Refused(f"{refusal}; {done}")
        return

    def replan(books):
        # Under the lock: planned again only if something was recorded since (the same books plan the same).
        same = (books.count, books.seal) == made_on
        again = planned if same else importer.plan(books, statement, mapping, **options)
        late = again.refusal(partial=record_matched)
        if late:
            raise Refused(f"{late}; nothing was recorded")
        return again.entries

    left = planned.left if record_matched else []
    unmatched_path = unmatched_file or Path(f"{statement_file.stem}.unmatched.csv")
    if left:  # refuse before recording anything, not after, when the unmatched rows cannot be written
        show.check_writable(unmatched_path)
    recorded = writer.record(ledger, replan, commit=not no_commit, batch=f"import from {statement_file.name}")
    _warn_not_committed(recorded)
    entries = recorded.entries
    skipped = sum(1 for p in planned.rows if p.status == "skip" and p.reason.startswith("already"))
    filtered = sum(1 for p in planned.rows if p.status == "skip") - skipped
    if left:
        show.write_unmatched(left, unmatched_path)
    entries = list(entries)
    batch = entries[0].id if entries and recorded.commit else None
    if as_json:
        data = {
            "recorded": [render.entry_json(e) for e in entries],
            "skipped": skipped,
            "left_out": filtered,
            "batch": batch,
            "unmatched": len(left),
            "unmatched_file": str(unmatched_path) if left else None,
        }
        click.echo(render.dumps(data))
        return
    kept = entries.pop() if entries and entries[-1].kind == "statement" else None
    span = f" (#{entries[0].id}-#{entries[-1].id})" if entries else ""
    balances = f" and the statement's balances (#{kept.id})" if kept else ""
    named = f", batch {batch}" if batch else ""
    out = f", left out {filtered}" if filtered else ""
    click.echo(f"Recorded {len(entries)} entries{span}{balances}{named}; skipped {skipped} already recorded{out}.")
    _echo_lines([*show.reconciliation_lines(planned), *planned.notes])
    if left:
        _echo_lines([f"{len(left)} row(s) not recorded, written to {unmatched_path}."])


@main.command()
@click.argument("statement_files", metavar="FILE...", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))  # fmt: skip
@click.option("--map", "mapping_file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="The mapping the statements were imported with (docs/IMPORT.md).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def reconcile(statement_files: tuple[Path, ...], mapping_file: Path | None, as_json: bool) -> None:
    """Show each bank statement's balances beside the books' cash, and how many of its rows the books hold.

    Exits 1 when a statement's opening or closing balance differs from the
    books'. Nothing is written. See docs/IMPORT.md.

    \b
    Example:
      fundledger reconcile statements/2025-*.xml --map bank.map.toml
    """
    from ledger import importer, render
    from ledger.statements import show

    ledger = _ledger(click.get_current_context())
    mapping = importer.load_mapping(mapping_file) if mapping_file else None
    books = _books(ledger)
    held = importer.with_ledger_accounts(mapping or importer.Mapping(), ledger.settings.bank_accounts)
    checks = [
        importer.check_statement(books, importer.read_statement(path, mapping), held, path.name)
        for path in statement_files
    ]
    if as_json:
        click.echo(render.dumps(show.checks_json(checks)))
    else:
        render.console().print(show.checks_table(checks))
    wrong = [c for c in checks if not c.reconciled]
    if wrong:
        click.echo(f"{len(wrong)} of {len(checks)} statement(s) do not agree with the books", err=True)
        click.get_current_context().exit(1)


def _echo_lines(lines: list[str]) -> None:
    from ledger.text import inert

    for line in lines:
        click.echo(inert(line))


# --- reading -------------------------------------------------------------


# The reports that show flows over a period (--period, --from, --to).
PERIOD_REPORTS = ("summary", "balance", "contributors", "earmarks", "packages", "register", "statement", "approvals",
                  "deliveries", "suppliers", "funding")  # fmt: skip

# Which reports take each report option; any other report refuses it (exit 2), never ignores it.
TAKEN_BY = {
    "year": ("pledges",),
    "account": ("register",),
    "member_name": ("register", "funding"),
    "earmark_name": ("register",),
    "package_name": ("register", "funding"),
    "overdue": ("pledges",),
    "kind": ("register",),
    "supplier_name": ("register",),
    "original": ("contributors",),
    "every": ("balance", "contributors", "earmarks", "packages"),
    "period": PERIOD_REPORTS,
    "start": PERIOD_REPORTS,
    "end": PERIOD_REPORTS,
}
_FLAGS = {
    "every": "--yearly/--quarterly/--monthly",
    "member_name": "--member",
    "earmark_name": "--earmark",
    "package_name": "--package",
    "supplier_name": "--supplier",
    "start": "--from",
    "end": "--to",
}


def _refuse_untaken(name: str, given: dict) -> None:
    """A usage error (exit 2) for the first option given that report NAME does not take."""
    for key, takers in TAKEN_BY.items():
        if given.get(key) not in (None, False) and name not in takers:
            flag = _FLAGS.get(key, "--" + key.replace("_", "-"))
            hint = "; for one year of a report, use --period YEAR" if key == "year" else ""
            names = takers[0] if len(takers) == 1 else f"{', '.join(takers[:-1])} and {takers[-1]}"
            raise click.UsageError(
                f"report {name} does not take {flag}: only {names} take{'s' if len(takers) == 1 else ''} it{hint}"
            )


def _period(period: str | None, start, end):
    """The period the options name, or None; a usage error when they name it twice or badly."""
    from ledger import reports

    if period and (start or end):
        raise click.UsageError("give either --period or --from/--to, not both")
    if period:
        try:
            return reports.parse_period(period)
        except ValueError as problem:
            raise click.BadParameter(str(problem), param_hint="'--period'") from None
    if start or end:
        if start and end and end < start:
            raise click.BadParameter(f"--to {end} is before --from {start}", param_hint="'--to'")
        return reports.Period(start, end)
    return None


# The formats a report or an export is written in, by the extension of the file it is written to.
OUTPUT_EXTENSIONS = {".html": "html", ".htm": "html", ".svg": "svg", ".pdf": "pdf", ".csv": "csv", ".json": "json"}


def output_target(chosen: dict[str, str | bool | None], output: str | None) -> tuple[str, str | None]:
    """The format and the file a report goes to: (`table`, None) for the terminal, else (format, path or '-').

    `chosen` maps each format option to what it was given: a bool for a flag
    (--json, --csv), None, '' or a FILE for an option that may take one
    (--html, --svg, --pdf). The format is the option given, else FILE's
    extension; two formats, a file given twice, or a page with nowhere to go
    are usage errors (exit 2).
    """
    given = [name for name, value in chosen.items() if value not in (None, False)]
    if len(given) > 1:  # each format is an option of its own, so two of them are seen here, whatever their order
        flags = [f"--{name}" for name in given]
        raise click.UsageError(f"choose one of {', '.join(flags[:-1])} and {flags[-1]}")
    if not given:
        return ("table", None) if output is None else (_format_of(output), output)
    fmt = given[0]
    named = chosen[fmt] if isinstance(chosen[fmt], str) and chosen[fmt] else None
    if named and output:
        raise click.UsageError(f"--{fmt} {named} and -o {output}: give the file once")
    path = named or output
    if path is None and fmt in ("html", "svg", "pdf"):
        raise click.UsageError(f"--{fmt} writes a file: --{fmt} FILE, or --{fmt} -o FILE ('-o -' for standard output)")
    return fmt, path or "-"


def _format_of(path: str) -> str:
    """The format FILE's extension names; a usage error when it names none."""
    fmt = OUTPUT_EXTENSIONS.get(Path(path).suffix.lower())
    if fmt is None:
        raise click.UsageError(
            f"cannot tell the format of {path!r} from its extension: name it .html, .svg, .pdf, .csv or .json, "
            "or give --html, --svg, --pdf, --csv or --json"
        )
    return fmt


def write_output(path: str, content: str | bytes | Iterator[str], said: str | None = None) -> None:
    """Write a report or an export to `path` ('-': standard output), then say so on stderr.

    Every command that writes a file does it here (`report -o`, `--html
    FILE`, `export -o`), so they all behave alike: a file that cannot be
    written is one line and exit 1, and `said` (default 'Wrote FILE.') is
    printed on stderr, never mixed into the output. `content` may be text in
    pieces (an export), written as they come into a file beside FILE that
    takes its name only once the last piece is written: a refusal or an
    error half way leaves FILE as it was (an earlier export whole), never cut.
    """
    pieces = [content] if isinstance(content, str | bytes) else content
    if path == "-":
        for piece in pieces:
            if isinstance(piece, bytes):
                sys.stdout.flush()
                sys.stdout.buffer.write(piece)
                sys.stdout.buffer.flush()
            else:
                click.echo(piece, nl=False)
        return
    target = Path(path)
    if target.exists() and not target.is_file():  # a device or a pipe (/dev/null, a fifo): written in place
        _write_pieces(path, pieces, lambda binary: _opened(path, binary=binary))
    else:
        final = target.resolve() if target.is_symlink() else target  # through a link, as a plain write would go
        partial = final.with_name(f".{final.name}.{os.getpid()}.part")
        try:
            _write_pieces(path, pieces, lambda binary: _opened(str(partial), binary=binary, new=True))
            try:
                os.replace(partial, final)
            except OSError as problem:
                raise _unwritable(path, problem) from None
        finally:
            partial.unlink(missing_ok=True)
    click.echo(said or f"Wrote {path}.", err=True)


def _unwritable(path: str, problem: OSError) -> BadInput:
    return BadInput(f"cannot write {path}: {problem.strerror or problem}")


def _write_pieces(path: str, pieces, opening) -> None:
    """Each piece into the file `opening(binary)` gives, opened when the first is ready (or empty at the end)."""
    handle = None
    try:
        for piece in pieces:  # an error making a piece is that error, not one of writing
            try:
                if handle is None:
                    handle = opening(isinstance(piece, bytes))
                handle.write(piece)
            except OSError as problem:
                raise _unwritable(path, problem) from None
        try:
            if handle is None:  # nothing at all to write: still the file, empty
                handle = opening(False)
            handle.close()
        except OSError as problem:
            raise _unwritable(path, problem) from None
    finally:
        if handle is not None:
            handle.close()


def _opened(path: str, *, binary: bool, new: bool = False):
    """`path` opened for writing; `new`: created afresh (never an existing file's), as a plain new file would be."""
    if new:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        return open(descriptor, "wb") if binary else open(descriptor, "w", encoding="utf-8", newline="")
    return open(path, "wb") if binary else open(path, "w", encoding="utf-8", newline="")


# The reports a first read may make from the last close's state, when they are of today and printed as data.
FROM_A_STATE = ("summary", "balance")
_DATA = ("table", "json", "csv")


def output_options(command: Callable) -> Callable:
    """The options every report takes, written once: the period or --as-of, one output format, --wide.

    A report option the chosen report does not take is refused before the
    ledger is read (see TAKEN_BY).
    """

    @click.option("--as-of", "as_of", type=DATE, default=None, help="The books as they stood at the end of this day.")
    @click.option(
        "--period",
        "period",
        metavar="P",
        default=None,
        help="Flows during P: 2025, 2025Q2, 2025-04, or 2025-01-01..2025-06-30.",
    )
    @click.option("--from", "start", type=DATE, default=None, help="Flows from this day on (with --to: a period).")
    @click.option("--to", "end", type=DATE, default=None, help="Flows up to the end of this day.")
    @click.option("--yearly", "every", flag_value="yearly", help="A column per year (balance, contributors, ...).")
    @click.option("--quarterly", "every", flag_value="quarterly", help="A column per quarter.")
    @click.option("--monthly", "every", flag_value="monthly", help="A column per month.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON (documented in docs/REPORTS.md).")
    @click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
    @click.option("--html", "html", metavar="[FILE]", is_flag=False, flag_value="", default=None,
                  help="Write the report as an HTML page (to FILE, or to -o FILE).")
    @click.option("--svg", "svg", metavar="[FILE]", is_flag=False, flag_value="", default=None,
                  help="Write the report's main chart as SVG (to FILE, or to -o FILE).")
    @click.option("--pdf", "pdf", metavar="[FILE]", is_flag=False, flag_value="", default=None,
                  help="Write the report as a PDF document, A4 (to FILE, or to -o FILE).")
    @click.option("-o", "--output", "output", metavar="FILE", default=None,
                  help="Write to FILE ('-': standard output), in the format chosen or else FILE's extension "
                  "(.html, .svg, .pdf, .csv, .json).")  # fmt: skip
    @click.option("--wide", is_flag=True, help="Tables: every column and whole memos, however wide the terminal.")
    @click.option("--pager", is_flag=True, help="Show a long report through a pager.")
    @functools.wraps(command)
    def wrapper(*args, as_of, period, start, end, every, as_json, as_csv, html, svg, pdf, output, wide, pager,
                **kwargs):  # fmt: skip
        from ledger import checkpoints, render, reports

        fmt, path = output_target({"json": as_json, "csv": as_csv, "html": html, "svg": svg, "pdf": pdf}, output)
        if wide and fmt != "table":
            raise click.UsageError(f"--wide is for tables; {fmt.upper()} always holds every column and whole memos")
        if pager and fmt != "table":
            raise click.UsageError("--pager is for tables on the terminal")
        name = kwargs.get("name", command.__name__)
        if (name == "statement") != bool(kwargs.get("subject")):
            raise click.UsageError(
                "report statement needs a MEMBER" if name == "statement" else f"report {name} takes no MEMBER"
            )
        _refuse_untaken(name, {**kwargs, "period": period, "start": start, "end": end, "every": every})
        span = _period(period, start, end)
        if span is not None and as_of:
            raise click.UsageError("--as-of ends a report at a day; with a period, end it with --to (or --period)")
        if every and kwargs.get("original"):
            raise click.UsageError("--original gives one column per currency; it cannot be split by period too")
        ledger = _ledger(click.get_current_context())
        # Today's summary or balance as data: books begun from the last close's state will do (ledger.state).
        books = _books(ledger, partial=name in FROM_A_STATE and not (as_of or span or every) and fmt in _DATA)
        if as_of:
            books = checkpoints.as_of(books, as_of)
            span = reports.Period(None, as_of) if every else span
        if every:  # one column per period, the same for each report that takes it
            report = reports.by_period_report(books, name, every, span)
        else:
            try:
                report = command(*args, books=books, as_of=as_of, period=span, **kwargs)
            except Exception:  # it needed entries from before that close (Incomplete), or the state was not sound
                if books.begun == 1:
                    raise
                books = _books(ledger)
                report = command(*args, books=books, as_of=as_of, period=span, **kwargs)
        if fmt == "table":
            render.emit(report, "table", pager=pager, wide=wide)
            return
        if fmt in ("json", "csv") and path == "-" and render.streamed(report):
            render.stream(report, fmt, sys.stdout)  # a whole register: written as its entries are read
            return
        try:
            content = render.document(report, fmt, books)
        except render.NoChart as problem:
            raise click.UsageError(str(problem)) from None
        write_output(path, content)

    return wrapper


@main.command()
@click.argument("name", metavar="[REPORT]", type=NameChoice("report", REPORT_NAMES), default="summary", required=False)
@click.argument("subject", metavar="[MEMBER]", default=None, required=False)
@click.option("--year", type=int, default=None, help="pledges: only pledges for this year.")
@click.option("--account", default=None, help="register: entries touching this account (or below it).")
@click.option("--member", "member_name", default=None, shell_complete=_complete("member"), help="register: entries of this member; funding: what its money funded.")
@click.option("--earmark", "earmark_name", default=None, shell_complete=_complete("earmark"), help="register: entries touching this earmark.")
@click.option("--package", "package_name", default=None, shell_complete=_complete("package"), help="register: entries of this package; funding: who funded it.")
@click.option("--kind", default=None, type=NameChoice("kind", _kind_names), metavar="KIND",
              help="register: entries of this kind (pledge, contribute, pay, ...).")  # fmt: skip
@click.option("--supplier", "supplier_name", default=None, shell_complete=_complete("supplier"), help="register: contracts, payments and deliveries of this supplier.")
@click.option("--original", is_flag=True, help="contributors: also what each gave, in the currencies it gave.")
@click.option("--overdue", is_flag=True, help="pledges: only what fell due and was not received, with its age.")
@output_options
def report(
    name: str, subject, year, account, member_name, earmark_name, package_name, kind, supplier_name, original, overdue,
    books, as_of, period,
):
    """Print REPORT (default: summary), as a table, JSON or CSV, or write it as an HTML page, a PDF or an SVG chart.

    Reports: summary, balance, contributors, pledges, earmarks, packages,
    members, register, rates, and `statement MEMBER`: what a member state
    files (its position, pledges and receipts, and where its earmarked money
    went); funding (who funded each package; --member, --package), suppliers,
    deliveries, closes, approvals (who proposed and who approved what, proven
    by the commits' signatures), reconcile (each bank statement imported: the
    bank's balances beside the books' cash).

    With --period (or --from/--to), summary, balance, contributors, earmarks
    and packages show what happened during the period between its opening
    and closing figures; the register lists the period's entries after an
    opening balance; funding, suppliers, deliveries and approvals what was done
    in it. An option a report does not take is refused.

    \b
    Example:
      fundledger --ledger ledgers/drone-coalition report
      fundledger report contributors --json
      fundledger report contributors --original
      fundledger report summary --period 2025Q2
      fundledger report register --account assets:fund:earmarked:drones --from 2025-01-01
      fundledger report summary --as-of 2025-03-31 --html summary.html
      fundledger report statement Latvia --period 2025 --pdf latvia-2025.pdf
      fundledger report contributors -o contributors.svg
      fundledger report pledges --overdue --as-of 2025-09-30
      fundledger report funding --member Latvia
      fundledger report reconcile --json
      fundledger report register --supplier "Nordic Interceptor Systems AB"
    """
    from ledger import reports

    if name == "statement":
        return reports.statement_report(books, subject, as_of, period)
    if name == "funding":
        return reports.funding_report(books, as_of, member=member_name, package=package_name, period=period)
    if name == "approvals":
        from ledger import audit, git

        ledger = _ledger(click.get_current_context())
        if not git.inside_work_tree(ledger.path):
            raise git.GitError(f"{ledger.path} is not in a git repository: approvals are proven by signed commits")
        return reports.approvals_report(books, audit.run(ledger).approvals, as_of, period)
    if name == "pledges" and overdue:
        return reports.overdue_report(books, as_of)
    if name == "register":
        account = account.rstrip(":") if account else account  # `assets:fund:` is `assets:fund`
        spec = reports.RegisterFilter(account, member_name, earmark_name, package_name, kind, supplier=supplier_name)
        reports.check_names(books, member=member_name, earmark=earmark_name, package=package_name,
                            supplier=supplier_name, account=account)  # fmt: skip
        return reports.register_report(books, spec, as_of, period)
    if name == "pledges":
        return reports.pledges_report(books, as_of, year)
    if name == "contributors":
        return reports.contributors_report(books, as_of, original=original, period=period)
    if name in PERIOD_REPORTS:
        chosen = {"summary": reports.summary_report, "balance": reports.balance_report,
                  "earmarks": reports.earmarks_report, "packages": reports.packages_report,
                  "deliveries": reports.deliveries_report, "suppliers": reports.suppliers_report}  # fmt: skip
        return chosen[name](books, as_of, period)
    return {
        "members": reports.members_report, "rates": reports.rates_report, "closes": reports.closes_report,
        "reconcile": reports.reconcile_report,
    }[name](books, as_of)  # fmt: skip


@main.command()
@output_options
def balance(books, as_of, period):
    """The account tree with balances; parents show the totals below them (same as `report balance`).

    With --period (or --from/--to): each account's opening balance, its
    change during the period and its closing balance.

    \b
    Example:
      fundledger balance --as-of 2025-03-31
      fundledger balance --period 2025
    """
    from ledger import reports

    return reports.balance_report(books, as_of, period)


@main.command()
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default=None,
              help="The format (default: from -o FILE's extension).")
@click.option("--as-of", "as_of", type=DATE, default=None, help="Only entries dated on or before this day.")
@click.option("-o", "--output", "output", metavar="FILE", default=None,
              help="Write to FILE ('-': standard output), as reports do.")
def export(fmt: str | None, as_of: dt.date | None, output: str | None) -> None:
    """Export the books for hledger, beancount (and so Fava), or as CSV or JSON.

    Without --format, the format is -o FILE's extension (.journal, .hledger or
    .ledger, .beancount, .csv, .json).

    \b
    Example:
      fundledger export --format hledger -o fund.journal && hledger -f fund.journal check --strict
      fundledger export --format beancount -o fund.beancount && fava fund.beancount
      fundledger export -o postings.csv
      fundledger export --format csv --as-of 2025-03-31 > postings.csv
    """
    from ledger import checkpoints, render
    from ledger import export as exporting

    if fmt is None:
        fmt = EXPORT_EXTENSIONS.get(Path(output).suffix.lower()) if output and output != "-" else None
        if fmt is None:
            raise click.UsageError(
                "choose a format: --format hledger|beancount|csv|json, or -o FILE ending in .journal, .hledger, "
                ".beancount, .csv or .json"
            )
    books = _books(_ledger(click.get_current_context()))
    if as_of:
        books = checkpoints.as_of(books, as_of)  # from the read cache's nearest mark, not replayed
    with render.progress(exporting.steps(books, fmt), "exporting", at_least=0, after=1.0) as tick:
        write_output(output or "-", exporting.stream(books, fmt, tick), f"Wrote {books.count} entries to {output}.")


# The export formats, by the extension of the file they are written to.
EXPORT_EXTENSIONS = {".journal": "hledger", ".hledger": "hledger", ".ledger": "hledger", ".beancount": "beancount",
                     ".csv": "csv", ".json": "json"}  # fmt: skip


@main.command()
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--as-of", "as_of", type=DATE, default=None, help="The books as they stood at the end of this day "
              "(default: the day of the latest entry, so unchanged books publish the same site).")  # fmt: skip
@click.option("--repository", metavar="URL", default=None, help="Where the ledger's git repository can be cloned "
              "from, for the page on verifying the figures.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print what was written as one JSON object.")
def publish(folder: Path, as_of: dt.date | None, repository: str | None, as_json: bool) -> None:
    """Write the fund's transparency site into DIR: static pages that work from file:// and any host.

    The dashboard, a page per member (its statement), per earmark and per
    package, the register and the rates, linked to each other; every table
    beside its page as CSV and JSON; and a page on verifying the seal from a
    clone. DIR must be new, empty, or an earlier publish's output; the same
    books give the same files, byte for byte.

    \b
    Example:
      fundledger publish site
      fundledger publish site --as-of 2025-06-30 --repository https://example.org/fund.git
    """
    from ledger import publish as publishing
    from ledger import render

    if repository is not None:
        publishing.check_repository(repository)
    publishing.previous_files(folder)  # refuse someone's own folder before reading the books
    books = _books(_ledger(click.get_current_context()))
    done = publishing.publish(
        folder, books, as_of, repository=repository,
        progress=lambda total: render.progress(total, f"publishing {folder}", at_least=PUBLISH_BAR_PAGES),
    )  # fmt: skip
    if as_json:
        click.echo(render.dumps(done.as_json()))
    else:
        pages = sum(1 for name in done.files if name.endswith(".html"))
        click.echo(
            f"Wrote {folder}: {pages} pages as of {done.as_of}, seal {done.seal[:12]} "
            f"({len(done.written)} files written, {len(done.removed)} removed); open {folder / 'index.html'}"
        )


# A page takes a few tens of milliseconds (its charts most): past this many, publishing takes over a second.
PUBLISH_BAR_PAGES = 20


@main.command()
@click.option("--since", metavar="REV", default=None, help="Report findings only in commits after REV.")
@click.option("--json", "as_json", is_flag=True, help="Print the audit as JSON.")
def audit(since: str | None, as_json: bool) -> None:
    """Check from git's history that nothing recorded was changed, removed or reordered.

    Every commit is checked: journal files only grew at their end, ledger.toml
    never changed, the entries each commit added continue the ids and the
    chain and pass every rule; the working tree has no uncommitted journal
    change. With an allowed_signers file in the ledger folder, every commit
    must be signed by a listed key. Exits 0 only when there is no finding.

    \b
    Example:
      fundledger audit
      fundledger audit --since v1.0 --json
    """
    from ledger import audit as auditing
    from ledger import git, render

    ledger = _ledger(click.get_current_context())
    if not git.inside_work_tree(ledger.path):
        raise git.GitError(f"{ledger.path} is not in a git repository, so it has no history to audit")
    with render.progress(lambda: auditing.steps(ledger), "auditing", at_least=0, after=1.0) as tick:
        result = auditing.run(ledger, since, tick)
    if as_json:
        click.echo(render.dumps(render.audit_json(result)))
    else:
        render.console().print(render.audit_view(result))
    if not result.clean:
        sys.exit(1)


@main.command()
@click.option("--seal", default=None, metavar="HASH", help="A seal printed on an earlier report (12+ hex digits).")
@click.option("--as-of", "as_of", type=DATE, default=None, help="With --seal: the day the sealed report was as of.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def verify(seal: str | None, as_of, as_json: bool) -> None:
    """Re-check the journal without git: every entry's hash, the chain, the ids and every rule.

    With --seal, prove that the state an earlier report sealed is still the
    beginning of this journal: a history rewritten and force-pushed passes
    `audit` on its own terms, but loses the old seal. With --as-of too, prove
    that a report as of that day still prints that seal (its figures are the
    same): certain for a day in a closed period.

    \b
    Example:
      fundledger verify --seal 3f1e9a0c27b4
      fundledger verify --as-of 2024-12-31 --seal 8cbbd41ef66e
    """
    from ledger import audit as auditing
    from ledger import render, state
    from ledger.errors import Refused

    if as_of and not seal:
        raise click.UsageError("--as-of goes with --seal: the seal printed on the report as of that day")
    if seal is not None and re.fullmatch(r"[0-9a-fA-F]{1,11}", seal.strip()):
        raise BadInput(f"seal {seal!r} is too short to prove anything: give 12 or more of its hex digits, "
                       "as reports print it")  # fmt: skip
    if seal is not None and not re.fullmatch(r"[0-9a-fA-F]{12,64}", seal.strip()):
        raise BadInput(f"seal {seal!r} is not a seal: a seal is 12 to 64 hex digits, as reports print it")
    # Every byte through tomllib, every rule of every entry (a first read trusts what a close vouches for).
    ledger = _ledger(click.get_current_context())
    books = _books(ledger, use_cache=False, fast=False, trust_closes=False)
    found = auditing.verify_seal(books, seal) if seal else None
    states = state.kept(ledger.path, books)
    if states["wrong"]:
        raise Refused(
            f"the state file of close #{states['wrong'][0]} (states/) is not the state the close records: a first "
            "read ignores it; restore it with `git checkout -- states/`"
        )
    result = {"ok": True, "entries": books.count, "seal": books.seal,
              "states": {name: states[name] for name in ("ok", "missing", "other")}}  # fmt: skip
    if seal:
        result["sealed"] = {"id": found.id, "date": found.date.isoformat(), "hash": found.hash} if found else None
    if as_of and found:
        then = books.balances_on(as_of)[1]
        closed = books.closed_on(as_of)
        if not then.startswith(seal.strip().lower()):
            raise Refused(
                f"a report as of {as_of} now prints seal {then[:12]}, not {seal}: entries dated on or before "
                f"{as_of} were recorded after it was printed" + ("" if closed else f" ({as_of} is in no closed period)")
            )
        result["as_of"] = {"date": as_of.isoformat(), "closed_by": closed.id if closed else None}
    if as_json:
        click.echo(render.dumps(result))
    else:
        click.echo(f"ok: {books.count} entries, chain and rules intact; seal {books.seal[:12]}")
        if states["ok"]:
            click.echo(f"ok: the states of {len(states['ok'])} closes (states/) are the books they record")
        for close_id in states["missing"]:
            click.echo(f"note: the state file of close #{close_id} is missing: a first read reads every entry")
        for close_id in states["other"]:
            click.echo(f"note: close #{close_id} kept its state as another fundledger lays the books out: "
                       "neither checked nor used")  # fmt: skip
        if found:
            click.echo(f"ok: seal {seal} is entry #{found.id} of {found.date}, and the chain from #1 to it is intact")
        if as_of and found:
            closed = books.closed_on(as_of)
            click.echo(
                f"ok: a report as of {as_of} still prints seal {seal}"
                + (f"; {closed.period} is closed by #{closed.id}, so it always will" if closed else "")
            )
    if seal and not found:
        raise Refused(
            f"seal {seal} is not in this journal: the history it sealed was rewritten, or it is another ledger's"
        )


@main.command()
@click.argument("entry_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the entry and its provenance as JSON.")
def show(entry_id: int, as_json: bool) -> None:
    """Print entry ID with its provenance: the commit that added it, author, time, signature, reversal.

    \b
    Example:
      fundledger show 4
    """
    from ledger import audit as auditing
    from ledger import git, journal, render
    from ledger.errors import BadInput

    ledger = _ledger(click.get_current_context())
    books = _books(ledger)
    entry = books.entry(entry_id)
    if entry is None:
        raise BadInput(f"there is no entry #{entry_id} (the newest is #{books.last_id})")
    commit = None
    if git.inside_work_tree(ledger.path):
        signers = ledger.path / auditing.ALLOWED_SIGNERS
        found = git.commits_adding(ledger.path, entry.hash, journal.JOURNAL_DIR, signers if signers.is_file() else None)
        commit = found[0] if found else None
    provenance = render.provenance(commit, books.reversed_by.get(entry_id))
    if as_json:
        click.echo(render.dumps({**render.entry_json(entry), "provenance": provenance}))
    else:
        out = render.console()
        out.print(render.entry_panel(entry, ledger.settings.currency))
        out.print(render.provenance_view(provenance))


# --- sharing --------------------------------------------------------------


@main.command()
@click.argument("remote", default="origin", required=False)
@click.argument("branch", default="main", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print what was fetched, replayed, kept and pushed as JSON.")
def sync(remote: str, branch: str, as_json: bool) -> None:
    """Publish this clone's entries on top of BRANCH of REMOTE (default origin main), losing nothing.

    Fetches; when the remote has entries this clone lacks, records this
    clone's unpublished entries again on top of them (new ids, every rule
    checked again, recorder, recorded_at and source kept), then pushes, and
    tries again if someone pushed first. An entry the combined books refuse
    is kept with its reason: see `fundledger kept`.

    \b
    Example:
      fundledger sync
      fundledger sync origin main --json
    """
    from ledger import render
    from ledger import sync as syncing

    ledger = _ledger(click.get_current_context())
    outcome = syncing.sync(ledger, remote, branch)
    if as_json:
        click.echo(render.dumps(render.sync_json(outcome)))
        return
    click.echo(
        f"{outcome.fetched} entries fetched, {len(outcome.replayed)} replayed on top, "
        f"{outcome.pushed} pushed to {remote}/{branch}"
        + (f" (after {outcome.attempts} attempts)" if outcome.attempts > 1 else "")
    )
    for old, new in outcome.replayed:
        click.echo(f"  #{old} is now #{new}")
    _report_kept(ledger, outcome.kept)


def _report_kept(ledger, items) -> None:
    from ledger import model
    from ledger.text import inert

    for item in items:
        click.echo(
            f"kept: #{item.entry.id} {item.entry.kind} {inert(model.subject(item.entry))} ({item.entry.date}): "
            f"{inert(item.reason)}",
            err=True,
        )
    if items:
        from ledger import sync as syncing

        click.echo(
            f"kept entries wait in {inert(str(syncing.kept_path(ledger)))}; "
            "`fundledger kept --record` records them once possible",
            err=True,
        )


@main.command()
@click.option("--record", "record_them", is_flag=True, help="Try to record the kept entries again, in order.")
@click.option("--json", "as_json", is_flag=True, help="Print the kept entries as JSON.")
@click.option("--no-commit", is_flag=True, help="Do not commit the entries recorded to git.")
def kept(record_them: bool, as_json: bool, no_commit: bool) -> None:
    """List the entries a sync or pull could not record on top of the others' (with why), or record them.

    \b
    Example:
      fundledger kept
      fundledger earmark drones 5M --date 2025-05-01   # make room, then:
      fundledger kept --record
    """
    from ledger import model, render
    from ledger import sync as syncing
    from ledger.text import inert

    ledger = _ledger(click.get_current_context())
    if record_them:
        recorded, refused = syncing.record_kept(ledger, commit=not no_commit)
        for old, new in recorded:
            click.echo(f"recorded kept #{old} as #{new}")
        waiting = refused
    else:
        waiting = syncing.kept(ledger)
    if as_json:
        click.echo(render.dumps(render.kept_json(waiting)))
        return
    if not waiting:
        click.echo("no kept entries")
    for item in waiting:
        click.echo(
            f"#{item.entry.id} {item.entry.kind} {inert(model.subject(item.entry))} ({item.entry.date}), "
            f"kept {item.kept_at}: {inert(item.reason)}"
        )


@main.command()
@click.argument("shell", type=click.Choice(("bash", "zsh", "fish")))
def completion(shell: str) -> None:
    """Print the tab-completion script for SHELL: commands, options, report names, and the members,
    earmarks, packages and suppliers of the ledger in use.

    \b
    Example:
      fundledger completion bash >> ~/.bashrc        # then open a new shell
      eval "$(fundledger completion zsh)"
      fundledger completion fish > ~/.config/fish/completions/fundledger.fish
    """
    from click.shell_completion import get_completion_class

    script = get_completion_class(shell)(main, {}, "fundledger", "_FUNDLEDGER_COMPLETE")
    click.echo(script.source())


@main.command("help")
@click.argument("words", metavar="[COMMAND]...", nargs=-1)
@click.pass_context
def help_command(ctx: click.Context, words: tuple[str, ...]) -> None:
    """Print the full help of COMMAND (`help member join` for a sub-command), or of fundledger itself.

    The same text as `fundledger COMMAND --help`, on stdout.

    \b
    Example:
      fundledger help
      fundledger help report
      fundledger help member join | less
    """
    from ledger.text import did_you_mean

    command: click.Command = main
    parent = ctx.find_root()
    path = []
    for word in words:
        sub = command.get_command(parent, word) if isinstance(command, click.Group) else None
        if sub is None:
            where = " ".join(["fundledger", *path])
            names = command.list_commands(parent) if isinstance(command, click.Group) else []
            near = did_you_mean(word, names, cutoff=0.6)
            raise click.UsageError(f"{where} has no {'sub-' if path else ''}command {word!r}{near}")
        path.append(word)
        parent = click.Context(sub, info_name=word, parent=parent)
        command = sub
    click.echo(command.get_help(parent))


@main.command("git-setup")
@click.option("--json", "as_json", is_flag=True, help="Print what was set as JSON.")
def git_setup(as_json: bool) -> None:
    """Register fundledger's merge driver in this clone, so `git pull` replays entries instead of conflicting.

    Also sets `pull.rebase` (the shared history stays one line of appends,
    which `audit` checks) and adds `journal/*.toml merge=fundledger` to this
    clone's own .git/info/attributes, so it commits nothing. Run it once in
    every clone; `init` runs it for a repository it creates.

    \b
    Example:
      git clone https://git.example/fund.git && cd fund && fundledger git-setup
      fundledger git-setup --json
    """
    from ledger import git, journal
    from ledger import sync as syncing

    ledger = _ledger(click.get_current_context())
    if not git.inside_work_tree(ledger.path):
        raise click.UsageError(f"{ledger.path} is not in a git repository")
    command = _self_command()
    syncing.setup(ledger, command)
    if as_json:
        from ledger import render

        click.echo(render.dumps({"path": str(ledger.path), "merge_driver": f"{command} merge-driver %O %A %B %P",
                                 "pull_rebase": True,
                                 "attributes": f"{git.prefix(ledger.path)}{journal.JOURNAL_DIR}/*.toml merge=fundledger"}))  # fmt: skip
        return
    click.echo("merge driver registered; `git pull` now replays journal entries (and rebases)")


def _self_command() -> str:
    """How git should run this fundledger: the same Python, so the driver works whatever PATH git has."""
    import shlex

    return f"{shlex.quote(sys.executable)} -m ledger"


@main.command("merge-driver", hidden=True)
@click.argument("base", type=click.Path(path_type=Path))
@click.argument("ours", type=click.Path(path_type=Path))
@click.argument("theirs", type=click.Path(path_type=Path))
@click.argument("name")
def merge_driver(base: Path, ours: Path, theirs: Path, name: str) -> None:
    """Git's merge driver for journal files, registered by git-setup; git runs it, not people.

    \b
    Example (what git-setup writes to .git/config):
      [merge "fundledger"]
          driver = python -m ledger merge-driver %O %A %B %P
    """
    from ledger import git, journal
    from ledger import sync as syncing

    target = Path.cwd() / name
    ledger = journal.open_ledger(target.parent.parent)
    merged = syncing.merge_file(
        ledger, target.name, base.read_bytes(), ours.read_bytes(), theirs.read_bytes(),
        rebasing=git.rebasing(ledger.path),
    )  # fmt: skip
    ours.write_bytes(merged)


def run() -> None:
    """The `fundledger` command as its own process: `main`, then an exit that does not walk the heap.

    What a command made (a register's 10,000 entries and rows) is freed as the
    process ends. Frozen first, it is not also searched for cycles by the
    collector's last pass, which took 20 ms of a 0.5 s report. So an object
    left in a cycle is not finalized at exit: a command closes what it opens
    (`with`), never leaving a file to be flushed by the collector.
    """
    import gc

    try:
        main()
    finally:
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    run()
