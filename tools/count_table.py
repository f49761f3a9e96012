#!/usr/bin/env python3
"""The instruction-count table of the firmware: every core, every number
type, both networks.

Builds the firmware's `count` binary for each target (from
examples/firmware, as its README says: `opt-level = "s"`, LTO), runs it
once under QEMU with exact instruction counting
(tools/count_instructions.py), and prints, as a Markdown table, the
instructions of one inference of each network in f32 and in int8 (the
most over the calls the binary makes) and per multiply-add.

usage: count_table.py [--check]

With --check, exits with status 1 if an int8 digits inference takes more
instructions per multiply-add than the bound of its core (2 on the
Cortex-M4F, 10 on the Cortex-M0, 8 on the RV32IMAC).
"""

import os
import subprocess
import sys

from count_instructions import Code, calls, executed_pcs, symbol_address

FIRMWARE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "firmware")
SEMIHOSTING = ["-nographic", "-semihosting-config", "enable=on,target=native"]

# core, Rust target, QEMU command (without -kernel), int8 digits bound.
CORES = [
    ("Cortex-M4F", "thumbv7em-none-eabihf",
     ["qemu-system-arm", "-cpu", "cortex-m4", "-machine", "mps2-an386"], 2.0),
    ("Cortex-M0", "thumbv6m-none-eabi",
     ["qemu-system-arm", "-cpu", "cortex-m0", "-machine", "microbit"], 10.0),
    ("RV32IMAC", "riscv32imac-unknown-none-elf",
     ["qemu-system-riscv32", "-machine", "virt", "-bios", "none"], 8.0),
]

# network, multiply-adds, symbol per number type.
NETWORKS = [
    ("digits 64-32-10", 2368, {"f32": "count_digits", "int8": "count_digits_int8"}),
    ("spiral 2-32-32-3", 1184, {"f32": "count_spiral", "int8": "count_spiral_int8"}),
]


def main():
    check = "--check" in sys.argv[1:]
    rows, failed = [], []
    for core, target, qemu, bound in CORES:
        subprocess.run(
            ["cargo", "build", "--release", "--quiet", "--target", target, "--bin", "count"],
            cwd=FIRMWARE, check=True,
        )
        elf = os.path.join(FIRMWARE, "target", target, "release", "count")
        pcs = executed_pcs(elf, qemu + SEMIHOSTING)
        code = Code(elf)
        for number in ("f32", "int8"):
            cells = [core, number]
            for name, macs, symbols in NETWORKS:
                counts = calls(pcs, symbol_address(elf, symbols[number]), code)
                if not counts:
                    sys.exit(f"{symbols[number]} was never called on {core}")
                per_mac = max(counts) / macs
                cells += [f"{max(counts):,}", f"{per_mac:.2f}"]
                if number == "int8" and name.startswith("digits") and per_mac > bound:
                    failed.append(f"{core}: int8 digits {per_mac:.2f} > {bound} per multiply-add")
            rows.append(cells)
    header = ["core", "number type"]
    for name, macs, _ in NETWORKS:
        header += [f"{name}: instructions", "per multiply-add"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for cells in rows:
        print("| " + " | ".join(cells) + " |")
    if check and failed:
        sys.exit("\n".join(failed))


if __name__ == "__main__":
    main()
