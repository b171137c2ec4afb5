#pragma once
// Checks of a backup image that need nothing but qemu-img: the content
// against the frozen source, as `qemu-img compare` judges it, and the qcow2
// structure, as `qemu-img check` does.

#include <cstdint>
#include <optional>
#include <string>

namespace virtsnap::verify {

struct CheckOutcome {
    bool ok = false;
    std::string detail; // one line for people
};

// Compares the content of source and backup (each opened with its format,
// -U since the source is a backing file of a running QEMU). A difference
// names the first differing offset. Throws Error when qemu-img cannot compare,
// Interrupted (after stopping qemu-img) on SIGINT/SIGTERM/SIGHUP.
CheckOutcome compare_with_source(const std::string& source, const std::string& source_format,
                                 const std::string& backup, const std::string& backup_format);

// For an incremental layer: what it adds on top of its parent set must be
// what the kept overlay added on top of the image it was taken from. QEMU
// judges both halves: `qemu-img compare` of the two qcow2 files, each
// opened without its backing file, and `qemu-img map` of each, whose ranges
// held in the overlay itself (data, or zeros that hide older data) must all
// be held in the layer itself. Reads the changed clusters, not the disk.
// Throws as compare_with_source.
CheckOutcome compare_layer_with_source(const std::string& overlay, const std::string& layer);

// qemu-img check of a qcow2 image: corruptions are a mismatch; leaked
// clusters are reported but harmless. Interrupted as above.
CheckOutcome check_qcow2_structure(const std::string& path);

// The offset in "Content mismatch at offset 1234!", if the text holds one.
std::optional<std::uint64_t> mismatch_offset(const std::string& compare_output);

} // namespace virtsnap::verify
