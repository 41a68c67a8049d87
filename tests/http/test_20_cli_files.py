"""Black-box tests of `folio ls` and `folio batch`, run against the real binary ($FOLIO_BIN).

Everything goes through subprocess and the filesystem: listings are compared with Python's
own bytewise sort, batch runs with a full snapshot of the tree (names, types, sizes,
content hashes, mtimes). The crash tests kill `folio batch` with SIGKILL at random moments
and check after every kill that no file was lost or duplicated; the random seed is printed
so a failing run can be replayed with FOLIO_TEST_SEED."""

import hashlib
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import tempfile
import time

import pytest

from folio_server import sanitizer_env

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehavior")


@pytest.fixture(scope="module")
def folio_exe(folio):
    """The binary under test (conftest's `folio`: fails when FOLIO_BIN is unusable)."""
    return folio


child_env = sanitizer_env  # ASAN/UBSAN options set unless the caller set them


def run(exe, *args, env=None, prefix=(), timeout=300):
    """Run folio to completion; stdout/stderr as bytes. Fails on any sanitizer report."""
    p = subprocess.run([*prefix, exe, *args], capture_output=True, timeout=timeout,
                       env=child_env(env))
    err = p.stderr.decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        assert mark not in err, f"sanitizer report from {args}:\n{err}"
    return p


def fsname(b):
    return os.fsdecode(b)


def make_files(d, names, rng=None, content=None):
    """Create regular files; returns {name(bytes): sha256 of content}."""
    os.makedirs(d, exist_ok=True)
    hashes = {}
    for i, name in enumerate(names):
        if content is not None:
            data = content(i, name)
        else:
            data = rng.randbytes(rng.randrange(0, 600)) if rng else name + b"\n"
        with open(os.path.join(os.fsencode(d), name), "wb") as f:
            f.write(data)
        hashes[name] = hashlib.sha256(data).hexdigest()
    return hashes


def snapshot(root):
    """Every entry beneath root: relative path (bytes) -> (kind, size, sha256, mtime_ns)."""
    root = os.fsencode(root)
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            rel = os.path.relpath(full, root)
            digest = None
            if stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                kind = "f"
            elif stat.S_ISDIR(st.st_mode):
                kind = "d"
            elif stat.S_ISLNK(st.st_mode):
                kind = "l:" + os.fsdecode(os.readlink(full))
            else:
                kind = "o"
            out[rel] = (kind, st.st_size if kind == "f" else None, digest, st.st_mtime_ns)
    st = os.lstat(root)
    out[b"."] = ("d", None, None, st.st_mtime_ns)
    return out


def batch_name(n):
    return f"batch-{n:04d}"


