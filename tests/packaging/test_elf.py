"""The bundle checks find what they look for: glibc floors and libraries the loader cannot resolve.

Real ELF files, compiled here with gcc: a library that needs a newer glibc symbol version, and a
library linked against another that is then removed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from stationbuild import elf
from tests.support.system import require_tool


def compile_library(directory: Path, name: str, source: str, *links: str) -> Path:
    require_tool("gcc")
    c_file = directory / f"{name}.c"
    c_file.write_text(source)
    output = directory / f"lib{name}.so"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-o", str(output), str(c_file), f"-L{directory}", *links], check=True
    )
    return output


def test_the_glibc_floor_is_the_newest_symbol_version_any_file_needs(tmp_path):
    require_tool("objdump", "binutils")
    old = compile_library(tmp_path, "plain", "int answer(void) { return 42; }\n")
    # getrandom() appeared in glibc 2.25: the library needs GLIBC_2.25.
    new = compile_library(
        tmp_path,
        "random",
        "#include <sys/random.h>\nint draw(void) { char b; return (int) getrandom(&b, 1, 0); }\n",
    )
    floors = elf.floors([old, new])
    assert floors["GLIBC"].version == (2, 25)
    assert floors["GLIBC"].needed_by == new
    assert floors["GLIBC"].text == "2.25"
    assert elf.floors([old]).get("GLIBC", elf.Floor((), None)).version < (2, 25)


def test_unresolved_names_the_missing_library_and_who_needs_it(tmp_path):
    require_tool("ldd", "libc-bin")
    dependency = compile_library(tmp_path, "dep", "int dep(void) { return 1; }\n")
    user = compile_library(tmp_path, "user", "int dep(void);\nint use(void) { return dep(); }\n", "-ldep")
    assert elf.unresolved([user], [tmp_path]) == []
    dependency.unlink()
    problems = elf.unresolved([user], [tmp_path])
    assert [p.file for p in problems] == [user]
    assert "libdep.so => not found" in problems[0].problem


def test_elf_files_skips_symlinks_and_other_files(tmp_path):
    library = compile_library(tmp_path, "plain", "int answer(void) { return 42; }\n")
    (tmp_path / "link.so").symlink_to(library)
    (tmp_path / "notes.txt").write_text("not ELF")
    assert elf.elf_files(tmp_path) == [library]


def test_libstdcxx_floor_maps_glibcxx_to_the_gcc_release():
    assert elf.libstdcxx_floor(elf.Floor((3, 4, 30), None)) == "12"
    assert elf.libstdcxx_floor(elf.Floor((3, 4, 22), None)) == "6"
    assert elf.libstdcxx_floor(elf.Floor((3, 4, 19), None)) is None
    assert elf.libstdcxx_floor(None) is None
