"""The installed llama.cpp is the portable build (``scripts/llama_cmake_args.sh``), whatever machine built it.

A native build carries the build machine's newest instructions; on an Intel CPU with AMX, llama.cpp's
AMX kernels die with SIGILL where the tile instructions trap. So the installed native libraries are
disassembled and searched: no AMX tile instruction anywhere, and on x86-64 no AVX-512 (``zmm``)
register either, the other instruction family a CPU of this kind's peers may lack.
"""

from __future__ import annotations

import importlib.util
import platform
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: every AMX mnemonic: tile configuration, loads and stores, zeroing and the dot-product kernels
AMX = re.compile(r"\t(ldtilecfg|sttilecfg|tileloadd|tileloaddt1|tilestored|tilerelease|tilezero|"
                 r"tdpb[su][su]d|tdpbf16ps|tdpfp16ps|tcmmimfp16ps|tcmmrlfp16ps)\b")
AVX512 = re.compile(r"%zmm\d+|%k[1-7]\b")
X86 = platform.machine().lower() in {"x86_64", "amd64"}


def native_libraries() -> list[Path]:
    spec = importlib.util.find_spec("llama_cpp")
    assert spec is not None and spec.origin, "llama-cpp-python is part of the test extra"
    folder = Path(spec.origin).parent
    libraries = sorted({p.resolve() for p in folder.rglob("lib*.so*") if p.is_file()})
    assert any("ggml-cpu" in p.name or "ggml" in p.name for p in libraries), libraries
    return libraries


def disassembly(library: Path) -> str:
    objdump = shutil.which("objdump")
    assert objdump, "objdump (binutils) is installed by .ci/run with the compiler"
    done = subprocess.run([objdump, "-d", "--no-show-raw-insn", str(library)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_installed_llama_cpp_holds_no_amx_tile_instruction() -> None:
    found = {}
    for library in native_libraries():
        hits = AMX.findall(disassembly(library))
        if hits:
            found[library.name] = sorted(set(hits))
    assert not found, (f"llama.cpp was built with AMX code {found}: reinstall it portably with "
                       'CMAKE_ARGS="$(sh scripts/llama_cmake_args.sh)" pip install --no-cache-dir --force-reinstall '
                       "--no-deps llama-cpp-python")


@pytest.mark.skipif(not X86, reason="AVX-512 is an x86-64 instruction set; ARM keeps its native NEON build")
def test_the_installed_llama_cpp_is_built_for_the_avx2_baseline_on_x86() -> None:
    text = "\n".join(disassembly(library) for library in native_libraries())
    assert "vfmadd" in text  # FMA, part of the baseline, is used: the check below is not vacuous
    assert not AVX512.search(text), "llama.cpp was built with AVX-512 code: it is not the portable build"


def test_the_portable_flags_turn_native_code_and_amx_off_on_x86_and_keep_arm_native() -> None:
    script = REPO / "scripts" / "llama_cmake_args.sh"
    flags = subprocess.run(["sh", str(script)], capture_output=True, text=True, check=True).stdout.split()
    if X86:
        assert {"-DGGML_NATIVE=OFF", "-DGGML_AVX2=ON", "-DGGML_FMA=ON", "-DGGML_F16C=ON", "-DGGML_AVX512=OFF",
                "-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF"} <= set(flags)
    else:
        assert not any(flag.startswith("-DGGML_NATIVE=OFF") for flag in flags)


def test_the_test_command_and_ci_build_llama_cpp_with_those_flags() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    test_command = next(line for line in readme.splitlines() if "'.[test]'" in line)
    assert 'CMAKE_ARGS="$(sh scripts/llama_cmake_args.sh)"' in test_command and "--no-cache-dir" in test_command
    assert test_command.strip() in ci  # .ci/run runs exactly the README's command
