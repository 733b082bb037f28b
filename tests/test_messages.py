"""Messages for names the user got slightly wrong: did-you-mean ignores case; a VSP given as the
guest (or a guest as the target) is named as such."""

from __future__ import annotations

import pytest

from .conftest import FIXTURES

MIXED = FIXTURES / "mixed-site.yaml"


@pytest.mark.parametrize("args,message", [
    (("check", MIXED, "SAPAPP01", "vsp-e2"), "unknown guest `SAPAPP01`; did you mean `sapapp01`?"),
    (("check", MIXED, "sapapp01", "VSP-E2"), "unknown host `VSP-E2`; did you mean `vsp-e2`?"),
    (("check", MIXED, "Sapap01", "vsp-e2"), "unknown guest `Sapap01`; did you mean `sapapp01`?"),
    (("explain", MIXED, "dio-no-match", "sapapp01", "vsp-e2"), "did you mean `DIO-NO-MATCH`?"),
    (("check", MIXED, "vsp-e2", "sapapp01"),
     "`vsp-e2` is a VSP, not a guest; write the guest first: `check SNAPSHOT sapapp01 vsp-e2`"),
    (("check", MIXED, "vsp-e2", "vsp-e1"), "`vsp-e2` is a VSP, not a guest; give GUEST TARGET"),
    (("check", MIXED, "sapapp01", "dbprod01"), "`dbprod01` is a guest, not a VSP"),
    (("matrix", MIXED, "--format", "HTML"), "unknown format `HTML`; did you mean `html`?"),
])
def test_near_misses_are_named(run_cli, args, message):
    code, out, err = run_cli(*args)
    assert code == 2 and out == ""
    assert message in err
    assert "Traceback" not in err


def test_did_you_mean_prefers_an_exact_match_ignoring_case():
    from migcheck.core.words import did_you_mean

    assert did_you_mean("WEB01", ["web02", "web01", "Web01x"]) == "did you mean `web01`?"
    assert did_you_mean("zzz", ["web01"], "see the list") == "see the list"
