#!/usr/bin/env python3
"""Fails if a firmware ELF contains a software floating-point routine.

On a core without an FPU every f32/f64 operation is a call into the
compiler's runtime (`__aeabi_fadd`, `__mulsf3`, `__aeabi_d2iz`, ...), and
each one used is linked into the binary. An integer-only binary has none.

usage: no_soft_float.py ELF [--control ELF]

With --control, also checks that the pattern finds such routines in
another binary that uses floats, so that the check itself can fail.
Needs llvm-nm (rustup component llvm-tools, or LLVM_NM=path).
"""

import re
import subprocess
import sys

from count_instructions import find_nm

# The Arm EABI names and the libgcc/compiler-builtins names of the float
# and double routines: arithmetic, comparisons and conversions.
SOFT_FLOAT = re.compile(
    r"^(__aeabi_[fd](add|sub|rsub|mul|div|cmp\w*|2\w+)|__aeabi_[iu]2[fd]|__aeabi_[lu]l?2[fd]"
    r"|__(add|sub|mul|div|neg)[sd]f3|__(eq|ne|lt|le|gt|ge|unord|cmp)[sd]f2"
    r"|__(fix|fixuns)[sd]f[sd]i|__float(un)?[sd]i[sd]f|__(extend|trunc)[sd]f[sd]f2)$"
)


def soft_float_symbols(elf):
    out = subprocess.run([find_nm(), elf], capture_output=True, text=True, check=True).stdout
    names = (line.split()[-1] for line in out.splitlines() if line.split())
    # Rust mangles compiler-builtins' copies; the last path element is the name.
    return sorted({n for n in names if SOFT_FLOAT.match(re.sub(r"^_RN\w*?\d+(?=__)", "", n))})


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    elf = args[0]
    if "--control" in args:
        control = args[args.index("--control") + 1]
        if not soft_float_symbols(control):
            sys.exit(f"{control} has no soft-float routine: the check would not catch one")
    found = soft_float_symbols(elf)
    if found:
        sys.exit(f"{elf} links soft-float routines: {', '.join(found)}")
    print(f"{elf}: no soft-float routine")


if __name__ == "__main__":
    main()
