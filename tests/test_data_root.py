"""Confining a scenario's data paths to allowed folders (``data_root``, ``planner ... --data-root``).

An uploaded or foreign scenario must not read another county's register from
the server's disk: absolute paths, ``..`` climbing out and symbolic links that
point outside are refused, naming the key; off by default.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from planner.cli import EXIT_FATAL, EXIT_OK, main
from planner.errors import ScenarioError
from planner.loader import load_and_validate
from planner.scenario import data_paths, load_scenario

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny"
GEODATA = ROOT / "geodata"


@pytest.fixture()
def up(tmp_path) -> Path:
    """A copy of the tiny scenario in its own folder (like an upload)."""
    folder = tmp_path / "up"
    shutil.copytree(TINY, folder)
    return folder


def _set(folder: Path, key: str, value: str) -> Path:
    """Rewrite one ``key = "..."`` line of [data] in the folder's scenario.toml."""
    path = folder / "scenario.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [f'{key} = "{value}"' if ln.split("=")[0].strip() == key else ln for ln in lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_scenario_inside_its_folder_is_accepted(up):
    """The tiny scenario's relative paths all lie in its folder: accepted, same scenario as without the option."""
    sc = load_scenario(up / "scenario.toml", data_root=up)
    assert sc == load_scenario(up / "scenario.toml")
    assert {k for k, _ in data_paths(sc)} >= {"data.workers", "data.villages", "data.vehicle_types"}


def test_absolute_path_is_refused_naming_the_key(up):
    """workers = "/abs/…/workers.csv" (another folder's register): refused, the key named; accepted without the option."""
    outside = up.parent / "other" / "workers.csv"
    outside.parent.mkdir()
    shutil.copy(up / "workers.csv", outside)
    path = _set(up, "workers", str(outside))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path, data_root=up)
    msg = str(err.value)
    assert "data.workers" in msg and "超出允许的文件夹" in msg
    assert "data.fleet" not in msg
    assert msg.startswith("scenario.toml:")  # the file's own name, not the server folder
    assert load_scenario(path).file_specs()["workers"].path == outside  # off by default


def test_dotdot_path_is_refused(up):
    """A relative path that climbs out of the folder (../..) is refused."""
    path = _set(up, "fleet", "../../fleet.csv")
    with pytest.raises(ScenarioError, match="data.fleet"):
        load_scenario(path, data_root=up)
    # climbing out and back in stays inside: accepted
    _set(up, "fleet", "../up/fleet.csv")
    load_scenario(path, data_root=up)


def test_symlink_pointing_out_is_refused(up, tmp_path):
    """A link inside the folder to a file outside it is refused (paths are resolved through links)."""
    secret = tmp_path / "secret" / "register.csv"
    secret.parent.mkdir()
    shutil.copy(up / "workers.csv", secret)
    os.symlink(secret, up / "linked.csv")
    path = _set(up, "workers", "linked.csv")
    with pytest.raises(ScenarioError, match="data.workers"):
        load_scenario(path, data_root=up)
    # a link whose target is inside the folder is fine
    os.symlink(up / "workers.csv", up / "inside.csv")
    _set(up, "workers", "inside.csv")
    load_scenario(path, data_root=up)


def test_folder_that_is_a_link_out_is_refused(up, tmp_path):
    """A sub-folder that is a link to a folder outside: its files are outside."""
    other = tmp_path / "elsewhere"
    other.mkdir()
    shutil.copy(up / "fleet.csv", other / "fleet.csv")
    os.symlink(other, up / "sub")
    path = _set(up, "fleet", "sub/fleet.csv")
    with pytest.raises(ScenarioError, match="data.fleet"):
        load_scenario(path, data_root=up)


def test_road_network_path_is_confined(up, tmp_path):
    """[roads] network outside the folder is refused; inside it is accepted."""
    path = up / "scenario.toml"
    text = path.read_text(encoding="utf-8")
    (tmp_path / "county.osm").write_text("<osm/>", encoding="utf-8")
    path.write_text(text + '\n[roads]\nnetwork = "../county.osm"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path, data_root=up)
    assert "roads.network" in str(err.value) and "data." not in str(err.value)
    (up / "county.osm").write_text("<osm/>", encoding="utf-8")
    path.write_text(text + '\n[roads]\nnetwork = "county.osm"\n', encoding="utf-8")
    load_scenario(path, data_root=up)
    path.write_text(text + '\n[roads]\nnetwork = "county.osm"\ncache_dir = "/tmp/roads-cache"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="roads.cache_dir"):  # the cache is written: confined too
        load_scenario(path, data_root=up)


def test_synth_folders_are_confined(up):
    """A [synth] section's default geodata folder (../geodata) lies outside an upload folder."""
    path = up / "scenario.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n[synth]\nseed = 1\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="synth.geodata_dir"):
        load_scenario(path, data_root=up)


def test_shipped_geodata_may_be_a_second_root(up):
    """villages from the shipped geodata/ (absolute or relative) are accepted when geodata/ is a root."""
    path = _set(up, "villages", str(GEODATA / "chongqing" / "villages.gpkg"))
    with pytest.raises(ScenarioError, match="data.villages"):
        load_scenario(path, data_root=up)
    load_scenario(path, data_root=[up, GEODATA])
    _set(up, "villages", os.path.relpath(GEODATA / "chongqing" / "villages.gpkg", up))
    load_scenario(path, data_root=[up, GEODATA])


def test_load_and_validate_refuses_before_reading(up, tmp_path):
    """load_and_validate(data_root=…) raises before any table is read (the outside file need not even exist)."""
    path = _set(up, "workers", str(tmp_path / "does-not-exist.csv"))
    with pytest.raises(ScenarioError, match="data.workers"):
        load_and_validate(path, data_root=up)


def test_cli_data_root_refuses_and_is_off_by_default(up, tmp_path, capsys):
    """`planner validate --data-root DIR` refuses an outside path (exit 2, key named); without it the run goes on."""
    outside = tmp_path / "workers.csv"
    shutil.copy(up / "workers.csv", outside)
    path = _set(up, "workers", str(outside))
    assert main(["validate", str(path), "--data-root", str(up)]) == EXIT_FATAL
    err = capsys.readouterr().err
    assert "data.workers" in err and "超出允许的文件夹" in err
    assert main(["validate", str(path)]) == EXIT_OK
    assert main(["validate", str(path), "--data-root", str(up), "--data-root", str(tmp_path)]) == EXIT_OK
    plan = tmp_path / "plan"
    assert main(["plan", str(path), "--out", str(plan), "--data-root", str(up)]) == EXIT_FATAL
    assert not (plan / "summary.json").exists()
    assert "data.workers" in capsys.readouterr().err
    for cmd in (["check", str(plan)], ["export", str(plan), "--out", str(tmp_path / "docs"), "--all-townships"]):
        assert main([*cmd, "--scenario", str(path), "--data-root", str(up)]) == EXIT_FATAL
        assert "data.workers" in capsys.readouterr().err
