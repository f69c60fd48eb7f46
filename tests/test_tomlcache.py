"""TOML parsed once and kept (flowlab.core.tomlcache): never stale, never shared."""

import datetime
import tomllib

import pytest

from flowlab.core import tomlcache


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """The cache in a folder of the test's own, as a new process finds it."""
    monkeypatch.setattr(tomlcache, "FILE", tmp_path / "__pycache__" / "toml.marshal")

    def restart():
        monkeypatch.setattr(tomlcache, "_kept", None)
        monkeypatch.setattr(tomlcache, "_used", set())
        monkeypatch.setattr(tomlcache, "_new", False)

    restart()
    return restart


def no_parsing(monkeypatch):
    def refuse(text):
        raise AssertionError("parsed again")

    monkeypatch.setattr(tomlcache.tomllib, "loads", refuse)


def test_a_text_parsed_once_is_read_back_by_the_next_process(cache, monkeypatch):
    assert tomlcache.loads('title = "A"\n[x]\nn = 1\n') == {"title": "A", "x": {"n": 1}}
    tomlcache.save()
    cache()
    no_parsing(monkeypatch)
    assert tomlcache.loads('title = "A"\n[x]\nn = 1\n') == {"title": "A", "x": {"n": 1}}


def test_an_edited_text_is_parsed_anew(cache, tmp_path):
    page = tmp_path / "page.toml"
    page.write_text('title = "before"\n')
    assert tomlcache.read(page) == {"title": "before"}
    tomlcache.save()
    cache()
    page.write_text('title = "after!"\n')  # same size, same second
    assert tomlcache.read(page) == {"title": "after!"}


def test_each_caller_gets_its_own_copy(cache):
    first = tomlcache.loads("names = [1, 2]\n")
    first["names"].append(3)
    assert tomlcache.loads("names = [1, 2]\n") == {"names": [1, 2]}


def test_bad_toml_is_refused_every_time(cache):
    for _ in range(2):
        with pytest.raises(tomllib.TOMLDecodeError):
            tomlcache.loads("title = \n")
        tomlcache.save()
        cache()


def test_dates_are_parsed_each_time(cache):
    assert tomlcache.loads("on = 2026-12-08\n") == {"on": datetime.date(2026, 12, 8)}
    assert not tomlcache._new  # marshal keeps no dates: nothing to save


def test_a_damaged_cache_is_not_used(cache, monkeypatch):
    tomlcache.loads("a = 1\n")
    tomlcache.save()
    tomlcache.FILE.write_bytes(tomlcache.FILE.read_bytes()[:10])
    cache()
    assert tomlcache.loads("a = 1\n") == {"a": 1}
