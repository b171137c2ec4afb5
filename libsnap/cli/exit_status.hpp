#pragma once
// The exit statuses every virtsnap tool uses. Each man page lists the ones its
// tool can return; virtsnap(7) lists them all. Scripts depend on these
// numbers: never renumber.

namespace virtsnap::cli {

enum class ExitStatus : int {
    ok = 0,           // success
    failure = 1,      // an operation failed (libvirt, I/O, a helper program)
    usage = 2,        // bad command line
    bad_input = 3,    // malformed or mismatching input (XML, manifest)
    mismatch = 4,     // verification found a difference
    refused = 5,      // a precondition failed; nothing was changed
    partial = 6,      // some of several items failed (e.g. some domains)
    frozen = 7,       // the guest's filesystems may still be frozen: thaw them now
    interrupted = 130 // stopped by a signal, after cleaning up
};

constexpr int to_int(ExitStatus status) {
    return static_cast<int>(status);
}

} // namespace virtsnap::cli
