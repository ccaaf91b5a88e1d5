#!/bin/sh
# Prints the CMAKE_ARGS that build llama-cpp-python (llama.cpp) portably for this machine's architecture.
#
# x86-64: a fixed baseline any CPU of the last decade runs (AVX2, FMA, F16C, BMI2), with AVX-512 and AMX
# off. A native build (-march=native) carries the build machine's newest instructions: on an Intel CPU
# with AMX, llama.cpp's AMX kernels, which die with SIGILL where the tile instructions trap (seen on
# virtual machines that list AMX), and on any AVX-512 machine, code that other CPUs cannot run.
# llama.cpp's runtime dispatch (GGML_CPU_ALL_VARIANTS) is not used: it would choose its AMX variant
# from the CPU's flags on exactly those machines, and it builds many variants (see bench/README.md).
# ARM (a Jetson's Cortex-A78AE): the native build, which keeps NEON and the dot-product extensions.
#
# Use: CMAKE_ARGS="$(sh scripts/llama_cmake_args.sh)" pip install --no-cache-dir 'llama-cpp-python'
# (--no-cache-dir: pip would otherwise reuse a wheel it built earlier with other flags.)
case "$(uname -m)" in
  x86_64|amd64|i686|i386)
    echo "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON" \
         "-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" ;;
  *)
    echo "" ;;
esac
