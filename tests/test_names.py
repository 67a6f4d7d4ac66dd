"""Member names in any script, and one member however its name's apostrophes, case or accents are written (issue 21, item 13).

A member's account part (its slug) must stay what it was for every name
an older fundledger took, so that no recorded journal changes meaning.
"""

from __future__ import annotations

import json
import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import export, journal, model
from ledger.errors import BadInput

from conftest import SAMPLE, snapshot

SCRIPTS = ["Україна", "Ελλάδα", "日本", "भारत", "대한민국", "ישראל", "مصر", "საქართველო", "ประเทศไทย"]


def old_slug(name: str) -> str:
    """The slug as fundledger made it before names in other scripts were taken."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def one_line(result, prefix: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert lines[0].startswith(prefix), lines[0]
    return lines[0]


class TestSlugsThatExistStayTheSame:
    @pytest.mark.parametrize(
        ("name", "slug"),
        [
            ("United Kingdom", "united-kingdom"),
            ("Türkiye", "turkiye"),
            ("Côte d'Ivoire", "cote-d-ivoire"),
            ("São Tomé and Príncipe", "sao-tome-and-principe"),
            ("Guinea-Bissau", "guinea-bissau"),
            ("St. Lucia", "st-lucia"),
            ("Føroyar", "froyar"),  # a letter with no ASCII form was dropped, and still is
        ],
    )
    def test_known_names(self, name, slug):
        assert model.slug(name) == slug

    @given(st.text(max_size=30))
    def test_every_name_that_had_a_slug_keeps_it(self, name):
        if old_slug(name) and not any(c in name for c in "’‘ʼ"):
            assert model.slug(name) == old_slug(name)

    def test_the_sample_ledger_loads_with_every_rule(self):
        books = journal.load(journal.open_ledger(SAMPLE), use_cache=False, fast=False)
        for member in books.members.values():
            assert member.slug == old_slug(member.name)


class TestAnyScript:
    def test_slugs_are_safe_distinct_and_stable(self):
        slugs = [model.slug(name) for name in SCRIPTS]
        assert len(set(slugs)) == len(SCRIPTS)
        for slug in slugs:
            assert re.fullmatch(r"xn--[a-z0-9]+(-xn--[a-z0-9]+)*", slug), slug
        # Each word case folded, accents dropped, in punycode (RFC 3492) as Internet domain names are.
        assert model.slug("Україна") == "xn--80aa2annq0l" == "xn--" + "украіна".encode("punycode").decode()
        assert model.slug("Республика Беларусь") == "xn--80ablnke0agkv-xn--80abmy0agn7e"
        assert model.slug("日本") == "xn--wgv71a"

    @pytest.mark.parametrize("name", SCRIPTS)
    def test_a_member_in_any_script_joins_pledges_and_pays(self, run, name):
        run(["member", "join", name, "--date", "2024-02-01"])
        run(["pledge", name, "3M", "--year", "2025", "--split", "drones=1M", "--date", "2025-01-01"])
        run(["contribute", name, "2M", "--pledge", "2", "--date", "2025-02-01"])
        books = journal.load(journal.open_ledger(run.path), use_cache=False, fast=False)
        assert books.balance(model.contributions(model.slug(name))) == -3_000_000
        assert books.member(name).name == name
        assert run("verify").exit_code == 0
        assert run("report contributors").exit_code == 0

    def test_exports_take_them(self, run):
        from test_export import _need, _ours, beancount_balances, hledger_balances

        for name in SCRIPTS:
            run(["member", "join", name, "--date", "2024-02-01"])
            run(["contribute", name, "1k", "--date", "2025-02-01"])
        books = journal.load(journal.open_ledger(run.path))
        _need("hledger", "apt-get install hledger")
        assert hledger_balances(export.as_hledger(books)) == _ours(books)
        pytest.importorskip("beancount")
        assert beancount_balances(export.as_beancount(books)) == _ours(books)

    @pytest.mark.parametrize("name", ["日本2", "Ук$раїна", "Ελλάδα\u200b", "\u0301Ελλάδα", "ישראל\u202e"])
    def test_what_is_not_a_name_is_still_refused(self, name):
        with pytest.raises(BadInput):
            model.check_member_name(name)


class TestOneMemberHoweverWritten:
    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ("Côte d'Ivoire", "Cote d’Ivoire"),
            ("Cote d’Ivoire", "Côte d'Ivoire"),
            ("Côte d'Ivoire", "CÔTE D‘IVOIRE"),
            ("Côte d'Ivoire", "Cote dʼIvoire"),
            ("Ελλάδα", "ΕΛΛΑΔΑ"),
            ("Ελλάδα", "Ελλαδα"),
            ("Україна", "УКРАЇНА"),
        ],
    )
    def test_the_second_spelling_is_the_first_member(self, run, first, second):
        run(["member", "join", first, "--date", "2024-02-01"])
        assert model.slug(first) == model.slug(second)
        before = snapshot(run.path)
        one_line(run(["member", "join", second, "--date", "2024-03-01"], ok=False), "refused: ")
        assert snapshot(run.path) == before
        entry = json.loads(run(["contribute", second, "1k", "--date", "2025-01-01", "--json"]).stdout)
        assert entry["member"] == first

    def test_other_scripts_are_other_names(self):
        assert model.slug("Україна") != model.slug("Украина")  # Ukrainian і and Russian и are two letters

    def test_an_earmark_named_in_another_script_gets_no_unusable_hint(self, run):
        line = one_line(run(["earmark", "Україна", "1"], ok=False), "error: ")
        assert "xn--" not in line