def expected_assignment(names, size, first=1):
    return {name: batch_name(first + i // size) for i, name in enumerate(sorted(names))}


def placement(root):
    """name -> list of (folder or '.', inode, sha256) for every regular file, top level and
    one folder deep."""
    root = os.fsencode(root)
    found = {}
    with os.scandir(root) as it:
        entries = list(it)
    for e in entries:
        if e.is_file(follow_symlinks=False):
            found.setdefault(e.name, []).append((".", e.inode(), None))
        elif e.is_dir(follow_symlinks=False):
            with os.scandir(e.path) as sub:
                for s in sub:
                    assert s.is_file(follow_symlinks=False), f"unexpected {s.path!r}"
                    found.setdefault(s.name, []).append((fsname(e.name), s.inode(), None))
    return found


def file_hash(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def world_dir():
    """A temporary directory another user can enter (pytest's tmp_path is 0700)."""
    d = tempfile.mkdtemp(prefix="folio-perm-")
    os.chmod(d, 0o755)
    return d


def as_unprivileged(folio_exe, workdir):
    """(prefix, exe) to run folio without root's permission bypass; None when impossible."""
    if os.geteuid() != 0:
        return (), folio_exe
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    exe = os.path.join(workdir, "folio")
    shutil.copy2(folio_exe, exe)
    os.chmod(exe, 0o755)
    return (setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"), exe


# ---- folio ls ---------------------------------------------------------------------------

NAMES_120 = [f"f{i:03d}".encode() for i in range(120)]


@pytest.fixture
def dir120(tmp_path):
    rng = random.Random(120)
    names = list(NAMES_120)
    rng.shuffle(names)
    make_files(tmp_path / "d", names)
    return tmp_path / "d"


def test_ls_defaults_to_first_page_of_50_sorted_names(folio_exe, dir120):
    p = run(folio_exe, "ls", str(dir120))
    assert p.returncode == 0, p.stderr
    assert p.stdout.split(b"\n")[:-1] == sorted(NAMES_120)[:50]
    assert p.stdout.endswith(b"\n")
    assert p.stderr.decode().strip() == "-- page 1/3, 50 of 120 files --"


def test_ls_plain_pages_cover_every_name_once(folio_exe, dir120):
    seen = []
    for page in (1, 2, 3):
        p = run(folio_exe, "ls", str(dir120), "--page", str(page), "--per-page", "50")
        assert p.returncode == 0
        seen += p.stdout.split(b"\n")[:-1]
    assert seen == sorted(NAMES_120)
    assert p.stderr.decode().strip() == "-- page 3/3, 20 of 120 files --"


@pytest.mark.parametrize("per_page", [1, 7, 50, 119, 120, 121, 1000])
def test_ls_json_has_exact_shape_and_page_count(folio_exe, dir120, per_page):
    pages = max(1, -(-120 // per_page))
    collected = []
    for page in range(1, pages + 1):
        if per_page == 1 and page not in (1, 2, 60, 119, 120):
            continue
        p = run(folio_exe, "ls", str(dir120), "--json", f"--page={page}",
                f"--per-page={per_page}")
        assert p.returncode == 0, p.stderr
        assert p.stdout.count(b"\n") == 1 and p.stdout.endswith(b"\n")
        doc = json.loads(p.stdout)
        assert list(doc) == ["page", "per_page", "total", "pages", "files"]
        assert doc["page"] == page and doc["per_page"] == per_page
        assert doc["total"] == 120 and doc["pages"] == pages
        want = sorted(NAMES_120)[(page - 1) * per_page:page * per_page]
        assert [os.fsencode(n) for n in doc["files"]] == want
        collected += doc["files"]
    if per_page != 1:
        assert [os.fsencode(n) for n in collected] == sorted(NAMES_120)


@pytest.mark.parametrize("asked,served", [("0", 1), ("-3", 1), ("3", 3), ("4", 3),
                                          ("999", 3), ("1" + "0" * 30, 3), ("-" + "9" * 30, 1),
                                          ("+2", 2)])
def test_ls_clamps_page_into_range(folio_exe, dir120, asked, served):
    p = run(folio_exe, "ls", str(dir120), "--json", "--page", asked)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["page"] == served and doc["pages"] == 3
    assert [os.fsencode(n) for n in doc["files"]] == sorted(NAMES_120)[(served - 1) * 50:served * 50]


def test_ls_empty_directory_has_one_empty_page(folio_exe, tmp_path):
    (tmp_path / "empty").mkdir()
    p = run(folio_exe, "ls", str(tmp_path / "empty"), "--json", "--page", "5")
    assert p.returncode == 0
    assert json.loads(p.stdout) == {"page": 1, "per_page": 50, "total": 0, "pages": 1, "files": []}
    p = run(folio_exe, "ls", str(tmp_path / "empty"))
    assert p.returncode == 0 and p.stdout == b""
    assert p.stderr.decode().strip() == "-- page 1/1, 0 of 0 files --"


def test_ls_lists_only_regular_files_and_links_to_files_inside(folio_exe, tmp_path):
    root = tmp_path / "d"
    make_files(root, [b"a", b"b"])
    make_files(tmp_path, [b"outside"])
    (root / "subdir").mkdir()
    os.mkfifo(root / "fifo")
    os.symlink("a", root / "link-to-a")
    os.symlink("subdir", root / "link-to-dir")
    os.symlink("missing", root / "link-dangling")
    os.symlink("../outside", root / "link-escaping")
    os.symlink("/etc/hostname", root / "link-absolute")
    p = run(folio_exe, "ls", str(root), "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["files"] == ["a", "b", "link-to-a"]


def test_ls_non_utf8_names_survive_the_json_round_trip(folio_exe, tmp_path):
    names = [b"caf\xe9", b"\xff\xfe", b"ok-\xc3\xa9", b"mixed-\xc3\xa9-\x80", b"plain",
             b"tab\tand space", b'quote"back\\slash', b"\xed\xa0\x80surrogate-bytes"]
    make_files(tmp_path / "d", names)
    p = run(folio_exe, "ls", str(tmp_path / "d"), "--json")
    assert p.returncode == 0, p.stderr
    p.stdout.decode("utf-8")  # the JSON text itself is valid UTF-8
    files = json.loads(p.stdout)["files"]
    assert [os.fsencode(n) for n in files] == sorted(names)
    assert "ok-\u00e9" in files  # valid UTF-8 stays a real character
    plain = run(folio_exe, "ls", str(tmp_path / "d"))
    assert plain.stdout.split(b"\n")[:-1] == sorted(names)


@pytest.mark.parametrize("args,needle", [
    (["--page", "abc"], "--page must be an integer, got 'abc'"),
    (["--page", "1.5"], "--page must be an integer"),
    (["--page", ""], "--page must be an integer"),
    (["--page", " 2"], "--page must be an integer"),
    (["--page=2x"], "--page must be an integer"),
    (["--per-page", "0"], "--per-page must be an integer from 1"),
    (["--per-page", "-5"], "--per-page must be an integer from 1"),
    (["--per-page", "1e3"], "--per-page must be an integer"),
    (["--per-page", "99999999999999999999"], "--per-page must be an integer from 1"),
    (["--per-page"], "--per-page needs a value"),
    (["--bogus"], "unknown option '--bogus'"),
])
def test_ls_rejects_bad_arguments_with_exit_2(folio_exe, dir120, args, needle):
    p = run(folio_exe, "ls", str(dir120), *args)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert needle in p.stderr.decode()
    assert p.stdout == b""


def test_ls_without_directory_is_a_usage_error(folio_exe):
    p = run(folio_exe, "ls")
    assert p.returncode == 2 and "missing DIR" in p.stderr.decode()


def test_ls_help_describes_options_and_footer(folio_exe):
    p = run(folio_exe, "ls", "--help")
    assert p.returncode == 0
    text = p.stdout.decode()
    for word in ("usage: folio ls DIR", "--page", "--per-page", "--json", "stderr"):
        assert word in text


def test_ls_reports_missing_and_non_directories_with_exit_1(folio_exe, tmp_path):
    make_files(tmp_path, [b"file"])
    p = run(folio_exe, "ls", str(tmp_path / "nope"))
    assert p.returncode == 1 and "No such file or directory" in p.stderr.decode()
    p = run(folio_exe, "ls", str(tmp_path / "file"))
    assert p.returncode == 1 and "not a directory" in p.stderr.decode()


def test_ls_reports_permission_denied_with_exit_1(folio_exe):
    work = world_dir()
    try:
        how = as_unprivileged(folio_exe, work)
        if how is None:
            pytest.skip("running as root without setpriv: cannot drop privileges")
        prefix, exe = how
        locked = os.path.join(work, "locked")
        os.mkdir(locked)
        make_files(locked, [b"secret"])
        os.chmod(locked, 0)
        p = run(exe, "ls", locked, prefix=prefix)
        assert p.returncode == 1, p.stderr
        assert "Permission denied" in p.stderr.decode()
        assert p.stdout == b""
    finally:
        os.chmod(os.path.join(work, "locked"), 0o755)
        shutil.rmtree(work)


# ---- folio batch ------------------------------------------------------------------------

def random_names(rng, n):
    """Distinct names: mostly ASCII, some with spaces, some not valid UTF-8."""
    names = set()
    while len(names) < n:
        k = len(names)
        base = f"{rng.randrange(10**6):06d}-{k}".encode()
        if k % 97 == 0:
            base = b"\xff" + base
        elif k % 89 == 0:
            base = base + b" with space"
        names.add(base)
    return sorted(names, key=lambda b: rng.random())


def check_final(root, hashes, size, first=1):
    """Every file of `hashes` exactly once, in its assigned folder, with its content; no
    regular file left at the top; nothing else anywhere."""
    want = expected_assignment(hashes, size, first)
    found = placement(root)
    assert set(found) == set(hashes), "files lost or added"
    for name, places in found.items():
        assert len(places) == 1, (name, places)
        folder = places[0][0]
        assert folder == want[name], (name, folder, want[name])
        assert file_hash(os.path.join(os.fsencode(root), os.fsencode(folder), name)) == hashes[name]
    counts = {}
    for folder in want.values():
        counts[folder] = counts.get(folder, 0) + 1
    dirs = sorted(e.name for e in os.scandir(root) if e.is_dir(follow_symlinks=False))
    assert dirs == sorted(counts)


def test_batch_moves_every_file_exactly_once_in_sorted_order(folio_exe, tmp_path):
    rng = random.Random(3000)
    names = random_names(rng, 3000)
    hashes = make_files(tmp_path / "d", names, rng=rng)
    p = run(folio_exe, "batch", str(tmp_path / "d"), "--size", "100")
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().strip() == \
        "moved 3000 files into batch-0001..batch-0030 (30 folders created)"
    check_final(tmp_path / "d", hashes, 100)
    for n in range(1, 31):
        assert len(os.listdir(tmp_path / "d" / batch_name(n))) == 100


def test_batch_dry_run_prints_the_plan_and_touches_nothing(folio_exe, tmp_path):
    rng = random.Random(7)
    names = [n for n in random_names(rng, 250) if b"\n" not in n]
    make_files(tmp_path / "d", names, rng=rng)
    (tmp_path / "d" / "keep-dir").mkdir()
    os.symlink(os.fsdecode(names[0]), tmp_path / "d" / "keep-link")
    before = snapshot(tmp_path / "d")
    p = run(folio_exe, "batch", str(tmp_path / "d"), "--size", "100", "--dry-run")
    assert p.returncode == 0, p.stderr
    want = expected_assignment(names, 100)
    lines = [name + b" -> " + want[name].encode() + b"/" + name for name in sorted(names)]
    assert p.stdout.split(b"\n")[:-1] == lines
    assert "nothing was changed" in p.stderr.decode()
    assert snapshot(tmp_path / "d") == before


def test_batch_second_run_changes_nothing(folio_exe, tmp_path):
    rng = random.Random(11)
    hashes = make_files(tmp_path / "d", random_names(rng, 420), rng=rng)
    assert run(folio_exe, "batch", str(tmp_path / "d"), "--size", "100").returncode == 0
    check_final(tmp_path / "d", hashes, 100)
    before = snapshot(tmp_path / "d")
    p = run(folio_exe, "batch", str(tmp_path / "d"), "--size", "100")
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().strip() == "nothing to move"
    assert snapshot(tmp_path / "d") == before
    p = run(folio_exe, "batch", str(tmp_path / "d"), "--size", "100", "--dry-run")
    assert p.returncode == 0 and p.stdout == b""
    assert snapshot(tmp_path / "d") == before


def test_batch_fills_the_last_partial_folder_before_opening_the_next(folio_exe, tmp_path):
    d = tmp_path / "d"
    make_files(d, [f"a{i:03d}".encode() for i in range(250)])
    assert run(folio_exe, "batch", str(d), "--size", "100").returncode == 0
    assert len(os.listdir(d / "batch-0003")) == 50
    make_files(d, [f"b{i:03d}".encode() for i in range(120)])
    p = run(folio_exe, "batch", str(d), "--size", "100")
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().strip() == \
        "moved 120 files into batch-0003..batch-0004 (1 folder created)"
    assert sorted(os.listdir(d / "batch-0003")) == \
        [f"a{i:03d}" for i in range(200, 250)] + [f"b{i:03d}" for i in range(50)]
    assert sorted(os.listdir(d / "batch-0004")) == [f"b{i:03d}" for i in range(50, 120)]


def test_batch_folder_names_grow_past_four_digits(folio_exe, tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "batch-9999").mkdir()
    make_files(d / "batch-9999", [b"old"])
    (d / "batch-00001").mkdir()  # not a canonical batch name: ignored, left alone
    make_files(d, [b"x", b"y", b"z"])
    p = run(folio_exe, "batch", str(d), "--size", "1")
    assert p.returncode == 0, p.stderr
    assert sorted(os.listdir(d)) == ["batch-00001", "batch-10000", "batch-10001",
                                     "batch-10002", "batch-9999"]
    assert os.listdir(d / "batch-10000") == ["x"]
    assert os.listdir(d / "batch-10002") == ["z"]


def test_batch_leaves_directories_links_and_batch_named_files_alone(folio_exe, tmp_path):
    d = tmp_path / "d"
    make_files(d, [b"a", b"b", b"batch-0007", b"batch-12345"])
    (d / "sub").mkdir()
    make_files(d / "sub", [b"inner"])
    os.symlink("a", d / "link")
    os.mkfifo(d / "fifo")
    p = run(folio_exe, "batch", str(d), "--size", "10")
    assert p.returncode == 0, p.stderr
    assert sorted(os.listdir(d)) == ["batch-0001", "batch-0007", "batch-12345", "fifo",
                                     "link", "sub"]
    assert sorted(os.listdir(d / "batch-0001")) == ["a", "b"]
    assert "not moving 'batch-0007'" in p.stderr.decode()
    assert os.listdir(d / "sub") == ["inner"]


def test_batch_refuses_to_overwrite_and_changes_nothing(folio_exe, tmp_path):
    d = tmp_path / "d"
    make_files(d, [f"a{i:03d}".encode() for i in range(150)])
    assert run(folio_exe, "batch", str(d), "--size", "100").returncode == 0
    # a120 is in batch-0002 (partial); a new top-level a120 would go there too.
    (d / "a120").write_bytes(b"a different file with the same name")
    make_files(d, [b"zzz"])
    before = snapshot(d)
    for extra in ([], ["--dry-run"]):
        p = run(folio_exe, "batch", str(d), "--size", "100", *extra)
        assert p.returncode == 1, p.stderr
        err = p.stderr.decode()
        assert "batch-0002/a120 already exists" in err and "nothing was moved" in err
        assert snapshot(d) == before


def test_batch_reports_a_batch_name_taken_by_a_file(folio_exe, tmp_path):
    d = tmp_path / "d"
    make_files(d, [b"a", b"b", b"c", b"batch-0002"])
    before = snapshot(d)
    p = run(folio_exe, "batch", str(d), "--size", "2")
    assert p.returncode == 1
    assert "batch-0002 is needed as a folder but is not a directory" in p.stderr.decode()
    assert snapshot(d) == before


def test_batch_completes_an_interrupted_link_and_unlink(folio_exe, tmp_path):
    """The link+unlink fallback, killed between the two steps, leaves one file under two
    names (top level and the last folder). The next run must only drop the top-level one."""
    d = tmp_path / "d"
    hashes = make_files(d, [f"a{i:03d}".encode() for i in range(250)])
    p = run(folio_exe, "batch", str(d), "--size", "100", env={"FOLIO_BATCH_LINK_UNLINK": "1"})
    assert p.returncode == 0, p.stderr
    check_final(d, hashes, 100)
    os.link(d / "batch-0003" / "a249", d / "a249")
    os.link(d / "batch-0003" / "a200", d / "a200")
    p = run(folio_exe, "batch", str(d), "--size", "100")
    assert p.returncode == 0, p.stderr
    assert "interrupted move" in p.stderr.decode()
    check_final(d, hashes, 100)
    assert os.stat(d / "batch-0003" / "a249").st_nlink == 1


@pytest.mark.parametrize("args,code,needle", [
    (["--size", "0"], 2, "--size must be at least 1"),
    (["--size", "-4"], 2, "--size must be at least 1"),
    (["--size", "abc"], 2, "--size must be an integer"),
    (["--size", "2.5"], 2, "--size must be an integer"),
    (["--size", ""], 2, "--size must be an integer"),
    (["--size"], 2, "--size needs a value"),
    ([], 2, "missing --size"),
    (["--size", "3", "--frobnicate"], 2, "unknown option"),
])
def test_batch_rejects_bad_arguments(folio_exe, tmp_path, args, code, needle):
    d = tmp_path / "d"
    make_files(d, [b"a", b"b"])
    before = snapshot(d)
    p = run(folio_exe, "batch", str(d), *args)
    assert p.returncode == code, p.stderr
    assert needle in p.stderr.decode()
    assert snapshot(d) == before


def test_batch_rejects_missing_and_non_directories(folio_exe, tmp_path):
    make_files(tmp_path, [b"file"])
    p = run(folio_exe, "batch", str(tmp_path / "nope"), "--size", "3")
    assert p.returncode == 1 and "No such file or directory" in p.stderr.decode()
    p = run(folio_exe, "batch", str(tmp_path / "file"), "--size", "3")
    assert p.returncode == 1 and "not a directory" in p.stderr.decode()
    p = run(folio_exe, "batch", "--size", "3")
    assert p.returncode == 2 and "missing DIR" in p.stderr.decode()


def test_batch_without_write_permission_changes_nothing(folio_exe):
    work = world_dir()
    try:
        how = as_unprivileged(folio_exe, work)
        if how is None:
            pytest.skip("running as root without setpriv: cannot drop privileges")
        prefix, exe = how
        d = os.path.join(work, "ro")
        make_files(d, [b"a", b"b", b"c"])
        os.chmod(d, 0o555)
        before = snapshot(d)
        p = run(exe, "batch", d, "--size", "2", prefix=prefix)
        assert p.returncode == 1, p.stderr
        assert "Permission denied" in p.stderr.decode()
        assert snapshot(d) == before
        # A dry run only reads, so it works.
        p = run(exe, "batch", d, "--size", "2", "--dry-run", prefix=prefix)
        assert p.returncode == 0, p.stderr
        assert p.stdout.count(b"\n") == 3
    finally:
        shutil.rmtree(work)


# ---- Crash safety -----------------------------------------------------------------------

def check_nothing_lost(root, hashes, link_mode):
    """After a kill: every original file present (top level or one batch folder) with its
    content, none duplicated, except that the link+unlink mode may leave one file under
    two names that are the same inode."""
    found = placement(root)
    assert set(found) == set(hashes), "files lost or added"
    doubles = 0
    for name, places in found.items():
        if len(places) > 1:
            assert link_mode and len(places) == 2, (name, places)
            assert {p[0] == "." for p in places} == {True, False}, (name, places)
            assert places[0][1] == places[1][1], f"{name!r}: two different files"
            doubles += 1
        folder = places[-1][0]
        path = os.path.join(os.fsencode(root), os.fsencode(folder), name) if folder != "." \
            else os.path.join(os.fsencode(root), name)
        assert file_hash(path) == hashes[name], f"{name!r} changed"
    assert doubles <= 1
    return sum(1 for places in found.values() if all(p[0] == "." for p in places))


def top_level_files(root):
    with os.scandir(root) as it:
        return sum(1 for e in it if e.is_file(follow_symlinks=False))


@pytest.mark.parametrize("mode", ["rename", "link"])
def test_batch_killed_at_random_moments_finishes_with_nothing_lost(folio_exe, tmp_path, mode):
    seed = int(os.environ.get("FOLIO_TEST_SEED", time.time_ns() % 1_000_000))
    print(f"FOLIO_TEST_SEED={seed}")
    rng = random.Random(seed)
    d = tmp_path / "d"
    size = 25
    hashes = make_files(d, random_names(rng, 5000), rng=rng)
    env = child_env({"FOLIO_BATCH_LINK_UNLINK": "1"} if mode == "link" else None)
    cmd = [folio_exe, "batch", str(d), "--size", str(size)]
    kills = mid_run = 0
    done = False
    for round_no in range(41):
        at_top = top_level_files(d)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        if round_no == 40:
            # Enough kills: however slow the machine, the last run is left to finish.
            proc.wait(timeout=600)
        elif round_no % 2 == 0 and round_no > 0:
            # Any moment from the start: start-up, planning or moving.
            time.sleep(rng.uniform(0, 0.4))
        else:
            # A moment shortly after moving has begun (the first round: at once, so that
            # at least one kill lands mid-move however fast the machine is).
            while proc.poll() is None and top_level_files(d) >= at_top:
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.1) if round_no else 0)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            proc.stderr.close()
            kills += 1
            left = check_nothing_lost(d, hashes, mode == "link")
            if 0 < left < at_top:
                mid_run += 1
            continue
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
        assert proc.returncode == 0, err
        for mark in SANITIZER_MARKS:
            assert mark not in err
        done = True
        break
    assert done, "folio batch did not finish"
    print(f"{kills} kills, {mid_run} in the middle of moving")
    assert mid_run >= 1, "no kill landed while files were being moved; the test proved nothing"
    # Run again to completion (it must find nothing left to do) and check the result.
    p = run(folio_exe, "batch", str(d), "--size", str(size))
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().strip() == "nothing to move"
    check_final(d, hashes, size)
    assert len(os.listdir(d)) == 5000 // size


# --- every subcommand reads its options the same way ----------------------------------------

@pytest.mark.parametrize("args, needle", [
    (["batch", "{d}", "--size", "1", "--size", "2"], "folio batch: --size is given more than once"),
    (["batch", "{d}", "--size", "1", "--dry-run", "--dry-run"],
     "folio batch: --dry-run is given more than once"),
    (["ls", "{d}", "--page", "1", "--page", "2"], "folio ls: --page is given more than once"),
    (["ls", "{d}", "--per-page=3", "--per-page", "4"],
     "folio ls: --per-page is given more than once"),
    (["ls", "{d}", "--json", "--json"], "folio ls: --json is given more than once"),
    (["demo", "{d}/new.db", "--rows", "1", "--rows", "2"],
     "folio demo: --rows is given more than once"),
    (["serve", "{d}/x.db", "--threads", "2", "--threads", "3"],
     "folio serve: --threads is given more than once"),
    (["serve", "{d}/x.db", "--listen", "127.0.0.1:1", "--listen=127.0.0.1:2"],
     "folio serve: --listen is given more than once"),
    (["serve", "--config", "{d}/a.toml", "--config", "{d}/b.toml"],
     "folio serve: --config is given more than once"),
    (["serve", "{d}/x.db", "--no-hybrid", "--no-hybrid"],
     "folio serve: --no-hybrid is given more than once"),
    (["ls", "{d}", "--json=yes"], "folio ls: --json takes no value, got '--json=yes'"),
    (["demo", "{d}/new.db", "--rows"], "folio demo: --rows needs a value"),
    (["serve", "{d}/x.db", "--cursor-ttl"], "folio serve: --cursor-ttl needs a value"),
    (["check-config", "--strict"], "folio check-config: unknown option '--strict'"),
    (["demo", "{d}/new.db", "--bogus"], "folio demo: unknown option '--bogus'"),
])
def test_every_subcommand_refuses_repeated_or_malformed_options(folio_exe, tmp_path, args,
                                                                 needle):
    d = tmp_path / "d"
    make_files(d, [b"a", b"b"])
    before = snapshot(d)
    p = run(folio_exe, *[a.format(d=d) for a in args], timeout=30)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert needle in p.stderr.decode(), p.stderr
    assert p.stdout == b""
    assert snapshot(d) == before  # nothing was moved or created


def test_list_options_and_equals_values_still_work(folio_exe, tmp_path):
    d = tmp_path / "d"
    make_files(d, [b"a", b"b", b"c"])
    p = run(folio_exe, "ls", str(d), "--per-page=2", "--page", "2")
    assert p.returncode == 0 and p.stdout == b"c\n", p
    p = run(folio_exe, "batch", str(d), "--size=2", "--dry-run")
    assert p.returncode == 0 and b"a -> batch-0001/a" in p.stdout, p
    # --trust-proxy and --cors-origin are lists: repeating them is how to give several.
    p = run(folio_exe, "serve", str(d / "none.db"), "--trust-proxy", "127.0.0.1",
            "--trust-proxy", "::1", "--cors-origin", "https://a.example", "--cors-origin",
            "https://b.example", "--threads=0", timeout=30)
    assert p.returncode == 2 and b"--threads must be from 1 to 256" in p.stderr, p.stderr
