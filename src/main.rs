//! The `tta` binary: everything happens in the library.

fn main() -> std::process::ExitCode {
    tta::main()
}
