#!/usr/bin/env python3
"""Exact retired-instruction counts of one function on an emulated core.

Runs a firmware ELF under QEMU with one instruction per translation block
and execution logging, then counts, for every call of SYMBOL, the
instructions from its entry until control comes back to the caller
(callees included). QEMU retires instructions; it does not model cycles,
pipelines or wait states, so these are instruction counts, exact and the
same from run to run.

usage: count_instructions.py ELF SYMBOL [--macs N [--at-most X]] -- QEMU ARGS...   (no -kernel)

Prints the count per call and, with --macs, per multiply-add; with
--at-most, exits with status 1 if a call took more than X instructions per
multiply-add. Needs llvm-nm (rustup component llvm-tools, or LLVM_NM=path).
"""

import glob
import os
import re
import subprocess
import sys
import tempfile


def find_nm():
    if "LLVM_NM" in os.environ:
        return os.environ["LLVM_NM"]
    sysroot = subprocess.run(
        ["rustc", "--print", "sysroot"], capture_output=True, text=True, check=True
    ).stdout.strip()
    found = glob.glob(os.path.join(sysroot, "lib/rustlib/*/bin/llvm-nm"))
    return found[0] if found else "llvm-nm"


def symbol_address(elf, symbol):
    out = subprocess.run(
        [find_nm(), "--defined-only", elf], capture_output=True, text=True, check=True
    ).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == symbol:
            return int(parts[0], 16) & ~1  # Thumb addresses carry bit 0
    sys.exit(f"{symbol} is not defined in {elf} (is it #[no_mangle] #[inline(never)]?)")


def one_instruction_per_block(qemu):
    """QEMU 8.1 renamed -singlestep to -one-insn-per-tb."""
    usage = subprocess.run([qemu[0], "-h"], capture_output=True, text=True).stdout
    return "-one-insn-per-tb" if "-one-insn-per-tb" in usage else "-singlestep"


def executed_pcs(elf, qemu):
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "exec.log")
        subprocess.run(
            qemu + [one_instruction_per_block(qemu), "-d", "exec,nochain", "-D", log, "-kernel", elf],
            stdout=subprocess.DEVNULL,
            timeout=600,
            check=False,
        )
        pattern = re.compile(r"\[[0-9a-f]+/([0-9a-f]+)/")
        with open(log) as f:
            return [int(m.group(1), 16) for m in map(pattern.search, f) if m]


def calls(pcs, entry):
    """Instructions of each call: from the entry to the first instruction
    after the call instruction (2 or 4 bytes after the caller's PC)."""
    counts, i = [], 1
    while i < len(pcs):
        if pcs[i] == entry and pcs[i - 1] != entry:
            back = {pcs[i - 1] + 2, pcs[i - 1] + 4}
            j = i + 1
            while j < len(pcs) and pcs[j] not in back:
                j += 1
            counts.append(j - i)
            i = j
        i += 1
    return counts


def main():
    args = sys.argv[1:]
    if "--" not in args or len(args) < 4:
        sys.exit(__doc__)
    split = args.index("--")
    head, qemu = args[:split], args[split + 1:]
    elf, symbol = head[0], head[1]
    macs = int(head[head.index("--macs") + 1]) if "--macs" in head else None
    at_most = float(head[head.index("--at-most") + 1]) if "--at-most" in head else None
    counts = calls(executed_pcs(elf, qemu), symbol_address(elf, symbol))
    if not counts:
        sys.exit(f"{symbol} was never called")
    line = f"{symbol}: {len(counts)} call(s), instructions per call: min {min(counts)}, max {max(counts)}"
    if macs:
        line += f", {max(counts) / macs:.2f} per multiply-add (max, {macs} multiply-adds)"
    print(line)
    if macs and at_most is not None and max(counts) / macs > at_most:
        sys.exit(f"{symbol}: more than {at_most} instructions per multiply-add")


if __name__ == "__main__":
    main()
