"""Every control type runs on the real logs with sensible populations (issue #3)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from iso_social import pipeline
from iso_social.config import resource_dir
from iso_social.controls import BUILTIN_CONTROL_TYPES
from iso_social.policy import load_policies


def test_shipped_policies_on_twitter_and_spanish_banking_logs(
    shared_data: Path, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'real.db'}"
    pipeline.ingest_logs([shared_data / "twcs" / "first_5000.csv"], db=db)
    pipeline.ingest_logs(
        [shared_data / "spanish" / "citibanamex_2021-12-21_25.csv"],
        db=db,
        brands=["Citibanamex", "ContactoCitibmx"],
    )
    pipeline.ingest_logs(
        [shared_data / "spanish" / "airline_tweets_utf8_bom.csv"],
        db=db,
        brands=["Iberia", "vueling", "Ryanair", "AirEuropa"],
    )
    policies = load_policies([resource_dir("policies")])
    used = {c.spec.type for p in policies for c in p.controls}
    assert used == {cls.type_name for cls in BUILTIN_CONTROL_TYPES}  # every type is shipped
    run = pipeline.run_check(
        policies,
        db=db,
        start=datetime(2011, 1, 1, tzinfo=UTC),
        end=datetime(2022, 1, 1, tzinfo=UTC),
    )
    controls = {c["id"]: c for c in run.document["controls"]}
    assert controls["TW-FRT-01"]["population"] > 1500
    assert 0 < controls["TW-NRT-01"]["population"] < controls["TW-FRT-01"]["population"]
    assert controls["TW-RR-01"]["population"] == controls["TW-FRT-01"]["population"]
    assert controls["PV-SDE-01"]["population"] > 5000  # every public message is scanned
    assert controls["PV-P2P-01"]["population"] > 50  # brands ask for account data a lot
    assert controls["CS-RPT-01"]["population"] > 1500
    assert {c["verdict"] for c in controls.values()} <= {
        "conforms",
        "observation",
        "minor_nonconformity",
        "major_nonconformity",
        "not_evaluated",
    }
    for control in controls.values():  # every nonconforming case is evidenced, masked
        assert len(control["evidence"]) == control["nonconforming"]
        for item in control["evidence"]:
            assert "4111 1111" not in item["detail"] and "@" not in item["detail"].split("(")[0]
