"""Where dev files live: the checkout's .hom/ from any directory in it, and a JWT secret made
once and kept."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hom.core.config import Settings
from hom.core.data_dir import dev_jwt_secret, env_file, find_data_dir, project_root


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "hom"\n')
    (tmp_path / "hom" / "core").mkdir(parents=True)
    return tmp_path


def test_the_data_dir_is_the_checkouts_from_any_directory_inside_it(checkout: Path) -> None:
    for start in (checkout, checkout / "hom", checkout / "hom" / "core"):
        assert find_data_dir(start) == checkout / ".hom"
        assert env_file(start) == checkout / ".env"
        assert project_root(start) == checkout


def test_another_projects_pyproject_is_not_a_checkout(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "not-hom"\n')
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "pyproject.toml").write_text("[project\n")
    assert project_root(tmp_path / "broken") is None
    assert find_data_dir(tmp_path / "broken") == tmp_path / "broken" / ".hom"


def test_hom_data_dir_wins_and_an_empty_one_means_unset(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(checkout / "hom")
    monkeypatch.setenv("HOM_DATA_DIR", "/srv/hom-data")
    assert Settings().data_dir == Path("/srv/hom-data")
    monkeypatch.setenv("HOM_DATA_DIR", "")
    assert Settings().data_dir == checkout / ".hom"
    monkeypatch.delenv("HOM_DATA_DIR")
    assert Settings().data_dir == checkout / ".hom"


def test_the_dev_secret_is_made_once_private_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / ".hom"
    first = dev_jwt_secret(data_dir)
    assert len(first) >= 32
    assert dev_jwt_secret(data_dir) == first
    mode = stat.S_IMODE((data_dir / "jwt-secret").stat().st_mode)
    assert mode == 0o600
    assert [path.name for path in data_dir.iterdir()] == ["jwt-secret"]


def test_processes_making_the_secret_at_once_all_get_the_same_one(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        secrets = set(pool.map(lambda _: dev_jwt_secret(tmp_path), range(32)))
    assert len(secrets) == 1
