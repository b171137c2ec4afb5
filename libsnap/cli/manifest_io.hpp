#pragma once
// Manifests in and out of a tool (virtsnap(7), schemas/manifest.rng): read from standard
// input or -m FILE, written to standard output only when complete.

#include "xml/manifest.hpp"

#include <string>

namespace virtsnap::cli {

// "the manifest on standard input" or "manifest 'FILE'", for messages.
std::string describe_manifest_source(const std::string& source);

// The text of the manifest from source ("-": standard input, which must not
// be a terminal). Throws UsageError / InputError.
std::string read_manifest_text(const std::string& source);

// Reads and parses; throws InputError naming the source.
xml::Manifest read_manifest(const std::string& source);

// Throws RefusedError when an earlier tool of the pipeline recorded a
// failure: nothing is worth doing to such a manifest but passing it on.
// what_not_done: "nothing was copied".
void refuse_if_failed(const xml::Manifest& manifest, const std::string& what_not_done);

// The manifest on standard output, whole.
void write_manifest(const xml::Manifest& manifest);

} // namespace virtsnap::cli
