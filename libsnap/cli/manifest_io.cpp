#include "cli/manifest_io.hpp"

#include "util/error.hpp"
#include "util/file_read.hpp"

#include <unistd.h>

#include <cstdio>

namespace virtsnap::cli {

using util::quoted;

std::string describe_manifest_source(const std::string& source) {
    return source == "-" ? "the manifest on standard input" : "manifest " + quoted(source);
}

std::string read_manifest_text(const std::string& source) {
    if (source == "-") {
        if (::isatty(STDIN_FILENO) == 1)
            throw util::UsageError("no manifest: pipe one in, or name a file with -m");
        return util::read_bounded(STDIN_FILENO, util::manifest_size_limit, describe_manifest_source(source));
    }
    return util::read_named_file(source, util::manifest_size_limit, describe_manifest_source(source));
}

xml::Manifest read_manifest(const std::string& source) {
    return xml::parse_manifest(read_manifest_text(source), describe_manifest_source(source));
}

void refuse_if_failed(const xml::Manifest& manifest, const std::string& what_not_done) {
    if (manifest.failed())
        throw util::RefusedError("an earlier tool failed (" + manifest.failures.front().tool + ": " +
                                 manifest.failures.front().message + "); " + what_not_done);
}

void write_manifest(const xml::Manifest& manifest) {
    std::string text = xml::to_xml(manifest);
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
        throw util::SystemError("cannot write the manifest to standard output", errno);
}

} // namespace virtsnap::cli
