"""Runs a compiled authpipe function under stock Wasmtime (wasmtime-py).

Usage: python3 run_wasi.py FN.wasm [KEY=VALUE ...] < input.json
Prints the function's stdout (the result JSON). This is an independent WASI
host, so it proves the .wasm is a portable artifact.
"""
import os
import sys
import tempfile

import wasmtime


def main() -> int:
    wasm_path, env_pairs = sys.argv[1], sys.argv[2:]
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, wasm_path)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    with tempfile.TemporaryDirectory() as tmp:
        stdin_path = os.path.join(tmp, "stdin.json")
        stdout_path = os.path.join(tmp, "stdout.json")
        with open(stdin_path, "wb") as f:
            f.write(sys.stdin.buffer.read())
        wasi = wasmtime.WasiConfig()
        wasi.stdin_file = stdin_path
        wasi.stdout_file = stdout_path
        wasi.env = [tuple(pair.split("=", 1)) for pair in env_pairs]
        store = wasmtime.Store(engine)
        store.set_wasi(wasi)
        instance = linker.instantiate(store, module)
        instance.exports(store)["_start"](store)
        with open(stdout_path, "rb") as f:
            sys.stdout.buffer.write(f.read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
