"""embodied/atomic.py: the one atomic writer (temp file beside the target, fsync, os.replace), and that no
other module under embodied/ or benchmarks/ keeps a temp-file-and-rename copy of its own."""
from __future__ import annotations

import ast
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from embodied.atomic import AtomicFile, open_atomic, write_atomic

ROOT = Path(__file__).resolve().parents[2]


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_bytes_text_and_a_writer_function(tmp_path):
    assert write_atomic(tmp_path / "a.bin", b"\x00\x01") == tmp_path / "a.bin"
    write_atomic(tmp_path / "b.txt", "héllo\n")
    write_atomic(tmp_path / "deeper" / "c.json", lambda tmp: tmp.write_text("{}"))  # folders are made
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.txt").read_bytes() == "héllo\n".encode()
    assert (tmp_path / "deeper" / "c.json").read_text() == "{}"
    assert _listing(tmp_path) == ["a.bin", "b.txt", "deeper"]  # no temp files left
    with pytest.raises(TypeError, match="content is int"):
        write_atomic(tmp_path / "d", 3)
    assert not (tmp_path / "d").exists() and _listing(tmp_path) == ["a.bin", "b.txt", "deeper"]


def test_the_file_gets_the_permissions_of_a_plain_open(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "report.html", "<html>")
        (tmp_path / "plain.html").write_text("<html>")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "report.html").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "plain.html").stat().st_mode) == 0o644  # mkstemp would give 0600


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old")

    def half(tmp: Path) -> None:
        tmp.write_text("half of the new")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        write_atomic(target, half)
    with pytest.raises(KeyError):
        with open_atomic(target, "w") as f:
            f.write("new")
            raise KeyError("stop")
    assert target.read_text() == "old" and _listing(tmp_path) == ["metrics.json"]


def test_open_atomic_shows_nothing_until_the_block_ends(tmp_path):
    target = tmp_path / "export.jsonl"
    target.write_text("old\n")
    with open_atomic(target, "w") as f:
        f.write("new\n")
        f.flush()
        assert target.read_text() == "old\n"
        assert Path(f.name).parent == tmp_path and Path(f.name).suffix == ".jsonl"  # same folder and suffix
    assert target.read_text() == "new\n" and _listing(tmp_path) == ["export.jsonl"]
    with open_atomic(tmp_path / "w.bin", "wb") as f:
        f.write(b"\xff")
    assert (tmp_path / "w.bin").read_bytes() == b"\xff"
    with pytest.raises(ValueError, match="not a write mode"):
        with open_atomic(target, "a"):
            pass


def test_the_data_is_fsynced_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}"))),
                                                  real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append(("replace", str(a))), real_replace(a, b))[1])
    write_atomic(tmp_path / "ckpt.pt", b"weights")
    assert [e[0] for e in events] == ["fsync", "replace"]
    assert events[0][1] == events[1][1]  # the temp file that is renamed is the one synced


def test_a_process_killed_mid_write_leaves_the_old_file_whole(tmp_path):
    target = tmp_path / "episode.ep"
    target.write_bytes(b"A" * 1000)
    code = ("import os, sys; from embodied.atomic import write_atomic\n"
            "def die(tmp):\n"
            "    tmp.write_bytes(b'B' * 500)\n"
            "    os._exit(9)\n"
            "write_atomic(sys.argv[1], die)\n")
    run = subprocess.run([sys.executable, "-c", code, str(target)], cwd=ROOT)
    assert run.returncode == 9
    assert target.read_bytes() == b"A" * 1000


def test_a_long_lived_temp_file_keeps_the_suffix_and_commits_once(tmp_path):
    f = AtomicFile(tmp_path / "video.mp4")
    assert f.tmp.parent == tmp_path and f.tmp.suffix == ".mp4" and f.tmp.name.startswith(".video.")
    f.tmp.write_bytes(b"frames")
    assert not (tmp_path / "video.mp4").exists()
    assert f.commit() == tmp_path / "video.mp4"
    f.discard()  # after the commit: nothing to remove, the video stays
    assert _listing(tmp_path) == ["video.mp4"]


def _copies(path: Path) -> list[str]:
    """Calls that write a file by temp file and rename, outside embodied/atomic.py."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = f"{owner.id}.{node.func.attr}" if isinstance(owner, ast.Name) else node.func.attr
            if name in ("os.replace", "os.rename", "tempfile.mkstemp", "tempfile.NamedTemporaryFile",
                        "shutil.move") or (node.func.attr in ("replace", "rename") and not node.args[1:]
                                           and len(node.args) == 1 and "tmp" in ast.unparse(owner).lower()):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node.func)}")
    return found


def test_no_module_keeps_its_own_temp_file_and_rename():
    files = [p for folder in ("embodied", "benchmarks") for p in sorted((ROOT / folder).rglob("*.py"))]
    assert len(files) > 50
    copies = [c for p in files if p != ROOT / "embodied" / "atomic.py" for c in _copies(p)]
    assert copies == []
