import json
import shutil

import pytest

from zssr import weights


def test_manifest_round_trip(tmp_path):
    path = tmp_path / "manifest.json"
    assert weights.read_manifest(path) == {}
    weights.write_manifest_entry(path, {"file": "b.weights.h5", "sha256": "1"})
    weights.write_manifest_entry(path, {"file": "a.weights.h5", "sha256": "2"})
    weights.write_manifest_entry(path, {"file": "b.weights.h5", "sha256": "3"})  # replaces
    entries = weights.read_manifest(path)
    assert entries == {"a.weights.h5": {"file": "a.weights.h5", "sha256": "2"},
                       "b.weights.h5": {"file": "b.weights.h5", "sha256": "3"}}
    assert [e["file"] for e in json.loads(path.read_text())["weights"]] == ["a.weights.h5",
                                                                           "b.weights.h5"]
    assert not list(tmp_path.glob(".*.part"))  # written atomically, nothing left behind


def test_sha256_file(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"abc")
    assert weights.sha256_file(path) == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def _ship(folder, name="w.weights.h5", data=b"weights"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    weights.write_manifest_entry(folder / "manifest.json",
                                 {"file": name, "sha256": weights.sha256_file(folder / name)})
    return folder / name


def test_shipped_finds_a_checked_file(tmp_path):
    path = _ship(tmp_path / "ok")
    assert weights.shipped(tmp_path / "ok", path.name) == path


def test_shipped_refuses_missing_files_and_entries(tmp_path):
    with pytest.raises(FileNotFoundError, match="reinstall"):
        weights.shipped(tmp_path, "none.weights.h5")
    (tmp_path / "unlisted.weights.h5").write_bytes(b"x")
    with pytest.raises(FileNotFoundError, match="manifest entry"):
        weights.shipped(tmp_path, "unlisted.weights.h5")


def test_shipped_refuses_a_tampered_copy(tmp_path):
    path = _ship(tmp_path / "orig")
    copy = tmp_path / "copy"
    shutil.copytree(path.parent, copy)
    (copy / path.name).write_bytes(b"weightz")
    with pytest.raises(weights.WeightsError, match="corrupt or was replaced"):
        weights.shipped(copy, path.name)
    assert issubclass(weights.WeightsError, ValueError)
    assert weights.shipped(path.parent, path.name) == path  # the original is untouched
