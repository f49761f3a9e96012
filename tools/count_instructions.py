#!/usr/bin/env python3
"""Exact retired-instruction counts of one function on an emulated core.

Runs a firmware ELF (32-bit Arm/Thumb or RISC-V) under QEMU with one
instruction per translation block and execution logging, then counts, for
every call of SYMBOL, the instructions from its entry until control comes
back to the instruction after the call (callees included); SYMBOL must be
entered by a call (bl/blx, jal/jalr), not by a tail jump. QEMU retires
instructions; it does not model cycles, pipelines or wait states, so these
are instruction counts, exact and the same from run to run.

usage: count_instructions.py ELF SYMBOL [--macs N [--at-most X]] -- QEMU ARGS...   (no -kernel)
  e.g. ... -- qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -nographic -semihosting-config enable=on,target=native
       ... -- qemu-system-riscv32 -machine virt -bios none -nographic -semihosting-config enable=on,target=native

Prints the count per call and, with --macs, per multiply-add; with
--at-most, exits with status 1 if a call took more than X instructions per
multiply-add. Needs llvm-nm (rustup component llvm-tools, or LLVM_NM=path).
"""

import glob
import os
import re
import struct
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


class Code:
    """The instructions in an ELF32's loaded segments, to tell how long the
    call instruction before SYMBOL's entry was."""

    ARM, RISCV = 40, 243  # e_machine

    def __init__(self, elf):
        with open(elf, "rb") as f:
            data = f.read()
        if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
            sys.exit(f"{elf}: not a little-endian 32-bit ELF")
        self.machine = struct.unpack_from("<H", data, 18)[0]
        if self.machine not in (self.ARM, self.RISCV):
            sys.exit(f"{elf}: e_machine {self.machine} is neither Arm nor RISC-V")
        phoff, = struct.unpack_from("<I", data, 28)
        phentsize, phnum = struct.unpack_from("<HH", data, 42)
        self.segments = []
        for k in range(phnum):
            p_type, offset, vaddr, _paddr, filesz = struct.unpack_from("<5I", data, phoff + k * phentsize)
            if p_type == 1:  # PT_LOAD
                self.segments.append((vaddr, data[offset:offset + filesz]))

    def halfword(self, address):
        for start, data in self.segments:
            if start <= address and address + 2 <= start + len(data):
                return struct.unpack_from("<H", data, address - start)[0]
        return None

    def length(self, address):
        """The length in bytes of the instruction at address: 2 or 4 (Thumb:
        32-bit if the first halfword starts 0b11101, 0b11110 or 0b11111;
        RISC-V: 16-bit compressed unless the low two bits are 0b11), or
        None if the address is not in the ELF."""
        h = self.halfword(address)
        if h is None:
            return None
        if self.machine == self.ARM:
            return 4 if h >> 11 in (0b11101, 0b11110, 0b11111) else 2
        return 4 if h & 0b11 == 0b11 else 2


def calls(pcs, entry, code):
    """Instructions of each call: from the entry to the first instruction
    after the call instruction (which is 2 or 4 bytes long: Thumb and
    compressed RISC-V instructions are 2)."""
    counts, i = [], 1
    while i < len(pcs):
        if pcs[i] == entry and pcs[i - 1] != entry:
            size = code.length(pcs[i - 1])
            back = {pcs[i - 1] + size} if size else {pcs[i - 1] + 2, pcs[i - 1] + 4}
            j = i + 1
            while j < len(pcs) and pcs[j] not in back:
                j += 1
            if j == len(pcs):
                sys.exit(f"a call at {pcs[i - 1]:#x} never returned (a tail jump?)")
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
    counts = calls(executed_pcs(elf, qemu), symbol_address(elf, symbol), Code(elf))
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
