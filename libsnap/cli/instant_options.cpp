#include "cli/instant_options.hpp"

#include "util/error.hpp"

#include <cctype>

namespace virtsnap::cli {

namespace {

unsigned long parse_bandwidth(const std::string& text) {
    // libvirt's unit for a block job's bandwidth at the platform floor is
    // MiB/s, a whole number; an unsigned long holds at most 2^32-1 on 32 bits.
    bool digits = !text.empty() && text.size() <= 9;
    for (char c : text)
        digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (!digits || std::stoul(text) == 0)
        throw util::UsageError("--bandwidth takes a whole number of MiB/s above 0, not " +
                               util::quoted(text));
    return std::stoul(text);
}

} // namespace

unsigned long check_instant_choice(const InstantChoice& choice) {
    if (choice.finish) {
        if (choice.instant || choice.set || choice.output || choice.define || !choice.format.empty() ||
            choice.disks || choice.file || choice.force || choice.until)
            throw util::UsageError(
                "--finish NAME completes an instant restore and takes no set, -o, --define, "
                "--instant, --format, --disk, --file, --force or --until");
    } else if (choice.instant) {
        if (!choice.define || !choice.output)
            throw util::UsageError(
                "--instant needs -o DIR and --define NAME (it starts the restored domain)");
        if (choice.format == "raw")
            throw util::UsageError("--instant writes qcow2 images (each backed by the set's); --format raw "
                                   "does not fit");
        if (choice.disks)
            throw util::UsageError("--instant restores every disk of the set (the domain needs them all); "
                                   "--disk does not fit");
        if (choice.file)
            throw util::UsageError("--instant restores disks; --file and --to restore one file");
        if (choice.force)
            throw util::UsageError("--instant never replaces a file; --force does not fit");
    } else if (!choice.bandwidth.empty()) {
        throw util::UsageError("--bandwidth goes with --instant or --finish");
    }
    return choice.bandwidth.empty() ? 0 : parse_bandwidth(choice.bandwidth);
}

} // namespace virtsnap::cli
