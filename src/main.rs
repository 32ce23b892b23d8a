#![forbid(unsafe_code)]

/// jemalloc, with its background threads on, instead of the system allocator: glibc keeps what
/// a scan freed (the compiled rules, about 15 MB) as free chunks inside its heap, so an idle
/// gateway stayed at its peak; jemalloc hands unused pages back to the kernel after a few
/// seconds without waiting for the next allocation.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    portcullis::cli::main()
}
