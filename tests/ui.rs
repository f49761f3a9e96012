//! Compile-fail tests: shape mistakes must not compile.
//!
//! Each fixture in `tests/ui/fail/` shows one mistake and must fail to
//! compile with the error recorded beside it in a `.stderr` snapshot; its
//! twin in `tests/ui/pass/` differs only by the fix and must compile, so a
//! fixture cannot fail for an unrelated reason. A fixture in `pass/` without
//! a twin shows something that must compile (`macro_hygiene.rs`: the
//! macros' generic parameters do not clash with the caller's names).
//!
//! The README's "Shape errors" table lists every rule with the fixture that
//! proves it and whether `cargo check` or only `cargo build` reports it: a
//! new fixture gets a row there.
//!
//! The snapshots depend on the compiler's wording, so the toolchain is
//! pinned (`rust-toolchain.toml`). To refresh them on purpose, run
//! `TRYBUILD=overwrite cargo test --test ui` and read the diff.

#[test]
fn shape_errors_do_not_compile() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
